/**
 * Tests for signed tree heads: the RFC 6962 §3.5 byte layout, Ed25519 signing and verification, and
 * rejection of every tampered field, a wrong key and malformed input.
 */
import crypto from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { formatHex, leafHash, parseHex, rootFromLeafHashes } from './merkle.ts'
import { parseSignedTreeHead, signTreeHead, treeHeadSignatureInput, verifyTreeHead, type SignedTreeHead } from './tree-head.ts'

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
const signer = (message: Uint8Array) => ({ keyId: 'test-key', signature: crypto.sign(null, message, privateKey).toString('base64') })
const rootHash = rootFromLeafHashes([leafHash(Uint8Array.of(1)), leafHash(Uint8Array.of(2))])

describe('tree heads', () => {
  it('lays out TreeHeadSignature bytes as RFC 6962 §3.5 does', () => {
    const bytes = treeHeadSignatureInput({ treeSize: 0x0102_0304_0506, timestamp: 1_767_225_600_000, rootHash })
    expect(bytes.length).toBe(50)
    expect(formatHex(bytes.subarray(0, 2))).toBe('0001') // version v1 = 0, signature_type tree_hash = 1
    expect(formatHex(bytes.subarray(2, 10))).toBe((1_767_225_600_000).toString(16).padStart(16, '0'))
    expect(formatHex(bytes.subarray(10, 18))).toBe('0000010203040506')
    expect(bytes.subarray(18)).toEqual(rootHash)
  })
  it('signs and verifies; the signature is Ed25519 over exactly those bytes', () => {
    const sth = signTreeHead({ treeSize: 2, timestamp: 1_767_225_600_000, rootHash }, signer)
    expect(sth).toEqual({ treeSize: 2, timestamp: 1_767_225_600_000, rootHash: formatHex(rootHash), keyId: 'test-key', signature: expect.any(String) })
    expect(verifyTreeHead(sth, publicKeyPem)).toBe(true)
    const input = treeHeadSignatureInput({ treeSize: 2, timestamp: 1_767_225_600_000, rootHash })
    expect(crypto.verify(null, input, publicKey, Buffer.from(sth.signature, 'base64'))).toBe(true)
  })
  it('rejects any changed field, another key and malformed heads', () => {
    const sth = signTreeHead({ treeSize: 2, timestamp: 1_767_225_600_000, rootHash }, signer)
    const flippedRoot = parseHex(sth.rootHash)!
    flippedRoot[31]! ^= 1
    const signature = Buffer.from(sth.signature, 'base64')
    signature[0]! ^= 0x80
    const tampered: SignedTreeHead[] = [
      { ...sth, treeSize: 3 },
      { ...sth, timestamp: sth.timestamp + 1 },
      { ...sth, rootHash: formatHex(flippedRoot) },
      { ...sth, signature: signature.toString('base64') },
    ]
    for (const head of tampered) expect(verifyTreeHead(head, publicKeyPem)).toBe(false)
    const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
    expect(verifyTreeHead(sth, other)).toBe(false)
    expect(verifyTreeHead(sth, 'not a key')).toBe(false)
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()
    expect(verifyTreeHead(sth, rsa)).toBe(false)
    expect(verifyTreeHead({ ...sth, treeSize: -1 }, publicKeyPem)).toBe(false)
    expect(verifyTreeHead({ ...sth, rootHash: sth.rootHash.toUpperCase() }, publicKeyPem)).toBe(false)
  })
  it('parses the JSON form strictly', () => {
    const sth = signTreeHead({ treeSize: 2, timestamp: 1, rootHash }, signer)
    expect(parseSignedTreeHead(JSON.parse(JSON.stringify(sth)))).toEqual({ ok: true, sth })
    expect(parseSignedTreeHead({ ...sth, extra: 1 })).toMatchObject({ ok: false })
    expect(parseSignedTreeHead({ ...sth, treeSize: '2' })).toMatchObject({ ok: false, detail: expect.stringMatching(/treeSize/) })
    expect(parseSignedTreeHead({ ...sth, timestamp: 1.5 })).toMatchObject({ ok: false, detail: expect.stringMatching(/timestamp/) })
    expect(parseSignedTreeHead({ ...sth, signature: 'AAAA' })).toMatchObject({ ok: false, detail: expect.stringMatching(/signature/) })
    expect(parseSignedTreeHead([sth])).toMatchObject({ ok: false })
    expect(parseSignedTreeHead(null)).toMatchObject({ ok: false })
  })
})

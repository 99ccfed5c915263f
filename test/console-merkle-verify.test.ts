/**
 * The console's browser-side verifier (console/src/merkle-verify.ts, WebCrypto) against the server's
 * reference code: inclusion and consistency proofs agree with src/ledger/merkle.ts on random trees and
 * on tampered proofs, and a tree head signed with the keyring verifies (and a changed one does not).
 * Node 24 has crypto.subtle with SHA-256 and Ed25519, as browsers do.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import * as browser from '../console/src/merkle-verify.ts'
import { loadKeyring, sign } from '../src/keys/index.ts'
import { consistencyProof, formatHex, inclusionProof, leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../src/ledger/merkle.ts'
import { signTreeHead, treeHeadSignatureInput, verifyTreeHead } from '../src/ledger/tree-head.ts'

/** A small deterministic PRNG (mulberry32), so that a failure reproduces. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function leaves(n: number, salt: string): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${salt}:${i}`)))
}

function flipBit(hex: string, bit: number): string {
  const bytes = browser.parseHex(hex)
  if (bytes === undefined) throw new Error('not hex')
  const byte = Math.floor(bit / 8) % bytes.length
  bytes[byte] = (bytes[byte] ?? 0) ^ (1 << bit % 8)
  return formatHex(bytes)
}

describe('browser inclusion verification', () => {
  it('agrees with the server on random trees, for genuine and tampered proofs', async () => {
    const next = random(6962)
    let genuine = 0
    let tampered = 0
    for (let round = 0; round < 60; round++) {
      const n = 1 + Math.floor(next() * (round < 30 ? 40 : 700))
      const hashes = leaves(n, `tree${round}`)
      const root = rootFromLeafHashes(hashes)
      for (let probe = 0; probe < 4; probe++) {
        const index = Math.floor(next() * n)
        const proof = inclusionProof(index, hashes)
        const input = { leafIndex: index, treeSize: n, leafHash: formatHex(hashes[index] as Uint8Array), proof: proof.map(formatHex), rootHash: formatHex(root) }
        const result = await browser.verifyInclusion(input)
        expect(result.verified, `n=${n} index=${index}`).toBe(true)
        expect(result.failure).toBeNull()
        expect(result.computedRoot).toBe(formatHex(root))
        expect(result.steps).toHaveLength(proof.length)
        expect(result.steps.at(-1)?.result ?? input.leafHash).toBe(formatHex(root))
        genuine++

        // Tamper in every way the page could be lied to, and check the verdict matches the server's.
        const variants = [
          { ...input, leafHash: flipBit(input.leafHash, Math.floor(next() * 256)) },
          { ...input, rootHash: flipBit(input.rootHash, Math.floor(next() * 256)) },
          { ...input, leafIndex: (index + 1) % n },
          { ...input, treeSize: n + 1 },
          { ...input, treeSize: Math.max(1, n - 1) },
          { ...input, proof: input.proof.slice(0, -1) },
          { ...input, proof: [...input.proof, input.rootHash] },
          ...input.proof.map((_, i) => ({ ...input, proof: input.proof.map((p, j) => (j === i ? flipBit(p, Math.floor(next() * 256)) : p)) })),
        ]
        for (const variant of variants) {
          const expected = verifyInclusion({
            leafIndex: variant.leafIndex,
            treeSize: variant.treeSize,
            leafHash: browser.parseHex(variant.leafHash) as Uint8Array,
            proof: variant.proof.map((p) => browser.parseHex(p) as Uint8Array),
            rootHash: browser.parseHex(variant.rootHash) as Uint8Array,
          })
          const actual = await browser.verifyInclusion(variant)
          expect(actual.verified, JSON.stringify({ n, index, variant: { ...variant, proof: variant.proof.length } })).toBe(expected)
          if (!actual.verified) expect(actual.failure).not.toBeNull()
          tampered++
        }
      }
    }
    expect(genuine).toBe(240)
    expect(tampered).toBeGreaterThan(1000)
  })

  it('rejects a flipped bit in the leaf, in each proof element and in the root, saying the root differs', async () => {
    const hashes = leaves(21, 'flip')
    const index = 10
    const proof = inclusionProof(index, hashes).map(formatHex)
    const input = { leafIndex: index, treeSize: 21, leafHash: formatHex(hashes[index] as Uint8Array), proof, rootHash: formatHex(rootFromLeafHashes(hashes)) }
    expect((await browser.verifyInclusion(input)).verified).toBe(true)
    for (let bit = 0; bit < 256; bit += 37) {
      const leaf = await browser.verifyInclusion({ ...input, leafHash: flipBit(input.leafHash, bit) })
      expect(leaf).toMatchObject({ verified: false, failure: 'root_mismatch' })
      expect(leaf.computedRoot).not.toBe(input.rootHash)
      expect(await browser.verifyInclusion({ ...input, rootHash: flipBit(input.rootHash, bit) })).toMatchObject({ verified: false, failure: 'root_mismatch' })
      for (let i = 0; i < proof.length; i++) {
        const changed = proof.map((p, j) => (j === i ? flipBit(p, bit) : p))
        expect(await browser.verifyInclusion({ ...input, proof: changed })).toMatchObject({ verified: false, failure: 'root_mismatch' })
      }
    }
  })

  it('names the failure for malformed input, a wrong-length proof and an index outside the tree', async () => {
    const hashes = leaves(5, 'shape')
    const proof = inclusionProof(4, hashes).map(formatHex)
    const input = { leafIndex: 4, treeSize: 5, leafHash: formatHex(hashes[4] as Uint8Array), proof, rootHash: formatHex(rootFromLeafHashes(hashes)) }
    const result = await browser.verifyInclusion(input)
    expect(result.verified).toBe(true)
    // Leaf 4 of 5 is alone on the right edge: its one sibling, the left subtree of 4 leaves, is on the left at level 2.
    expect(result.steps).toEqual([{ step: 1, level: 2, side: 'left', sibling: proof[0], result: input.rootHash }])
    // Leaf 4 of 6: its right neighbour (level 0), then the pair 4–5 is promoted past level 1 to meet leaves 0–3 at level 2.
    const six = leaves(6, 'shape')
    const sixProof = inclusionProof(4, six).map(formatHex)
    const steps = (await browser.verifyInclusion({ leafIndex: 4, treeSize: 6, leafHash: formatHex(six[4] as Uint8Array), proof: sixProof, rootHash: formatHex(rootFromLeafHashes(six)) })).steps
    expect(steps.map((s) => [s.level, s.side, s.sibling])).toEqual([[0, 'right', formatHex(six[5] as Uint8Array)], [2, 'left', formatHex(rootFromLeafHashes(six.slice(0, 4)))]])
    expect((await browser.verifyInclusion({ ...input, leafIndex: 5 })).failure).toBe('index_out_of_range')
    expect((await browser.verifyInclusion({ ...input, leafHash: 'zz' })).failure).toBe('malformed')
    expect((await browser.verifyInclusion({ ...input, proof: [...proof, proof[0] as string] })).failure).toBe('proof_too_long')
    expect((await browser.verifyInclusion({ ...input, proof: [] })).failure).toBe('proof_too_short')
    expect((await browser.verifyInclusion({ ...input, leafIndex: -1 })).failure).toBe('malformed')
    expect((await browser.verifyInclusion({ ...input, treeSize: 2 ** 53 })).failure).toBe('malformed')
  })

  it('verifies the one-leaf tree (empty proof, the leaf is the root)', async () => {
    const [only] = leaves(1, 'one') as [Uint8Array]
    expect(await browser.verifyInclusion({ leafIndex: 0, treeSize: 1, leafHash: formatHex(only), proof: [], rootHash: formatHex(only) })).toEqual({ verified: true, failure: null, steps: [], computedRoot: formatHex(only) })
  })
})

describe('browser consistency verification', () => {
  it('agrees with the server on random pairs of sizes, genuine and tampered', async () => {
    const next = random(9162)
    const hashes = leaves(300, 'consistency')
    for (let round = 0; round < 80; round++) {
      const n = 1 + Math.floor(next() * hashes.length)
      const m = Math.floor(next() * (n + 1))
      const proof = consistencyProof(m, hashes.slice(0, n)).map(formatHex)
      const input = { firstSize: m, secondSize: n, firstRoot: formatHex(rootFromLeafHashes(hashes.slice(0, m))), secondRoot: formatHex(rootFromLeafHashes(hashes.slice(0, n))), proof }
      expect(await browser.verifyConsistency(input), `m=${m} n=${n}`).toBe(true)
      const variants = [
        { ...input, firstRoot: flipBit(input.firstRoot, round) },
        { ...input, secondRoot: flipBit(input.secondRoot, round) },
        { ...input, proof: proof.slice(1) },
        { ...input, secondSize: n + 1 },
        ...proof.map((_, i) => ({ ...input, proof: proof.map((p, j) => (j === i ? flipBit(p, round) : p)) })),
      ]
      for (const variant of variants) {
        const expected = verifyConsistency({ ...variant, firstRoot: browser.parseHex(variant.firstRoot) as Uint8Array, secondRoot: browser.parseHex(variant.secondRoot) as Uint8Array, proof: variant.proof.map((p) => browser.parseHex(p) as Uint8Array) })
        expect(await browser.verifyConsistency(variant), `m=${m} n=${n}`).toBe(expected)
      }
    }
  })
})

describe('browser signature verification of tree heads', () => {
  const keyring = loadKeyring({ keyDir: fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-console-verify-keys-')) })
  const publicKeyPem = keyring.publicKeys.get(keyring.signing.keyId) as string
  const hashes = leaves(20, 'sth')
  const sth = signTreeHead({ treeSize: 20, timestamp: Date.parse('2026-03-01T08:00:00.123Z'), rootHash: rootFromLeafHashes(hashes) }, (message) => sign(keyring, message))

  it('builds the same 50 signed bytes as the server', () => {
    const head = { treeSize: 123_456_789_012, timestamp: 1_767_225_600_000, rootHash: crypto.randomBytes(32) }
    const ours = browser.treeHeadSignatureInput(head)
    expect(ours).toBeDefined()
    expect(formatHex(ours as Uint8Array)).toBe(formatHex(treeHeadSignatureInput(head)))
    expect(ours?.length).toBe(50)
    expect(browser.treeHeadSignatureInput({ ...head, treeSize: -1 })).toBeUndefined()
    expect(browser.treeHeadSignatureInput({ ...head, rootHash: new Uint8Array(31) })).toBeUndefined()
  })

  it('verifies a head signed by the keyring, as the server does', async () => {
    expect(verifyTreeHead(sth, publicKeyPem)).toBe(true)
    expect(await browser.verifyTreeHeadSignature(sth, publicKeyPem)).toBe('verified')
  })

  it('rejects a head whose size, time, root or signature changed, or another key', async () => {
    const signature = Buffer.from(sth.signature, 'base64')
    signature[5] = (signature[5] ?? 0) ^ 0x10
    const changed = [
      { ...sth, treeSize: sth.treeSize + 1 },
      { ...sth, timestamp: sth.timestamp + 1 },
      { ...sth, rootHash: flipBit(sth.rootHash, 100) },
      { ...sth, signature: signature.toString('base64') },
    ]
    for (const head of changed) {
      expect(verifyTreeHead(head, publicKeyPem)).toBe(false)
      expect(await browser.verifyTreeHeadSignature(head, publicKeyPem)).toBe('bad_signature')
    }
    const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
    expect(await browser.verifyTreeHeadSignature(sth, other)).toBe('bad_signature')
  })

  it('calls unparseable heads and keys malformed', async () => {
    expect(await browser.verifyTreeHeadSignature({ ...sth, signature: 'not base64!' }, publicKeyPem)).toBe('malformed')
    expect(await browser.verifyTreeHeadSignature({ ...sth, signature: sth.signature.slice(4) }, publicKeyPem)).toBe('malformed')
    expect(await browser.verifyTreeHeadSignature({ ...sth, rootHash: 'abc' }, publicKeyPem)).toBe('malformed')
    expect(await browser.verifyTreeHeadSignature(sth, 'not a key')).toBe('malformed')
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()
    expect(await browser.verifyTreeHeadSignature(sth, rsa)).toBe('malformed')
  })
})

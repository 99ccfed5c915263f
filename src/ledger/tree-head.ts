/**
 * @module ledger/tree-head
 * Signed tree heads (STH) of a tenant's journal. The signature is Ed25519 over RFC 6962 §3.5's
 * TreeHeadSignature structure, so the signed bytes are those any CT tooling would build:
 *
 * | offset | bytes | field            | value                                   |
 * |-------:|------:|------------------|-----------------------------------------|
 * |      0 |     1 | version          | 0 (v1)                                  |
 * |      1 |     1 | signature_type   | 1 (tree_hash)                           |
 * |      2 |     8 | timestamp        | uint64 big-endian, ms since the epoch   |
 * |     10 |     8 | tree_size        | uint64 big-endian                       |
 * |     18 |    32 | sha256_root_hash | the Merkle tree hash (RFC 6962 §2.1)    |
 *
 * 50 bytes in all. The published JSON form is
 * `{"treeSize":n,"timestamp":ms,"rootHash":"hex","keyId":"…","signature":"base64"}`; `keyId` names the
 * signing key (see keys/keyring.ts) so that heads signed before a key rotation still verify. The STH does
 * not name the tenant (RFC 6962 has no such field): which journal a head belongs to is given by where it
 * was published and by the key.
 *
 * Pure apart from node:crypto's Ed25519 verification; signing is passed in (`keys/keyring.ts#sign`).
 */
import crypto from 'node:crypto'
import { assert } from '../core/assert.ts'
import { formatHex, hashSize, parseHex } from './merkle.ts'

/** An unsigned tree head: the tree's size, when it was taken, and its root. */
export type TreeHead = { treeSize: number; timestamp: number; rootHash: Uint8Array }
/** The published JSON form of a signed tree head. */
export type SignedTreeHead = { treeSize: number; timestamp: number; rootHash: string; keyId: string; signature: string }
/** Signs a message, returning the key id and the base64 signature: `(m) => sign(keyring, m)`. */
export type TreeHeadSigner = (message: Uint8Array) => { keyId: string; signature: string }

const treeHeadSignatureBytes = 1 + 1 + 8 + 8 + hashSize
const versionV1 = 0
const signatureTypeTreeHash = 1
const ed25519SignatureBytes = 64

function isUint64Number(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** RFC 6962 §3.5 TreeHeadSignature bytes: version 0, signature type 1, timestamp, tree size, root hash. */
export function treeHeadSignatureInput(head: TreeHead): Uint8Array {
  assert(isUint64Number(head.treeSize), () => `tree size ${head.treeSize} must be a non-negative safe integer`)
  assert(isUint64Number(head.timestamp), () => `timestamp ${head.timestamp} must be non-negative integer milliseconds`)
  assert(head.rootHash.length === hashSize, () => `root hash must be ${hashSize} bytes, got ${head.rootHash.length}`)
  const bytes = new Uint8Array(treeHeadSignatureBytes)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, versionV1)
  view.setUint8(1, signatureTypeTreeHash)
  view.setBigUint64(2, BigInt(head.timestamp))
  view.setBigUint64(10, BigInt(head.treeSize))
  bytes.set(head.rootHash, 18)
  return bytes
}

/** Signs a tree head into its published JSON form. */
export function signTreeHead(head: TreeHead, sign: TreeHeadSigner): SignedTreeHead {
  const { keyId, signature } = sign(treeHeadSignatureInput(head))
  return { treeSize: head.treeSize, timestamp: head.timestamp, rootHash: formatHex(head.rootHash), keyId, signature }
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/
function parseSignature(text: string): Uint8Array | undefined {
  if (!base64Pattern.test(text) || text.length % 4 !== 0) return undefined
  const bytes = Buffer.from(text, 'base64')
  if (bytes.length !== ed25519SignatureBytes || bytes.toString('base64') !== text) return undefined
  return Uint8Array.from(bytes)
}

/**
 * Checks the shape of a parsed STH JSON object (exactly the five fields, with their types) and returns it
 * typed, or a one-line reason.
 */
export function parseSignedTreeHead(value: unknown): { ok: true; sth: SignedTreeHead } | { ok: false; detail: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, detail: 'tree head is not a JSON object' }
  const fields = value as Record<string, unknown>
  const expected = ['keyId', 'rootHash', 'signature', 'timestamp', 'treeSize']
  const keys = Object.keys(fields).sort()
  if (keys.join(',') !== expected.join(',')) return { ok: false, detail: `tree head must have exactly the fields ${expected.join(', ')}; got ${keys.join(', ')}` }
  const { treeSize, timestamp, rootHash, keyId, signature } = fields
  if (!isUint64Number(treeSize)) return { ok: false, detail: 'treeSize must be a non-negative integer' }
  if (!isUint64Number(timestamp)) return { ok: false, detail: 'timestamp must be non-negative integer milliseconds' }
  if (typeof rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(rootHash)) return { ok: false, detail: 'rootHash must be 64 lower-case hex digits' }
  if (typeof keyId !== 'string' || keyId === '') return { ok: false, detail: 'keyId must be a non-empty string' }
  if (typeof signature !== 'string' || parseSignature(signature) === undefined) return { ok: false, detail: 'signature must be a base64 Ed25519 signature (64 bytes)' }
  return { ok: true, sth: { treeSize, timestamp, rootHash, keyId, signature } }
}

/**
 * True when the STH is well formed and its signature verifies with the Ed25519 public key (SPKI PEM).
 * Never throws: a malformed head or key is a failed verification. Does not check `keyId` against the key:
 * the caller picks the key by id.
 */
export function verifyTreeHead(sth: SignedTreeHead, publicKeyPem: string): boolean {
  const parsed = parseSignedTreeHead(sth)
  if (!parsed.ok) return false
  const rootHash = parseHex(parsed.sth.rootHash)
  const signature = parseSignature(parsed.sth.signature)
  if (rootHash === undefined || signature === undefined) return false
  let publicKey: crypto.KeyObject
  try {
    publicKey = crypto.createPublicKey(publicKeyPem)
  } catch {
    return false
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') return false
  const message = treeHeadSignatureInput({ treeSize: parsed.sth.treeSize, timestamp: parsed.sth.timestamp, rootHash })
  return crypto.verify(null, message, publicKey, signature)
}

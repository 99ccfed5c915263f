/**
 * Verification of the journal in the browser, with WebCrypto only (no React, no DOM types, no server
 * trust): the Ed25519 signature of a signed tree head (RFC 6962 §3.5 TreeHeadSignature bytes), inclusion
 * proofs (RFC 9162 §2.1.3.2) and consistency proofs (RFC 9162 §2.1.4.2) over SHA-256 with the RFC 6962
 * leaf/node prefixes. The algorithms mirror src/ledger/merkle.ts (`verifyInclusion`, `verifyConsistency`)
 * and src/ledger/tree-head.ts (`treeHeadSignatureInput`) step by step, and are tested against them
 * (test/console-merkle-verify.test.ts). Inclusion verification also returns each step of the path, so
 * the page can show how the leaf climbs to the root.
 *
 * Sizes and indices are numbers (safe integers); bit operators are avoided, as in the server code.
 */

/** Bytes backed by a plain ArrayBuffer: what WebCrypto accepts under both DOM and Node typings. */
export type Bytes = Uint8Array<ArrayBuffer>

/** The slice of WebCrypto used here, typed locally so this module needs neither DOM nor Node types. */
type Subtle = {
  digest(algorithm: 'SHA-256', data: Bytes): Promise<ArrayBuffer>
  importKey(format: 'spki', keyData: Bytes, algorithm: { name: 'Ed25519' }, extractable: false, usages: ['verify']): Promise<unknown>
  verify(algorithm: 'Ed25519', key: unknown, signature: Bytes, data: Bytes): Promise<boolean>
}

function subtle(): Subtle {
  const crypto = (globalThis as { crypto?: { subtle?: Subtle } }).crypto
  if (crypto?.subtle === undefined) throw new Error('WebCrypto (crypto.subtle) is not available: open the console over HTTPS or on localhost')
  return crypto.subtle
}

/** Bytes in a SHA-256 hash: every leaf hash, node hash, root and proof element. */
export const hashSize = 32
const ed25519SignatureBytes = 64

// ---------------------------------------------------------------------------------------------------
// Encodings.

const hexPattern = /^(?:[0-9a-fA-F]{2})*$/
/** Strict hex decoding (even length, hex digits only); undefined if the text is not hex. */
export function parseHex(text: string): Bytes | undefined {
  if (!hexPattern.test(text)) return undefined
  const bytes = new Uint8Array(text.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16)
  return bytes
}

/** Lower-case hex of the bytes. */
export function formatHex(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0')
  return text
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/
/** Strict base64 decoding; undefined if the text is not canonical base64. */
export function parseBase64(text: string): Bytes | undefined {
  if (!base64Pattern.test(text) || text.length % 4 !== 0) return undefined
  let binary: string
  try {
    binary = atob(text)
  } catch {
    return undefined
  }
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** The DER bytes of a PEM "PUBLIC KEY" (SPKI) block; undefined if it is not one. */
export function spkiFromPem(pem: string): Bytes | undefined {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem)
  if (match?.[1] === undefined) return undefined
  return parseBase64(match[1].replace(/\s+/g, ''))
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// ---------------------------------------------------------------------------------------------------
// Hashes.

async function sha256(...parts: readonly Uint8Array[]): Promise<Bytes> {
  let length = 0
  for (const part of parts) length += part.length
  const message = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    message.set(part, offset)
    offset += part.length
  }
  return new Uint8Array(await subtle().digest('SHA-256', message))
}

/** RFC 6962 leaf hash: `SHA-256(0x00 || entry)`. */
export function leafHash(entry: Uint8Array): Promise<Bytes> {
  return sha256(Uint8Array.of(0x00), entry)
}

/** RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Bytes> {
  return sha256(Uint8Array.of(0x01), left, right)
}

// ---------------------------------------------------------------------------------------------------
// Signed tree heads.

/** The published JSON form of a signed tree head (POST /v1/ledger/journal/tree-heads). */
export type SignedTreeHead = { treeSize: number; timestamp: number; rootHash: string; keyId: string; signature: string }

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * RFC 6962 §3.5 TreeHeadSignature bytes, as src/ledger/tree-head.ts builds them: version u8 = 0,
 * signature_type u8 = 1 (tree_hash), timestamp u64 BE (ms), tree_size u64 BE, root hash (32 bytes).
 * Undefined for a head whose fields cannot be encoded.
 */
export function treeHeadSignatureInput(head: { treeSize: number; timestamp: number; rootHash: Uint8Array }): Bytes | undefined {
  if (!isSize(head.treeSize) || !isSize(head.timestamp) || head.rootHash.length !== hashSize) return undefined
  const bytes = new Uint8Array(1 + 1 + 8 + 8 + hashSize)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, 0)
  view.setUint8(1, 1)
  view.setBigUint64(2, BigInt(head.timestamp))
  view.setBigUint64(10, BigInt(head.treeSize))
  bytes.set(head.rootHash, 18)
  return bytes
}

/**
 * The outcome of checking a tree head's signature: `verified`; `bad_signature` (well formed, but the
 * signature does not match the key); `malformed` (the head or the key cannot be parsed); `unsupported`
 * (this browser's WebCrypto has no Ed25519, so nothing can be said).
 */
export type SignatureCheck = 'verified' | 'bad_signature' | 'malformed' | 'unsupported'

/** Verifies the Ed25519 signature of a signed tree head with an SPKI PEM public key. Never throws. */
export async function verifyTreeHeadSignature(sth: SignedTreeHead, publicKeyPem: string): Promise<SignatureCheck> {
  const rootHash = /^[0-9a-f]{64}$/.test(sth.rootHash) ? parseHex(sth.rootHash) : undefined
  const signature = parseBase64(sth.signature)
  const message = rootHash === undefined ? undefined : treeHeadSignatureInput({ treeSize: sth.treeSize, timestamp: sth.timestamp, rootHash })
  const der = spkiFromPem(publicKeyPem)
  if (message === undefined || signature === undefined || signature.length !== ed25519SignatureBytes || der === undefined) return 'malformed'
  let crypto: Subtle
  try {
    crypto = subtle()
  } catch {
    return 'unsupported'
  }
  let key: unknown
  try {
    key = await crypto.importKey('spki', der, { name: 'Ed25519' }, false, ['verify'])
  } catch (error) {
    return error instanceof Error && error.name === 'NotSupportedError' ? 'unsupported' : 'malformed'
  }
  try {
    return (await crypto.verify('Ed25519', key, signature, message)) ? 'verified' : 'bad_signature'
  } catch {
    return 'unsupported'
  }
}

// ---------------------------------------------------------------------------------------------------
// Inclusion (RFC 9162 §2.1.3.2).

/**
 * One step up the audit path: at `level` (the sibling covers up to 2^level leaves) the current hash is
 * combined with the proof's `sibling`, which sits on the `side` given; `result` is the parent's hash.
 */
export type InclusionStep = { step: number; level: number; side: 'left' | 'right'; sibling: string; result: string }

/** Why an inclusion proof failed: the input is unusable, the proof has the wrong length, or the root differs. */
export type InclusionFailure = 'malformed' | 'index_out_of_range' | 'proof_too_long' | 'proof_too_short' | 'root_mismatch'

export type InclusionCheck = {
  verified: boolean
  failure: InclusionFailure | null
  steps: InclusionStep[]
  /** The root the leaf and the path lead to (hex), or null if the path could not be followed to the end. */
  computedRoot: string | null
}

/** Hex input, as the API answers it; the expected root is the signed head's, not the proof response's. */
export type InclusionInput = { leafIndex: number; treeSize: number; leafHash: string; proof: readonly string[]; rootHash: string }

function parseHashes(texts: readonly string[]): Bytes[] | undefined {
  const hashes: Bytes[] = []
  for (const text of texts) {
    const hash = parseHex(text)
    if (hash?.length !== hashSize) return undefined
    hashes.push(hash)
  }
  return hashes
}

const half = (n: number) => Math.floor(n / 2)
const isOdd = (n: number) => n % 2 === 1

/**
 * RFC 9162 §2.1.3.2, as `verifyInclusion` in src/ledger/merkle.ts: recomputes the root from the leaf hash,
 * its index, the tree size and the audit path, compares it with `rootHash`, and records every step.
 * Never throws: malformed input is a failed verification.
 */
export async function verifyInclusion(input: InclusionInput): Promise<InclusionCheck> {
  const fail = (failure: InclusionFailure, steps: InclusionStep[] = [], computedRoot: string | null = null): InclusionCheck => ({ verified: false, failure, steps, computedRoot })
  const { leafIndex, treeSize } = input
  if (!isSize(leafIndex) || !isSize(treeSize)) return fail('malformed')
  if (leafIndex >= treeSize) return fail('index_out_of_range')
  const hashes = parseHashes([input.leafHash, input.rootHash, ...input.proof])
  if (hashes === undefined) return fail('malformed')
  const [leaf, root, ...proof] = hashes as [Bytes, Bytes, ...Bytes[]]
  let fn = leafIndex
  let sn = treeSize - 1
  let level = 0
  let r = leaf
  const steps: InclusionStep[] = []
  for (const p of proof) {
    if (sn === 0) return fail('proof_too_long', steps)
    let side: 'left' | 'right'
    if (isOdd(fn) || fn === sn) {
      // RFC 9162 shifts after hashing; shifting first gives the same hashes and the true level: on the
      // right edge a node without a right sibling is promoted unchanged until it is a right child.
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn)
        sn = half(sn)
        level += 1
      }
      side = 'left'
      r = await nodeHash(p, r)
      steps.push({ step: steps.length + 1, level, side, sibling: formatHex(p), result: formatHex(r) })
    } else {
      side = 'right'
      r = await nodeHash(r, p)
      steps.push({ step: steps.length + 1, level, side, sibling: formatHex(p), result: formatHex(r) })
    }
    fn = half(fn)
    sn = half(sn)
    level += 1
  }
  const computedRoot = formatHex(r)
  if (sn !== 0) return fail('proof_too_short', steps, computedRoot)
  if (!equalBytes(r, root)) return fail('root_mismatch', steps, computedRoot)
  return { verified: true, failure: null, steps, computedRoot }
}

// ---------------------------------------------------------------------------------------------------
// Consistency (RFC 9162 §2.1.4.2).

export type ConsistencyInput = { firstSize: number; secondSize: number; firstRoot: string; secondRoot: string; proof: readonly string[] }

const emptyTreeHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false
  let k = 1
  while (k < n) k *= 2
  return k === n
}

/**
 * RFC 9162 §2.1.4.2, as `verifyConsistency` in src/ledger/merkle.ts: true when the tree of `secondSize`
 * leaves with root `secondRoot` extends the tree of `firstSize` leaves with root `firstRoot` (nothing in
 * the first tree was changed or removed). Never throws.
 */
export async function verifyConsistency(input: ConsistencyInput): Promise<boolean> {
  const { firstSize, secondSize } = input
  if (!isSize(firstSize) || !isSize(secondSize) || firstSize > secondSize) return false
  const hashes = parseHashes([input.firstRoot, input.secondRoot, ...input.proof])
  if (hashes === undefined) return false
  const [firstRoot, secondRoot, ...proof] = hashes as [Bytes, Bytes, ...Bytes[]]
  if (firstSize === secondSize) return proof.length === 0 && equalBytes(firstRoot, secondRoot)
  if (firstSize === 0) return proof.length === 0 && formatHex(firstRoot) === emptyTreeHash
  if (proof.length === 0) return false
  const path = isPowerOfTwo(firstSize) ? [firstRoot, ...proof] : proof
  let fn = firstSize - 1
  let sn = secondSize - 1
  while (isOdd(fn)) {
    fn = half(fn)
    sn = half(sn)
  }
  let fr = path[0] as Bytes
  let sr = fr
  for (const c of path.slice(1)) {
    if (sn === 0) return false
    if (isOdd(fn) || fn === sn) {
      fr = await nodeHash(c, fr)
      sr = await nodeHash(c, sr)
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn)
        sn = half(sn)
      }
    } else {
      sr = await nodeHash(sr, c)
    }
    fn = half(fn)
    sn = half(sn)
  }
  return equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot) && sn === 0
}

/**
 * @module ledger/merkle
 * The Merkle tree over a tenant's journal, exactly as RFC 6962 §2.1 defines it, so that any RFC 6962 /
 * RFC 9162 verifier can check our roots and proofs:
 *
 * - hash: SHA-256; leaf `H(0x00 || entry)`; interior node `H(0x01 || left || right)`;
 * - the empty tree's hash is SHA-256 of the empty string;
 * - a list of n > 1 leaves splits at k, the largest power of two smaller than n.
 *
 * Two families of functions live here:
 *
 * 1. **Naive** (`rootFromLeafHashes`, `inclusionProof`, `consistencyProof`): a direct transcription of
 *    MTH, PATH and PROOF/SUBPROOF over an array of leaf hashes. Used by the offline verifier (it has
 *    every leaf anyway), by the `puhui merkle` tool, and as the oracle in the property tests.
 * 2. **Store-based** (`rootFromStore`, `inclusionProofFromStore`, `consistencyProofFromStore`): the same
 *    results, byte for byte, computed from stored *perfect subtree* hashes, so that the database never
 *    rehashes the log. Node (level k, index i) is the hash of the 2^k leaves [i·2^k, (i+1)·2^k); level 0
 *    holds the leaf hashes. Such a node never changes once its last leaf exists, so it can be stored in
 *    an append-only table. Every node of the RFC 6962 tree of any size n is either one of these perfect
 *    subtrees or lies on the tree's right edge, and a right-edge node is the fold of at most log2(n)
 *    perfect subtrees. Hence a root or a proof needs only O(log n) stored nodes: `nodesNeededFor…` say
 *    which ones (the caller fetches them in one query), and the `…FromStore` functions combine them.
 *    `appendLeaves` is the writer's side: given the current frontier (the perfect subtrees along the right
 *    edge, one per set bit of n), it returns every perfect-subtree node the new leaves complete.
 *
 * Verifiers follow RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step.
 *
 * Sizes and indices are JavaScript numbers (safe integers). Bit operators (`>>`, `&`) are avoided on
 * purpose: they truncate to 32 bits, and a journal may outgrow 2^31 entries.
 *
 * Pure apart from SHA-256 (node:crypto); no database, clock or I/O.
 */
import { hash as oneShotHash } from 'node:crypto'
import { assert } from '../core/assert.ts'

/** Bytes in a SHA-256 hash, and so in every leaf hash, node hash, root and proof element. */
export const hashSize = 32

/** Address of a perfect subtree: level k, index i covers leaves [i·2^k, (i+1)·2^k). */
export type SubtreeAddress = { readonly level: number; readonly index: number }
/** A perfect subtree with its hash, as the ledger stores it. */
export type SubtreeNode = SubtreeAddress & { readonly hash: Uint8Array }
/** Pre-fetched perfect-subtree hashes. Synchronous: fetch `nodesNeededFor…(…)` first, then build proofs. */
export type SubtreeStore = { get(level: number, index: number): Uint8Array | undefined }

const leafPrefix = Uint8Array.of(0x00)
const nodePrefix = Uint8Array.of(0x01)

/**
 * SHA-256 of the concatenated parts. One-shot `crypto.hash` is ~1.5x faster than `createHash` for 65 bytes;
 * the parts are copied into a reused scratch buffer (a fresh allocation per hash cost a third of the time
 * on the journal's write path: two hashes per transfer), and `crypto.hash` does not keep its input. The
 * digest is a plain Uint8Array over crypto's own Buffer memory, not a copy (a Buffer's `slice` would share
 * memory where a Uint8Array's copies).
 */
function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const message = length <= scratch.length ? scratchView(length) : new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    message.set(part, offset)
    offset += part.length
  }
  const digest = oneShotHash('sha256', message, 'buffer')
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

const scratch = new Uint8Array(512)
const scratchViews: Uint8Array[] = []
function scratchView(length: number): Uint8Array {
  let view = scratchViews[length]
  if (view === undefined) {
    view = scratch.subarray(0, length)
    scratchViews[length] = view
  }
  return view
}

/** SHA-256 of the empty string: the hash of the empty tree (RFC 6962 §2.1, MTH({})). */
export const emptyTreeHash: Uint8Array = sha256()

/** RFC 6962 leaf hash: `SHA-256(0x00 || entry)`. */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(leafPrefix, entry)
}

/** RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assert(left.length === hashSize, () => `left child must be ${hashSize} bytes, got ${left.length}`)
  assert(right.length === hashSize, () => `right child must be ${hashSize} bytes, got ${right.length}`)
  return sha256(nodePrefix, left, right)
}

/** True when both byte arrays hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lower-case hex of the bytes. */
export function formatHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

const hexPattern = /^(?:[0-9a-fA-F]{2})*$/
/** Strict hex decoding (even length, hex digits only; either case); undefined if the text is not hex. */
export function parseHex(text: string): Uint8Array | undefined {
  if (!hexPattern.test(text)) return undefined
  return Uint8Array.from(Buffer.from(text, 'hex'))
}

function isSize(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false
  let k = 1
  while (k < n) k *= 2
  return k === n
}

/** k such that k < n <= 2k, k a power of two (RFC 6962's split point). */
function splitPoint(n: number): number {
  assert(n >= 2, () => `only trees of two or more leaves split, got ${n}`)
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function log2Exact(n: number): number {
  assert(isPowerOfTwo(n), () => `${n} is not a power of two`)
  let level = 0
  for (let k = 1; k < n; k *= 2) level++
  return level
}

function half(n: number): number {
  return Math.floor(n / 2)
}

function isOdd(n: number): boolean {
  return n % 2 === 1
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index]
  assert(item !== undefined, () => `index ${index} out of range 0..${items.length - 1}`)
  return item
}

// ---------------------------------------------------------------------------------------------------
// Naive: MTH, PATH and PROOF over the whole list of leaf hashes (RFC 6962 §2.1, §2.1.1, §2.1.2).

/** MTH(D[start:end]) from leaf hashes (the leaves are already hashed with `leafHash`). */
function hashLeafRange(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start
  assert(n >= 1)
  if (n === 1) return at(leafHashes, start)
  const k = splitPoint(n)
  return nodeHash(hashLeafRange(leafHashes, start, start + k), hashLeafRange(leafHashes, start + k, end))
}

/**
 * The tree hash MTH(D[n]) of the given leaf hashes; the hash of the empty string for no leaves.
 *
 * @example
 * formatHex(rootFromLeafHashes([leafHash(new Uint8Array())])) // '6e340b9c…' (RFC 6962 leaf "" )
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyTreeHash.slice()
  return hashLeafRange(leafHashes, 0, leafHashes.length)
}

function pathInLeafRange(m: number, leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const n = end - start
  if (n === 1) return []
  const k = splitPoint(n)
  if (m < k) return [...pathInLeafRange(m, leafHashes, start, start + k), hashLeafRange(leafHashes, start + k, end)]
  return [...pathInLeafRange(m - k, leafHashes, start + k, end), hashLeafRange(leafHashes, start, start + k)]
}

/** RFC 6962 §2.1.1 audit path PATH(index, D[n]), n = leafHashes.length: sibling hashes from the leaf up. */
export function inclusionProof(index: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  assert(Number.isSafeInteger(index) && index >= 0 && index < leafHashes.length, () => `leaf index ${index} outside 0..${leafHashes.length - 1}`)
  return pathInLeafRange(index, leafHashes, 0, leafHashes.length)
}

function subproofInLeafRange(m: number, leafHashes: readonly Uint8Array[], start: number, end: number, isOldRoot: boolean): Uint8Array[] {
  const n = end - start
  if (m === n) return isOldRoot ? [] : [hashLeafRange(leafHashes, start, end)]
  const k = splitPoint(n)
  if (m <= k) return [...subproofInLeafRange(m, leafHashes, start, start + k, isOldRoot), hashLeafRange(leafHashes, start + k, end)]
  return [...subproofInLeafRange(m - k, leafHashes, start + k, end, false), hashLeafRange(leafHashes, start, start + k)]
}

/**
 * RFC 6962 §2.1.2 consistency proof PROOF(m, D[n]) = SUBPROOF(m, D[n], true), n = leafHashes.length.
 * RFC 6962 defines it for 0 < m < n; for m = n (nothing to prove) and m = 0 (every tree extends the
 * empty tree) the proof is empty, as RFC 9162 and transparency-dev/merkle have it.
 */
export function consistencyProof(m: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  const n = leafHashes.length
  assert(Number.isSafeInteger(m) && m >= 0 && m <= n, () => `old size ${m} outside 0..${n}`)
  if (m === 0) return []
  return subproofInLeafRange(m, leafHashes, 0, n, true)
}

// ---------------------------------------------------------------------------------------------------
// Store-based: the same results from stored perfect-subtree hashes.

/** MTH of leaves [start, end) from the store, where [start, end) is a node of the RFC tree (see module comment). */
function hashRangeFromStore(store: SubtreeStore, start: number, end: number): Uint8Array {
  const n = end - start
  assert(n >= 1)
  if (isPowerOfTwo(n) && start % n === 0) {
    const level = log2Exact(n)
    const index = start / n
    const hash = store.get(level, index)
    assert(hash !== undefined, () => `subtree node (level ${level}, index ${index}) was not fetched`)
    assert(hash.length === hashSize, () => `subtree node (level ${level}, index ${index}) is not ${hashSize} bytes`)
    return hash
  }
  const k = splitPoint(n)
  return nodeHash(hashRangeFromStore(store, start, start + k), hashRangeFromStore(store, start + k, end))
}

function pathFromStore(m: number, store: SubtreeStore, start: number, end: number): Uint8Array[] {
  const n = end - start
  if (n === 1) return []
  const k = splitPoint(n)
  if (m < k) return [...pathFromStore(m, store, start, start + k), hashRangeFromStore(store, start + k, end)]
  return [...pathFromStore(m - k, store, start + k, end), hashRangeFromStore(store, start, start + k)]
}

function subproofFromStore(m: number, store: SubtreeStore, start: number, end: number, isOldRoot: boolean): Uint8Array[] {
  const n = end - start
  if (m === n) return isOldRoot ? [] : [hashRangeFromStore(store, start, end)]
  const k = splitPoint(n)
  if (m <= k) return [...subproofFromStore(m, store, start, start + k, isOldRoot), hashRangeFromStore(store, start + k, end)]
  return [...subproofFromStore(m - k, store, start + k, end, false), hashRangeFromStore(store, start, start + k)]
}

/** MTH(D[treeSize]) from stored perfect subtrees: the frontier nodes, `nodesNeededForRoot(treeSize)`. */
export function rootFromStore(treeSize: number, store: SubtreeStore): Uint8Array {
  assert(isSize(treeSize), () => `tree size ${treeSize} must be a non-negative safe integer`)
  if (treeSize === 0) return emptyTreeHash.slice()
  return hashRangeFromStore(store, 0, treeSize)
}

/** PATH(index, D[treeSize]) from stored perfect subtrees (`nodesNeededForInclusion(index, treeSize)`). */
export function inclusionProofFromStore(index: number, treeSize: number, store: SubtreeStore): Uint8Array[] {
  assert(isSize(treeSize), () => `tree size ${treeSize} must be a non-negative safe integer`)
  assert(Number.isSafeInteger(index) && index >= 0 && index < treeSize, () => `leaf index ${index} outside 0..${treeSize - 1}`)
  return pathFromStore(index, store, 0, treeSize)
}

/** PROOF(m, D[n]) from stored perfect subtrees (`nodesNeededForConsistency(m, n)`); empty for m = 0 or m = n. */
export function consistencyProofFromStore(m: number, n: number, store: SubtreeStore): Uint8Array[] {
  assert(isSize(n), () => `tree size ${n} must be a non-negative safe integer`)
  assert(Number.isSafeInteger(m) && m >= 0 && m <= n, () => `old size ${m} outside 0..${n}`)
  if (m === 0) return []
  return subproofFromStore(m, store, 0, n, true)
}

/** Runs a store-based computation against a store that records what it is asked for. */
function recordNodesNeeded(compute: (store: SubtreeStore) => unknown): SubtreeAddress[] {
  const seen = new Set<string>()
  const needed: SubtreeAddress[] = []
  const placeholder = new Uint8Array(hashSize)
  compute({
    get(level, index) {
      const key = `${level}:${index}`
      if (!seen.has(key)) {
        seen.add(key)
        needed.push({ level, index })
      }
      return placeholder
    },
  })
  return needed
}

/**
 * The perfect subtrees whose hashes `rootFromStore(treeSize, …)` combines: one per set bit of treeSize,
 * largest (leftmost) first. This is also the tree's frontier, the input of `appendLeaves`.
 */
export function nodesNeededForRoot(treeSize: number): SubtreeAddress[] {
  return recordNodesNeeded((store) => rootFromStore(treeSize, store))
}

/** The perfect subtrees `inclusionProofFromStore(index, treeSize, …)` reads: at most 2·log2(treeSize). */
export function nodesNeededForInclusion(index: number, treeSize: number): SubtreeAddress[] {
  return recordNodesNeeded((store) => inclusionProofFromStore(index, treeSize, store))
}

/** The perfect subtrees `consistencyProofFromStore(m, n, …)` reads: at most 2·log2(n). */
export function nodesNeededForConsistency(m: number, n: number): SubtreeAddress[] {
  return recordNodesNeeded((store) => consistencyProofFromStore(m, n, store))
}

/** Tree size a frontier describes; asserts the frontier is well formed (contiguous, levels decreasing). */
export function sizeOfFrontier(frontier: readonly SubtreeAddress[]): number {
  let size = 0
  let previousLevel = Infinity
  for (const node of frontier) {
    assert(Number.isSafeInteger(node.level) && node.level >= 0 && node.level < previousLevel, 'frontier levels must strictly decrease')
    const width = 2 ** node.level
    assert(node.index * width === size, () => `frontier node (level ${node.level}, index ${node.index}) does not start at leaf ${size}`)
    size += width
    previousLevel = node.level
  }
  return size
}

/**
 * Appends leaf hashes to a tree given by its frontier (the perfect subtrees along its right edge, as
 * `nodesNeededForRoot(size)` lists them, with their hashes). Returns every perfect-subtree node that the
 * new leaves complete, leaves (level 0) included, in creation order (insert them all), and the new
 * frontier. The root of the new tree is `rootFromFrontier(frontier)`.
 */
export function appendLeaves(existingFrontier: readonly SubtreeNode[], newLeafHashes: readonly Uint8Array[]): { created: SubtreeNode[]; frontier: SubtreeNode[] } {
  let size = sizeOfFrontier(existingFrontier)
  const frontier = [...existingFrontier]
  const created: SubtreeNode[] = []
  for (const hash of newLeafHashes) {
    assert(hash.length === hashSize, () => `leaf hash must be ${hashSize} bytes, got ${hash.length}`)
    let node: SubtreeNode = { level: 0, index: size, hash }
    created.push(node)
    // Like incrementing a binary counter: equal-sized neighbours on the right edge merge.
    let left = frontier.at(-1)
    while (left !== undefined && left.level === node.level) {
      frontier.pop()
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) }
      assert(Number.isSafeInteger(node.index))
      created.push(node)
      left = frontier.at(-1)
    }
    frontier.push(node)
    size += 1
  }
  assert(sizeOfFrontier(frontier) === size)
  return { created, frontier }
}

/** MTH of the tree a frontier describes (the empty tree's hash for an empty frontier). */
export function rootFromFrontier(frontier: readonly SubtreeNode[]): Uint8Array {
  const size = sizeOfFrontier(frontier)
  const byAddress = new Map(frontier.map((node) => [`${node.level}:${node.index}`, node.hash]))
  return rootFromStore(size, { get: (level, index) => byAddress.get(`${level}:${index}`) })
}

// ---------------------------------------------------------------------------------------------------
// Verifiers: RFC 9162 §2.1.3.2 and §2.1.4.2.

function allHashSized(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((hash) => hash.length === hashSize)
}

/** Right-shifts fn and sn together until fn is odd or zero (RFC 9162's inner loop). */
function shiftUntilOddOrZero(state: { fn: number; sn: number }): void {
  while (!isOdd(state.fn) && state.fn !== 0) {
    state.fn = half(state.fn)
    state.sn = half(state.sn)
  }
}

/**
 * RFC 9162 §2.1.3.2: recomputes the root from the leaf hash, its index, the tree size and the audit path,
 * and compares it with `rootHash`. Never throws: malformed input is a failed verification.
 */
export function verifyInclusion(input: { leafIndex: number; treeSize: number; leafHash: Uint8Array; proof: readonly Uint8Array[]; rootHash: Uint8Array }): boolean {
  const { leafIndex, treeSize, leafHash: hash, proof, rootHash } = input
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex >= treeSize) return false
  if (!allHashSized([hash, rootHash, ...proof])) return false
  const state = { fn: leafIndex, sn: treeSize - 1 }
  let r = hash
  for (const p of proof) {
    if (state.sn === 0) return false
    if (isOdd(state.fn) || state.fn === state.sn) {
      r = nodeHash(p, r)
      shiftUntilOddOrZero(state)
    } else {
      r = nodeHash(r, p)
    }
    state.fn = half(state.fn)
    state.sn = half(state.sn)
  }
  return state.sn === 0 && equalBytes(r, rootHash)
}

/**
 * RFC 9162 §2.1.4.2: checks that the tree of size `secondSize` with root `secondRoot` extends the tree of
 * size `firstSize` with root `firstRoot`. For equal sizes the proof must be empty and the roots equal;
 * from size 0 the proof must be empty and `firstRoot` the empty tree's hash. Never throws.
 */
export function verifyConsistency(input: { firstSize: number; secondSize: number; firstRoot: Uint8Array; secondRoot: Uint8Array; proof: readonly Uint8Array[] }): boolean {
  const { firstSize, secondSize, firstRoot, secondRoot, proof } = input
  if (!isSize(firstSize) || !isSize(secondSize) || firstSize > secondSize) return false
  if (!allHashSized([firstRoot, secondRoot, ...proof])) return false
  if (firstSize === secondSize) return proof.length === 0 && equalBytes(firstRoot, secondRoot)
  if (firstSize === 0) return proof.length === 0 && equalBytes(firstRoot, emptyTreeHash)
  if (proof.length === 0) return false
  const path = isPowerOfTwo(firstSize) ? [firstRoot, ...proof] : [...proof]
  const state = { fn: firstSize - 1, sn: secondSize - 1 }
  while (isOdd(state.fn)) {
    state.fn = half(state.fn)
    state.sn = half(state.sn)
  }
  let fr = at(path, 0)
  let sr = fr
  for (const c of path.slice(1)) {
    if (state.sn === 0) return false
    if (isOdd(state.fn) || state.fn === state.sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      shiftUntilOddOrZero(state)
    } else {
      sr = nodeHash(sr, c)
    }
    state.fn = half(state.fn)
    state.sn = half(state.sn)
  }
  return equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot) && state.sn === 0
}

/**
 * Tests for the RFC 6962 Merkle tree: published test vectors, naive vs store-based proofs (fast-check),
 * and verifiers that accept good proofs and reject any single-bit change.
 *
 * Expected hashes are the classic Certificate Transparency test data, as published in
 * transparency-dev/merkle, file proof/verify_test.go (commit 02194e9afb6c1d95b5381350007963aa70fff472):
 * the `roots` (sizes 1..8), `inclusionProofs` and `consistencyProofs` tables. That file numbers leaves
 * from 1 in `inclusionProofs` (leaf 1 is index 0); the indices below are 0-based.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  appendLeaves, consistencyProof, consistencyProofFromStore, emptyTreeHash, formatHex, inclusionProof, inclusionProofFromStore,
  leafHash, nodeHash, nodesNeededForConsistency, nodesNeededForInclusion, nodesNeededForRoot, parseHex, rootFromFrontier,
  rootFromLeafHashes, rootFromStore, verifyConsistency, verifyInclusion, type SubtreeAddress, type SubtreeNode, type SubtreeStore,
} from './merkle.ts'

function hex(text: string): Uint8Array {
  const bytes = parseHex(text)
  if (bytes === undefined) throw new Error(`not hex: ${text}`)
  return bytes
}

const ctLeaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex)
const ctLeafHashes = ctLeaves.map(leafHash)
const ctRoots = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
function ctRoot(size: number): string {
  const root = ctRoots[size - 1]
  if (root === undefined) throw new Error(`no published root for size ${size}`)
  return root
}
const ctInclusion: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  { index: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { index: 1, size: 5, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
]
const ctConsistency: { m: number; n: number; proof: string[] }[] = [
  { m: 1, n: 1, proof: [] },
  { m: 1, n: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { m: 6, n: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { m: 2, n: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
  { m: 6, n: 7, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
]

/** A store holding every perfect subtree of the given leaves, built by appending in the given batch sizes. */
function buildStore(leafHashes: readonly Uint8Array[], batchSizes: readonly number[] = [leafHashes.length]): Map<string, Uint8Array> {
  const nodes = new Map<string, Uint8Array>()
  let frontier: SubtreeNode[] = []
  let offset = 0
  for (const size of [...batchSizes, leafHashes.length]) {
    const batch = leafHashes.slice(offset, offset + size)
    offset += batch.length
    const appended = appendLeaves(frontier, batch)
    for (const node of appended.created) {
      const key = `${node.level}:${node.index}`
      expect(nodes.has(key)).toBe(false) // each perfect subtree is created exactly once
      nodes.set(key, node.hash)
    }
    frontier = appended.frontier
  }
  expect(offset).toBe(leafHashes.length)
  expect(rootFromFrontier(frontier)).toEqual(rootFromLeafHashes(leafHashes))
  return nodes
}

/** A store restricted to the listed addresses: proves that `nodesNeededFor…` lists everything read. */
function storeOf(nodes: Map<string, Uint8Array>, addresses: readonly SubtreeAddress[]): SubtreeStore {
  const allowed = new Set(addresses.map((a) => `${a.level}:${a.index}`))
  return { get: (level, index) => (allowed.has(`${level}:${index}`) ? nodes.get(`${level}:${index}`) : undefined) }
}

function leafHashesOf(n: number, seed: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(seed % 256, i % 256, Math.floor(i / 256))))
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice()
  copy[Math.floor(bit / 8) % copy.length]! ^= 1 << (bit % 8)
  return copy
}

function log2Ceil(n: number): number {
  return Math.ceil(Math.log2(Math.max(n, 1)))
}

describe('RFC 6962 hashing', () => {
  it('hashes the empty tree, leaves and nodes with the RFC prefixes', () => {
    expect(formatHex(emptyTreeHash)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(formatHex(rootFromLeafHashes([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(formatHex(leafHash(new Uint8Array()))).toBe(ctRoot(1))
    expect(nodeHash(ctLeafHashes[0]!, ctLeafHashes[1]!)).toEqual(hex(ctRoot(2)))
  })
  it('matches the published roots of the 8-leaf CT test tree for every size 1..8', () => {
    for (let size = 1; size <= 8; size++) {
      expect(formatHex(rootFromLeafHashes(ctLeafHashes.slice(0, size))), `size ${size}`).toBe(ctRoot(size))
      const store = buildStore(ctLeafHashes.slice(0, size))
      expect(formatHex(rootFromStore(size, storeOf(store, nodesNeededForRoot(size))))).toBe(ctRoot(size))
    }
  })
  it('produces the published inclusion proofs, and verifies them', () => {
    for (const { index, size, proof } of ctInclusion) {
      const leaves = ctLeafHashes.slice(0, size)
      expect(inclusionProof(index, leaves).map(formatHex), `PATH(${index}, D[${size}])`).toEqual(proof)
      const store = buildStore(leaves)
      expect(inclusionProofFromStore(index, size, storeOf(store, nodesNeededForInclusion(index, size))).map(formatHex)).toEqual(proof)
      expect(verifyInclusion({ leafIndex: index, treeSize: size, leafHash: ctLeafHashes[index]!, proof: proof.map(hex), rootHash: hex(ctRoot(size)) })).toBe(true)
    }
  })
  it('produces the published consistency proofs, and verifies them', () => {
    for (const { m, n, proof } of ctConsistency) {
      const leaves = ctLeafHashes.slice(0, n)
      expect(consistencyProof(m, leaves).map(formatHex), `PROOF(${m}, D[${n}])`).toEqual(proof)
      const store = buildStore(leaves)
      expect(consistencyProofFromStore(m, n, storeOf(store, nodesNeededForConsistency(m, n))).map(formatHex)).toEqual(proof)
      expect(verifyConsistency({ firstSize: m, secondSize: n, firstRoot: hex(ctRoot(m)), secondRoot: hex(ctRoot(n)), proof: proof.map(hex) })).toBe(true)
    }
  })
  it('follows the RFC 6962 §2.1.3 example tree of 7 leaves (d0..d6)', () => {
    const d = Array.from({ length: 7 }, (_, i) => leafHash(Uint8Array.of(i)))
    const h = (a: Uint8Array, b: Uint8Array) => nodeHash(a, b)
    const [a, b, c, dd, e, f, j] = d as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]
    const g = h(a, b), hh = h(c, dd), i = h(e, f), k = h(g, hh), l = h(i, j)
    expect(inclusionProof(0, d)).toEqual([b, hh, l]) // the RFC's example: PATH(a) = [b, h, l]
    expect(inclusionProof(3, d)).toEqual([c, g, l]) // PATH(d) = [c, g, l]
    expect(inclusionProof(4, d)).toEqual([f, j, k]) // PATH(e) = [f, j, k]
    expect(consistencyProof(3, d.slice(0, 4))).toEqual([c, dd, g]) // PROOF(3, D[4]) = [c, d, g]
    expect(consistencyProof(3, d)).toEqual([c, dd, g, l]) // PROOF(3, D[7]) = [c, d, g, l]
    expect(consistencyProof(4, d)).toEqual([l]) // PROOF(4, D[7]) = [l]
    expect(consistencyProof(6, d)).toEqual([i, j, k]) // PROOF(6, D[7]) = [i, j, k]
  })
})

describe('store-based proofs equal naive proofs', () => {
  it('for every size up to 40, every index and every old size (exhaustive)', () => {
    const leaves = leafHashesOf(40, 7)
    const store = buildStore(leaves, [1, 2, 3, 5, 8, 13])
    for (let n = 0; n <= leaves.length; n++) {
      const prefix = leaves.slice(0, n)
      expect(rootFromStore(n, storeOf(store, nodesNeededForRoot(n)))).toEqual(rootFromLeafHashes(prefix))
      for (let i = 0; i < n; i++) expect(inclusionProofFromStore(i, n, storeOf(store, nodesNeededForInclusion(i, n)))).toEqual(inclusionProof(i, prefix))
      for (let m = 0; m <= n; m++) expect(consistencyProofFromStore(m, n, storeOf(store, nodesNeededForConsistency(m, n)))).toEqual(consistencyProof(m, prefix))
    }
   }, 60_000)
  it('for random n up to 300 and all m <= n, reading only O(log n) stored nodes (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }), fc.nat(255), (n, batches, seed) => {
        const leaves = leafHashesOf(n, seed)
        const store = buildStore(leaves, batches)
        const bound = 2 * log2Ceil(n) + 1
        expect(nodesNeededForRoot(n).length).toBeLessThanOrEqual(log2Ceil(n) + 1)
        expect(rootFromStore(n, storeOf(store, nodesNeededForRoot(n)))).toEqual(rootFromLeafHashes(leaves))
        for (let m = 0; m <= n; m++) {
          const needed = nodesNeededForConsistency(m, n)
          expect(needed.length).toBeLessThanOrEqual(bound)
          expect(consistencyProofFromStore(m, n, storeOf(store, needed))).toEqual(consistencyProof(m, leaves))
        }
        for (let i = 0; i < n; i++) {
          const needed = nodesNeededForInclusion(i, n)
          expect(needed.length).toBeLessThanOrEqual(bound)
          expect(inclusionProofFromStore(i, n, storeOf(store, needed))).toEqual(inclusionProof(i, leaves))
        }
      }),
      { numRuns: 12 },
    )
  }, 60_000)
  it('plans O(log n) reads at a million entries and beyond 2^32', () => {
    expect(nodesNeededForRoot(1_000_000).length).toBe(7) // popcount(1_000_000)
    expect(nodesNeededForInclusion(123_456, 1_000_000).length).toBeLessThanOrEqual(2 * 20)
    expect(nodesNeededForConsistency(999_999, 1_000_000).length).toBeLessThanOrEqual(2 * 20)
    const big = 2 ** 40 + 12_345 // 2^40 + 2^13 + 2^12 + 2^5 + 2^4 + 2^3 + 2^0
    expect(nodesNeededForRoot(big)).toEqual([{ level: 40, index: 0 }, { level: 13, index: 2 ** 27 }, { level: 12, index: 2 ** 28 + 2 }, { level: 5, index: (2 ** 40 + 12_288) / 32 }, { level: 4, index: (2 ** 40 + 12_320) / 16 }, { level: 3, index: (2 ** 40 + 12_336) / 8 }, { level: 0, index: big - 1 }])
  })
  it('fails loudly when a needed node was not fetched', () => {
    const store = buildStore(leafHashesOf(5, 1))
    expect(() => rootFromStore(5, storeOf(store, []))).toThrow(/not fetched/)
  })
})

describe('verifiers (RFC 9162)', () => {
  it('accept good proofs and reject every single-bit change of leaf, proof or root (exhaustive, n <= 12)', () => {
    for (let n = 1; n <= 12; n++) {
      const leaves = leafHashesOf(n, n)
      for (let i = 0; i < n; i++) {
        const input = { leafIndex: i, treeSize: n, leafHash: leaves[i]!, proof: inclusionProof(i, leaves), rootHash: rootFromLeafHashes(leaves) }
        expect(verifyInclusion(input)).toBe(true)
        for (let bit = 0; bit < 256; bit++) {
          expect(verifyInclusion({ ...input, leafHash: flipBit(input.leafHash, bit) })).toBe(false)
          expect(verifyInclusion({ ...input, rootHash: flipBit(input.rootHash, bit) })).toBe(false)
          input.proof.forEach((_, p) => expect(verifyInclusion({ ...input, proof: input.proof.map((h, q) => (q === p ? flipBit(h, bit) : h)) })).toBe(false))
        }
      }
      for (let m = 1; m < n; m++) {
        const input = { firstSize: m, secondSize: n, firstRoot: rootFromLeafHashes(leaves.slice(0, m)), secondRoot: rootFromLeafHashes(leaves), proof: consistencyProof(m, leaves) }
        expect(verifyConsistency(input)).toBe(true)
        for (let bit = 0; bit < 256; bit++) {
          expect(verifyConsistency({ ...input, firstRoot: flipBit(input.firstRoot, bit) })).toBe(false)
          expect(verifyConsistency({ ...input, secondRoot: flipBit(input.secondRoot, bit) })).toBe(false)
          input.proof.forEach((_, p) => expect(verifyConsistency({ ...input, proof: input.proof.map((h, q) => (q === p ? flipBit(h, bit) : h)) })).toBe(false))
        }
      }
    }
  }, 60_000)
  it('accept good proofs and reject a random single-bit change for random n up to 300 (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.integer({ min: 1, max: n }), fc.nat(), fc.nat(255))), ([n, i, m, pick, bit]) => {
        const leaves = leafHashesOf(n, pick)
        const root = rootFromLeafHashes(leaves)
        const inclusion = { leafIndex: i, treeSize: n, leafHash: leaves[i]!, proof: inclusionProof(i, leaves), rootHash: root }
        expect(verifyInclusion(inclusion)).toBe(true)
        const target = pick % (inclusion.proof.length + 2)
        const badInclusion = target === 0 ? { ...inclusion, leafHash: flipBit(inclusion.leafHash, bit) }
          : target === 1 ? { ...inclusion, rootHash: flipBit(root, bit) }
            : { ...inclusion, proof: inclusion.proof.map((h, q) => (q === target - 2 ? flipBit(h, bit) : h)) }
        expect(verifyInclusion(badInclusion)).toBe(false)

        const consistency = { firstSize: m, secondSize: n, firstRoot: rootFromLeafHashes(leaves.slice(0, m)), secondRoot: root, proof: consistencyProof(m, leaves) }
        expect(verifyConsistency(consistency)).toBe(true)
        const which = pick % (consistency.proof.length + 2)
        const badConsistency = which === 0 ? { ...consistency, firstRoot: flipBit(consistency.firstRoot, bit) }
          : which === 1 ? { ...consistency, secondRoot: flipBit(root, bit) }
            : { ...consistency, proof: consistency.proof.map((h, q) => (q === which - 2 ? flipBit(h, bit) : h)) }
        expect(verifyConsistency(badConsistency)).toBe(false)
      }),
      { numRuns: 200 },
    )
  }, 60_000)
  it('reject malformed inputs instead of throwing', () => {
    const leaves = leafHashesOf(5, 3)
    const root = rootFromLeafHashes(leaves)
    const proof = inclusionProof(2, leaves)
    expect(verifyInclusion({ leafIndex: 5, treeSize: 5, leafHash: leaves[2]!, proof, rootHash: root })).toBe(false)
    expect(verifyInclusion({ leafIndex: -1, treeSize: 5, leafHash: leaves[2]!, proof, rootHash: root })).toBe(false)
    expect(verifyInclusion({ leafIndex: 2, treeSize: 5, leafHash: leaves[2]!, proof: [...proof, root], rootHash: root })).toBe(false)
    expect(verifyInclusion({ leafIndex: 2, treeSize: 5, leafHash: leaves[2]!, proof: proof.slice(1), rootHash: root })).toBe(false)
    expect(verifyInclusion({ leafIndex: 2, treeSize: 5, leafHash: leaves[2]!, proof: [new Uint8Array(), ...proof], rootHash: root })).toBe(false)
    expect(verifyInclusion({ leafIndex: 0, treeSize: 1, leafHash: root, proof: [], rootHash: new Uint8Array() })).toBe(false)
    const first = rootFromLeafHashes(leaves.slice(0, 3))
    const cproof = consistencyProof(3, leaves)
    expect(verifyConsistency({ firstSize: 3, secondSize: 5, firstRoot: first, secondRoot: root, proof: [] })).toBe(false)
    expect(verifyConsistency({ firstSize: 3, secondSize: 5, firstRoot: root, secondRoot: first, proof: cproof })).toBe(false)
    expect(verifyConsistency({ firstSize: 5, secondSize: 3, firstRoot: root, secondRoot: first, proof: cproof })).toBe(false)
    expect(verifyConsistency({ firstSize: 3, secondSize: 5, firstRoot: first, secondRoot: root, proof: [...cproof, root] })).toBe(false)
    expect(verifyConsistency({ firstSize: 3, secondSize: 5, firstRoot: first, secondRoot: root, proof: [first, ...cproof] })).toBe(false)
    // Equal sizes: empty proof, equal roots. From the empty tree: empty proof, the empty tree's hash.
    expect(verifyConsistency({ firstSize: 5, secondSize: 5, firstRoot: root, secondRoot: root, proof: [] })).toBe(true)
    expect(verifyConsistency({ firstSize: 5, secondSize: 5, firstRoot: root, secondRoot: first, proof: [] })).toBe(false)
    expect(verifyConsistency({ firstSize: 5, secondSize: 5, firstRoot: root, secondRoot: root, proof: [root] })).toBe(false)
    expect(verifyConsistency({ firstSize: 0, secondSize: 5, firstRoot: emptyTreeHash, secondRoot: root, proof: [] })).toBe(true)
    expect(verifyConsistency({ firstSize: 0, secondSize: 5, firstRoot: root, secondRoot: root, proof: [] })).toBe(false)
  })
})

describe('appendLeaves', () => {
  it('creates each perfect subtree once, in any batching, and its frontier gives the root', () => {
    const leaves = leafHashesOf(13, 9)
    const { created, frontier } = appendLeaves([], leaves)
    expect(created.filter((node) => node.level === 0).length).toBe(13)
    expect(created.length).toBe(13 + 6 + 3 + 1) // perfect subtrees of 13 leaves: 13 + 6 pairs + 3 quads + 1 octet
    expect(frontier.map(({ level, index }) => ({ level, index }))).toEqual(nodesNeededForRoot(13))
    expect(rootFromFrontier(frontier)).toEqual(rootFromLeafHashes(leaves))
    const split = appendLeaves(appendLeaves([], leaves.slice(0, 6)).frontier, leaves.slice(6))
    expect(split.frontier).toEqual(frontier)
  })
  it('refuses a malformed frontier', () => {
    const node = { level: 1, index: 1, hash: new Uint8Array(32) }
    expect(() => appendLeaves([node], [])).toThrow(/does not start at leaf 0/)
  })
})

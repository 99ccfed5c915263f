/**
 * Tests for the `puhui merkle` commands against the Certificate Transparency test tree, as published in
 * transparency-dev/merkle proof/verify_test.go (commit 02194e9afb6c1d95b5381350007963aa70fff472), and
 * their one-line errors.
 */
import { describe, expect, it } from 'vitest'
import { merkleConsistencyCommand, merkleInclusionCommand, merkleRootCommand } from './merkle-cli.ts'

const ctLeaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f']

describe('puhui merkle', () => {
  it('prints roots: the empty tree, an empty leaf, the 8-leaf CT tree', () => {
    expect(merkleRootCommand([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(merkleRootCommand([''])).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
    expect(merkleRootCommand(ctLeaves.slice(0, 3))).toBe('aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77')
    expect(merkleRootCommand(ctLeaves)).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328')
    expect(merkleRootCommand(ctLeaves.map((leaf) => leaf.toUpperCase()))).toBe(merkleRootCommand(ctLeaves))
  })
  it('prints inclusion proofs as single-line JSON arrays', () => {
    expect(merkleInclusionCommand(5, ctLeaves)).toBe(JSON.stringify([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]))
    expect(merkleInclusionCommand(0, [''])).toBe('[]')
  })
  it('prints consistency proofs as single-line JSON arrays', () => {
    expect(merkleConsistencyCommand(2, ctLeaves.slice(0, 5))).toBe(JSON.stringify([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]))
    expect(merkleConsistencyCommand(8, ctLeaves)).toBe('[]')
    expect(merkleConsistencyCommand(0, ctLeaves)).toBe('[]')
  })
  it('throws one-line errors naming the bad argument', () => {
    expect(() => merkleRootCommand(['00', 'zz'])).toThrow(/^leaf argument 2 \("zz"\) is not hex/)
    expect(() => merkleRootCommand(['abc'])).toThrow(/leaf argument 1 \("abc"\)/)
    expect(() => merkleRootCommand(['0x00'])).toThrow(/leaf argument 1/)
    expect(() => merkleInclusionCommand(8, ctLeaves)).toThrow(/--index must be an integer from 0 to 7, got 8/)
    expect(() => merkleInclusionCommand(-1, ctLeaves)).toThrow(/--index/)
    expect(() => merkleInclusionCommand(0, [])).toThrow(/at least one leaf/)
    expect(() => merkleConsistencyCommand(9, ctLeaves)).toThrow(/--from must be an integer from 0 to 8 \(the number of leaves\), got 9/)
    expect(() => merkleConsistencyCommand(1.5, ctLeaves)).toThrow(/--from/)
    for (const run of [() => merkleRootCommand(['q']), () => merkleInclusionCommand(99, ['00'])]) {
      try {
        run()
      } catch (error) {
        expect((error as Error).message).not.toMatch(/\n/)
      }
    }
  })
})

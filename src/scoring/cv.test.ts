/**
 * Cross-validation folds: a partition of the rows, stratified, and a pure function of the seed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crossValidate, mulberry32, stratifiedFolds, stratifiedSplit } from './cv.ts'

describe('stratifiedFolds', () => {
  it('puts every row in exactly one fold, each class spread within one row across folds, deterministically', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 2, maxLength: 300 }), fc.integer({ min: 2, max: 7 }), fc.integer(), (labels, k, seed) => {
        const folds = stratifiedFolds(labels, k, seed)
        expect(folds.every((f) => f >= 0 && f < k)).toBe(true)
        for (const c of [0, 1]) {
          const perFold = Array.from({ length: k }, (_, f) => labels.filter((l, i) => l === c && folds[i] === f).length)
          expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1)
        }
        const sizes = Array.from({ length: k }, (_, f) => folds.filter((x) => x === f).length)
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
        expect(stratifiedFolds(labels, k, seed)).toEqual(folds)
      }),
      { numRuns: 100 },
    )
  })
  it('gives each row to one test fold per repeat', () => {
    const labels = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 1 : 0))
    const tested = new Array(50).fill(0)
    crossValidate(labels, 5, 2, 3, (train, test) => {
      expect(train.length + test.length).toBe(50)
      for (const i of test) tested[i]++
    })
    expect(tested.every((t) => t === 2)).toBe(true)
  })
})

describe('mulberry32 and stratifiedSplit', () => {
  it('repeats for a seed and stays in [0, 1)', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    for (let i = 0; i < 100; i++) {
      const x = a()
      expect(x).toBe(b())
      expect(x >= 0 && x < 1).toBe(true)
    }
  })
  it('splits each class by the share', () => {
    const labels = Array.from({ length: 100 }, (_, i) => (i < 20 ? 1 : 0))
    const { first, second } = stratifiedSplit(labels, 0.25, 9)
    expect(first.length + second.length).toBe(100)
    expect(Array.from(second).filter((i) => labels[i] === 1)).toHaveLength(5)
    expect(new Set([...first, ...second]).size).toBe(100)
  })
})

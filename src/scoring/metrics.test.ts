/**
 * Metrics: AUC invariances (monotone transforms, complement), ties, KS, calibration and PSI.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { auc, brier, calibrationTable, ks, psi, scoreDistribution, scorePsi } from './metrics.ts'

const sample = fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }).map((k) => k / 1000), fc.integer({ min: 0, max: 1 })), { minLength: 2, maxLength: 80 })
  .filter((rows) => rows.some(([, y]) => y === 1) && rows.some(([, y]) => y === 0))

describe('auc', () => {
  it('is invariant to strictly increasing transforms, and AUC(1 − p) = 1 − AUC(p)', () => {
    fc.assert(
      fc.property(sample, (rows) => {
        const p = rows.map(([x]) => x)
        const y = rows.map(([, l]) => l)
        const a = auc(p, y)
        expect(auc(p.map((x) => Math.exp(3 * x) + 7), y)).toBeCloseTo(a, 12)
        expect(auc(p.map((x) => 1 - x), y)).toBeCloseTo(1 - a, 12)
        expect(a).toBeGreaterThanOrEqual(0)
        expect(a).toBeLessThanOrEqual(1)
      }),
      { numRuns: 200 },
    )
  })
  it('counts ties as one half and agrees with the pairwise definition', () => {
    expect(auc([0.5, 0.5], [1, 0])).toBe(0.5)
    const p = [0.1, 0.4, 0.35, 0.8, 0.4]
    const y = [0, 0, 1, 1, 1]
    let wins = 0
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) if (y[i] === 1 && y[j] === 0) wins += (p[i] as number) > (p[j] as number) ? 1 : p[i] === p[j] ? 0.5 : 0
    expect(auc(p, y)).toBeCloseTo(wins / 6, 12)
    expect(auc([0.1, 0.2], [0, 0])).toBeNaN()
  })
})

describe('ks, brier, calibration, distribution, psi', () => {
  it('KS is 1 for perfect separation and handles ties together', () => {
    expect(ks([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1)
    expect(ks([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0)
  })
  it('Brier and calibration deciles', () => {
    expect(brier([0, 1, 0.5], [0, 1, 1])).toBeCloseTo(0.25 / 3, 12)
    const p = Array.from({ length: 100 }, (_, i) => i / 100)
    const table = calibrationTable(p, p.map((x) => (x >= 0.5 ? 1 : 0)))
    expect(table).toHaveLength(10)
    expect(table[0]).toMatchObject({ group: 1, n: 10, observedBadRate: 0 })
    expect(table[9]?.observedBadRate).toBe(1)
    expect(scoreDistribution([590, 601, 615, 640], [1, 0, 0, 0], 20)).toEqual([
      { from: 580, to: 600, n: 1, bads: 1 }, { from: 600, to: 620, n: 2, bads: 0 }, { from: 640, to: 660, n: 1, bads: 0 },
    ])
  })
  it('PSI is 0 for identical distributions and grows with shift', () => {
    expect(psi([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 12)
    expect(psi([10, 20, 30], [30, 20, 10])).toBeGreaterThan(0.25)
    const scores = Array.from({ length: 500 }, (_, i) => 500 + (i % 100))
    expect(scorePsi(scores, scores)).toBeCloseTo(0, 12)
    expect(scorePsi(scores, scores.map((s) => s + 40))).toBeGreaterThan(0.5)
  })
})

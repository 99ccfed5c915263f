/**
 * The model pages' curves (console/src/model-charts.ts) against the trainer's metrics (src/scoring):
 * when every score of a band is the same, cutting at the band edges loses nothing, so the band ROC area
 * is the AUC and the band KS is the KS exactly; with wider bands the band KS can only be lower. Also the
 * curves' ends and degenerate inputs, the stability reading, the monitoring windows and the bin labels.
 */
import { describe, expect, it } from 'vitest'
import * as charts from '../console/src/model-charts.ts'
import { auc, describeBin, ks, mulberry32, scoreDistribution, stabilityOf, type Bin } from '../src/scoring/index.ts'

/** Scores of a population where bads score lower on average; `step` rounds the scores (ties). */
function population(seed: number, n: number, step: number): { scores: number[]; labels: number[] } {
  const random = mulberry32(seed)
  const scores: number[] = []
  const labels: number[] = []
  for (let i = 0; i < n; i++) {
    const bad = random() < 0.3 ? 1 : 0
    const raw = 520 + (bad === 1 ? -25 : 15) + (random() + random() + random() - 1.5) * 60
    scores.push(Math.round(raw / step) * step)
    labels.push(bad)
  }
  return { scores, labels }
}

/** The trainer's metrics take a higher probability as riskier; a lower score is riskier. */
const riskOf = (scores: number[]) => scores.map((score) => -score)

describe('ROC and KS from score bands', () => {
  it('match the exact AUC and KS when each band holds one score', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { scores, labels } = population(seed, 2_000, 20)
      const bands = scoreDistribution(scores, labels, 20)
      expect(charts.rocArea(bands)).toBeCloseTo(auc(riskOf(scores), labels), 12)
      expect(charts.ksCurve(bands)?.ks).toBeCloseTo(ks(riskOf(scores), labels), 12)
    }
  })

  it('lose a little with wider bands: the band KS is never above the exact KS', () => {
    for (const seed of [11, 12, 13]) {
      const { scores, labels } = population(seed, 3_000, 1)
      const bands = scoreDistribution(scores, labels, 20)
      const exact = ks(riskOf(scores), labels)
      const banded = charts.ksCurve(bands)?.ks as number
      expect(banded).toBeLessThanOrEqual(exact + 1e-12)
      expect(banded).toBeGreaterThan(exact - 0.05)
      expect(Math.abs((charts.rocArea(bands) as number) - auc(riskOf(scores), labels))).toBeLessThan(0.01)
    }
  })

  it('run from nothing declined to everything declined, marking the largest gap', () => {
    const bands = [
      { from: 460, to: 480, n: 10, bads: 8 },
      { from: 420, to: 440, n: 5, bads: 5 }, // out of order, and a gap at 440–460
      { from: 480, to: 500, n: 40, bads: 7 },
      { from: 500, to: 520, n: 45, bads: 0 },
    ]
    const curves = charts.cumulativeCurves(bands)
    expect(curves?.bads).toBe(20)
    expect(curves?.goods).toBe(80)
    expect(curves?.cuts.map((cut) => cut.score)).toEqual([420, 440, 480, 500, 520])
    expect(curves?.cuts[0]).toEqual({ score: 420, bad: 0, good: 0 })
    expect(curves?.cuts.at(-1)).toEqual({ score: 520, bad: 1, good: 1 })
    expect(charts.rocPoints(bands)).toEqual([
      [0, 0],
      [0, 0.25],
      [2 / 80, 13 / 20],
      [35 / 80, 1],
      [1, 1],
    ])
    const result = charts.ksCurve(bands)
    expect(result?.score).toBe(480)
    expect(result?.ks).toBeCloseTo(13 / 20 - 2 / 80, 12)
    expect(charts.bandRates(bands).map((band) => band.badRate)).toEqual([1, 0.8, 7 / 40, 0])
  })

  it('give nothing without both bads and goods, and drop malformed bands', () => {
    expect(charts.cumulativeCurves([])).toBeUndefined()
    expect(charts.cumulativeCurves([{ from: 400, to: 420, n: 10, bads: 0 }])).toBeUndefined()
    expect(charts.cumulativeCurves([{ from: 400, to: 420, n: 10, bads: 10 }])).toBeUndefined()
    expect(charts.rocPoints([])).toEqual([])
    expect(charts.rocArea([])).toBeUndefined()
    expect(charts.ksCurve([{ from: 400, to: 420, n: 3, bads: 3 }])).toBeUndefined()
    const withJunk = [{ from: 400, to: 420, n: 4, bads: 2 }, { from: 420, to: 440, n: 0, bads: 0 }, { from: 440, to: 460, n: 2, bads: 3 }, { from: Number.NaN, to: 480, n: 1, bads: 0 }]
    expect(charts.cumulativeCurves(withJunk)?.cuts).toHaveLength(2)
    expect(charts.scoreBandsOf({ scoreDistribution: [{ from: 1, to: 2, n: 3, bads: 1 }, { from: 'x' }, null] })).toEqual([{ from: 1, to: 2, n: 3, bads: 1 }])
    expect(charts.scoreBandsOf({})).toEqual([])
    expect(charts.scoreBandsOf(null)).toEqual([])
  })
})

describe('stability, windows and bin labels', () => {
  it('reads a PSI as the server does', () => {
    for (const value of [0, 0.05, 0.0999, 0.1, 0.2, 0.2499, 0.25, 1]) expect(charts.stabilityOf(value)).toBe(stabilityOf(value))
  })

  it('starts a window the right number of days back', () => {
    const now = new Date('2025-03-31T12:00:00.000Z')
    expect(charts.windowStart('7d', now)).toBe('2025-03-24T12:00:00.000Z')
    expect(charts.windowStart('30d', now)).toBe('2025-03-01T12:00:00.000Z')
    expect(charts.windowStart('90d', now)).toBe('2024-12-31T12:00:00.000Z')
    expect(charts.windowStart('all', now)).toBeUndefined()
  })

  it('labels bins as the reason codes do', () => {
    const bins: Bin[] = [
      { kind: 'range', low: null, high: 12, count: 1, bads: 0, woe: 0 },
      { kind: 'range', low: 12, high: 13, count: 1, bads: 0, woe: 0 },
      { kind: 'range', low: 12, high: 24, count: 1, bads: 0, woe: 0 },
      { kind: 'range', low: 24, high: null, count: 1, bads: 0, woe: 0 },
      { kind: 'range', low: 0.5, high: 2.25, count: 1, bads: 0, woe: 0 },
      { kind: 'range', low: null, high: null, count: 1, bads: 0, woe: 0 },
      { kind: 'missing', count: 0, bads: 0, woe: 0 },
      { kind: 'special', value: -1, count: 0, bads: 0, woe: 0 },
      { kind: 'categories', categories: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], rare: false, count: 1, bads: 0, woe: 0 },
      { kind: 'unseen', count: 0, bads: 0, woe: 0 },
    ]
    for (const integerValued of [false, true]) {
      for (const bin of bins) expect(charts.describeBin({ ...bin, points: 0 } as charts.ModelBin, integerValued)).toEqual(describeBin(bin, integerValued))
    }
  })
})

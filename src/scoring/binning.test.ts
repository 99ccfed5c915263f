/**
 * Binning: coarse bins obey the monotonic constraint and the minimum size, missing and special values
 * get their own bins, categories are grouped and unseen ones fall in the neutral bin.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { binColumn, defaultBinningOptions, describeBin, fineCuts, makeAssigner, mergeOptimally, type Bin } from './binning.ts'
import type { Column } from './csv.ts'
import { mulberry32 } from './cv.ts'

function numeric(values: number[]): Column {
  return { kind: 'numeric', name: 'x', values: Float64Array.from(values) }
}

function ranges(bins: readonly Bin[]) {
  return bins.filter((b) => b.kind === 'range')
}

describe('numeric binning', () => {
  it('gives monotone WoE over the range bins, each holding at least the minimum share (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom('ascending', 'descending', 'auto') , (seed, monotonic) => {
        const random = mulberry32(seed)
        const n = 400
        const values: number[] = []
        const target = new Uint8Array(n)
        for (let i = 0; i < n; i++) {
          const x = Math.floor(random() * 100)
          values.push(x)
          // A U-shaped risk: the constraint must still force a monotone result.
          target[i] = random() < 0.1 + 0.5 * Math.abs(x - 50) / 50 ? 1 : 0
        }
        const binning = binColumn(numeric(values), target, { ...defaultBinningOptions, monotonic })
        const woe = ranges(binning.bins).map((b) => b.woe)
        const rising = woe.every((w, i) => i === 0 || w > (woe[i - 1] as number))
        const falling = woe.every((w, i) => i === 0 || w < (woe[i - 1] as number))
        expect(rising || falling).toBe(true)
        if (monotonic === 'ascending') expect(rising).toBe(true)
        if (monotonic === 'descending') expect(falling).toBe(true)
        for (const b of ranges(binning.bins)) expect(b.count).toBeGreaterThanOrEqual(Math.ceil(0.05 * n))
        expect(ranges(binning.bins).length).toBeLessThanOrEqual(defaultBinningOptions.maxBins)
        expect(binning.bins.reduce((s, b) => s + b.count, 0)).toBe(n)
      }),
      { numRuns: 40 },
    )
  })
  it('puts missing and special values in bins of their own, and assigns new values consistently', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, Number.NaN, Number.NaN, 9999, 9999]
    const target = Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1])
    const binning = binColumn(numeric(values), target, { ...defaultBinningOptions, specialValues: [9999], minBinShare: 0.1 })
    const missing = binning.bins.find((b) => b.kind === 'missing')
    const special = binning.bins.find((b) => b.kind === 'special')
    expect(missing).toMatchObject({ count: 2, bads: 1 })
    expect(special).toMatchObject({ value: 9999, count: 2, bads: 2 })
    const assign = makeAssigner(binning)
    expect(binning.bins[assign(null)]?.kind).toBe('missing')
    expect(binning.bins[assign('abc')]?.kind).toBe('missing')
    expect(binning.bins[assign(9999)]?.kind).toBe('special')
    expect(binning.bins[assign('-1000')]).toBe(ranges(binning.bins)[0])
    expect(binning.bins[assign(1e9)]).toBe(ranges(binning.bins).at(-1))
    expect(binning.integerValued).toBe(true)
  })
  it('makes quantile fine cuts that are unique and below the maximum', () => {
    expect(fineCuts(Float64Array.from([1, 1, 1, 2, 2, 3]), 20)).toEqual([1, 2])
    const cuts = fineCuts(Float64Array.from({ length: 1000 }, (_, i) => i), 10)
    expect(cuts).toHaveLength(9)
    expect(cuts[0]).toBe(99)
  })
  it('finds the IV-maximising monotone partition (checked against brute force)', () => {
    const cells = [{ count: 10, bads: 1 }, { count: 10, bads: 5 }, { count: 10, bads: 2 }, { count: 10, bads: 8 }, { count: 10, bads: 9 }]
    const result = mergeOptimally(cells, 10, 8, 'ascending', 0)
    const rates = result.groups.map(([a, b]) => cells.slice(a, b + 1).reduce((s, c) => s + c.bads, 0) / ((b - a + 1) * 10))
    expect(rates.every((r, i) => i === 0 || r > (rates[i - 1] as number))).toBe(true)
    // Brute force over every monotone partition.
    let best = 0
    for (let mask = 0; mask < 16; mask++) {
      const groups: [number, number][] = []
      let start = 0
      for (let i = 0; i < 4; i++) if (mask & (1 << i)) { groups.push([start, i]); start = i + 1 }
      groups.push([start, 4])
      const stats = groups.map(([a, b]) => cells.slice(a, b + 1).reduce((s, c) => ({ bad: s.bad + c.bads, good: s.good + c.count - c.bads }), { bad: 0, good: 0 }))
      const r = stats.map((s) => s.bad / (s.bad + s.good))
      if (!r.every((x, i) => i === 0 || x > (r[i - 1] as number))) continue
      best = Math.max(best, stats.reduce((iv, s) => iv + (s.bad / 25 - s.good / 25) * Math.log((s.bad / 25) / (s.good / 25)), 0))
    }
    expect(result.iv).toBeCloseTo(best, 10)
  })
})

describe('categorical binning', () => {
  it('groups categories by bad rate, pools rare ones, and sends unseen categories to a neutral bin', () => {
    const values: (string | null)[] = []
    const target: number[] = []
    const add = (value: string | null, n: number, bads: number) => {
      for (let i = 0; i < n; i++) {
        values.push(value)
        target.push(i < bads ? 1 : 0)
      }
    }
    add('A', 300, 30)
    add('B', 300, 150)
    add('C', 300, 35)
    add('rare1', 2, 2)
    add(null, 40, 20)
    const binning = binColumn({ kind: 'categorical', name: 'c', values }, Uint8Array.from(target), { ...defaultBinningOptions, maxBins: 2 })
    const assign = makeAssigner(binning)
    expect(binning.bins[assign('A')]).toBe(binning.bins[assign('C')])
    expect(binning.bins[assign('A')]).not.toBe(binning.bins[assign('B')])
    expect(binning.bins[assign('rare1')]).toBe(binning.bins[assign('B')]) // too small alone: merged with its nearest-rate neighbour
    const unseen = binning.bins[assign('never seen')]
    expect(unseen).toMatchObject({ kind: 'unseen', woe: 0 })
    expect(binning.bins[assign(null)]).toMatchObject({ kind: 'missing', count: 40 })
    expect(describeBin(unseen as Bin).zh).toBe('训练中未出现的类别')
  })
})

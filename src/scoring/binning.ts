/**
 * @module scoring/binning
 * Binning for scorecards: fine bins first, then coarse bins chosen by an exact optimiser.
 *
 * - Numeric: fine bins at quantiles (or one per distinct value when there are few). Coarse bins are the
 *   partition of the fine bins into at most `maxBins` contiguous groups, each holding at least
 *   `minBinShare` of the rows, that maximises information value, subject (by default) to a monotonic
 *   bad rate. The optimiser is a dynamic programme over (last fine bin, start of the last group, number
 *   of groups), exact for these constraints and tiny (≤ 20 fine bins). `monotonic: 'auto'` tries both
 *   directions and keeps the higher IV.
 * - Missing values, and each configured special value (e.g. 9999 = "not applicable"), get their own bin.
 * - Categorical: categories rarer than `rareCategoryShare` are pooled into one "rare" group, groups are
 *   ordered by bad rate and then merged by the same optimiser (the order makes every contiguous
 *   grouping monotone). A category never seen in training falls in the "unseen" bin, WoE 0 (neutral).
 *
 * Bins are plain JSON (open interval ends are null) so that they go into the model artefact as is.
 */
import { assert } from '../core/assert.ts'
import type { Column } from './csv.ts'
import { computeWoe } from './woe.ts'

export type Monotonic = 'auto' | 'ascending' | 'descending' | 'none'

export type BinningOptions = {
  readonly fineBins: number
  readonly maxBins: number
  readonly minBinShare: number
  readonly monotonic: Monotonic
  readonly specialValues: readonly number[]
  readonly rareCategoryShare: number
  readonly smoothing: number
}

export const defaultBinningOptions: BinningOptions = {
  fineBins: 20,
  maxBins: 8,
  minBinShare: 0.05,
  monotonic: 'auto',
  specialValues: [],
  rareCategoryShare: 0.01,
  smoothing: 1,
}

/** One coarse bin. A range is `low < x ≤ high`; null ends are open. */
export type Bin =
  | { readonly kind: 'range'; readonly low: number | null; readonly high: number | null; readonly count: number; readonly bads: number; readonly woe: number }
  | { readonly kind: 'missing'; readonly count: number; readonly bads: number; readonly woe: number }
  | { readonly kind: 'special'; readonly value: number; readonly count: number; readonly bads: number; readonly woe: number }
  | { readonly kind: 'categories'; readonly categories: readonly string[]; readonly rare: boolean; readonly count: number; readonly bads: number; readonly woe: number }
  | { readonly kind: 'unseen'; readonly count: 0; readonly bads: 0; readonly woe: number }

export type Binning = {
  readonly name: string
  readonly type: 'numeric' | 'categorical'
  /** Direction of the bad rate over the range bins (numeric), 'none' when not constrained or categorical. */
  readonly trend: 'ascending' | 'descending' | 'none'
  readonly bins: readonly Bin[]
  readonly iv: number
  /** Numeric and every training value a whole number: range labels then read "3 to 5", not "above 2". */
  readonly integerValued: boolean
}

type Counts = { count: number; bads: number }
type RawBin = Bin extends infer B ? (B extends Bin ? Omit<B, 'woe'> : never) : never

/** Bins one column against the 0/1 target (1 = bad). */
export function binColumn(column: Column, target: Uint8Array, options: BinningOptions = defaultBinningOptions): Binning {
  assert(column.values.length === target.length, () => `column ${column.name} has a value per row`)
  return column.kind === 'numeric' ? binNumeric(column.name, column.values, target, options) : binCategorical(column.name, column.values, target, options)
}

function binNumeric(name: string, values: Float64Array, target: Uint8Array, options: BinningOptions): Binning {
  const specials = new Map<number, Counts>(options.specialValues.map((v) => [v, { count: 0, bads: 0 }]))
  const missing: Counts = { count: 0, bads: 0 }
  const regular: number[] = []
  const regularBad: number[] = []
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    const bad = target[i] as number
    if (Number.isNaN(v)) {
      missing.count++
      missing.bads += bad
    } else if (specials.has(v)) {
      const s = specials.get(v) as Counts
      s.count++
      s.bads += bad
    } else {
      regular.push(v)
      regularBad.push(bad)
    }
  }
  const cuts = fineCuts(Float64Array.from(regular), options.fineBins)
  // Fine bin i holds cuts[i-1] < x ≤ cuts[i]; the last one is open above.
  const fine: Counts[] = Array.from({ length: cuts.length + 1 }, () => ({ count: 0, bads: 0 }))
  for (let i = 0; i < regular.length; i++) {
    const f = fine[upperBound(cuts, regular[i] as number)] as Counts
    f.count++
    f.bads += regularBad[i] as number
  }
  const minCount = Math.max(1, Math.ceil(options.minBinShare * values.length))
  const directions: ('ascending' | 'descending' | 'none')[] = options.monotonic === 'auto' ? ['ascending', 'descending'] : [options.monotonic]
  let best: { groups: [number, number][]; iv: number; trend: 'ascending' | 'descending' | 'none' } | undefined
  for (const trend of directions) {
    const result = mergeOptimally(fine, minCount, options.maxBins, trend, options.smoothing)
    if (best === undefined || result.iv > best.iv + 1e-12) best = { ...result, trend }
  }
  assert(best !== undefined)
  const raw: RawBin[] = best.groups.map(([from, to]) => {
    const c = sumCounts(fine, from, to)
    return { kind: 'range', low: from === 0 ? null : (cuts[from - 1] as number), high: to === cuts.length ? null : (cuts[to] as number), ...c }
  })
  raw.push({ kind: 'missing', ...missing })
  for (const [value, c] of specials) raw.push({ kind: 'special', value, ...c })
  const trend = best.groups.length > 1 ? best.trend : 'none'
  return withWoe(name, 'numeric', trend, raw, options.smoothing, regular.every((v) => Number.isInteger(v)))
}

function binCategorical(name: string, values: readonly (string | null)[], target: Uint8Array, options: BinningOptions): Binning {
  const byCategory = new Map<string, Counts>()
  const missing: Counts = { count: 0, bads: 0 }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    const bad = target[i] as number
    if (v === null || v === undefined) {
      missing.count++
      missing.bads += bad
      continue
    }
    let c = byCategory.get(v)
    if (c === undefined) byCategory.set(v, (c = { count: 0, bads: 0 }))
    c.count++
    c.bads += bad
  }
  const rareMax = options.rareCategoryShare * values.length
  type Group = Counts & { categories: string[]; rare: boolean }
  const groups: Group[] = []
  const rare: Group = { count: 0, bads: 0, categories: [], rare: true }
  for (const [category, c] of [...byCategory].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (c.count < rareMax) {
      rare.categories.push(category)
      rare.count += c.count
      rare.bads += c.bads
    } else {
      groups.push({ ...c, categories: [category], rare: false })
    }
  }
  if (rare.count > 0) groups.push(rare)
  const badRate = badRateOf(values.length - missing.count, sumOf(groups, 'bads'))
  const smoothedRate = (g: Counts) => (g.bads + options.smoothing * badRate) / (g.count + options.smoothing)
  groups.sort((a, b) => smoothedRate(a) - smoothedRate(b) || (a.categories[0] ?? '').localeCompare(b.categories[0] ?? ''))
  const minCount = Math.max(1, Math.ceil(options.minBinShare * values.length))
  const merged = mergeOptimally(groups, minCount, options.maxBins, 'none', options.smoothing)
  const raw: RawBin[] = merged.groups.map(([from, to]) => {
    const members = groups.slice(from, to + 1)
    return {
      kind: 'categories',
      categories: members.flatMap((g) => g.categories).sort(),
      rare: members.some((g) => g.rare),
      ...sumCounts(groups, from, to),
    }
  })
  raw.push({ kind: 'missing', ...missing })
  raw.push({ kind: 'unseen', count: 0, bads: 0 })
  return withWoe(name, 'categorical', 'none', raw, options.smoothing, false)
}

function withWoe(name: string, type: 'numeric' | 'categorical', trend: Binning['trend'], raw: RawBin[], smoothing: number, integerValued: boolean): Binning {
  const { woe, iv } = computeWoe(raw.map((b) => b.bads), raw.map((b) => b.count - b.bads), smoothing)
  const bins = raw.map((b, i) => ({ ...b, woe: b.count === 0 ? 0 : (woe[i] as number) }) as Bin)
  return { name, type, trend, bins, iv, integerValued }
}

/** Quantile cut points (upper bounds of the fine bins but the last), unique and increasing. */
export function fineCuts(values: Float64Array, fineBins: number): number[] {
  if (values.length === 0) return []
  const sorted = Float64Array.from(values).sort()
  const distinct: number[] = []
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i] as number)
  if (distinct.length <= fineBins) return distinct.slice(0, -1)
  const cuts: number[] = []
  for (let q = 1; q < fineBins; q++) {
    const v = sorted[Math.floor((q * sorted.length) / fineBins) - 1] as number
    if (v < (sorted[sorted.length - 1] as number) && (cuts.length === 0 || v > (cuts[cuts.length - 1] as number))) cuts.push(v)
  }
  return cuts
}

/** Index of the first cut ≥ x (so the bin `cuts[i-1] < x ≤ cuts[i]`); cuts.length when x is above all. */
export function upperBound(cuts: readonly number[], x: number): number {
  let lo = 0
  let hi = cuts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((cuts[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

function sumCounts(cells: readonly Counts[], from: number, to: number): Counts {
  let count = 0
  let bads = 0
  for (let i = from; i <= to; i++) {
    count += (cells[i] as Counts).count
    bads += (cells[i] as Counts).bads
  }
  return { count, bads }
}

function sumOf(cells: readonly Counts[], key: 'count' | 'bads'): number {
  return cells.reduce((s, c) => s + c[key], 0)
}

function badRateOf(count: number, bads: number): number {
  return count === 0 ? 0 : bads / count
}

/**
 * The IV-maximising partition of `cells` into contiguous groups: each group has ≥ minCount rows, there
 * are at most maxGroups, and bad rates strictly rise (ascending) or fall (descending) from group to
 * group. Groups are [from, to] index pairs. If no partition fits, all cells form one group.
 */
export function mergeOptimally(cells: readonly Counts[], minCount: number, maxGroups: number, trend: 'ascending' | 'descending' | 'none', smoothing: number): { groups: [number, number][]; iv: number } {
  const m = cells.length
  if (m === 0) return { groups: [], iv: 0 }
  const badTotal = sumOf(cells, 'bads')
  const goodTotal = sumOf(cells, 'count') - badTotal
  const prefixCount = new Float64Array(m + 1)
  const prefixBad = new Float64Array(m + 1)
  for (let i = 0; i < m; i++) {
    prefixCount[i + 1] = (prefixCount[i] as number) + (cells[i] as Counts).count
    prefixBad[i + 1] = (prefixBad[i] as number) + (cells[i] as Counts).bads
  }
  const countOf = (i: number, j: number) => (prefixCount[j + 1] as number) - (prefixCount[i] as number)
  const badOf = (i: number, j: number) => (prefixBad[j + 1] as number) - (prefixBad[i] as number)
  const rateOf = (i: number, j: number) => badOf(i, j) / countOf(i, j)
  const ivOf = (i: number, j: number) => segmentIv(badOf(i, j), countOf(i, j) - badOf(i, j), badTotal, goodTotal, smoothing)
  const K = Math.max(1, Math.min(maxGroups, m))
  // best[k][j][i]: best IV splitting cells 0..j into k+1 groups, the last being i..j.
  const size = K * m * m
  const best = new Float64Array(size).fill(Number.NEGATIVE_INFINITY)
  const from = new Int32Array(size).fill(-1)
  const at = (k: number, j: number, i: number) => (k * m + j) * m + i
  for (let j = 0; j < m; j++) if (countOf(0, j) >= minCount) best[at(0, j, 0)] = ivOf(0, j)
  for (let k = 1; k < K; k++) {
    for (let j = 0; j < m; j++) {
      for (let i = 1; i <= j; i++) {
        if (countOf(i, j) < minCount) continue
        const rate = rateOf(i, j)
        const iv = ivOf(i, j)
        for (let p = 0; p < i; p++) {
          const prev = best[at(k - 1, i - 1, p)] as number
          if (prev === Number.NEGATIVE_INFINITY) continue
          const prevRate = rateOf(p, i - 1)
          if (trend === 'ascending' && !(rate > prevRate)) continue
          if (trend === 'descending' && !(rate < prevRate)) continue
          if (prev + iv > (best[at(k, j, i)] as number)) {
            best[at(k, j, i)] = prev + iv
            from[at(k, j, i)] = p
          }
        }
      }
    }
  }
  let bestIv = Number.NEGATIVE_INFINITY
  let bestK = -1
  let bestI = -1
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < m; i++) {
      const v = best[at(k, m - 1, i)] as number
      if (v > bestIv + 1e-12) {
        bestIv = v
        bestK = k
        bestI = i
      }
    }
  }
  if (bestK < 0) return { groups: [[0, m - 1]], iv: 0 }
  const groups: [number, number][] = []
  let j = m - 1
  let i = bestI
  for (let k = bestK; k >= 0; k--) {
    groups.unshift([i, j])
    const p = from[at(k, j, i)] as number
    j = i - 1
    i = p
  }
  assert(j === -1, 'the groups cover every cell')
  return { groups, iv: bestIv }
}

function segmentIv(bad: number, good: number, badTotal: number, goodTotal: number, smoothing: number): number {
  if (badTotal === 0 || goodTotal === 0) return 0
  const prior = badTotal / (badTotal + goodTotal)
  const b = (bad + smoothing * prior) / badTotal
  const g = (good + smoothing * (1 - prior)) / goodTotal
  return (b - g) * Math.log(b / g)
}

/** A fast assigner for one binning: text or number in, bin index out (unknown text → missing/unseen). */
export function makeAssigner(binning: Binning): (value: string | number | null) => number {
  const missing = binning.bins.findIndex((b) => b.kind === 'missing')
  assert(missing >= 0, () => `binning of ${binning.name} has a missing bin`)
  if (binning.type === 'numeric') {
    const ranges = binning.bins.map((b, i) => ({ b, i })).filter(({ b }) => b.kind === 'range')
    const highs = ranges.slice(0, -1).map(({ b }) => (b.kind === 'range' ? (b.high as number) : 0))
    const specials = new Map(binning.bins.flatMap((b, i) => (b.kind === 'special' ? [[b.value, i] as const] : [])))
    return (value) => {
      const x = typeof value === 'number' ? value : value === null ? Number.NaN : parseNumber(value)
      if (Number.isNaN(x)) return missing
      const special = specials.get(x)
      if (special !== undefined) return special
      return (ranges[upperBound(highs, x)] as { i: number }).i
    }
  }
  const byCategory = new Map<string, number>()
  binning.bins.forEach((b, i) => {
    if (b.kind === 'categories') for (const c of b.categories) byCategory.set(c, i)
  })
  const unseen = binning.bins.findIndex((b) => b.kind === 'unseen')
  assert(unseen >= 0, () => `binning of ${binning.name} has an unseen bin`)
  return (value) => {
    if (value === null || (typeof value === 'number' && Number.isNaN(value))) return missing
    return byCategory.get(String(value)) ?? unseen
  }
}

function parseNumber(text: string): number {
  const x = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text) ? Number(text) : Number.NaN
  return x
}

/** English and Chinese text for a bin, for reason codes and reports. */
export function describeBin(bin: Bin, integerValued = false): { en: string; zh: string } {
  switch (bin.kind) {
    case 'range': {
      const { low, high } = bin
      if (low === null && high === null) return { en: 'any value', zh: '任意值' }
      if (integerValued && (low === null || Number.isInteger(low)) && (high === null || Number.isInteger(high))) {
        // Whole-number data: (a, b] is a+1 … b.
        if (low === null) return { en: `at most ${high}`, zh: `不超过${high}` }
        if (high === null) return { en: `at least ${low + 1}`, zh: `不低于${low + 1}` }
        if (high === low + 1) return { en: `${high}`, zh: `${high}` }
        return { en: `from ${low + 1} to ${high}`, zh: `${low + 1}至${high}` }
      }
      if (low === null) return { en: `at most ${high}`, zh: `不超过${high}` }
      if (high === null) return { en: `above ${low}`, zh: `大于${low}` }
      return { en: `above ${low} and at most ${high}`, zh: `大于${low}且不超过${high}` }
    }
    case 'missing':
      return { en: 'missing', zh: '缺失' }
    case 'special':
      return { en: `special value ${bin.value}`, zh: `特殊值${bin.value}` }
    case 'categories': {
      const shown = bin.categories.slice(0, 5)
      const more = bin.categories.length > shown.length ? bin.categories.length - shown.length : 0
      return {
        en: `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
        zh: `${shown.join('、')}${more > 0 ? `等${bin.categories.length}类` : ''}`,
      }
    }
    case 'unseen':
      return { en: 'a category not seen in training', zh: '训练中未出现的类别' }
  }
}

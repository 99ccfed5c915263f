// Pure helpers of the model pages: ROC and KS curves cut at the edges of a scorecard's training score
// bands, bad rates per band, the stability reading of a PSI/CSI, the monitoring window, and bin labels.

/** A training score band as the trainer stores it (metrics.scoreDistribution): from ≤ score < to. */
export type ScoreBand = { from: number; to: number; n: number; bads: number }

/**
 * One cut: every applicant scoring below `score` is declined. `bad` and `good` are the shares of all
 * bads and all goods declined (the cumulative shares from the lowest, riskiest, score up).
 */
export type Cut = { score: number; bad: number; good: number }

export type Curves = { cuts: Cut[]; bads: number; goods: number }

/** The bands in score order, without empty or malformed ones. */
function ordered(bands: readonly ScoreBand[]): ScoreBand[] {
  return bands
    .filter((band) => Number.isFinite(band.from) && Number.isFinite(band.to) && Number.isFinite(band.n) && Number.isFinite(band.bads) && band.n > 0 && band.bads >= 0 && band.bads <= band.n)
    .sort((a, b) => a.from - b.from)
}

/**
 * The cumulative shares of bads and goods at every band edge, from the lowest score (nothing declined,
 * 0/0) to the highest (everything declined, 1/1). Undefined when there are no bads or no goods: then
 * neither curve means anything.
 */
export function cumulativeCurves(bands: readonly ScoreBand[]): Curves | undefined {
  const sorted = ordered(bands)
  let bads = 0
  let goods = 0
  for (const band of sorted) {
    bads += band.bads
    goods += band.n - band.bads
  }
  const first = sorted[0]
  if (first === undefined || bads === 0 || goods === 0) return undefined
  const cuts: Cut[] = [{ score: first.from, bad: 0, good: 0 }]
  let cumBads = 0
  let cumGoods = 0
  for (const band of sorted) {
    cumBads += band.bads
    cumGoods += band.n - band.bads
    cuts.push({ score: band.to, bad: cumBads / bads, good: cumGoods / goods })
  }
  return { cuts, bads, goods }
}

/** ROC points [share of goods declined, share of bads declined], from (0, 0) to (1, 1). */
export function rocPoints(bands: readonly ScoreBand[]): [number, number][] {
  return cumulativeCurves(bands)?.cuts.map((cut) => [cut.good, cut.bad]) ?? []
}

/** The area under the band ROC curve (trapezoids): the AUC with the scores of a band taken as tied. */
export function rocArea(bands: readonly ScoreBand[]): number | undefined {
  const points = rocPoints(bands)
  if (points.length < 2) return undefined
  let area = 0
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1] as [number, number]
    const [x1, y1] = points[i] as [number, number]
    area += ((x1 - x0) * (y0 + y1)) / 2
  }
  return area
}

/** The KS statistic over the band edges: the largest gap between the two cumulative curves, and where. */
export type KsResult = { ks: number; score: number; bad: number; good: number; cuts: Cut[] }

export function ksCurve(bands: readonly ScoreBand[]): KsResult | undefined {
  const curves = cumulativeCurves(bands)
  if (curves === undefined) return undefined
  let best = curves.cuts[0] as Cut
  for (const cut of curves.cuts) if (Math.abs(cut.bad - cut.good) > Math.abs(best.bad - best.good)) best = cut
  return { ks: Math.abs(best.bad - best.good), score: best.score, bad: best.bad, good: best.good, cuts: curves.cuts }
}

/** Count and bad rate of every band, in score order. */
export function bandRates(bands: readonly ScoreBand[]): { from: number; to: number; n: number; bads: number; badRate: number }[] {
  return ordered(bands).map((band) => ({ ...band, badRate: band.bads / band.n }))
}

/** Reads an artefact's stored score distribution, whatever else its metrics hold; malformed rows are dropped. */
export function scoreBandsOf(metrics: unknown): ScoreBand[] {
  const value = metrics !== null && typeof metrics === 'object' ? (metrics as { scoreDistribution?: unknown }).scoreDistribution : undefined
  if (!Array.isArray(value)) return []
  return value.filter((row): row is ScoreBand => row !== null && typeof row === 'object' && ['from', 'to', 'n', 'bads'].every((key) => typeof (row as Record<string, unknown>)[key] === 'number'))
}

// PSI and CSI: below 0.1 stable, 0.1 to 0.25 watch, above shift (as src/scoring/monitoring.ts).
export const psiWatch = 0.1
export const psiShift = 0.25
export type Stability = 'stable' | 'watch' | 'shift'

export function stabilityOf(index: number): Stability {
  return index < psiWatch ? 'stable' : index < psiShift ? 'watch' : 'shift'
}

/** The monitoring windows offered, and the moment a window starts (undefined: since the first score). */
export const monitoringWindows = ['7d', '30d', '90d', 'all'] as const
export type MonitoringWindow = (typeof monitoringWindows)[number]

export function windowStart(window: MonitoringWindow, now: Date): string | undefined {
  const days = { '7d': 7, '30d': 30, '90d': 90, all: undefined }[window]
  return days === undefined ? undefined : new Date(now.getTime() - days * 86_400_000).toISOString()
}

/** A coarse bin of a scorecard variable as the artefact stores it (src/scoring/binning.ts Bin, with points). */
export type ModelBin =
  | { kind: 'range'; low: number | null; high: number | null; count: number; bads: number; woe: number; points: number }
  | { kind: 'missing'; count: number; bads: number; woe: number; points: number }
  | { kind: 'special'; value: number; count: number; bads: number; woe: number; points: number }
  | { kind: 'categories'; categories: string[]; rare: boolean; count: number; bads: number; woe: number; points: number }
  | { kind: 'unseen'; count: number; bads: number; woe: number; points: number }

/** What a bin covers, in English and Chinese (the wording of the reason codes, src/scoring/binning.ts describeBin). */
export function describeBin(bin: ModelBin, integerValued = false): { en: string; zh: string } {
  switch (bin.kind) {
    case 'range': {
      const { low, high } = bin
      if (low === null && high === null) return { en: 'any value', zh: '任意值' }
      if (integerValued && (low === null || Number.isInteger(low)) && (high === null || Number.isInteger(high))) {
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

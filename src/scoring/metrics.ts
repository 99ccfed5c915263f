/**
 * @module scoring/metrics
 * Model quality measures. Labels are 0/1 with 1 = bad (the positive class); predictions are any
 * number that rises with risk (a probability of bad, a logit). A score that rises with quality (points)
 * must be negated first.
 *
 * - AUC: the Mann–Whitney statistic from mid-ranks, so tied predictions count one half.
 * - KS: the largest gap between the cumulative bad and good distributions, ties taken together.
 * - Gini = 2·AUC − 1. Brier: mean squared error of a probability.
 * - Calibration: deciles of the predicted probability, mean predicted vs observed bad rate.
 * - PSI / CSI: Σ (a − e)·ln(a / e) over bins of the shares, with empty bins floored at 1e-4.
 */
import { assert } from '../core/assert.ts'

type Numbers = ArrayLike<number>

function checkLengths(predictions: Numbers, labels: ArrayLike<number>): void {
  assert(predictions.length === labels.length, 'a prediction per label')
}

/** Mid-ranks (1-based) of the values: tied values share the mean of their ranks. */
export function midRanks(values: Numbers): Float64Array {
  const n = values.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number))
  const ranks = new Float64Array(n)
  let i = 0
  while (i < n) {
    let j = i
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++
    const rank = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank
    i = j + 1
  }
  return ranks
}

/** Area under the ROC curve, bads (1) as positives; NaN when one class is absent. */
export function auc(predictions: Numbers, labels: ArrayLike<number>): number {
  checkLengths(predictions, labels)
  const ranks = midRanks(predictions)
  let positives = 0
  let rankSum = 0
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) {
      positives++
      rankSum += ranks[i] as number
    }
  }
  const negatives = labels.length - positives
  if (positives === 0 || negatives === 0) return Number.NaN
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives)
}

/** Kolmogorov–Smirnov statistic between the predictions of bads and goods. */
export function ks(predictions: Numbers, labels: ArrayLike<number>): number {
  checkLengths(predictions, labels)
  const n = predictions.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (predictions[a] as number) - (predictions[b] as number))
  let positives = 0
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0
  const negatives = n - positives
  if (positives === 0 || negatives === 0) return Number.NaN
  let bad = 0
  let good = 0
  let best = 0
  for (let i = 0; i < n; i++) {
    const k = order[i] as number
    if (labels[k] === 1) bad++
    else good++
    const next = order[i + 1]
    if (next !== undefined && predictions[next] === predictions[k]) continue // take ties together
    best = Math.max(best, Math.abs(bad / positives - good / negatives))
  }
  return best
}

export function gini(predictions: Numbers, labels: ArrayLike<number>): number {
  return 2 * auc(predictions, labels) - 1
}

export function brier(probabilities: Numbers, labels: ArrayLike<number>): number {
  checkLengths(probabilities, labels)
  let sum = 0
  for (let i = 0; i < labels.length; i++) sum += ((probabilities[i] as number) - (labels[i] as number)) ** 2
  return labels.length === 0 ? Number.NaN : sum / labels.length
}

export type CalibrationRow = { readonly group: number; readonly n: number; readonly meanPredicted: number; readonly observedBadRate: number }

/** Groups of (about) equal size by predicted probability, lowest first. */
export function calibrationTable(probabilities: Numbers, labels: ArrayLike<number>, groups = 10): CalibrationRow[] {
  checkLengths(probabilities, labels)
  const n = probabilities.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (probabilities[a] as number) - (probabilities[b] as number))
  const rows: CalibrationRow[] = []
  for (let g = 0; g < groups; g++) {
    const from = Math.floor((g * n) / groups)
    const to = Math.floor(((g + 1) * n) / groups)
    if (to <= from) continue
    let predicted = 0
    let bads = 0
    for (let i = from; i < to; i++) {
      predicted += probabilities[order[i] as number] as number
      bads += labels[order[i] as number] as number
    }
    rows.push({ group: g + 1, n: to - from, meanPredicted: predicted / (to - from), observedBadRate: bads / (to - from) })
  }
  return rows
}

export type ScoreBand = { readonly from: number; readonly to: number; readonly n: number; readonly bads: number }

/** Counts (and bads, when labels are given) per score band of `width` points: from ≤ score < to. */
export function scoreDistribution(scores: Numbers, labels: ArrayLike<number> | undefined, width = 20): ScoreBand[] {
  assert(width > 0, 'band width is positive')
  const bands = new Map<number, { n: number; bads: number }>()
  for (let i = 0; i < scores.length; i++) {
    const from = Math.floor((scores[i] as number) / width) * width
    let band = bands.get(from)
    if (band === undefined) bands.set(from, (band = { n: 0, bads: 0 }))
    band.n++
    band.bads += labels === undefined ? 0 : (labels[i] as number)
  }
  return [...bands].sort(([a], [b]) => a - b).map(([from, b]) => ({ from, to: from + width, ...b }))
}

/** Population stability index between two count (or share) vectors over the same bins. */
export function psi(expected: Numbers, actual: Numbers): number {
  assert(expected.length === actual.length, 'same bins')
  let e = 0
  let a = 0
  for (let i = 0; i < expected.length; i++) {
    e += expected[i] as number
    a += actual[i] as number
  }
  if (e === 0 || a === 0) return Number.NaN
  let sum = 0
  for (let i = 0; i < expected.length; i++) {
    const ei = Math.max((expected[i] as number) / e, 1e-4)
    const ai = Math.max((actual[i] as number) / a, 1e-4)
    sum += (ai - ei) * Math.log(ai / ei)
  }
  return sum
}

/** PSI of scores: bands are cut at the expected scores' deciles. */
export function scorePsi(expectedScores: Numbers, actualScores: Numbers, groups = 10): number {
  const sorted = Float64Array.from(expectedScores).sort()
  const cuts: number[] = []
  for (let g = 1; g < groups; g++) {
    const v = sorted[Math.floor((g * sorted.length) / groups)]
    if (v !== undefined && (cuts.length === 0 || v > (cuts[cuts.length - 1] as number))) cuts.push(v)
  }
  const count = (values: Numbers) => {
    const counts = new Float64Array(cuts.length + 1)
    for (let i = 0; i < values.length; i++) {
      let k = 0
      while (k < cuts.length && (values[i] as number) >= (cuts[k] as number)) k++
      counts[k] = (counts[k] as number) + 1
    }
    return counts
  }
  return psi(count(expectedScores), count(actualScores))
}

/** Characteristic stability index per variable: PSI of the bin counts (training vs new data). */
export function csi(expectedBinCounts: Record<string, Numbers>, actualBinCounts: Record<string, Numbers>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, expected] of Object.entries(expectedBinCounts)) {
    const actual = actualBinCounts[name]
    assert(actual !== undefined, () => `actual bin counts for ${name}`)
    out[name] = psi(expected, actual)
  }
  return out
}

/** AUC, KS, Gini and Brier together. */
export function summarise(probabilities: Numbers, labels: ArrayLike<number>): { auc: number; ks: number; gini: number; brier: number; n: number } {
  const a = auc(probabilities, labels)
  return { auc: a, ks: ks(probabilities, labels), gini: 2 * a - 1, brier: brier(probabilities, labels), n: labels.length }
}

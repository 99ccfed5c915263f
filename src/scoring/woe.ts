/**
 * @module scoring/woe
 * Weight of evidence and information value.
 *
 * Sign convention: WoE is risk-oriented, `ln(share of bads in the bin / share of goods in the bin)`, so a
 * higher WoE means a riskier bin and the logistic coefficients on WoE columns are positive (about 1).
 *
 * Smoothing: each bin gets `smoothing` pseudo-rows split in the overall bad:good ratio. An empty bin (or a
 * category never seen in training) therefore has WoE exactly 0, the neutral value, and a tiny bin is
 * pulled toward 0 instead of getting ±∞.
 */
import { assert } from '../core/assert.ts'

export type WoeResult = { readonly woe: number[]; readonly iv: number; readonly ivByBin: number[] }

/** WoE per bin and the total IV, from bad and good counts per bin. */
export function computeWoe(bads: readonly number[], goods: readonly number[], smoothing: number): WoeResult {
  assert(bads.length === goods.length, 'bads and goods per bin')
  assert(smoothing >= 0, 'smoothing is non-negative')
  let badTotal = 0
  let goodTotal = 0
  for (let i = 0; i < bads.length; i++) {
    badTotal += bads[i] as number
    goodTotal += goods[i] as number
  }
  const woe: number[] = []
  const ivByBin: number[] = []
  let iv = 0
  for (let i = 0; i < bads.length; i++) {
    const w = woeOfCell(bads[i] as number, goods[i] as number, badTotal, goodTotal, smoothing, bads.length)
    woe.push(w.woe)
    ivByBin.push(w.iv)
    iv += w.iv
  }
  return { woe, iv, ivByBin }
}

/**
 * WoE and IV contribution of one cell given the totals. `binCount` spreads the pseudo-rows' mass in the
 * denominators so the smoothed shares still sum to one over the bins.
 */
export function woeOfCell(bad: number, good: number, badTotal: number, goodTotal: number, smoothing: number, binCount: number): { woe: number; iv: number } {
  const total = badTotal + goodTotal
  if (badTotal === 0 || goodTotal === 0 || total === 0) return { woe: 0, iv: 0 }
  const badPrior = badTotal / total
  const badShare = (bad + smoothing * badPrior) / (badTotal + smoothing * badPrior * binCount)
  const goodShare = (good + smoothing * (1 - badPrior)) / (goodTotal + smoothing * (1 - badPrior) * binCount)
  if (badShare === 0 || goodShare === 0) {
    // Only reachable with smoothing 0 and an empty side: cap instead of ±∞ so artefacts stay JSON.
    const woe = badShare === 0 ? (goodShare === 0 ? 0 : -woeCap) : woeCap
    return { woe, iv: (badShare - goodShare) * woe }
  }
  const woe = Math.max(-woeCap, Math.min(woeCap, Math.log(badShare / goodShare)))
  return { woe, iv: (badShare - goodShare) * woe }
}

/** The largest |WoE| we keep: e^8 ≈ 3000:1 relative odds is beyond anything a bin can support. */
export const woeCap = 8

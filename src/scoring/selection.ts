/**
 * @module scoring/selection
 * Variable selection for a scorecard: keep candidates whose information value reaches `ivMin`, then,
 * strongest first, keep a candidate only if its WoE column's Pearson correlation with every variable
 * already kept stays within `correlationMax` (two near-copies of one signal make unstable, sign-flipping
 * coefficients and double-counted reason codes), up to `variablesMax`.
 */
import { assert } from '../core/assert.ts'

export type SelectionOptions = { readonly ivMin: number; readonly correlationMax: number; readonly variablesMax: number }

export const defaultSelectionOptions: SelectionOptions = { ivMin: 0.02, correlationMax: 0.7, variablesMax: 30 }

/** Why a candidate was kept or left out (the last is decided after the fit, in scorecard.ts). */
export type SelectionReason = 'selected' | 'iv_below_minimum' | 'correlated_with_stronger' | 'variables_max_reached' | 'coefficient_not_positive'

export type Candidate = { readonly name: string; readonly iv: number; readonly woe: Float64Array }

export type SelectionResult = {
  readonly selected: readonly string[]
  readonly decisions: readonly { readonly name: string; readonly iv: number; readonly reason: SelectionReason; readonly correlatedWith?: string }[]
}

/** Pearson correlation; 0 when either column is constant. */
export function pearson(a: Float64Array, b: Float64Array): number {
  assert(a.length === b.length, 'same length')
  const n = a.length
  if (n === 0) return 0
  let ma = 0
  let mb = 0
  for (let i = 0; i < n; i++) {
    ma += a[i] as number
    mb += b[i] as number
  }
  ma /= n
  mb /= n
  let sab = 0
  let saa = 0
  let sbb = 0
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma
    const db = (b[i] as number) - mb
    sab += da * db
    saa += da * da
    sbb += db * db
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb)
}

export function selectVariables(candidates: readonly Candidate[], options: SelectionOptions = defaultSelectionOptions): SelectionResult {
  const ordered = [...candidates].sort((a, b) => b.iv - a.iv || (a.name < b.name ? -1 : 1))
  const kept: Candidate[] = []
  const decisions: SelectionResult['decisions'][number][] = []
  for (const candidate of ordered) {
    if (!(candidate.iv >= options.ivMin)) {
      decisions.push({ name: candidate.name, iv: candidate.iv, reason: 'iv_below_minimum' })
      continue
    }
    const twin = kept.find((k) => Math.abs(pearson(k.woe, candidate.woe)) > options.correlationMax)
    if (twin !== undefined) {
      decisions.push({ name: candidate.name, iv: candidate.iv, reason: 'correlated_with_stronger', correlatedWith: twin.name })
      continue
    }
    if (kept.length >= options.variablesMax) {
      decisions.push({ name: candidate.name, iv: candidate.iv, reason: 'variables_max_reached' })
      continue
    }
    kept.push(candidate)
    decisions.push({ name: candidate.name, iv: candidate.iv, reason: 'selected' })
  }
  return { selected: kept.map((k) => k.name), decisions }
}

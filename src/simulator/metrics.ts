/**
 * @module simulator/metrics
 * The simulation's portfolio measures (pure), by DOMAIN.md's definitions: NPL ratio = outstanding
 * principal of substandard + doubtful + loss loans ÷ total outstanding principal; PAR30 = outstanding
 * principal of loans more than 30 days past due ÷ total outstanding principal; approval rate = approvals ÷
 * decisions. Vintage curves: for loans disbursed in the same month, the share of their principal that has
 * ever been more than 30 days past due (or written off) by each month on book. Ratios are fractions 0–1
 * rounded to six decimals from exact integers, so they print the same on every machine.
 */
import { isNonPerforming, type Tier } from '../loans/index.ts'

/** n ÷ d to six decimals, exactly (half up) from integers; 0 when d is 0. */
export function ratioOf(n: bigint, d: bigint): number {
  if (d === 0n) return 0
  const scaled = (n * 2_000_000n + d) / (2n * d)
  return Number(scaled) / 1_000_000
}

export type LoanObservation = {
  readonly id: string
  /** Simulation month in which the loan was disbursed. */
  readonly disbursedMonth: number
  readonly principalMinor: bigint
  readonly outstandingMinor: bigint
  readonly dpd: number
  readonly tier: Tier
  readonly status: string
}

export type PortfolioPoint = {
  readonly outstandingMinor: bigint
  readonly nplMinor: bigint
  readonly par30Minor: bigint
  readonly nplRatio: number
  readonly par30: number
}

/** NPL and PAR30 over the loans still on the books (active; written-off loans are off the books). */
export function measurePortfolioRatios(loans: readonly LoanObservation[]): PortfolioPoint {
  let outstanding = 0n
  let npl = 0n
  let par30 = 0n
  for (const loan of loans) {
    if (loan.status !== 'active') continue
    outstanding += loan.outstandingMinor
    if (isNonPerforming(loan.tier)) npl += loan.outstandingMinor
    if (loan.dpd > 30) par30 += loan.outstandingMinor
  }
  return { outstandingMinor: outstanding, nplMinor: npl, par30Minor: par30, nplRatio: ratioOf(npl, outstanding), par30: ratioOf(par30, outstanding) }
}

type VintageEntry = { disbursedMonth: number; principalMinor: bigint; badAtMob: number | null }
export type VintageTracker = Map<string, VintageEntry>

export function createVintageTracker(): VintageTracker {
  return new Map()
}

/** Records the month-end state of every loan: month on book 1 is the end of the month of disbursement. */
export function observeVintages(tracker: VintageTracker, month: number, loans: readonly LoanObservation[]): void {
  for (const loan of loans) {
    let entry = tracker.get(loan.id)
    if (entry === undefined) {
      entry = { disbursedMonth: loan.disbursedMonth, principalMinor: loan.principalMinor, badAtMob: null }
      tracker.set(loan.id, entry)
    }
    if (entry.badAtMob === null && (loan.dpd > 30 || loan.status === 'written_off')) entry.badAtMob = month - entry.disbursedMonth + 1
  }
}

export type VintageCurve = { readonly vintage: string; readonly loans: number; readonly principalMinor: bigint; readonly ever30: readonly number[] }

/** One curve per disbursement month with loans; point k is month on book k + 1, up to the last month observed. */
export function buildVintageCurves(tracker: VintageTracker, months: number, labelOf: (month: number) => string): VintageCurve[] {
  const byMonth = new Map<number, VintageEntry[]>()
  for (const entry of tracker.values()) byMonth.set(entry.disbursedMonth, [...(byMonth.get(entry.disbursedMonth) ?? []), entry])
  return [...byMonth.keys()].sort((a, b) => a - b).map((month) => {
    const entries = byMonth.get(month) as VintageEntry[]
    const principal = entries.reduce((sum, e) => sum + e.principalMinor, 0n)
    const ever30 = Array.from({ length: Math.max(0, months - month) }, (_, k) => ratioOf(entries.reduce((sum, e) => sum + (e.badAtMob !== null && e.badAtMob <= k + 1 ? e.principalMinor : 0n), 0n), principal))
    return { vintage: labelOf(month), loans: entries.length, principalMinor: principal, ever30 }
  })
}

/**
 * @module loans/reschedule
 * Rescheduling an active loan (展期 / 调整还款计划, issue 4 item 4): from a date, the principal not yet repaid —
 * overdue and future — is spread over a new schedule (number of installments, rate, first due date, grace on
 * principal), built by the same engine with the loan's conventions. The loan stays the same loan, with the same
 * accounts; nothing moves on the ledger (the receivables are unchanged; only when they fall due changes).
 *
 * What moves and what stays (chosen so that no income is recognised twice and nothing owed disappears):
 * - installments due on or before the date keep the interest, fees and penalties they were charged — still
 *   owed, still overdue until paid — but give up their unpaid principal, which moves to the new schedule;
 * - installments due after the date are replaced; interest accrued since the last due date (already
 *   recognised) is added to the first new installment's interest, and the accrual counter runs on, so the
 *   period's true-up stays exact; the scheduled interest of the replaced periods, not yet earned, is dropped;
 * - principal repaid in advance on a replaced installment stays repaid (carried, due and paid, to the first new
 *   installment). Advance payments of interest, fees or penalties on replaced installments are refused
 *   (`reschedule_after_advance_charges`): their meaning under the new schedule would be a guess.
 * Invariant (asserted): principal due over the installments still sums to the disbursed principal.
 */
import { Temporal } from 'temporal-polyfill'
import { RateDecimal } from '../core/rate.ts'
import {
  addComponents, assertLoanState, compareDates, measureInstallmentOutstanding, zeroComponents, type ComponentsMinor, type InstallmentState, type LoanState,
} from './loan-state.ts'
import { defaultServicingRules, projectLoan, type ServicingRules } from './payoff.ts'
import { buildSchedule, type ScheduleRow } from './schedule.ts'
import type { ScheduleSpec } from './schedule-spec.ts'

export type RescheduleTerms = {
  /** Installments of the new schedule (≥ 1). */
  readonly installments: number
  /** The new nominal rate, or null to keep the loan's. */
  readonly annualRatePct: RateDecimal | null
  /** The first new due date, or null for one repayment period after the date. */
  readonly firstRepaymentOn: Temporal.PlainDate | null
  /** Periods at the start of the new schedule with interest only. */
  readonly graceOnPrincipalPeriods: number
}

export type RescheduleStatus =
  | 'loan_not_active'
  | 'quote_date_before_last_close'
  | 'nothing_to_reschedule'              // no principal left
  | 'reschedule_after_advance_charges'   // interest, fees or penalties paid ahead on an installment to be replaced
  | 'invalid_reschedule_terms'

export type Rescheduled =
  | { readonly status: 'ok'; readonly state: LoanState; readonly spec: ScheduleSpec; readonly rows: readonly ScheduleRow[]; readonly movedPrincipalMinor: bigint }
  | { readonly status: RescheduleStatus; readonly reason?: string }

/**
 * Reschedules `state` from `on` (a day after the last closed day).
 * @example rescheduleLoanState(loan, spec, on, { installments: 12, annualRatePct: null, firstRepaymentOn: null, graceOnPrincipalPeriods: 0 })
 */
export function rescheduleLoanState(state: LoanState, spec: ScheduleSpec, on: Temporal.PlainDate, terms: RescheduleTerms, rules: ServicingRules = defaultServicingRules): Rescheduled {
  if (state.status !== 'active') return { status: 'loan_not_active' }
  if (compareDates(on, state.accruedThroughOn) <= 0) return { status: 'quote_date_before_last_close' }
  if (!Number.isInteger(terms.installments) || terms.installments < 1 || terms.installments > 600) return { status: 'invalid_reschedule_terms', reason: 'installments must be 1 to 600' }
  if (!Number.isInteger(terms.graceOnPrincipalPeriods) || terms.graceOnPrincipalPeriods < 0 || terms.graceOnPrincipalPeriods >= terms.installments) {
    return { status: 'invalid_reschedule_terms', reason: 'grace on principal must leave at least one installment with principal' }
  }
  if (terms.firstRepaymentOn !== null && compareDates(terms.firstRepaymentOn, on) <= 0) return { status: 'invalid_reschedule_terms', reason: 'the first new due date must be after the date' }
  const projected = projectLoan(state, on.subtract({ days: 1 }), rules)
  const past = projected.installments.filter((i) => compareDates(i.dueOn, on) <= 0)
  const future = projected.installments.filter((i) => compareDates(i.dueOn, on) > 0)
  for (const i of future) {
    if (i.paidMinor.interest + i.paidMinor.fees + i.paidMinor.penalties + i.waivedMinor.interest + i.waivedMinor.fees + i.waivedMinor.penalties > 0n) {
      return { status: 'reschedule_after_advance_charges' }
    }
  }
  const movedPrincipal = [...past, ...future].reduce((sum, i) => sum + measureInstallmentOutstanding(i).principal, 0n)
  if (movedPrincipal === 0n) return { status: 'nothing_to_reschedule' }

  // Past installments give up their unpaid principal; their charges stay owed.
  const settledPast = past.map((i): InstallmentState => ({ ...i, dueMinor: { ...i.dueMinor, principal: i.paidMinor.principal + i.waivedMinor.principal } }))
  const newSpec: ScheduleSpec = {
    ...spec,
    principalMinor: movedPrincipal,
    annualRatePct: terms.annualRatePct ?? state.annualRatePct,
    installments: terms.installments,
    disbursedOn: on,
    firstRepaymentOn: terms.firstRepaymentOn,
    periodStartOn: null,
    repaymentDates: null,
    graceOnPrincipalPeriods: terms.graceOnPrincipalPeriods,
    graceOnInterestPaymentPeriods: 0,
    interestFreePeriods: 0,
  }
  const rows = buildSchedule(newSpec).rows
  // Principal repaid ahead on replaced installments stays repaid, on the first new installment.
  const advance: ComponentsMinor = future.reduce((sum, i) => addComponents(sum, { ...zeroComponents, principal: i.paidMinor.principal + i.waivedMinor.principal }), zeroComponents)
  const advancePaid = future.reduce((sum, i) => sum + i.paidMinor.principal, 0n)
  const advanceWaived = future.reduce((sum, i) => sum + i.waivedMinor.principal, 0n)
  const firstN = (past.at(-1)?.n ?? 0) + 1
  // The first new period starts where the current accrual period started (its accrued interest is carried).
  const currentStart = future[0]?.startOn ?? on
  const rebuilt = rows.map((row, index): InstallmentState => {
    const scheduled = { principal: row.principalMinor, interest: row.interestMinor, fees: row.feesMinor, penalties: 0n }
    const startOn = index === 0 ? currentStart : row.startOn
    const base = { n: firstN + index, startOn, dueOn: row.dueOn, lateFeeChargedOn: null, penaltyThroughOn: null, penaltyCarryMinor: new RateDecimal(0) }
    if (index > 0) return { ...base, dueMinor: scheduled, paidMinor: zeroComponents, waivedMinor: zeroComponents }
    // Interest accrued since the last due date is owed with the first new installment (already recognised).
    const dueMinor = addComponents(addComponents(scheduled, advance), { ...zeroComponents, interest: projected.accruedInterestMinor })
    return { ...base, dueMinor, paidMinor: { ...zeroComponents, principal: advancePaid }, waivedMinor: { ...zeroComponents, principal: advanceWaived } }
  })
  const next: LoanState = { ...projected, annualRatePct: newSpec.annualRatePct, installments: [...settledPast, ...rebuilt] }
  assertLoanState(next)
  return { status: 'ok', state: next, spec: newSpec, rows, movedPrincipalMinor: movedPrincipal }
}

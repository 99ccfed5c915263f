/**
 * @module loans/replay
 * Closing days and replaying a loan's history, pure (DOMAIN.md, Time: back-dated repayments re-run allocation
 * and accrual from their value date).
 *
 * `closeDays` runs the per-loan close of business over a range of days and says, per day, what the books
 * receive (accrual income or suspense, the non-accrual reserve, penalties and late fees) — the one
 * implementation behind the per-loan close (loan-service.ts) and the replay.
 *
 * `replayLoan` rebuilds a loan from its disbursement: day by day through `through`, the payments valued on a day
 * are applied (in the order they were recorded; a back-dated one after those already on its date) before the
 * day is closed — the same order live servicing follows (a payment valued D is applied after D − 1 is closed).
 * It accumulates everything the loan posted, by posting category (`ReplayBooks`), so that replaying the recorded
 * history and replaying it with a back-dated payment inserted differ by exactly the postings that correct the
 * books. The caller checks first that the recorded history replays to the stored loan (else the history is not
 * one this function can reproduce, and nothing is changed).
 */
import type { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import type { LoanDay } from './payoff.ts'
import { applyPrepayment, closeLoanDay, type PrepaymentMode, type ServicingRules } from './payoff.ts'
import { compareDates, isLoanRepaid, transitionLoan, type LoanState } from './loan-state.ts'
import { decideRepayment, splitPayment } from './payment.ts'
import type { ScheduleSpec } from './schedule-spec.ts'
import type { Tier } from './delinquency.ts'
import type { AllocationOrder } from './waterfall.ts'

export type DayBooks = {
  readonly valueDate: string
  /** Accrued unpaid interest reserved on entering non-accrual (4001 ← 1202). */
  readonly reservedMinor: bigint
  /** Interest accrued as income, true-up included (1202 ← 4001), or 0 while non-accrual. */
  readonly accrualIncomeMinor: bigint
  readonly accruedMinor: bigint
  readonly trueUpMinor: bigint
  /** Penalty interest and late fees charged as income (1204 ← 4003, 1203 ← 4002), or 0 while non-accrual. */
  readonly penaltyIncomeMinor: bigint
  readonly lateFeeIncomeMinor: bigint
  readonly penaltyMinor: bigint
  readonly lateFeeMinor: bigint
  /** Interest, penalties and fees kept off-balance (non-accrual). */
  readonly suspenseMinor: bigint
}

export type ClosedDays = {
  readonly state: LoanState
  readonly suspendedFeesMinor: bigint
  readonly suspendedPenaltiesMinor: bigint
  readonly days: readonly DayBooks[]
  readonly classification: LoanDay['delinquency'] | null
}

/** Closes every day from the day after `state.accruedThroughOn` through `through` (inclusive). */
export function closeDays(
  start: { state: LoanState; suspendedFeesMinor: bigint; suspendedPenaltiesMinor: bigint }, through: Temporal.PlainDate, rules: ServicingRules, judgement: Tier | null,
): ClosedDays {
  let state = start.state
  let suspendedFees = start.suspendedFeesMinor
  let suspendedPenalties = start.suspendedPenaltiesMinor
  let classification: LoanDay['delinquency'] | null = null
  const days: DayBooks[] = []
  for (let day = state.accruedThroughOn.add({ days: 1 }); compareDates(day, through) <= 0; day = day.add({ days: 1 })) {
    const step = closeLoanDay(state, day, rules, judgement)
    const a = step.accrual
    assert(a.status === 'ok', () => `an active loan accrues ${day.toString()}`)
    const p = step.penalty
    assert(p.status === 'ok', 'an active loan is charged penalties')
    const income = a.basis === 'income'
    const penaltyIncome = p.basis === 'income'
    if (!penaltyIncome) {
      suspendedPenalties += p.penaltyMinor
      suspendedFees += p.lateFeeMinor
    }
    days.push({
      valueDate: day.toString(), reservedMinor: a.reservedMinor, accrualIncomeMinor: income ? a.accruedMinor + a.trueUpMinor : 0n, accruedMinor: income ? a.accruedMinor : 0n,
      trueUpMinor: income ? a.trueUpMinor : 0n, penaltyIncomeMinor: penaltyIncome ? p.penaltyMinor : 0n, lateFeeIncomeMinor: penaltyIncome ? p.lateFeeMinor : 0n,
      penaltyMinor: p.penaltyMinor, lateFeeMinor: p.lateFeeMinor,
      suspenseMinor: (income ? 0n : a.accruedMinor + a.trueUpMinor) + (penaltyIncome ? 0n : p.penaltyMinor + p.lateFeeMinor),
    })
    state = step.state
    classification = step.delinquency
  }
  return { state, suspendedFeesMinor: suspendedFees, suspendedPenaltiesMinor: suspendedPenalties, days, classification }
}

export type ReplayPayment =
  | { readonly kind: 'repayment'; readonly on: Temporal.PlainDate; readonly amountMinor: bigint }
  | { readonly kind: 'prepayment'; readonly on: Temporal.PlainDate; readonly amountMinor: bigint; readonly mode: PrepaymentMode }

/** Everything a loan posted since disbursement, by posting category (minor units). */
export type ReplayBooks = {
  reservedMinor: bigint
  accrualIncomeMinor: bigint
  penaltyIncomeMinor: bigint
  lateFeeIncomeMinor: bigint
  /** Cash received, by where it went: receivables (on-balance part) and income out of suspense. */
  paidPenaltiesMinor: bigint
  penaltiesFromSuspenseMinor: bigint
  paidFeesMinor: bigint
  feesFromSuspenseMinor: bigint
  paidInterestMinor: bigint
  interestFromSuspenseMinor: bigint
  paidPrincipalMinor: bigint
  overpaymentMinor: bigint
}

export const replayBookKeys = [
  'reservedMinor', 'accrualIncomeMinor', 'penaltyIncomeMinor', 'lateFeeIncomeMinor', 'paidPenaltiesMinor', 'penaltiesFromSuspenseMinor', 'paidFeesMinor',
  'feesFromSuspenseMinor', 'paidInterestMinor', 'interestFromSuspenseMinor', 'paidPrincipalMinor', 'overpaymentMinor',
] as const satisfies readonly (keyof ReplayBooks)[]

export type Replayed = {
  readonly state: LoanState
  readonly suspendedFeesMinor: bigint
  readonly suspendedPenaltiesMinor: bigint
  readonly classification: LoanDay['delinquency'] | null
  readonly books: ReplayBooks
  /** The day the loan was repaid in full, if it was (no day is closed after it). */
  readonly closedOn: Temporal.PlainDate | null
}

/**
 * Replays a loan from `start` (the loan as disbursed: active, nothing accrued) through `through`, applying
 * `payments` (sorted by value date, stable) on their value dates.
 */
export function replayLoan(
  start: LoanState, payments: readonly ReplayPayment[], through: Temporal.PlainDate,
  context: { spec: ScheduleSpec; rules: ServicingRules; order: AllocationOrder },
): Replayed {
  assert(start.status === 'active', 'a replay starts from the disbursed loan')
  const books: ReplayBooks = Object.fromEntries(replayBookKeys.map((k) => [k, 0n])) as ReplayBooks
  let current = { state: start, suspendedFeesMinor: 0n, suspendedPenaltiesMinor: 0n }
  let classification: LoanDay['delinquency'] | null = null
  let closedOn: Temporal.PlainDate | null = null
  const close = (day: Temporal.PlainDate) => {
    const closed = closeDays(current, day, context.rules, null)
    for (const d of closed.days) {
      books.reservedMinor += d.reservedMinor
      books.accrualIncomeMinor += d.accrualIncomeMinor
      books.penaltyIncomeMinor += d.penaltyIncomeMinor
      books.lateFeeIncomeMinor += d.lateFeeIncomeMinor
    }
    if (closed.classification !== null) classification = closed.classification
    current = { state: closed.state, suspendedFeesMinor: closed.suspendedFeesMinor, suspendedPenaltiesMinor: closed.suspendedPenaltiesMinor }
  }
  for (const payment of payments) {
    assert(closedOn === null, 'no payment after the loan was repaid in full')
    assert(compareDates(payment.on, start.accruedThroughOn) > 0, 'payments are valued on or after disbursement')
    close(payment.on.subtract({ days: 1 }))
    const before = current.state
    let next: LoanState
    let overpaymentMinor: bigint
    if (payment.kind === 'repayment') {
      const decided = decideRepayment(before, payment.amountMinor, payment.on, context.spec, context.rules, context.order)
      next = decided.next
      overpaymentMinor = decided.overpaymentMinor
    } else {
      const prepaid = applyPrepayment(before, payment.amountMinor, payment.on, { mode: payment.mode, spec: context.spec, rules: context.rules })
      assert(prepaid.status === 'ok', () => `a recorded prepayment replays (${prepaid.status})`)
      next = prepaid.state
      overpaymentMinor = prepaid.overpaymentMinor
    }
    const split = splitPayment(before, next, { amountMinor: payment.amountMinor, overpaymentMinor, suspendedFeesMinor: current.suspendedFeesMinor, suspendedPenaltiesMinor: current.suspendedPenaltiesMinor })
    books.paidPenaltiesMinor += split.totals.penalties - split.fromSuspense.penalties
    books.penaltiesFromSuspenseMinor += split.fromSuspense.penalties
    books.paidFeesMinor += split.totals.fees - split.fromSuspense.fees
    books.feesFromSuspenseMinor += split.fromSuspense.fees
    books.paidInterestMinor += split.totals.interest - split.fromSuspense.interest
    books.interestFromSuspenseMinor += split.fromSuspense.interest
    books.paidPrincipalMinor += split.totals.principal
    books.overpaymentMinor += overpaymentMinor
    current = { state: next, suspendedFeesMinor: current.suspendedFeesMinor - split.fromSuspense.fees, suspendedPenaltiesMinor: current.suspendedPenaltiesMinor - split.fromSuspense.penalties }
    if (isLoanRepaid(next)) {
      const transition = transitionLoan(next, { type: 'repay_in_full' })
      assert(transition.status === 'ok', 'a repaid active loan closes')
      current = { ...current, state: { ...next, status: transition.loanStatus } }
      closedOn = payment.on
    }
  }
  if (closedOn === null) close(through)
  return { ...current, classification, books, closedOn }
}

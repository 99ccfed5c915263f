/**
 * @module loans/payoff
 * Pay-off quotes and prepayments (提前还款), and the per-loan day step of close of business they rely on.
 *
 * - `closeLoanDay(state, D)`: one COB day for one loan — accrue interest for D, charge penalties for D, classify.
 *   `projectLoan(state, through)` repeats it; the set-based COB must agree with this per-loan loop.
 * - `quotePayoff(state, on)`: what settles the loan on `on`: all principal + interest accrued to `on` (days
 *   before `on`; not the full period's scheduled interest) + fees + penalties − the overpayment wallet.
 * - `applyPrepayment(state, amount, on, …)`: pays what is due, then the current period's accrued interest, then
 *   principal; the principal still owed is re-amortised with `buildSchedule` over the remaining due dates,
 *   `reduce_installment` (same dates, smaller installments) or `reduce_term` (same installment, fewer dates).
 *   An amount that covers the pay-off quote settles the loan; unearned interest is cancelled (never accrued,
 *   so no posting), the rest goes to the wallet.
 */
import type { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import { buildSchedule, type ScheduleRow } from './schedule.ts'
import type { ScheduleSpec } from './schedule-spec.ts'
import {
  addComponents, assertLoanState, compareDates, measureInstallmentOutstanding, minBigint, subtractComponents,
  sumComponents, zeroComponents, type ComponentsMinor, type InstallmentState, type LoanState,
} from './loan-state.ts'
import { accrueLoanInterest, defaultAccrualOptions, type AccrualOptions, type LoanAccrual } from './accrual.ts'
import { chargePenalties, defaultPenaltyRules, type PenaltyCharge, type PenaltyRules } from './penalty.ts'
import { classifyLoan, defaultDelinquencyRules, type Delinquency, type DelinquencyRules } from './delinquency.ts'
import { allocatePayment, defaultAllocationOrder, measureAllocatable } from './waterfall.ts'
import { RateDecimal } from '../core/rate.ts'

export type ServicingRules = {
  readonly accrual: AccrualOptions
  readonly penalty: PenaltyRules
  readonly delinquency: DelinquencyRules
}
export const defaultServicingRules: ServicingRules = {
  accrual: defaultAccrualOptions, penalty: defaultPenaltyRules, delinquency: defaultDelinquencyRules,
}

export type LoanDay = {
  readonly state: LoanState
  readonly accrual: LoanAccrual
  readonly penalty: PenaltyCharge
  readonly delinquency: Delinquency
}

/**
 * Close of business for day `on` on one loan: accrual, then penalties, then classification as of `on`.
 * Idempotent: a day already closed accrues and charges nothing again.
 */
export function closeLoanDay(
  state: LoanState, on: Temporal.PlainDate, rules: ServicingRules = defaultServicingRules, judgement: Delinquency['tier'] | null = null,
): LoanDay {
  const accrual = accrueLoanInterest(state, on, rules.accrual)
  const afterAccrual = accrual.status === 'ok' ? accrual.state : state
  const penalty = chargePenalties(afterAccrual, on, rules.penalty)
  const afterPenalty = penalty.status === 'ok' ? penalty.state : afterAccrual
  return { state: afterPenalty, accrual, penalty, delinquency: classifyLoan(afterPenalty, on, judgement, rules.delinquency) }
}

/** Runs close of business day by day from the day after `accruedThroughOn` through `through` (inclusive). */
export function projectLoan(state: LoanState, through: Temporal.PlainDate, rules: ServicingRules = defaultServicingRules): LoanState {
  let current = state
  if (current.status !== 'active') return current
  for (let day = current.accruedThroughOn.add({ days: 1 }); compareDates(day, through) <= 0; day = day.add({ days: 1 })) {
    current = closeLoanDay(current, day, rules).state
  }
  return current
}

export type PayoffQuote =
  | {
    readonly status: 'ok'
    /** Owed on `on`, per component (interest: accrued to `on`). */
    readonly owedMinor: ComponentsMinor
    readonly overpaymentMinor: bigint
    /** owed − overpayment; negative means the wallet more than covers it (a refund). */
    readonly totalMinor: bigint
    /** The state brought forward to the end of the day before `on`. */
    readonly state: LoanState
  }
  | { readonly status: 'loan_not_active' }
  | { readonly status: 'quote_date_before_last_close' } // `on` is on or before a day already closed

/**
 * The amount that settles the loan on `on` (before that day's close of business).
 * @example quotePayoff(loan, Temporal.PlainDate.from('2024-05-20')).totalMinor
 */
export function quotePayoff(state: LoanState, on: Temporal.PlainDate, rules: ServicingRules = defaultServicingRules): PayoffQuote {
  if (state.status !== 'active') return { status: 'loan_not_active' }
  if (compareDates(on, state.accruedThroughOn) <= 0) return { status: 'quote_date_before_last_close' }
  const projected = projectLoan(state, on.subtract({ days: 1 }), rules)
  const owedMinor = [...measureAllocatable(projected, on).values()].reduce(addComponents, zeroComponents)
  return { status: 'ok', owedMinor, overpaymentMinor: projected.overpaymentMinor, totalMinor: sumComponents(owedMinor) - projected.overpaymentMinor, state: projected }
}

export const prepaymentModes = ['reduce_term', 'reduce_installment'] as const
export type PrepaymentMode = (typeof prepaymentModes)[number]

export type PrepaymentOptions = {
  readonly mode: PrepaymentMode
  /** The loan's original schedule spec: its conventions (rate, day count, compat, rounding…) are kept. */
  readonly spec: ScheduleSpec
  readonly rules?: ServicingRules
}

export type PrepaymentStatus =
  | 'loan_not_active'
  | 'amount_must_be_positive'
  | 'quote_date_before_last_close'
  | 'prepayment_does_not_exceed_amount_due'   // use allocatePayment: nothing would be left for principal
  | 'prepayment_mode_not_supported'            // reduce_term needs equal_installments or equal_principal

export type Prepayment =
  | {
    readonly status: 'ok'
    readonly state: LoanState
    /** What this payment paid, per component (due amounts, accrued interest, principal prepaid). */
    readonly totalsMinor: ComponentsMinor
    /** Principal prepaid beyond what was due. */
    readonly prepaidPrincipalMinor: bigint
    readonly overpaymentMinor: bigint
    /** The remaining installments after re-amortisation (empty when the loan is settled). */
    readonly rows: readonly ScheduleRow[]
    readonly repaid: boolean
  }
  | { readonly status: PrepaymentStatus }

/**
 * Applies a prepayment received on `on` and re-amortises the rest.
 * @example applyPrepayment(loan, 300_000n, on, { mode: 'reduce_term', spec }).state.installments.length
 */
export function applyPrepayment(state: LoanState, amountMinor: bigint, on: Temporal.PlainDate, options: PrepaymentOptions): Prepayment {
  if (state.status !== 'active') return { status: 'loan_not_active' }
  if (amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  if (compareDates(on, state.accruedThroughOn) <= 0) return { status: 'quote_date_before_last_close' }
  const rules = options.rules ?? defaultServicingRules
  if (options.mode === 'reduce_term' && !['equal_installments', 'equal_principal'].includes(options.spec.amortization)) {
    return { status: 'prepayment_mode_not_supported' }
  }
  const projected = projectLoan(state, on.subtract({ days: 1 }), rules)
  // 1. What is due (overdue and due today), then the accrued interest of the current period.
  const caps = measureAllocatable(projected, on)
  const dueFirst = projected.installments
    .filter((i) => compareDates(i.dueOn, on) <= 0)
    .reduce((sum, i) => sum + sumComponents(caps.get(i.n) ?? zeroComponents), 0n)
  const accruedNow = projected.installments
    .filter((i) => compareDates(i.dueOn, on) > 0)
    .reduce((sum, i) => sum + (caps.get(i.n) ?? zeroComponents).interest, 0n)
  if (amountMinor <= dueFirst) return { status: 'prepayment_does_not_exceed_amount_due' }
  const toInterest = minBigint(amountMinor - dueFirst, accruedNow)
  // Nothing due and nothing accrued (e.g. a second payment on the day of a prepayment): all of it is principal.
  const firstPart = dueFirst + toInterest === 0n
    ? { status: 'ok' as const, state: projected, totalsMinor: zeroComponents, overpaymentMinor: 0n }
    : allocatePayment(projected, dueFirst + toInterest, on, defaultAllocationOrder)
  assert(firstPart.status === 'ok', 'an active loan accepts a positive payment')
  assert(firstPart.overpaymentMinor === 0n, 'dues and accrued interest absorb the first part')
  assert(firstPart.totalsMinor.principal === sumPrincipalDue(projected, on), 'due principal paid, no advance principal yet')
  const paid = firstPart.state
  const rest = amountMinor - dueFirst - toInterest
  const future = paid.installments.filter((i) => compareDates(i.dueOn, on) > 0)
  const principalLeft = future.reduce((sum, i) => sum + measureInstallmentOutstanding(i).principal, 0n)
  if (rest >= principalLeft) return settleLoan(paid, on, firstPart.totalsMinor, rest, principalLeft)
  return reamortise(paid, on, options, firstPart.totalsMinor, rest, principalLeft)
}

function sumPrincipalDue(state: LoanState, on: Temporal.PlainDate): bigint {
  return state.installments
    .filter((i) => compareDates(i.dueOn, on) <= 0)
    .reduce((sum, i) => sum + measureInstallmentOutstanding(i).principal, 0n)
}

/** Pays all principal, cancels unearned interest of future installments, the rest goes to the wallet. */
function settleLoan(state: LoanState, on: Temporal.PlainDate, paidSoFar: ComponentsMinor, rest: bigint, principalLeft: bigint): Prepayment {
  const installments = state.installments.map((i): InstallmentState => {
    if (compareDates(i.dueOn, on) <= 0) return i
    const owed = measureInstallmentOutstanding(i)
    const paidMinor = { ...i.paidMinor, principal: i.paidMinor.principal + owed.principal }
    // Interest not yet earned is cancelled: due becomes what was settled (nothing was accrued beyond it).
    const dueMinor = { ...i.dueMinor, interest: i.paidMinor.interest + i.waivedMinor.interest }
    return { ...i, dueMinor, paidMinor }
  })
  const next: LoanState = {
    ...state, installments, overpaymentMinor: state.overpaymentMinor + rest - principalLeft,
    accruedInterestMinor: 0n, accrualCarryMinor: new RateDecimal(0),
  }
  assertLoanState(next)
  const totalsMinor = { ...paidSoFar, principal: paidSoFar.principal + principalLeft }
  return { status: 'ok', state: next, totalsMinor, prepaidPrincipalMinor: principalLeft, overpaymentMinor: rest - principalLeft, rows: [], repaid: true }
}

function reamortise(
  state: LoanState, on: Temporal.PlainDate, options: PrepaymentOptions, paidSoFar: ComponentsMinor, prepaid: bigint, principalLeft: bigint,
): Prepayment {
  const kept = state.installments.filter((i) => compareDates(i.dueOn, on) <= 0)
  const future = state.installments.filter((i) => compareDates(i.dueOn, on) > 0)
  const first = future[0]
  assert(first !== undefined, 'principal left means an installment is still to come')
  const newBalance = principalLeft - prepaid
  assert(newBalance > 0n, 'a partial prepayment leaves principal')
  const rows = options.mode === 'reduce_installment'
    ? rebuildSameDates(options.spec, future, on, newBalance)
    : rebuildFewerDates(options.spec, future, on, newBalance)
  const due = future.map((i) => i.dueMinor).reduce(addComponents, zeroComponents)
  const paidBefore = future.map((i) => i.paidMinor).reduce(addComponents, zeroComponents)
  const waived = future.map((i) => i.waivedMinor).reduce(addComponents, zeroComponents)
  const paidMinor = { ...paidBefore, principal: paidBefore.principal + prepaid }
  const rebuilt = rows.map((row, index): InstallmentState => {
    const n = first.n + index
    const scheduled = { principal: row.principalMinor, interest: row.interestMinor, fees: row.feesMinor, penalties: 0n }
    const base = { n, startOn: index === 0 ? first.startOn : row.startOn, dueOn: row.dueOn, lateFeeChargedOn: null, penaltyThroughOn: null, penaltyCarryMinor: new RateDecimal(0) }
    if (index > 0) return { ...base, dueMinor: scheduled, paidMinor: zeroComponents, waivedMinor: zeroComponents }
    // The current installment keeps what was settled before: principal paid or waived, interest earned to date.
    const earlier = {
      principal: paidMinor.principal + waived.principal, interest: state.accruedInterestMinor,
      fees: due.fees, penalties: due.penalties,
    }
    return { ...base, dueMinor: addComponents(scheduled, earlier), paidMinor, waivedMinor: waived }
  })
  const next: LoanState = { ...state, installments: [...kept, ...rebuilt] }
  assertLoanState(next)
  const totalsMinor = addComponents(paidSoFar, { ...zeroComponents, principal: prepaid })
  assert(sumComponents(subtractComponents(totalsMinor, paidSoFar)) === prepaid, 'prepaid principal accounted')
  return { status: 'ok', state: next, totalsMinor, prepaidPrincipalMinor: prepaid, overpaymentMinor: 0n, rows, repaid: false }
}

/** Spec for the remaining principal over `dueDates`, interest from `on`, the first period starting at `startOn`. */
function remainingSpec(spec: ScheduleSpec, startOn: Temporal.PlainDate, on: Temporal.PlainDate, balance: bigint, dueDates: readonly Temporal.PlainDate[]): ScheduleSpec {
  return {
    ...spec,
    principalMinor: balance,
    installments: dueDates.length,
    disbursedOn: on,
    periodStartOn: compareDates(startOn, on) < 0 ? startOn : null,
    firstRepaymentOn: null,
    repaymentDates: dueDates,
    graceOnPrincipalPeriods: 0,
    graceOnInterestPaymentPeriods: 0,
    interestFreePeriods: 0,
  }
}

/** reduce_installment: same due dates, the schedule engine recomputes the installment. */
function rebuildSameDates(spec: ScheduleSpec, future: readonly InstallmentState[], on: Temporal.PlainDate, balance: bigint): ScheduleRow[] {
  const first = future[0]
  assert(first !== undefined, 'a future installment')
  const schedule = buildSchedule(remainingSpec(spec, first.startOn, on, balance, future.map((i) => i.dueOn)))
  return [...schedule.rows]
}

/**
 * reduce_term: keep the installment (equal_installments: principal + interest of the current installment;
 * equal_principal: its principal part) and stop when the balance is repaid. Each period's interest comes from
 * `buildSchedule` on a one-period spec, so the product's conventions apply.
 */
function rebuildFewerDates(spec: ScheduleSpec, future: readonly InstallmentState[], on: Temporal.PlainDate, balance: bigint): ScheduleRow[] {
  const first = future[0]
  assert(first !== undefined, 'a future installment')
  const keep = spec.amortization === 'equal_principal' ? first.dueMinor.principal : first.dueMinor.principal + first.dueMinor.interest
  const rows: ScheduleRow[] = []
  let left = balance
  for (const [index, installment] of future.entries()) {
    const from = index === 0 ? on : installment.startOn
    const periodStart = index === 0 ? first.startOn : installment.startOn
    const one = buildSchedule({ ...remainingSpec(spec, periodStart, from, left, [installment.dueOn]), amortization: 'bullet', installmentMultipleOfMinor: null })
    const interest = one.rows[0]?.interestMinor ?? 0n
    const isLast = index === future.length - 1
    const wanted = spec.amortization === 'equal_principal' ? keep : keep - interest
    const principal = isLast ? left : minBigint(left, wanted > 0n ? wanted : 0n)
    left -= principal
    rows.push({
      n: index + 1, startOn: installment.startOn, dueOn: installment.dueOn, principalMinor: principal, interestMinor: interest,
      feesMinor: 0n, totalMinor: principal + interest, balanceMinor: left,
    })
    if (left === 0n) break
  }
  assert(left === 0n, 'reduce_term repays the balance by the last date')
  assert(rows.reduce((sum, r) => sum + r.principalMinor, 0n) === balance, 'principal parts sum to the balance')
  return rows
}

/**
 * @module loans/loan-state
 * The servicing state of one installment loan as plain data, and the pure operations on it that are not
 * allocation, accrual or penalties: building the state from a schedule, the status machine (`transitionLoan`),
 * waivers, write-off and recovery, and the outstanding-amount measures every other servicing file uses.
 *
 * The state is what the loan subledger stores: one row per loan (`LoanState` without `installments`) and one row
 * per installment (`InstallmentState`). Money is bigint minor units; the two carries (unrounded remainders of
 * daily accrual and of penalty interest) are `RateDecimal` fractions of a minor unit, stored as `numeric`.
 *
 * Invariants (asserted by `assertLoanState`): no amount is negative; per installment and component,
 * paid + waived ≤ due; Σ principal due = the disbursed principal.
 */
import { Temporal } from 'temporal-polyfill'
import { daysBetweenDates } from '../core/calendar.ts'
import { assert, assertNever } from '../core/assert.ts'
import type { Currency } from '../core/money.ts'
import { RateDecimal, type Rounding } from '../core/rate.ts'
import type { Schedule } from './schedule.ts'
import type { DaysInYear } from './schedule-spec.ts'

export const loanStatuses = ['approved', 'active', 'closed', 'written_off', 'restructured'] as const
/**
 * - `approved`: created, not disbursed; nothing accrues.
 * - `active`: disbursed; servicing runs (accrual, penalties, payments).
 * - `closed`: repaid in full (terminal unless a reversed payment reopens it).
 * - `written_off`: principal charged to the allowance (核销); recoveries may still arrive (terminal).
 * - `restructured`: replaced by a new loan with a new schedule (terminal for this loan).
 */
export type LoanStatus = (typeof loanStatuses)[number]

/** The four components an installment owes, in the default allocation order. */
export const components = ['penalties', 'fees', 'interest', 'principal'] as const
export type Component = (typeof components)[number]
/** One amount per component, in minor units. */
export type ComponentsMinor = {
  readonly principal: bigint
  readonly interest: bigint
  readonly fees: bigint
  readonly penalties: bigint
}
export const zeroComponents: ComponentsMinor = { principal: 0n, interest: 0n, fees: 0n, penalties: 0n }

export type InstallmentState = {
  readonly n: number
  /** Interest of this installment accrues over [startOn, dueOn). */
  readonly startOn: Temporal.PlainDate
  readonly dueOn: Temporal.PlainDate
  /** Charged: principal and interest from the schedule; fees and penalties as they are charged. */
  readonly dueMinor: ComponentsMinor
  readonly paidMinor: ComponentsMinor
  readonly waivedMinor: ComponentsMinor
  /** The date the late fee was charged (it is charged at most once), or null. */
  readonly lateFeeChargedOn: Temporal.PlainDate | null
  /** Last day penalty interest was accrued for this installment (for idempotent catch-up), or null. */
  readonly penaltyThroughOn: Temporal.PlainDate | null
  /** Unrounded remainder of this installment's penalty interest, in minor units (a fraction). */
  readonly penaltyCarryMinor: RateDecimal
}

export type LoanState = {
  readonly status: LoanStatus
  readonly currency: Currency
  /** Disbursed principal. */
  readonly principalMinor: bigint
  /** Contract (nominal annual) rate in percent, as in `ScheduleSpec`. */
  readonly annualRatePct: RateDecimal
  readonly daysInYear: DaysInYear
  readonly rounding: Rounding
  readonly disbursedOn: Temporal.PlainDate
  readonly installments: readonly InstallmentState[]
  /** Last day whose interest has been accrued (interest for day D covers [D, D+1)); starts the day before disbursement. */
  readonly accruedThroughOn: Temporal.PlainDate
  /** Interest accrued in the current period and not yet due (rounded). Resets when the period falls due. */
  readonly accruedInterestMinor: bigint
  /** Unrounded remainder of the current period's accrual, in minor units (in the rounding mode's interval). */
  readonly accrualCarryMinor: RateDecimal
  /** Borrower's overpayment (wallet, account 2201). */
  readonly overpaymentMinor: bigint
  /** True while the loan is non-accrual (DPD above the threshold): interest accrues off-balance. */
  readonly nonAccrual: boolean
  /** Interest owed by the borrower but kept off the balance sheet (non-accrual), not yet paid or waived. */
  readonly suspendedInterestMinor: bigint
  /** Principal charged to the allowance by write-off. */
  readonly writtenOffMinor: bigint
  /** Cash recovered after write-off (recovery income, 4004). */
  readonly recoveredMinor: bigint
}

/** What servicing needs beyond the schedule; a `ScheduleSpec` satisfies it. */
export type LoanTerms = {
  readonly annualRatePct: RateDecimal
  readonly daysInYear: DaysInYear
  readonly rounding: Rounding
  readonly disbursedOn: Temporal.PlainDate
}

/**
 * The servicing state of a loan with this schedule, nothing paid, status `approved` (disbursement activates it).
 * @example loanFromSchedule(buildSchedule(spec), spec).installments[0]?.dueMinor.interest // the row's interest
 */
export function loanFromSchedule(schedule: Schedule, terms: LoanTerms, status: LoanStatus = 'approved'): LoanState {
  const installments = schedule.rows.map((row): InstallmentState => ({
    n: row.n,
    startOn: row.startOn,
    dueOn: row.dueOn,
    dueMinor: { principal: row.principalMinor, interest: row.interestMinor, fees: row.feesMinor, penalties: 0n },
    paidMinor: zeroComponents,
    waivedMinor: zeroComponents,
    lateFeeChargedOn: null,
    penaltyThroughOn: null,
    penaltyCarryMinor: new RateDecimal(0),
  }))
  const state: LoanState = {
    status,
    currency: schedule.currency,
    principalMinor: schedule.principalMinor,
    annualRatePct: terms.annualRatePct,
    daysInYear: terms.daysInYear,
    rounding: terms.rounding,
    disbursedOn: terms.disbursedOn,
    installments,
    accruedThroughOn: terms.disbursedOn.subtract({ days: 1 }),
    accruedInterestMinor: 0n,
    accrualCarryMinor: new RateDecimal(0),
    overpaymentMinor: 0n,
    nonAccrual: false,
    suspendedInterestMinor: 0n,
    writtenOffMinor: 0n,
    recoveredMinor: 0n,
  }
  assertLoanState(state)
  return state
}

// ---------------------------------------------------------------------------------------------------------------
// Component arithmetic and outstanding amounts
// ---------------------------------------------------------------------------------------------------------------

export function addComponents(a: ComponentsMinor, b: ComponentsMinor): ComponentsMinor {
  return { principal: a.principal + b.principal, interest: a.interest + b.interest, fees: a.fees + b.fees, penalties: a.penalties + b.penalties }
}

export function subtractComponents(a: ComponentsMinor, b: ComponentsMinor): ComponentsMinor {
  return { principal: a.principal - b.principal, interest: a.interest - b.interest, fees: a.fees - b.fees, penalties: a.penalties - b.penalties }
}

export function sumComponents(c: ComponentsMinor): bigint {
  return c.principal + c.interest + c.fees + c.penalties
}

/** Returns a copy with one component replaced. */
export function withComponent(c: ComponentsMinor, component: Component, amountMinor: bigint): ComponentsMinor {
  switch (component) {
    case 'principal': return { ...c, principal: amountMinor }
    case 'interest': return { ...c, interest: amountMinor }
    case 'fees': return { ...c, fees: amountMinor }
    case 'penalties': return { ...c, penalties: amountMinor }
    default: return assertNever(component)
  }
}

/** Due − paid − waived, per component. */
export function measureInstallmentOutstanding(installment: InstallmentState): ComponentsMinor {
  return subtractComponents(subtractComponents(installment.dueMinor, installment.paidMinor), installment.waivedMinor)
}

/** Σ outstanding over all installments, per component (interest: the whole scheduled interest, due or not). */
export function measureLoanOutstanding(state: LoanState): ComponentsMinor {
  return state.installments.map(measureInstallmentOutstanding).reduce(addComponents, zeroComponents)
}

/** Principal still owed (due or not), excluding what was written off. */
export function measurePrincipalOutstanding(state: LoanState): bigint {
  return measureLoanOutstanding(state).principal
}

/** True when nothing is owed on any installment (the loan can close). */
export function isLoanRepaid(state: LoanState): boolean {
  return sumComponents(measureLoanOutstanding(state)) === 0n
}

export function compareDates(a: Temporal.PlainDate, b: Temporal.PlainDate): number {
  return Temporal.PlainDate.compare(a, b)
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysFrom(from: Temporal.PlainDate, to: Temporal.PlainDate): number {
  return daysBetweenDates(from, to)
}

/** Returns the state with installment `n` replaced by `update(installment)`. */
export function updateInstallment(state: LoanState, n: number, update: (i: InstallmentState) => InstallmentState): LoanState {
  let found = false
  const installments = state.installments.map((installment) => {
    if (installment.n !== n) return installment
    found = true
    return update(installment)
  })
  assert(found, () => `installment ${n} exists`)
  return { ...state, installments }
}

/** Asserts the invariants of a loan state (a broken one is a bug, never a business outcome). */
export function assertLoanState(state: LoanState): void {
  let principalDue = 0n
  let previousDue: Temporal.PlainDate | null = null
  for (const installment of state.installments) {
    for (const component of components) {
      const due = installment.dueMinor[component]
      const settled = installment.paidMinor[component] + installment.waivedMinor[component]
      assert(due >= 0n, () => `installment ${installment.n}: ${component} due is negative`)
      assert(installment.paidMinor[component] >= 0n, () => `installment ${installment.n}: ${component} paid is negative`)
      assert(installment.waivedMinor[component] >= 0n, () => `installment ${installment.n}: ${component} waived is negative`)
      assert(settled <= due, () => `installment ${installment.n}: ${component} paid + waived exceeds due`)
    }
    assert(compareDates(installment.startOn, installment.dueOn) < 0, () => `installment ${installment.n}: period has positive length`)
    if (previousDue !== null) assert(compareDates(previousDue, installment.dueOn) < 0, 'due dates increase')
    previousDue = installment.dueOn
    principalDue += installment.dueMinor.principal
  }
  assert(principalDue === state.principalMinor, 'principal due over the installments sums to the disbursed principal')
  assert(state.overpaymentMinor >= 0n, 'overpayment is not negative')
  assert(state.accruedInterestMinor >= 0n, 'accrued interest is not negative')
  assert(state.suspendedInterestMinor >= 0n, 'suspended interest is not negative')
  assert(state.writtenOffMinor >= 0n, 'written-off principal is not negative')
  assert(state.recoveredMinor >= 0n, 'recoveries are not negative')
}

// ---------------------------------------------------------------------------------------------------------------
// Status machine
// ---------------------------------------------------------------------------------------------------------------

export type LoanEvent =
  | { readonly type: 'disburse' }
  | { readonly type: 'repay_in_full' }
  | { readonly type: 'write_off' }
  | { readonly type: 'restructure' }
  | { readonly type: 'reopen' }

/** Failures of `transitionLoan`, highest precedence first. */
export type LoanTransitionStatus =
  | 'loan_not_approved'            // disburse: only an approved loan can be disbursed
  | 'loan_not_active'              // repay_in_full, write_off, restructure: only an active loan
  | 'loan_not_closed'              // reopen: only a closed loan (a reversed payment) reopens
  | 'loan_has_outstanding_balance' // repay_in_full while something is still owed
  | 'loan_is_repaid'               // reopen while nothing is owed: it would close again at once

export type LoanTransition =
  | { readonly status: 'ok'; readonly loanStatus: LoanStatus }
  | { readonly status: LoanTransitionStatus }

/**
 * The next status after `event`, or why the event is not allowed now. Pure: the caller stores the status.
 * approved —disburse→ active —repay_in_full→ closed —reopen→ active; active —write_off→ written_off;
 * active —restructure→ restructured.
 * @example transitionLoan(loan, { type: 'disburse' }) // { status: 'ok', loanStatus: 'active' }
 */
export function transitionLoan(state: LoanState, event: LoanEvent): LoanTransition {
  switch (event.type) {
    case 'disburse':
      if (state.status !== 'approved') return { status: 'loan_not_approved' }
      return { status: 'ok', loanStatus: 'active' }
    case 'repay_in_full':
      if (state.status !== 'active') return { status: 'loan_not_active' }
      if (!isLoanRepaid(state)) return { status: 'loan_has_outstanding_balance' }
      return { status: 'ok', loanStatus: 'closed' }
    case 'write_off':
      if (state.status !== 'active') return { status: 'loan_not_active' }
      return { status: 'ok', loanStatus: 'written_off' }
    case 'restructure':
      if (state.status !== 'active') return { status: 'loan_not_active' }
      return { status: 'ok', loanStatus: 'restructured' }
    case 'reopen':
      if (state.status !== 'closed') return { status: 'loan_not_closed' }
      if (isLoanRepaid(state)) return { status: 'loan_is_repaid' }
      return { status: 'ok', loanStatus: 'active' }
    default:
      return assertNever(event)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Waivers, write-off, recovery
// ---------------------------------------------------------------------------------------------------------------

export type WaiverStatus =
  | 'loan_not_active'
  | 'amount_must_be_positive'
  | 'principal_cannot_be_waived'   // principal leaves the books by write-off or restructuring, not by waiver
  | 'installment_not_found'
  | 'exceeds_outstanding'          // more than is owed on that installment and component

export type Waiver =
  | { readonly status: 'ok'; readonly state: LoanState; readonly waivedMinor: bigint; readonly fromSuspenseMinor: bigint }
  | { readonly status: WaiverStatus }

/**
 * Waives part of an installment's interest, fees or penalties (reverses the income: 4001/4002/4003 ← 1202/1203/1204).
 * For a non-accrual loan, waived interest is taken from suspended (off-balance) interest first: `fromSuspenseMinor`
 * of the waiver has no on-balance posting.
 */
export function waiveCharges(
  state: LoanState, waiver: { readonly n: number; readonly component: Component; readonly amountMinor: bigint },
): Waiver {
  if (state.status !== 'active') return { status: 'loan_not_active' }
  if (waiver.amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  if (waiver.component === 'principal') return { status: 'principal_cannot_be_waived' }
  const installment = state.installments.find((i) => i.n === waiver.n)
  if (installment === undefined) return { status: 'installment_not_found' }
  if (waiver.amountMinor > measureInstallmentOutstanding(installment)[waiver.component]) return { status: 'exceeds_outstanding' }
  const fromSuspenseMinor = waiver.component === 'interest' ? minBigint(waiver.amountMinor, state.suspendedInterestMinor) : 0n
  const next = updateInstallment(state, waiver.n, (i) => ({
    ...i, waivedMinor: withComponent(i.waivedMinor, waiver.component, i.waivedMinor[waiver.component] + waiver.amountMinor),
  }))
  const result = { ...next, suspendedInterestMinor: state.suspendedInterestMinor - fromSuspenseMinor }
  assertLoanState(result)
  return { status: 'ok', state: result, waivedMinor: waiver.amountMinor, fromSuspenseMinor }
}

export type WriteOff =
  | {
    readonly status: 'ok'
    readonly state: LoanState
    /** Everything that was owed, per component; principal goes 1291 ← 1201, the rest is reversed income. */
    readonly writtenOffMinor: ComponentsMinor
    /** Part of the written-off interest that was off-balance (suspended): no ledger posting. */
    readonly fromSuspenseMinor: bigint
  }
  | { readonly status: 'loan_not_active' }

/**
 * Writes the loan off (核销): the outstanding principal is charged to the allowance and interest, fees and
 * penalties still owed are waived. The status becomes `written_off`; later cash is a recovery (`recordRecovery`).
 */
export function writeOffLoan(state: LoanState): WriteOff {
  const transition = transitionLoan(state, { type: 'write_off' })
  if (transition.status !== 'ok') return { status: 'loan_not_active' }
  const outstanding = measureLoanOutstanding(state)
  const installments = state.installments.map((installment) => {
    const owed = measureInstallmentOutstanding(installment)
    return { ...installment, waivedMinor: addComponents(installment.waivedMinor, owed) }
  })
  const next: LoanState = {
    ...state,
    status: transition.loanStatus,
    installments,
    writtenOffMinor: state.writtenOffMinor + outstanding.principal,
    suspendedInterestMinor: 0n,
  }
  assertLoanState(next)
  assert(isLoanRepaid(next), 'nothing is owed after a write-off')
  return { status: 'ok', state: next, writtenOffMinor: outstanding, fromSuspenseMinor: state.suspendedInterestMinor }
}

export type Recovery =
  | { readonly status: 'ok'; readonly state: LoanState; readonly recoveredMinor: bigint }
  | { readonly status: 'loan_not_written_off' | 'amount_must_be_positive' }

/** Records cash received after write-off (1001 ← 4004). */
export function recordRecovery(state: LoanState, amountMinor: bigint): Recovery {
  if (state.status !== 'written_off') return { status: 'loan_not_written_off' }
  if (amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  return { status: 'ok', state: { ...state, recoveredMinor: state.recoveredMinor + amountMinor }, recoveredMinor: amountMinor }
}

export function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

export function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

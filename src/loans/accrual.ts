/**
 * @module loans/accrual
 * Daily interest accrual. Interest for business day D covers [D, D+1) and is
 *   exact(D) = balance × annualRatePct ÷ 100 ÷ Y(D)            (minor units, 34-digit decimals)
 * where Y(D) is the product's `daysInYear`: 360, 364, 365, or for `actual` the length of D's calendar year
 * (365 or 366) — the same day count the `puhui` schedule convention uses for daily interest.
 *
 * Rounding with carry (cumulative rounding). A counter keeps the rounded total accrued since its reset and the
 * unrounded remainder (carry); each day books round(accrued + carry + exact) − accrued. Guarantee, for every
 * rounding mode, asserted and property-tested:
 *   Σ of the daily amounts over n days since a reset = round_mode(Σ exact over those n days)
 * — exactly what one accrual over the n days gives (`accrueInterestOverDays`). Hence the total is within ½ minor
 * unit of the exact interest for `half_even`/`half_up`, and within 1 for `down`/`up`; the carry stays in
 * [−½, ½] or [0, 1) or (−1, 0]; no daily amount is negative.
 *
 * Loans (`accrueLoanInterest`): the balance is the principal not yet due (overdue principal earns penalty
 * interest instead, see penalty.ts). The counter resets when a period falls due; on the period's last day
 * the difference between the schedule's interest and what was accrued is booked as a true-up, so the interest
 * recognised per installment is exactly the schedule's. With the `puhui` convention, `daily` interest and
 * declining balance, a loan paid on time needs no true-up: the n daily accruals equal the schedule's interest —
 * except when the period's exact interest lies on the rounding mode's boundary (a whole number of minor units
 * for `down`/`up`, a half for the half modes), where the 34-digit daily quotients and the schedule's single
 * quotient may fall on either side; the true-up is then one minor unit (property-tested against exact fractions).
 *
 * Non-accrual: once DPD reaches `nonAccrualDpdMin` (default 91, i.e. DPD > 90), accrual goes to suspense
 * (`basis: 'suspense'`, booked off-balance) and, on entry, the accrued unpaid interest is reserved
 * (`reservedMinor`: 4001 ← 1202, tracked off-balance in `suspendedInterestMinor`).
 */
import type { Temporal } from 'temporal-polyfill'
import { assert, assertNever } from '../core/assert.ts'
import { RateDecimal, decimalRounding, type Rounding } from '../core/rate.ts'
import type { DaysInYear } from './schedule-spec.ts'
import {
  assertLoanState, compareDates, measureInstallmentOutstanding, maxBigint, type InstallmentState, type LoanState,
} from './loan-state.ts'
import { measureDpd } from './delinquency.ts'

/** Length of the interest year for day `on`. */
export function measureYearDays(daysInYear: DaysInYear, on: Temporal.PlainDate): number {
  switch (daysInYear) {
    case 'actual': return on.daysInYear
    case '360': return 360
    case '364': return 364
    case '365': return 365
    default: return assertNever(daysInYear)
  }
}

/** Unrounded interest for one day on a balance, in minor units. */
export function computeDailyInterest(
  balanceMinor: bigint, annualRatePct: RateDecimal, daysInYear: DaysInYear, on: Temporal.PlainDate,
): RateDecimal {
  assert(balanceMinor >= 0n, 'balance is not negative')
  assert(annualRatePct.greaterThanOrEqualTo(0), 'rate is not negative')
  return new RateDecimal(balanceMinor.toString()).times(annualRatePct).div(100).div(measureYearDays(daysInYear, on))
}

/** Rounded total since the last reset plus the unrounded remainder. */
export type AccrualCounter = { readonly accruedMinor: bigint; readonly carryMinor: RateDecimal }
export const zeroCounter: AccrualCounter = { accruedMinor: 0n, carryMinor: new RateDecimal(0) }

function roundToMinor(x: RateDecimal, rounding: Rounding): bigint {
  const text = x.toDecimalPlaces(0, decimalRounding[rounding]).toFixed(0)
  assert(/^-?\d+$/.test(text), () => `minor units print as an integer: ${text}`)
  return BigInt(text)
}

/**
 * Adds one day's exact amount to a counter and returns the whole minor units to book today.
 * @example roundWithCarry(zeroCounter, new RateDecimal('0.6'), 'half_even') // { amountMinor: 1n, counter: { accruedMinor: 1n, carryMinor: -0.4 } }
 */
export function roundWithCarry(counter: AccrualCounter, exactMinor: RateDecimal, rounding: Rounding): { amountMinor: bigint; counter: AccrualCounter } {
  assert(exactMinor.greaterThanOrEqualTo(0), 'an accrual is not negative')
  const cumulative = new RateDecimal(counter.accruedMinor.toString()).plus(counter.carryMinor).plus(exactMinor)
  const rounded = roundToMinor(cumulative, rounding)
  const amountMinor = rounded - counter.accruedMinor
  assert(amountMinor >= 0n, 'a daily amount is not negative')
  const carryMinor = cumulative.minus(rounded.toString())
  assert(carryMinor.abs().lessThan(1), 'the carry is less than one minor unit')
  return { amountMinor, counter: { accruedMinor: rounded, carryMinor } }
}

/**
 * Interest over the days [from, to) on a constant balance, rounded once: the reference the daily accruals sum to.
 * @example accrueInterestOverDays(1_000_000n, new RateDecimal(12), '360', 'half_even', from, from.add({ days: 30 })) // 10000n
 */
export function accrueInterestOverDays(
  balanceMinor: bigint, annualRatePct: RateDecimal, daysInYear: DaysInYear, rounding: Rounding,
  from: Temporal.PlainDate, to: Temporal.PlainDate,
): bigint {
  let exact = new RateDecimal(0)
  for (let day = from; compareDates(day, to) < 0; day = day.add({ days: 1 })) {
    exact = exact.plus(computeDailyInterest(balanceMinor, annualRatePct, daysInYear, day))
  }
  return roundToMinor(exact, rounding)
}

// ---------------------------------------------------------------------------------------------------------------
// Loans
// ---------------------------------------------------------------------------------------------------------------

export type AccrualOptions = {
  /** The loan becomes non-accrual at this DPD (default 91: DPD > 90). */
  readonly nonAccrualDpdMin: number
}
export const defaultAccrualOptions: AccrualOptions = { nonAccrualDpdMin: 91 }

export type LoanAccrual =
  | {
    readonly status: 'ok'
    readonly state: LoanState
    /** Interest accrued for day `on` (rounded with carry). */
    readonly accruedMinor: bigint
    /** On a period's last day: schedule interest − interest accrued in the period (may be negative); else 0. */
    readonly trueUpMinor: bigint
    /** `income`: book 1202 ← 4001 (accruedMinor + trueUpMinor). `suspense`: off-balance only. */
    readonly basis: 'income' | 'suspense'
    /** On the day the loan turns non-accrual: accrued unpaid interest to reverse (4001 ← 1202); else 0. */
    readonly reservedMinor: bigint
    /** The principal interest was computed on (principal not yet due). */
    readonly balanceMinor: bigint
    /** The installment whose period ended with this day (its interest is now due), or null. */
    readonly closedPeriodN: number | null
  }
  | { readonly status: 'loan_not_active' }
  | { readonly status: 'already_accrued' } // `on` is on or before `accruedThroughOn`: a re-run changes nothing

/** The installment whose period contains day `on`, if any. */
export function findCurrentInstallment(state: LoanState, on: Temporal.PlainDate): InstallmentState | undefined {
  return state.installments.find((i) => compareDates(i.startOn, on) <= 0 && compareDates(on, i.dueOn) < 0)
}

/** Principal of installments falling due after `on`, still owed: the balance contractual interest runs on. */
export function measureAccruingBalance(state: LoanState, on: Temporal.PlainDate): bigint {
  return state.installments
    .filter((i) => compareDates(i.dueOn, on) > 0)
    .reduce((sum, i) => sum + measureInstallmentOutstanding(i).principal, 0n)
}

/** Interest recognised on the books and still unpaid as of the start of day `on` (before `on` accrues). */
export function measureRecognisedInterest(state: LoanState, on: Temporal.PlainDate): bigint {
  let total = 0n
  for (const installment of state.installments) {
    const owed = measureInstallmentOutstanding(installment).interest
    if (compareDates(installment.dueOn, on) <= 0) {
      total += owed
    } else if (compareDates(installment.startOn, on) <= 0) {
      const settled = installment.paidMinor.interest + installment.waivedMinor.interest
      total += maxBigint(0n, state.accruedInterestMinor - settled)
    }
  }
  return total
}

/**
 * Accrues day `on` for an active loan (close of business for `on`). Days must be accrued in order, one at a time:
 * `on` is the day after `state.accruedThroughOn` (a re-run of an accrued day is `already_accrued`).
 */
export function accrueLoanInterest(
  state: LoanState, on: Temporal.PlainDate, options: AccrualOptions = defaultAccrualOptions,
): LoanAccrual {
  if (state.status !== 'active') return { status: 'loan_not_active' }
  if (compareDates(on, state.accruedThroughOn) <= 0) return { status: 'already_accrued' }
  assert(state.accruedThroughOn.add({ days: 1 }).equals(on), () => `accrue days in order: next is ${state.accruedThroughOn.add({ days: 1 }).toString()}`)

  const nonAccrual = measureDpd(state, on) >= options.nonAccrualDpdMin
  const reservedMinor = nonAccrual && !state.nonAccrual ? measureRecognisedInterest(state, on) - state.suspendedInterestMinor : 0n
  assert(reservedMinor >= 0n, 'reserved interest is not negative')

  const current = findCurrentInstallment(state, on)
  const balanceMinor = measureAccruingBalance(state, on)
  let counter: AccrualCounter = { accruedMinor: state.accruedInterestMinor, carryMinor: state.accrualCarryMinor }
  let accruedMinor = 0n
  if (current !== undefined && current.dueMinor.interest > 0n && compareDates(on, state.disbursedOn) >= 0) {
    const exact = computeDailyInterest(balanceMinor, state.annualRatePct, state.daysInYear, on)
    const step = roundWithCarry(counter, exact, state.rounding)
    accruedMinor = step.amountMinor
    counter = step.counter
  }
  let trueUpMinor = 0n
  let closedPeriodN: number | null = null
  if (current !== undefined && on.add({ days: 1 }).equals(current.dueOn)) {
    trueUpMinor = current.dueMinor.interest - counter.accruedMinor
    closedPeriodN = current.n
    counter = zeroCounter
  }
  const basis = nonAccrual ? 'suspense' : 'income'
  const suspendedAdd = reservedMinor + (nonAccrual ? accruedMinor + trueUpMinor : 0n)
  const next: LoanState = {
    ...state,
    accruedThroughOn: on,
    accruedInterestMinor: counter.accruedMinor,
    accrualCarryMinor: counter.carryMinor,
    nonAccrual,
    suspendedInterestMinor: maxBigint(0n, state.suspendedInterestMinor + suspendedAdd),
  }
  assertLoanState(next)
  return { status: 'ok', state: next, accruedMinor, trueUpMinor, basis, reservedMinor, balanceMinor, closedPeriodN }
}

/**
 * @module loans/penalty
 * Penalty interest (罚息) on overdue principal and the late fee, charged by close of business for day D.
 *
 * - Penalty interest: for each day D on which an installment's principal is overdue (D after its due date, i.e.
 *   the installment's DPD ≥ 1), exact = overdue principal × contract rate × multiplier ÷ 100 ÷ Y(D), with the
 *   product's day count (see accrual.ts), rounded with a per-installment carry (the same cumulative rounding:
 *   Σ of the daily penalties = round(Σ exact)). Default multiplier 1.5. Charged to the installment's
 *   `penalties` component (1204 ← 4003). Overdue interest carries no penalty (no compounding) in this version.
 * - Late fee: charged once per installment, on the first COB day on which the installment is more than
 *   `lateFeeGraceDays` past due and still owes principal or interest: fixed amount + percent of what the
 *   installment then owes in principal and interest (rounded with a named mode). Charged to `fees` (1203 ← 4002).
 *
 * A re-run of a day already charged changes nothing (`penaltyThroughOn`, `lateFeeChargedOn`).
 */
import type { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import { RateDecimal, interestMinor, type Rounding } from '../core/rate.ts'
import { computeDailyInterest, roundWithCarry } from './accrual.ts'
import {
  assertLoanState, compareDates, daysFrom, measureInstallmentOutstanding, type InstallmentState, type LoanState,
} from './loan-state.ts'

export type PenaltyRules = {
  /** Penalty rate = contract rate × this (default 1.5). Zero disables penalty interest. */
  readonly penaltyRateMultiplier: RateDecimal
  readonly penaltyRounding: Rounding
  /** Fixed part of the late fee, minor units (default 0). */
  readonly lateFeeFixedMinor: bigint
  /** Percent of the installment's overdue principal + interest (default 0). */
  readonly lateFeePct: RateDecimal
  readonly lateFeeRounding: Rounding
  /** The late fee is charged once DPD exceeds this (default 0: the day after the due date). */
  readonly lateFeeGraceDays: number
}
export const defaultPenaltyRules: PenaltyRules = {
  penaltyRateMultiplier: new RateDecimal('1.5'),
  penaltyRounding: 'half_even',
  lateFeeFixedMinor: 0n,
  lateFeePct: new RateDecimal(0),
  lateFeeRounding: 'half_even',
  lateFeeGraceDays: 0,
}

export type InstallmentCharge = { readonly n: number; readonly penaltyMinor: bigint; readonly lateFeeMinor: bigint }

export type PenaltyCharge =
  | {
    readonly status: 'ok'
    readonly state: LoanState
    /** Σ penalty interest charged for day `on` (1204 ← 4003). */
    readonly penaltyMinor: bigint
    /** Σ late fees charged on `on` (1203 ← 4002). */
    readonly lateFeeMinor: bigint
    /** Non-zero charges per installment. */
    readonly charges: readonly InstallmentCharge[]
    /** `suspense` while the loan is non-accrual: book off-balance. */
    readonly basis: 'income' | 'suspense'
  }
  | { readonly status: 'loan_not_active' }

/** The late fee an installment owing `overdueMinor` (principal + interest) is charged. */
export function computeLateFee(overdueMinor: bigint, rules: PenaltyRules): bigint {
  assert(overdueMinor >= 0n, 'overdue amount is not negative')
  assert(rules.lateFeeFixedMinor >= 0n, 'late fee is not negative')
  return rules.lateFeeFixedMinor + interestMinor(overdueMinor, rules.lateFeePct.div(100), rules.lateFeeRounding)
}

/**
 * Charges penalty interest for day `on` and any late fee that falls due on `on`.
 * @example chargePenalties(loan, Temporal.PlainDate.from('2024-03-20'), defaultPenaltyRules).penaltyMinor
 */
export function chargePenalties(state: LoanState, on: Temporal.PlainDate, rules: PenaltyRules = defaultPenaltyRules): PenaltyCharge {
  if (state.status !== 'active') return { status: 'loan_not_active' }
  assert(rules.penaltyRateMultiplier.greaterThanOrEqualTo(0), 'penalty multiplier is not negative')
  assert(rules.lateFeeGraceDays >= 0, 'grace is not negative')
  const penaltyRatePct = state.annualRatePct.times(rules.penaltyRateMultiplier)
  const charges: InstallmentCharge[] = []
  const installments = state.installments.map((installment) => {
    const charged = chargeInstallment(state, installment, on, penaltyRatePct, rules)
    if (charged.penaltyMinor > 0n || charged.lateFeeMinor > 0n) {
      charges.push({ n: installment.n, penaltyMinor: charged.penaltyMinor, lateFeeMinor: charged.lateFeeMinor })
    }
    return charged.installment
  })
  const next: LoanState = { ...state, installments }
  assertLoanState(next)
  const penaltyMinor = charges.reduce((sum, c) => sum + c.penaltyMinor, 0n)
  const lateFeeMinor = charges.reduce((sum, c) => sum + c.lateFeeMinor, 0n)
  return { status: 'ok', state: next, penaltyMinor, lateFeeMinor, charges, basis: state.nonAccrual ? 'suspense' : 'income' }
}

function chargeInstallment(
  state: LoanState, installment: InstallmentState, on: Temporal.PlainDate, penaltyRatePct: RateDecimal, rules: PenaltyRules,
): { installment: InstallmentState; penaltyMinor: bigint; lateFeeMinor: bigint } {
  const dpd = daysFrom(installment.dueOn, on)
  if (dpd < 1) return { installment, penaltyMinor: 0n, lateFeeMinor: 0n }
  const owed = measureInstallmentOutstanding(installment)
  let next = installment
  let penaltyMinor = 0n
  const alreadyCharged = installment.penaltyThroughOn !== null && compareDates(on, installment.penaltyThroughOn) <= 0
  if (!alreadyCharged && owed.principal > 0n) {
    const exact = computeDailyInterest(owed.principal, penaltyRatePct, state.daysInYear, on)
    const counter = { accruedMinor: installment.dueMinor.penalties, carryMinor: installment.penaltyCarryMinor }
    const step = roundWithCarry(counter, exact, rules.penaltyRounding)
    penaltyMinor = step.amountMinor
    next = {
      ...next,
      dueMinor: { ...next.dueMinor, penalties: step.counter.accruedMinor },
      penaltyCarryMinor: step.counter.carryMinor,
      penaltyThroughOn: on,
    }
  }
  let lateFeeMinor = 0n
  if (installment.lateFeeChargedOn === null && dpd > rules.lateFeeGraceDays && owed.principal + owed.interest > 0n) {
    lateFeeMinor = computeLateFee(owed.principal + owed.interest, rules)
    next = { ...next, dueMinor: { ...next.dueMinor, fees: next.dueMinor.fees + lateFeeMinor }, lateFeeChargedOn: on }
  }
  return { installment: next, penaltyMinor, lateFeeMinor }
}

/**
 * @module loans/apr
 * The annualised rate of an offer by the IRR of the borrower's cash flows, fees included
 * (明示贷款年化利率, DOMAIN.md "Pricing disclosure"). Pure: dates and amounts in, a rate out.
 *
 * Convention: the borrower receives the net advance (principal − upfront fee) on the disbursement date and
 * pays each installment on its due date. Time is counted in days (actual/365) and converted to periods of
 * a year / `periodsPerYear`; the periodic IRR r solves Σ payment_i · (1 + r)^(−t_i) = net advance, and the
 * annualised rate is r × periodsPerYear (the nominal annual IRR: for a regular monthly loan without fees it
 * equals the nominal rate). The solver is bisection in doubles: the present value falls strictly as r rises
 * for one advance followed by payments, so the root is unique, and bisection is deterministic.
 */
import { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import { daysBetweenDates } from '../core/calendar.ts'
import { RateDecimal, type RateDecimal as Rate } from '../core/rate.ts'

/** Bisection steps: 200 halvings of [−0.99, 100] reach the double's resolution. */
export const irrIterationsMax = 200
/** The annualised rate is reported with this many decimals of a percent. */
export const aprDecimals = 4

export type CashFlow = { readonly periods: number; readonly amount: number }

/**
 * The periodic IRR of flows: the rate r where Σ amount · (1 + r)^(−periods) = 0. The first flow (the
 * advance) is negative and the others non-negative, so the root is unique; null when the payments do not
 * even return the advance (no non-negative rate… and no root above −99 %).
 */
export function solveIrr(flows: readonly CashFlow[]): number | null {
  assert(flows.length >= 2, 'an advance and at least one payment')
  const first = flows[0] as CashFlow
  assert(first.amount < 0, 'the first flow is the advance (negative)')
  for (const flow of flows.slice(1)) {
    assert(flow.amount >= 0, 'payments are non-negative')
    assert(flow.periods >= first.periods, 'payments come after the advance')
  }
  for (const flow of flows) assert(Number.isFinite(flow.amount) && Number.isFinite(flow.periods), 'finite flows')
  const npv = (rate: number) => flows.reduce((sum, flow) => sum + flow.amount * Math.pow(1 + rate, -(flow.periods - first.periods)), 0)
  let low = -0.99
  let high = 100
  if (npv(low) < 0 || npv(high) > 0) return null
  for (let i = 0; i < irrIterationsMax; i++) {
    const mid = (low + high) / 2
    if (mid === low || mid === high) break
    if (npv(mid) > 0) low = mid
    else high = mid
  }
  return (low + high) / 2
}

export type AprInput = {
  readonly disbursedOn: Temporal.PlainDate
  /** What the borrower receives: principal minus fees deducted upfront. */
  readonly netAdvanceMinor: bigint
  readonly payments: readonly { readonly dueOn: Temporal.PlainDate; readonly amountMinor: bigint }[]
  readonly periodsPerYear: number
}

/** The annualised rate in percent (decimal, `aprDecimals` places, half-even), or null when there is none. */
export function measureApr(input: AprInput): Rate | null {
  assert(input.netAdvanceMinor > 0n, 'the borrower receives something')
  assert(Number.isInteger(input.periodsPerYear) && input.periodsPerYear >= 1 && input.periodsPerYear <= 365)
  const toNumber = (minor: bigint) => {
    assert(minor >= 0n && minor <= 2n ** 53n, 'amounts below 2^53 minor units (exact as doubles)')
    return new RateDecimal(minor.toString()).toNumber()
  }
  const periodsOf = (on: Temporal.PlainDate) => (daysBetweenDates(input.disbursedOn, on) * input.periodsPerYear) / 365
  const flows: CashFlow[] = [{ periods: 0, amount: -toNumber(input.netAdvanceMinor) }]
  for (const payment of input.payments) {
    assert(Temporal.PlainDate.compare(payment.dueOn, input.disbursedOn) > 0, 'payments fall due after the disbursement')
    flows.push({ periods: periodsOf(payment.dueOn), amount: toNumber(payment.amountMinor) })
  }
  const rate = solveIrr(flows)
  if (rate === null) return null
  return new RateDecimal(rate).times(input.periodsPerYear).times(100).toDecimalPlaces(aprDecimals, RateDecimal.ROUND_HALF_EVEN)
}

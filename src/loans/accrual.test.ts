/**
 * Tests for daily accrual: the carry rule (Σ of n daily accruals = one accrual over the n days, every rounding
 * mode), agreement with the schedule's period interest, the period true-up, and non-accrual past 90 DPD.
 */
import fc from 'fast-check'
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { RateDecimal } from '../core/rate.ts'
import {
  accrueInterestOverDays, accrueLoanInterest, computeDailyInterest, roundWithCarry, zeroCounter, type AccrualCounter,
} from './accrual.ts'
import { loanFromSchedule, transitionLoan, type LoanState } from './loan-state.ts'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec, type ScheduleSpec } from './schedule-spec.ts'
import { allocatePayment } from './waterfall.ts'

const d = (text: string) => Temporal.PlainDate.from(text)

function specOf(overrides: Record<string, unknown>): ScheduleSpec {
  const parsed = parseScheduleSpec({ principal: '10000.00', currency: 'CNY', annualRatePct: '12', installments: 6, disbursedOn: '2024-01-15', ...overrides })
  if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
  return parsed.value
}

function activeLoan(spec: ScheduleSpec): LoanState {
  const loan = loanFromSchedule(buildSchedule(spec), spec)
  const transition = transitionLoan(loan, { type: 'disburse' })
  if (transition.status !== 'ok') throw new Error(transition.status)
  return { ...loan, status: transition.loanStatus }
}

const dateArbitrary = fc.integer({ min: 0, max: 365 * 30 }).map((offset) => d('2000-01-01').add({ days: offset }))

describe('roundWithCarry', () => {
  it('books whole minor units and carries the remainder', () => {
    let counter: AccrualCounter = zeroCounter
    const booked: bigint[] = []
    for (let i = 0; i < 5; i++) {
      const step = roundWithCarry(counter, new RateDecimal('0.4'), 'half_even')
      booked.push(step.amountMinor)
      counter = step.counter
    }
    // cumulative 0.4 0.8 1.2 1.6 2.0 → rounded 0 1 1 2 2
    expect(booked).toEqual([0n, 1n, 0n, 1n, 0n])
    expect(counter.accruedMinor).toBe(2n)
    expect(counter.carryMinor.isZero()).toBe(true)
  })

  it('is exact at half-even ties (cumulative, not per-day, rounding)', () => {
    let counter: AccrualCounter = zeroCounter
    for (let i = 0; i < 3; i++) counter = roundWithCarry(counter, new RateDecimal('0.5'), 'half_even').counter
    expect(counter.accruedMinor).toBe(2n) // round_half_even(1.5) = 2
  })
})

describe('property: accrual over n days = Σ of n daily accruals', () => {
  it('holds exactly for every rounding mode and day count; the carry stays inside the mode interval', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: 100_000_000_000n }),
      fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 9999 })).map(([w, f]) => new RateDecimal(`${w}.${f}`)),
      fc.constantFrom('actual', '360', '364', '365' as const),
      fc.constantFrom('half_even', 'half_up', 'down', 'up' as const),
      dateArbitrary,
      fc.integer({ min: 1, max: 400 }),
      (balance, rate, daysInYear, rounding, from, n) => {
        let counter: AccrualCounter = zeroCounter
        let sum = 0n
        let exact = new RateDecimal(0)
        for (let i = 0; i < n; i++) {
          const day = from.add({ days: i })
          const e = computeDailyInterest(balance, rate, daysInYear, day)
          exact = exact.plus(e)
          const step = roundWithCarry(counter, e, rounding)
          expect(step.amountMinor >= 0n).toBe(true)
          sum += step.amountMinor
          counter = step.counter
        }
        expect(sum).toBe(accrueInterestOverDays(balance, rate, daysInYear, rounding, from, from.add({ days: n })))
        const carry = counter.carryMinor
        if (rounding === 'down') expect(carry.greaterThanOrEqualTo(0) && carry.lessThan(1)).toBe(true)
        else if (rounding === 'up') expect(carry.greaterThan(-1) && carry.lessThanOrEqualTo(0)).toBe(true)
        else expect(carry.abs().lessThanOrEqualTo('0.5')).toBe(true)
        // Conservation: booked + carry = exact, up to the 34-digit decimal precision.
        expect(new RateDecimal(sum.toString()).plus(carry).minus(exact).abs().lessThan('1e-18')).toBe(true)
      },
    ), { numRuns: 150 })
  })
})

/** Accrues every day of the loan, paying each installment on its due date. */
function runPaidOnTime(spec: ScheduleSpec) {
  let loan = activeLoan(spec)
  const perPeriod: Array<{ n: number; accrued: bigint; trueUp: bigint; scheduled: bigint }> = []
  let accruedInPeriod = 0n
  const last = loan.installments.at(-1)
  if (last === undefined) throw new Error('no installments')
  for (let day = spec.disbursedOn; Temporal.PlainDate.compare(day, last.dueOn) < 0; day = day.add({ days: 1 })) {
    const due = loan.installments.find((i) => i.dueOn.equals(day))
    if (due !== undefined && due.dueMinor.principal + due.dueMinor.interest > 0n) {
      const paid = allocatePayment(loan, due.dueMinor.principal + due.dueMinor.interest, day)
      if (paid.status !== 'ok') throw new Error(paid.status)
      expect(paid.overpaymentMinor).toBe(0n)
      loan = paid.state
    }
    const step = accrueLoanInterest(loan, day)
    if (step.status !== 'ok') throw new Error(step.status)
    expect(step.basis).toBe('income')
    accruedInPeriod += step.accruedMinor
    if (step.closedPeriodN !== null) {
      const row = loan.installments.find((i) => i.n === step.closedPeriodN)
      perPeriod.push({ n: step.closedPeriodN, accrued: accruedInPeriod, trueUp: step.trueUpMinor, scheduled: row?.dueMinor.interest ?? -1n })
      accruedInPeriod = 0n
    }
    loan = step.state
  }
  return perPeriod
}

/** Σ over the days of [from, to) of balance × rate ÷ 100 ÷ Y(day), as an exact fraction (rate in hundredths of a percent). */
function exactPeriodInterest(balance: bigint, rateHundredths: bigint, daysInYear: string, from: Temporal.PlainDate, to: Temporal.PlainDate) {
  let num = 0n
  let den = 1n
  for (let day = from; Temporal.PlainDate.compare(day, to) < 0; day = day.add({ days: 1 })) {
    const y = BigInt(daysInYear === 'actual' ? day.daysInYear : Number.parseInt(daysInYear, 10))
    const dayDen = 10_000n * y
    num = num * dayDen + balance * rateHundredths * den
    den *= dayDen
    const g = gcd(num, den)
    num /= g
    den /= g
  }
  return { num, den }
}

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a < 0n ? -a : a, b]
  while (y !== 0n) [x, y] = [y, x % y]
  return x === 0n ? 1n : x
}

/** Whether an exact amount sits where the mode's rounding flips: a whole number for down/up, a half for the half modes. */
function onRoundingBoundary(exact: { num: bigint; den: bigint }, rounding: string): boolean {
  return rounding === 'down' || rounding === 'up' ? exact.num % exact.den === 0n : (2n * exact.num) % exact.den === 0n && exact.num % exact.den !== 0n
}

describe('loan accrual against the schedule', () => {
  it('puhui + daily interest, paid on time: the daily accruals of each period sum to its scheduled interest; a true-up only on a rounding boundary', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 100n, max: 1_000_000_000n }),
      fc.tuple(fc.integer({ min: 0, max: 36 }), fc.integer({ min: 0, max: 99 })),
      fc.constantFrom('actual', '360', '364', '365'),
      fc.constantFrom('half_even', 'half_up', 'down', 'up'),
      fc.constantFrom('equal_installments', 'equal_principal', 'interest_only'),
      fc.integer({ min: 0, max: 365 * 20 }).map((o) => d('2010-01-01').add({ days: o }).toString()),
      fc.integer({ min: 1, max: 6 }),
      (principal, [whole, hundredths], daysInYear, rounding, amortization, disbursedOn, installments) => {
        const spec = specOf({
          principal: `${principal / 100n}.${(principal % 100n).toString().padStart(2, '0')}`, annualRatePct: `${whole}.${hundredths}`, daysInYear,
          rounding, amortization, disbursedOn, installments, interestPeriod: 'daily',
        })
        const periods = runPaidOnTime(spec)
        expect(periods.length).toBe(installments)
        const rows = buildSchedule(spec).rows
        let balance = principal
        for (const period of periods) {
          const row = rows[period.n - 1]
          if (row === undefined) throw new Error('no row')
          expect(period.accrued + period.trueUp).toBe(period.scheduled)
          // The 34-digit daily quotients and the schedule's one quotient can only round apart when the exact
          // (rational) interest of the period lies on the rounding mode's boundary.
          const exact = exactPeriodInterest(balance, BigInt(whole * 100 + hundredths), daysInYear, row.startOn, row.dueOn)
          if (!onRoundingBoundary(exact, rounding)) expect(period.trueUp).toBe(0n)
          else expect(period.trueUp === 0n || period.trueUp === 1n || period.trueUp === -1n).toBe(true)
          balance -= row.principalMinor
        }
      },
    ), { numRuns: 40 })
  })

  it('a period whose exact interest is a whole number of minor units is recognised exactly, true-up included', () => {
    // 10,000,000.00 at 32.5 % over 28 days of a 364-day year: exactly 25,000,000 minor units.
    const spec = specOf({
      principal: '10000000.00', annualRatePct: '32.5', daysInYear: '364', rounding: 'down', installments: 1,
      disbursedOn: '2029-01-31', interestPeriod: 'daily',
    })
    const [period] = runPaidOnTime(spec)
    expect(period?.scheduled).toBe(25_000_000n)
    expect(period !== undefined && period.accrued + period.trueUp).toBe(25_000_000n)
  })

  it('same_as_repayment (monthly 1/12): the period-end true-up makes the recognised interest equal the schedule', () => {
    const spec = specOf({ interestPeriod: 'same_as_repayment', daysInYear: '365', installments: 3 })
    const periods = runPaidOnTime(spec)
    for (const period of periods) expect(period.accrued + period.trueUp).toBe(period.scheduled)
    expect(periods.some((p) => p.trueUp !== 0n)).toBe(true)
  })

  it('re-running an accrued day changes nothing; an inactive loan does not accrue', () => {
    const spec = specOf({})
    const loan = activeLoan(spec)
    const first = accrueLoanInterest(loan, spec.disbursedOn)
    if (first.status !== 'ok') throw new Error(first.status)
    expect(accrueLoanInterest(first.state, spec.disbursedOn).status).toBe('already_accrued')
    expect(accrueLoanInterest({ ...loan, status: 'approved' }, spec.disbursedOn).status).toBe('loan_not_active')
    expect(() => accrueLoanInterest(first.state, spec.disbursedOn.add({ days: 2 }))).toThrow(/in order/)
  })

  it('turns non-accrual at DPD 91: reserves the accrued unpaid interest, then accrues to suspense', () => {
    const spec = specOf({ installments: 12, interestPeriod: 'daily' })
    let loan = activeLoan(spec)
    const firstDue = loan.installments[0]?.dueOn
    if (firstDue === undefined) throw new Error('no installment')
    const entry = firstDue.add({ days: 91 })
    let reserved = 0n
    let income = 0n
    for (let day = spec.disbursedOn; Temporal.PlainDate.compare(day, entry.add({ days: 5 })) <= 0; day = day.add({ days: 1 })) {
      const step = accrueLoanInterest(loan, day)
      if (step.status !== 'ok') throw new Error(step.status)
      const expected = Temporal.PlainDate.compare(day, entry) >= 0 ? 'suspense' : 'income'
      expect(step.basis).toBe(expected)
      if (step.basis === 'income') income += step.accruedMinor + step.trueUpMinor
      if (step.reservedMinor > 0n) {
        expect(day.equals(entry)).toBe(true)
        reserved = step.reservedMinor
        expect(reserved).toBe(income) // nothing was paid: everything recognised is reserved
      }
      loan = step.state
    }
    expect(reserved > 0n).toBe(true)
    expect(loan.nonAccrual).toBe(true)
    expect(loan.suspendedInterestMinor > reserved).toBe(true)
  })
})

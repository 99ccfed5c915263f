/**
 * Tests for penalty interest (罚息, contract rate × 1.5 per day overdue, with carry) and the late fee (once per
 * installment after the grace period, fixed and/or percent).
 */
import { describe, expect, it } from 'vitest'
import { RateDecimal } from '../core/rate.ts'
import { accrueInterestOverDays } from './accrual.ts'
import { loanFromSchedule, type LoanState } from './loan-state.ts'
import { chargePenalties, computeLateFee, defaultPenaltyRules } from './penalty.ts'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec, type ScheduleSpec } from './schedule-spec.ts'

function specOf(overrides: Record<string, unknown>): ScheduleSpec {
  const parsed = parseScheduleSpec({ principal: '10000.00', currency: 'CNY', annualRatePct: '12', installments: 1, disbursedOn: '2024-01-15', amortization: 'bullet', daysInYear: '360', ...overrides })
  if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
  return parsed.value
}
function activeLoan(spec: ScheduleSpec): LoanState {
  return { ...loanFromSchedule(buildSchedule(spec), spec), status: 'active' }
}

describe('penalty interest', () => {
  it('accrues on overdue principal at rate × 1.5 per day overdue; Σ daily = one accrual over the days', () => {
    const spec = specOf({})
    let loan = activeLoan(spec)
    const due = loan.installments[0]?.dueOn
    if (due === undefined) throw new Error('installment')
    const dueDay = chargePenalties(loan, due)
    if (dueDay.status !== 'ok') throw new Error(dueDay.status)
    expect(dueDay.penaltyMinor).toBe(0n) // on the due date the installment is due, not overdue
    let total = 0n
    for (let day = 1; day <= 45; day++) {
      const step = chargePenalties(loan, due.add({ days: day }))
      if (step.status !== 'ok') throw new Error(step.status)
      total += step.penaltyMinor
      loan = step.state
    }
    // 1,000,000 minor × 18% / 360 = 500 minor per day, exactly.
    expect(total).toBe(45n * 500n)
    expect(total).toBe(accrueInterestOverDays(1_000_000n, new RateDecimal(18), '360', 'half_even', due.add({ days: 1 }), due.add({ days: 46 })))
    expect(loan.installments[0]?.dueMinor.penalties).toBe(total)
  })

  it('is idempotent per day and stops when the principal is paid', () => {
    const spec = specOf({ principal: '333.33', annualRatePct: '7.3', daysInYear: '365' })
    const loan = activeLoan(spec)
    const due = loan.installments[0]?.dueOn
    if (due === undefined) throw new Error('installment')
    const once = chargePenalties(loan, due.add({ days: 1 }))
    if (once.status !== 'ok') throw new Error(once.status)
    const twice = chargePenalties(once.state, due.add({ days: 1 }))
    if (twice.status !== 'ok') throw new Error(twice.status)
    expect(twice.penaltyMinor).toBe(0n)
    expect(twice.state.installments[0]?.dueMinor.penalties).toBe(once.state.installments[0]?.dueMinor.penalties)
    const paidUp = { ...once.state, installments: once.state.installments.map((i) => ({ ...i, paidMinor: { ...i.paidMinor, principal: i.dueMinor.principal } })) }
    const after = chargePenalties(paidUp, due.add({ days: 2 }))
    if (after.status !== 'ok') throw new Error(after.status)
    expect(after.penaltyMinor).toBe(0n)
    expect(chargePenalties({ ...loan, status: 'closed' }, due).status).toBe('loan_not_active')
  })
})

describe('late fee', () => {
  const rules = { ...defaultPenaltyRules, lateFeeFixedMinor: 2_000n, lateFeePct: new RateDecimal('1'), lateFeeGraceDays: 3, penaltyRateMultiplier: new RateDecimal(0) }
  it('fixed + percent of overdue principal and interest, rounded with a named mode', () => {
    expect(computeLateFee(123_456n, rules)).toBe(2_000n + 1_235n) // 1234.56 → half-even 1235
    expect(computeLateFee(123_456n, { ...rules, lateFeeRounding: 'down' })).toBe(2_000n + 1_234n)
  })
  it('is charged once, on the first day past the grace period', () => {
    const spec = specOf({})
    let loan = activeLoan(spec)
    const due = loan.installments[0]?.dueOn
    const owed = loan.installments[0]
    if (due === undefined || owed === undefined) throw new Error('installment')
    const charged: Array<[number, bigint]> = []
    for (let day = 1; day <= 6; day++) {
      const step = chargePenalties(loan, due.add({ days: day }), rules)
      if (step.status !== 'ok') throw new Error(step.status)
      if (step.lateFeeMinor > 0n) charged.push([day, step.lateFeeMinor])
      loan = step.state
    }
    expect(charged).toEqual([[4, computeLateFee(owed.dueMinor.principal + owed.dueMinor.interest, rules)]])
    expect(loan.installments[0]?.lateFeeChargedOn?.equals(due.add({ days: 4 }))).toBe(true)
    expect(loan.installments[0]?.dueMinor.fees).toBe(charged[0]?.[1])
  })
})

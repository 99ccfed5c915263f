import fc from 'fast-check'
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { RateDecimal } from '../core/rate.ts'
import { loanFromSchedule, measureInstallmentOutstanding, type LoanState } from './loan-state.ts'
import { projectLoan } from './payoff.ts'
import { rescheduleLoanState } from './reschedule.ts'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec, type ScheduleSpec } from './schedule-spec.ts'
import { allocatePayment, defaultAllocationOrder } from './waterfall.ts'

const d = (text: string) => Temporal.PlainDate.from(text)
function specOf(fields: Record<string, unknown> = {}): ScheduleSpec {
  const parsed = parseScheduleSpec({ principal: '12000.00', currency: 'CNY', annualRatePct: '12', installments: 6, disbursedOn: '2024-01-15', interestPeriod: 'daily', daysInYear: '365', ...fields })
  if (parsed.status !== 'ok') throw new Error(parsed.reason)
  return parsed.value
}
function active(spec: ScheduleSpec): LoanState {
  return { ...loanFromSchedule(buildSchedule(spec), spec), status: 'active' }
}
const principalDue = (s: LoanState) => s.installments.reduce((sum, i) => sum + i.dueMinor.principal, 0n)
const principalOutstanding = (s: LoanState) => s.installments.reduce((sum, i) => sum + measureInstallmentOutstanding(i).principal, 0n)
const terms = { installments: 12, annualRatePct: null, firstRepaymentOn: null, graceOnPrincipalPeriods: 0 }

describe('rescheduleLoanState', () => {
  it('moves overdue and future principal to a new schedule; overdue charges stay owed on their installments', () => {
    const spec = specOf()
    const state = projectLoan(active(spec), d('2024-03-20'))
    const result = rescheduleLoanState(state, spec, d('2024-03-21'), terms)
    expect(result.status).toBe('ok')
    if (result.status !== 'ok') return
    const past = result.state.installments.filter((i) => Temporal.PlainDate.compare(i.dueOn, d('2024-03-21')) <= 0)
    expect(past.map((i) => i.n)).toEqual([1, 2])
    for (const i of past) {
      expect(measureInstallmentOutstanding(i).principal).toBe(0n)
      expect(measureInstallmentOutstanding(i).interest).toBeGreaterThan(0n)
    }
    expect(result.state.installments).toHaveLength(2 + 12)
    expect(result.movedPrincipalMinor).toBe(1_200_000n)
    expect(principalOutstanding(result.state)).toBe(1_200_000n)
    expect(principalDue(result.state)).toBe(1_200_000n)
    expect(result.state.installments[2]?.dueMinor.interest).toBe((result.rows[0]?.interestMinor ?? 0n) + state.accruedInterestMinor)
  })

  it('keeps principal repaid ahead as repaid, and a new rate for the new schedule', () => {
    const spec = specOf()
    const paid = allocatePayment(projectLoan(active(spec), d('2024-02-14')), 400_000n, d('2024-02-15'), defaultAllocationOrder)
    expect(paid.status).toBe('ok')
    if (paid.status !== 'ok') return
    const result = rescheduleLoanState(paid.state, spec, d('2024-02-20'), { ...terms, installments: 3, annualRatePct: new RateDecimal('9') })
    expect(result.status).toBe('ok')
    if (result.status !== 'ok') return
    expect(result.state.annualRatePct.toFixed()).toBe('9')
    expect(principalDue(result.state)).toBe(1_200_000n)
    expect(principalOutstanding(result.state)).toBe(principalOutstanding(paid.state))
  })

  it('refuses what it cannot do', () => {
    const spec = specOf()
    const state = projectLoan(active(spec), d('2024-01-20'))
    expect(rescheduleLoanState(state, spec, d('2024-01-20'), terms).status).toBe('quote_date_before_last_close')
    expect(rescheduleLoanState({ ...state, status: 'closed' }, spec, d('2024-01-21'), terms).status).toBe('loan_not_active')
    expect(rescheduleLoanState(state, spec, d('2024-01-21'), { ...terms, graceOnPrincipalPeriods: 12 }).status).toBe('invalid_reschedule_terms')
    expect(rescheduleLoanState(state, spec, d('2024-01-21'), { ...terms, firstRepaymentOn: d('2024-01-21') }).status).toBe('invalid_reschedule_terms')
  })

  it('property: principal due always sums to the disbursed principal, and no principal is lost or invented', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 170 }), fc.integer({ min: 1, max: 36 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1_500_000 }),
      (day, installments, grace, payment) => {
        const spec = specOf()
        let state = projectLoan(active(spec), d('2024-01-15').add({ days: day - 1 }))
        if (payment > 0) {
          const paid = allocatePayment(state, BigInt(payment), d('2024-01-15').add({ days: day }), defaultAllocationOrder)
          if (paid.status === 'ok') state = paid.state
        }
        const before = principalOutstanding(state)
        const result = rescheduleLoanState(state, spec, d('2024-01-15').add({ days: day + 1 }), { ...terms, installments, graceOnPrincipalPeriods: Math.min(grace, installments - 1) })
        if (result.status !== 'ok') return ['nothing_to_reschedule', 'reschedule_after_advance_charges', 'loan_not_active'].includes(result.status)
        return principalDue(result.state) === 1_200_000n && principalOutstanding(result.state) === before
      },
    ), { numRuns: 100 })
  }, 30_000)
})

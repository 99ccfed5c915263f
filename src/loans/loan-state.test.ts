/**
 * Tests for the loan state: built from random schedules (principal sums), the status machine, waivers,
 * write-off and recovery.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  loanFromSchedule, measureLoanOutstanding, recordRecovery, transitionLoan, waiveCharges, writeOffLoan, type LoanEvent, type LoanState,
} from './loan-state.ts'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec, type ScheduleSpec } from './schedule-spec.ts'

function specOf(overrides: Record<string, unknown>): ScheduleSpec {
  const parsed = parseScheduleSpec({ principal: '10000.00', currency: 'CNY', annualRatePct: '12', installments: 12, disbursedOn: '2024-01-15', ...overrides })
  if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
  return parsed.value
}

describe('loanFromSchedule', () => {
  it('property: principal due over the installments sums to the principal; interest matches the schedule', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 10_000_000_000n }),
      fc.integer({ min: 1, max: 36 }),
      fc.constantFrom('equal_installments', 'equal_principal', 'interest_only', 'bullet'),
      fc.constantFrom('fineract-cumulative', 'fineract-progressive', null),
      (principal, installments, amortization, compat) => {
        const spec = specOf({ principal: `${principal / 100n}.${(principal % 100n).toString().padStart(2, '0')}`, installments, amortization, compat })
        const schedule = buildSchedule(spec)
        const loan = loanFromSchedule(schedule, spec)
        const outstanding = measureLoanOutstanding(loan)
        expect(outstanding.principal).toBe(spec.principalMinor)
        expect(outstanding.interest).toBe(schedule.totals.interestMinor)
        expect(loan.status).toBe('approved')
        expect(loan.accruedThroughOn.add({ days: 1 }).equals(spec.disbursedOn)).toBe(true)
      },
    ), { numRuns: 50 })
  })
})

describe('transitionLoan', () => {
  const loan = loanFromSchedule(buildSchedule(specOf({})), specOf({}))
  const repaid: LoanState = {
    ...loan, status: 'active', installments: loan.installments.map((i) => ({ ...i, paidMinor: i.dueMinor })),
  }
  const cases: Array<[LoanState['status'], LoanEvent['type'], string, LoanState]> = [
    ['approved', 'disburse', 'active', loan],
    ['active', 'disburse', 'loan_not_approved', loan],
    ['active', 'repay_in_full', 'loan_has_outstanding_balance', loan],
    ['active', 'repay_in_full', 'closed', repaid],
    ['approved', 'repay_in_full', 'loan_not_active', repaid],
    ['active', 'write_off', 'written_off', loan],
    ['closed', 'write_off', 'loan_not_active', loan],
    ['active', 'restructure', 'restructured', loan],
    ['written_off', 'restructure', 'loan_not_active', loan],
    ['closed', 'reopen', 'active', loan],
    ['closed', 'reopen', 'loan_is_repaid', repaid],
    ['active', 'reopen', 'loan_not_closed', loan],
  ]
  it.each(cases)('%s —%s→ %s', (from, event, expected, base) => {
    const result = transitionLoan({ ...base, status: from }, { type: event } as LoanEvent)
    expect(result.status === 'ok' ? result.loanStatus : result.status).toBe(expected)
  })
})

describe('waivers, write-off, recovery', () => {
  const spec = specOf({})
  const loan: LoanState = { ...loanFromSchedule(buildSchedule(spec), spec), status: 'active' }
  it('waives interest within what is owed, never principal', () => {
    const interest = loan.installments[0]?.dueMinor.interest ?? 0n
    expect(waiveCharges(loan, { n: 1, component: 'principal', amountMinor: 1n }).status).toBe('principal_cannot_be_waived')
    expect(waiveCharges(loan, { n: 1, component: 'interest', amountMinor: interest + 1n }).status).toBe('exceeds_outstanding')
    expect(waiveCharges(loan, { n: 99, component: 'fees', amountMinor: 1n }).status).toBe('installment_not_found')
    expect(waiveCharges(loan, { n: 1, component: 'fees', amountMinor: 0n }).status).toBe('amount_must_be_positive')
    const waived = waiveCharges({ ...loan, suspendedInterestMinor: 10n }, { n: 1, component: 'interest', amountMinor: interest })
    if (waived.status !== 'ok') throw new Error(waived.status)
    expect(waived.state.installments[0]?.waivedMinor.interest).toBe(interest)
    expect(waived.fromSuspenseMinor).toBe(10n)
  })
  it('writes off everything owed, then records recoveries', () => {
    const result = writeOffLoan(loan)
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.state.status).toBe('written_off')
    expect(result.writtenOffMinor.principal).toBe(spec.principalMinor)
    expect(measureLoanOutstanding(result.state)).toEqual({ principal: 0n, interest: 0n, fees: 0n, penalties: 0n })
    expect(writeOffLoan(result.state).status).toBe('loan_not_active')
    expect(recordRecovery(loan, 1n).status).toBe('loan_not_written_off')
    const recovery = recordRecovery(result.state, 50_000n)
    if (recovery.status !== 'ok') throw new Error(recovery.status)
    expect(recovery.state.recoveredMinor).toBe(50_000n)
  })
})

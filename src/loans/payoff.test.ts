/**
 * Tests for close of business per loan, pay-off quotes and prepayments; lifecycle scenarios: a loan paid on time
 * to closure, a mid-period pay-off, and prepayments that reduce the installment or the term.
 */
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { RateDecimal } from '../core/rate.ts'
import { accrueInterestOverDays } from './accrual.ts'
import { isLoanRepaid, loanFromSchedule, measureLoanOutstanding, transitionLoan, type LoanState } from './loan-state.ts'
import { applyPrepayment, closeLoanDay, projectLoan, quotePayoff } from './payoff.ts'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec, type ScheduleSpec } from './schedule-spec.ts'
import { allocatePayment } from './waterfall.ts'

const d = (text: string) => Temporal.PlainDate.from(text)

function specOf(overrides: Record<string, unknown>): ScheduleSpec {
  const parsed = parseScheduleSpec({
    principal: '12000.00', currency: 'CNY', annualRatePct: '12', installments: 12, disbursedOn: '2024-01-15',
    interestPeriod: 'daily', daysInYear: '365', ...overrides,
  })
  if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
  return parsed.value
}
function disburse(spec: ScheduleSpec): LoanState {
  const loan = loanFromSchedule(buildSchedule(spec), spec)
  const t = transitionLoan(loan, { type: 'disburse' })
  if (t.status !== 'ok') throw new Error(t.status)
  return { ...loan, status: t.loanStatus }
}

describe('lifecycle: paid on time', () => {
  it('accrues, collects every installment on its due date, and closes with nothing left', () => {
    const spec = specOf({ installments: 6 })
    let loan = disburse(spec)
    for (const installment of loan.installments) {
      loan = projectLoan(loan, installment.dueOn.subtract({ days: 1 }))
      const paid = allocatePayment(loan, installment.dueMinor.principal + installment.dueMinor.interest, installment.dueOn)
      if (paid.status !== 'ok') throw new Error(paid.status)
      expect(paid.overpaymentMinor).toBe(0n)
      loan = paid.state
      const day = closeLoanDay(loan, installment.dueOn)
      expect(day.delinquency).toMatchObject({ dpd: 0, tier: 'normal' })
      expect(day.penalty.status === 'ok' && day.penalty.penaltyMinor).toBe(0n)
      loan = day.state
    }
    expect(isLoanRepaid(loan)).toBe(true)
    const close = transitionLoan(loan, { type: 'repay_in_full' })
    expect(close).toEqual({ status: 'ok', loanStatus: 'closed' })
  })
})

describe('pay-off quote', () => {
  it('is principal + interest accrued to the date (not the full period) + charges − wallet', () => {
    const spec = specOf({})
    const loan = disburse(spec)
    const on = d('2024-02-01') // 17 days into the first period
    const quote = quotePayoff({ ...loan, overpaymentMinor: 100n }, on)
    if (quote.status !== 'ok') throw new Error(quote.status)
    const accrued = accrueInterestOverDays(spec.principalMinor, new RateDecimal(12), '365', 'half_even', spec.disbursedOn, on)
    expect(quote.owedMinor).toEqual({ principal: spec.principalMinor, interest: accrued, fees: 0n, penalties: 0n })
    expect(accrued < (loan.installments[0]?.dueMinor.interest ?? 0n)).toBe(true)
    expect(quote.totalMinor).toBe(spec.principalMinor + accrued - 100n)
    expect(quotePayoff(quote.state, on.subtract({ days: 1 })).status).toBe('quote_date_before_last_close')
  })

  it('paying the quote settles the loan; unearned interest is cancelled, not waived', () => {
    const spec = specOf({})
    const on = d('2024-04-20')
    const quote = quotePayoff(disburse(spec), on)
    if (quote.status !== 'ok') throw new Error(quote.status)
    const settled = applyPrepayment(quote.state, quote.totalMinor, on, { mode: 'reduce_term', spec })
    if (settled.status !== 'ok') throw new Error(settled.status)
    expect(settled.repaid).toBe(true)
    expect(settled.overpaymentMinor).toBe(0n)
    expect(measureLoanOutstanding(settled.state)).toEqual({ principal: 0n, interest: 0n, fees: 0n, penalties: 0n })
    expect(settled.state.installments.every((i) => i.waivedMinor.interest === 0n)).toBe(true)
    expect(transitionLoan(settled.state, { type: 'repay_in_full' }).status).toBe('ok')
  })
})

describe('lifecycle: prepaid', () => {
  const spec = specOf({})
  const on = d('2024-04-25') // after 3 installments, 10 days into the 4th period
  function paidThrough3(): LoanState {
    let loan = disburse(spec)
    for (const installment of loan.installments.slice(0, 3)) {
      loan = projectLoan(loan, installment.dueOn.subtract({ days: 1 }))
      const paid = allocatePayment(loan, installment.dueMinor.principal + installment.dueMinor.interest, installment.dueOn)
      if (paid.status !== 'ok') throw new Error(paid.status)
      loan = paid.state
    }
    return loan
  }

  it('reduce_installment keeps the dates and lowers the installment', () => {
    const loan = paidThrough3()
    const before = loan.installments[4]
    const result = applyPrepayment(loan, 400_000n, on, { mode: 'reduce_installment', spec })
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.state.installments.length).toBe(12)
    expect(result.rows.length).toBe(9)
    const after = result.state.installments[4]
    expect(after?.dueOn.equals(before?.dueOn ?? on)).toBe(true)
    expect((after?.dueMinor.principal ?? 0n) + (after?.dueMinor.interest ?? 0n) < (before?.dueMinor.principal ?? 0n) + (before?.dueMinor.interest ?? 0n)).toBe(true)
    expect(measureLoanOutstanding(result.state).principal).toBe(measureLoanOutstanding(loan).principal - result.prepaidPrincipalMinor)
    expect(result.totalsMinor.principal + result.totalsMinor.interest).toBe(400_000n)
    // The accrued interest of the current period was paid; the rest of the period accrues on the new balance.
    // With daily interest the accruals on the new balance meet the re-amortised interest: no true-up at the due date.
    let state = result.state
    const trueUps: bigint[] = []
    for (let day = on; Temporal.PlainDate.compare(day, result.state.installments[3]?.dueOn ?? on) < 0; day = day.add({ days: 1 })) {
      const step = closeLoanDay(state, day)
      if (step.accrual.status === 'ok' && step.accrual.closedPeriodN !== null) trueUps.push(step.accrual.trueUpMinor)
      state = step.state
    }
    expect(trueUps).toEqual([0n])
  })

  it('reduce_term keeps the installment and ends earlier', () => {
    const loan = paidThrough3()
    const emi = (loan.installments[4]?.dueMinor.principal ?? 0n) + (loan.installments[4]?.dueMinor.interest ?? 0n)
    const result = applyPrepayment(loan, 400_000n, on, { mode: 'reduce_term', spec })
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.state.installments.length < 12).toBe(true)
    for (const row of result.rows.slice(1, -1)) expect(row.totalMinor).toBe(emi)
    expect(result.rows.reduce((sum, r) => sum + r.principalMinor, 0n)).toBe(measureLoanOutstanding(loan).principal - result.prepaidPrincipalMinor)
    const lastRow = result.rows.at(-1)
    expect(lastRow !== undefined && lastRow.totalMinor <= emi).toBe(true)
    // Σ principal due over the loan is still the disbursed principal (asserted), and the loan runs to a clean close.
    let state = result.state
    for (const installment of state.installments.filter((i) => Temporal.PlainDate.compare(i.dueOn, on) > 0)) {
      state = projectLoan(state, installment.dueOn.subtract({ days: 1 }))
      const owed = state.installments.find((i) => i.n === installment.n)
      const amount = (owed?.dueMinor.principal ?? 0n) - (owed?.paidMinor.principal ?? 0n) + (owed?.dueMinor.interest ?? 0n) - (owed?.paidMinor.interest ?? 0n)
      const paid = allocatePayment(state, amount, installment.dueOn)
      if (paid.status !== 'ok') throw new Error(paid.status)
      expect(paid.overpaymentMinor).toBe(0n)
      state = paid.state
    }
    expect(isLoanRepaid(state)).toBe(true)
  })

  it('refuses what would not reach principal, and reduce_term for bullets', () => {
    const loan = paidThrough3()
    expect(applyPrepayment(loan, 0n, on, { mode: 'reduce_term', spec }).status).toBe('amount_must_be_positive')
    const late = projectLoan(loan, d('2024-05-20'))
    expect(applyPrepayment(late, 1n, d('2024-05-21'), { mode: 'reduce_term', spec }).status).toBe('prepayment_does_not_exceed_amount_due')
    expect(applyPrepayment(loan, 1n, on, { mode: 'reduce_term', spec: { ...spec, amortization: 'bullet' } }).status).toBe('prepayment_mode_not_supported')
  })
})

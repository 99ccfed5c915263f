/**
 * Schedules checked against expected tables transcribed from Apache Fineract's own tests. Each table names its
 * source file. Columns: principal, interest, balance after the installment (major units).
 */
import { describe, expect, it } from 'vitest'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec } from './schedule-spec.ts'
import { scheduleToJson } from './schedule-json.ts'

/** Base spec of Fineract's e2e "RS" scenarios: 5000, 12%/yr, 18 monthly installments from 1 Nov 2022. */
const rsBase = {
  principal: '5000', currency: 'EUR', annualRatePct: '12', installments: 18, repaymentEvery: 1,
  repaymentUnit: 'months', interestMethod: 'declining_balance', amortization: 'equal_installments',
  interestPeriod: 'same_as_repayment', daysInYear: 'actual', daysInMonth: 'actual', disbursedOn: '2022-11-01',
  compat: 'fineract-cumulative',
}

function table(spec: Record<string, unknown>): string[] {
  const parsed = parseScheduleSpec(spec)
  if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
  return scheduleToJson(buildSchedule(parsed.value)).rows.map((row) => `${row.principal} ${row.interest} ${row.balance}`)
}

function rows(text: string): string[] {
  return text.trim().split('\n').map((line) => line.trim().split(/\s+/).map(padCents).join(' '))
}

/** "255" → "255.00", "4487.4" → "4487.40" (string-only: no floats near money). */
function padCents(cell: string): string {
  const [whole, fraction = ''] = cell.split('.')
  return `${whole}.${fraction.padEnd(2, '0')}`
}

// Source: apache/fineract fineract-e2e-tests-runner/src/test/resources/features/Loan.feature
// (scenarios RS01–RS07, @TestRailId C2490 and C2492–C2497). The LP1 products used there round installments to
// multiples of 1 (installmentAmountInMultiplesOf = 1), hence 305.00 instead of the raw EMI 304.91.
describe('fineract-cumulative: Loan.feature RS scenarios', () => {
  it('RS01 flat, equal installments', () => {
    expect(table({ ...rsBase, interestMethod: 'flat', installmentMultipleOf: '1' })).toEqual(rows(`
      278 50 4722\n 278 50 4444\n 278 50 4166\n 278 50 3888\n 278 50 3610\n 278 50 3332\n 278 50 3054\n 278 50 2776
      278 50 2498\n 278 50 2220\n 278 50 1942\n 278 50 1664\n 278 50 1386\n 278 50 1108\n 278 50 830\n 278 50 552
      278 50 274\n 274 50 0`))
  })

  it('RS02 declining balance, same as repayment period, equal installments', () => {
    expect(table({ ...rsBase, installmentMultipleOf: '1' })).toEqual(rows(`
      255.0 50.0 4745.0\n 257.55 47.45 4487.45\n 260.13 44.87 4227.32\n 262.73 42.27 3964.59\n 265.35 39.65 3699.24
      268.01 36.99 3431.23\n 270.69 34.31 3160.54\n 273.39 31.61 2887.15\n 276.13 28.87 2611.02\n 278.89 26.11 2332.13
      281.68 23.32 2050.45\n 284.5 20.5 1765.95\n 287.34 17.66 1478.61\n 290.21 14.79 1188.4\n 293.12 11.88 895.28
      296.05 8.95 599.23\n 299.01 5.99 300.22\n 300.22 3.0 0.0`))
  })

  it('RS03 declining balance, daily interest (365 days even in 2024), equal installments', () => {
    expect(table({ ...rsBase, interestPeriod: 'daily', installmentMultipleOf: '1' })).toEqual(rows(`
      255.68 49.32 4744.32\n 256.65 48.35 4487.67\n 259.26 45.74 4228.41\n 266.08 38.92 3962.33\n 264.62 40.38 3697.71
      268.53 36.47 3429.18\n 270.05 34.95 3159.13\n 273.84 31.16 2885.29\n 275.59 29.41 2609.7\n 278.4 26.6 2331.3
      282.01 22.99 2049.29\n 284.11 20.89 1765.18\n 287.59 17.41 1477.59\n 289.94 15.06 1187.65\n 292.9 12.1 894.75
      296.47 8.53 598.28\n 298.9 6.1 299.38\n 299.38 2.95 0.0`))
  })

  it('RS04 declining balance, equal principal payments', () => {
    expect(table({ ...rsBase, amortization: 'equal_principal', installmentMultipleOf: '1' })).toEqual(rows(`
      277.78 50.0 4722.22\n 277.78 47.22 4444.44\n 277.78 44.44 4166.66\n 277.78 41.67 3888.88\n 277.78 38.89 3611.1
      277.78 36.11 3333.32\n 277.78 33.33 3055.54\n 277.78 30.56 2777.76\n 277.78 27.78 2499.98\n 277.78 25.0 2222.2
      277.78 22.22 1944.42\n 277.78 19.44 1666.64\n 277.78 16.67 1388.86\n 277.78 13.89 1111.08\n 277.78 11.11 833.3
      277.78 8.33 555.52\n 277.78 5.56 277.74\n 277.74 2.78 0.0`))
  })

  it('RS05 equal installments with 3 periods of grace on principal', () => {
    expect(table({ ...rsBase, graceOnPrincipalPeriods: 3, installmentMultipleOf: '1' })).toEqual(rows(`
      0 50 5000\n 0 50 5000\n 0 50 5000\n 311.0 50.0 4689.0\n 314.11 46.89 4374.89\n 317.25 43.75 4057.64
      320.42 40.58 3737.22\n 323.63 37.37 3413.59\n 326.86 34.14 3086.73\n 330.13 30.87 2756.6\n 333.43 27.57 2423.17
      336.77 24.23 2086.4\n 340.14 20.86 1746.26\n 343.54 17.46 1402.72\n 346.97 14.03 1055.75\n 350.44 10.56 705.31
      353.95 7.05 351.36\n 351.36 3.51 0.0`))
  })

  // RS07's table (grace on principal 6; interest of periods 1–3 deferred and collected with period 4) is exactly
  // what LoanApplicationTerms does for graceOnInterestPayment = 3. The feature's column labels for the two
  // interest-grace settings do not match the generator's behaviour (RS06, with its "graceOnInterestPayment" column
  // at 3, shows no effect at all), so this transcription is keyed to the behaviour, not to the column label.
  it('RS07 principal grace 6 + interest payment grace 3 (interest deferred to period 4)', () => {
    expect(table({ ...rsBase, graceOnPrincipalPeriods: 6, graceOnInterestPaymentPeriods: 3, installmentMultipleOf: '1' })).toEqual(rows(`
      0 0 5000\n 0 0 5000\n 0 0 5000\n 0 200 5000\n 0 50 5000\n 0 50 5000\n 394.0 50.0 4606.0\n 397.94 46.06 4208.06
      401.92 42.08 3806.14\n 405.94 38.06 3400.2\n 410.0 34.0 2990.2\n 414.1 29.9 2576.1\n 418.24 25.76 2157.86
      422.42 21.58 1735.44\n 426.65 17.35 1308.79\n 430.91 13.09 877.88\n 435.22 8.78 442.66\n 442.66 4.43 0.0`))
  })

  it('the issue example without a multiple: EMI 304.91, last installment absorbs the residue', () => {
    const parsed = parseScheduleSpec({ ...rsBase, currency: 'CNY', principal: '5000.00', rounding: 'half_even' })
    if (parsed.status !== 'ok') throw new Error(parsed.reason)
    const json = scheduleToJson(buildSchedule(parsed.value))
    expect(json.rows.slice(0, 17).every((row) => row.total === '304.91')).toBe(true)
    expect(json.rows[0]).toEqual({ n: 1, dueOn: '2022-12-01', principal: '254.91', interest: '50.00', fees: '0.00', total: '304.91', balance: '4745.09' })
    expect(json.rows[17]).toEqual({ n: 18, dueOn: '2024-05-01', principal: '301.92', interest: '3.02', fees: '0.00', total: '304.94', balance: '0.00' })
    expect(json.totals).toEqual({ principal: '5000.00', interest: '488.41', fees: '0.00', total: '5488.41' })
  })
})

const progressiveBase = {
  currency: 'USD', installments: 6, repaymentEvery: 1, repaymentUnit: 'months', interestMethod: 'declining_balance',
  amortization: 'equal_installments', interestPeriod: 'daily', disbursedOn: '2024-01-01', compat: 'fineract-progressive',
}

// Source: apache/fineract fineract-progressive-loan/src/test/java/org/apache/fineract/portfolio/loanproduct/calc/
// ProgressiveEMICalculatorTest.java (MathContext(12, HALF_EVEN), interest calculation period DAILY).
describe('fineract-progressive: ProgressiveEMICalculatorTest', () => {
  it('test_disbursedAmt100_dayInYears360_daysInMonth30_repayEvery1Month (9.4822%)', () => {
    expect(table({ ...progressiveBase, principal: '100', annualRatePct: '9.4822', daysInYear: '360', daysInMonth: '30' })).toEqual(rows(`
      16.34 0.79 83.66\n 16.47 0.66 67.19\n 16.60 0.53 50.59\n 16.73 0.40 33.86\n 16.86 0.27 17.0\n 17.00 0.13 0.0`))
  })

  it('test_emiAdjustment_newCalculatedEmiNotBetterThanOriginal (15.678%, 365 days, actual months; last EMI 17.47)', () => {
    expect(table({ ...progressiveBase, principal: '100', annualRatePct: '15.678', daysInYear: '365', daysInMonth: 'actual' })).toEqual(rows(`
      16.1 1.33 83.9\n 16.38 1.05 67.52\n 16.53 0.90 50.99\n 16.77 0.66 34.22\n 16.97 0.46 17.25\n 17.25 0.22 0.0`))
  })

  it('first period of test_reschedule_interest_on0201_4per (7%, 360/30): EMI 17.01', () => {
    const first = table({ ...progressiveBase, principal: '100', annualRatePct: '7', daysInYear: '360', daysInMonth: '30' })[0]
    expect(first).toBe('16.43 0.58 83.57')
  })

  it('test_emi_calculator_performance (7%, 12 months, 360/30): EMI 8.65 except the last', () => {
    const parsed = parseScheduleSpec({ ...progressiveBase, installments: 12, principal: '100', annualRatePct: '7', daysInYear: '360', daysInMonth: '30' })
    if (parsed.status !== 'ok') throw new Error(parsed.reason)
    const json = scheduleToJson(buildSchedule(parsed.value))
    expect(json.rows.slice(0, 11).map((row) => row.total)).toEqual(Array(11).fill('8.65'))
  })
})

// Source: apache/fineract fineract-progressive-loan/src/test/java/org/apache/fineract/portfolio/loanaccount/
// loanschedule/domain/LoanScheduleGeneratorTest.java, testGenerateLoanSchedule: 192.22 at 9.99%, 360/30,
// schedule from 2024-01-01, disbursed 2024-01-15 (interest only from the disbursement; EMI 32.85).
describe('fineract-progressive: LoanScheduleGeneratorTest.testGenerateLoanSchedule', () => {
  it('mid-period disbursement with explicit due dates', () => {
    expect(table({
      ...progressiveBase, principal: '192.22', annualRatePct: '9.99', daysInYear: '360', daysInMonth: '30',
      disbursedOn: '2024-01-15', periodStartOn: '2024-01-01',
      repaymentDates: ['2024-02-01', '2024-03-01', '2024-04-01', '2024-05-01', '2024-06-01', '2024-07-01'],
    })).toEqual(rows(`
      31.97 0.88 160.25\n 31.52 1.33 128.73\n 31.78 1.07 96.95\n 32.04 0.81 64.91\n 32.31 0.54 32.60\n 32.60 0.27 0`))
  })
})

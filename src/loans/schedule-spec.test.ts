/**
 * Tests for spec parsing: the example parses, defaults apply, and every kind of bad input is reported
 * on the right field without throwing.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseScheduleSpec, parseScheduleSpecJson } from './schedule-spec.ts'

const example = {
  principal: '5000.00', currency: 'CNY', annualRatePct: '12', installments: 18, repaymentEvery: 1,
  repaymentUnit: 'months', interestMethod: 'declining_balance', amortization: 'equal_installments',
  interestPeriod: 'same_as_repayment', daysInYear: 'actual', daysInMonth: 'actual', disbursedOn: '2022-11-01',
  firstRepaymentOn: null, periodStartOn: null, repaymentDates: null, graceOnPrincipalPeriods: 0,
  graceOnInterestPaymentPeriods: 0, interestFreePeriods: 0, installmentMultipleOf: null, rounding: 'half_even',
  compat: 'fineract-cumulative',
}

function fieldOf(input: unknown): string {
  const result = parseScheduleSpec(input)
  if (result.status === 'ok') return 'ok'
  expect(result.reason.length).toBeGreaterThan(0)
  return result.field
}

describe('parseScheduleSpec', () => {
  it('parses the issue example', () => {
    const result = parseScheduleSpec(example)
    expect(result.status).toBe('ok')
    if (result.status !== 'ok') return
    expect(result.value.principalMinor).toBe(500000n)
    expect(result.value.annualRatePct.toString()).toBe('12')
    expect(result.value.disbursedOn.toString()).toBe('2022-11-01')
    expect(result.value.compat).toBe('fineract-cumulative')
  })

  it('fills defaults for omitted optional fields; omitted compat means our own conventions', () => {
    const result = parseScheduleSpec({ principal: '100', currency: 'USD', annualRatePct: '5', installments: 2, disbursedOn: '2024-01-01' })
    expect(result.status).toBe('ok')
    if (result.status !== 'ok') return
    expect(result.value).toMatchObject({
      repaymentEvery: 1, repaymentUnit: 'months', interestMethod: 'declining_balance', amortization: 'equal_installments',
      interestPeriod: 'same_as_repayment', daysInYear: 'actual', daysInMonth: 'actual', rounding: 'half_even', compat: 'puhui',
      installmentMultipleOfMinor: null, graceOnPrincipalPeriods: 0,
    })
  })

  it('parses installmentMultipleOf in major units', () => {
    const result = parseScheduleSpec({ ...example, installmentMultipleOf: '1' })
    expect(result.status === 'ok' && result.value.installmentMultipleOfMinor).toBe(100n)
  })

  it.each([
    [{ ...example, extra: 1 }, 'extra'],
    [{ ...example, principal: 5000 }, 'principal'],
    [{ ...example, principal: '5000.001' }, 'principal'],
    [{ ...example, principal: '-1' }, 'principal'],
    [{ ...example, principal: '0' }, 'principal'],
    [{ ...example, currency: 'JPY' }, 'currency'],
    [{ ...example, annualRatePct: 12 }, 'annualRatePct'],
    [{ ...example, annualRatePct: '1e2' }, 'annualRatePct'],
    [{ ...example, annualRatePct: '5000' }, 'annualRatePct'],
    [{ ...example, installments: 0 }, 'installments'],
    [{ ...example, installments: 601 }, 'installments'],
    [{ ...example, installments: 1.5 }, 'installments'],
    [{ ...example, repaymentEvery: 0 }, 'repaymentEvery'],
    [{ ...example, repaymentUnit: 'years' }, 'repaymentUnit'],
    [{ ...example, interestMethod: 'compound' }, 'interestMethod'],
    [{ ...example, amortization: 'balloon' }, 'amortization'],
    [{ ...example, interestPeriod: 'weekly' }, 'interestPeriod'],
    [{ ...example, daysInYear: 360 }, 'daysInYear'],
    [{ ...example, daysInMonth: '31' }, 'daysInMonth'],
    [{ ...example, disbursedOn: '2022-02-30' }, 'disbursedOn'],
    [{ ...example, disbursedOn: '22-11-01' }, 'disbursedOn'],
    [{ ...example, disbursedOn: undefined }, 'disbursedOn'],
    [{ ...example, firstRepaymentOn: '2022-11-01' }, 'firstRepaymentOn'],
    [{ ...example, periodStartOn: '2022-11-02' }, 'periodStartOn'],
    [{ ...example, repaymentDates: ['2022-12-01'] }, 'repaymentDates'],
    [{ ...example, installments: 2, repaymentDates: ['2022-12-01', '2022-12-01'] }, 'repaymentDates[1]'],
    [{ ...example, installments: 2, repaymentDates: ['2022-12-01', 'soon'] }, 'repaymentDates[1]'],
    [{ ...example, installments: 1, repaymentDates: ['2022-12-01'], firstRepaymentOn: '2022-12-01' }, 'firstRepaymentOn'],
    [{ ...example, graceOnPrincipalPeriods: 18 }, 'graceOnPrincipalPeriods'],
    [{ ...example, graceOnInterestPaymentPeriods: -1 }, 'graceOnInterestPaymentPeriods'],
    [{ ...example, interestFreePeriods: '2' }, 'interestFreePeriods'],
    [{ ...example, installmentMultipleOf: '0' }, 'installmentMultipleOf'],
    [{ ...example, rounding: 'banker' }, 'rounding'],
    [{ ...example, compat: 'puhui' }, 'compat'],
    [[], '$'],
    [null, '$'],
    ['{}', '$'],
  ])('rejects bad input %# on the right field', (input, field) => {
    expect(fieldOf(input)).toBe(field)
  })

  it('reports a JSON syntax error on $', () => {
    expect(parseScheduleSpecJson('{"principal":')).toMatchObject({ status: 'invalid_schedule_spec', field: '$' })
    expect(parseScheduleSpecJson(JSON.stringify(example)).status).toBe('ok')
  })

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = parseScheduleSpec(value)
        expect(['ok', 'invalid_schedule_spec']).toContain(result.status)
      }),
      { numRuns: 300 },
    )
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...Object.keys(example)), fc.jsonValue()), (patch) => {
        const result = parseScheduleSpec({ ...example, ...patch })
        expect(['ok', 'invalid_schedule_spec']).toContain(result.status)
      }),
      { numRuns: 300 },
    )
  })
})

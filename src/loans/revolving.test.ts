/**
 * Tests for the revolving credit line (随借随还): limit and availability, daily interest with carry (Σ daily =
 * one accrual over the days), repayment order, overdue draws; a lifecycle with several draws and repayments.
 */
import fc from 'fast-check'
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { RateDecimal } from '../core/rate.ts'
import { accrueInterestOverDays } from './accrual.ts'
import {
  accrueLineInterest, drawOnLine, findOverdueDraws, measureAvailable, measureDrawnPrincipal, measureInterestOwed,
  measureLineDpd, openRevolvingLine, repayLine, type RevolvingLine, type RevolvingTerms,
} from './revolving.ts'

const d = (text: string) => Temporal.PlainDate.from(text)
const terms: RevolvingTerms = {
  currency: 'CNY', limitMinor: 10_000_000n, annualRatePct: new RateDecimal('10.95'), daysInYear: '365', rounding: 'half_even', drawTermDaysMax: 90,
}

function accrueThrough(line: RevolvingLine, through: Temporal.PlainDate): { line: RevolvingLine; accrued: bigint } {
  let current = line
  let accrued = 0n
  for (let day = current.accruedThroughOn.add({ days: 1 }); Temporal.PlainDate.compare(day, through) <= 0; day = day.add({ days: 1 })) {
    const step = accrueLineInterest(current, day)
    if (step.status !== 'ok') throw new Error(step.status)
    accrued += step.accruedMinor
    current = step.line
  }
  return { line: current, accrued }
}

function draw(line: RevolvingLine, id: string, amountMinor: bigint, on: Temporal.PlainDate, termDays?: number): RevolvingLine {
  const result = drawOnLine(line, termDays === undefined ? { id, amountMinor, on } : { id, amountMinor, on, termDays })
  if (result.status !== 'ok') throw new Error(result.status)
  return result.line
}

describe('lifecycle: a revolving line with several draws and repayments', () => {
  it('limits, accrues by the day, repays interest then principal oldest first, restores the limit', () => {
    let line = openRevolvingLine(terms, d('2024-03-01'))
    line = draw(line, 'a', 6_000_000n, d('2024-03-01'))
    expect(measureAvailable(line)).toBe(4_000_000n)
    expect(drawOnLine(line, { id: 'x', amountMinor: 4_000_001n, on: d('2024-03-01') }).status).toBe('exceeds_available_limit')
    expect(drawOnLine(line, { id: 'a', amountMinor: 1n, on: d('2024-03-01') }).status).toBe('draw_exists')
    expect(drawOnLine(line, { id: 'y', amountMinor: 1n, on: d('2024-03-01'), termDays: 91 }).status).toBe('draw_term_exceeds_max')
    // 6,000,000 × 10.95% / 365 = 1,800 minor a day, exactly.
    let step = accrueThrough(line, d('2024-03-10'))
    line = step.line
    expect(step.accrued).toBe(10n * 1_800n)
    line = draw(line, 'b', 4_000_000n, d('2024-03-11'), 30)
    expect(measureAvailable(line)).toBe(0n)
    step = accrueThrough(line, d('2024-03-20'))
    line = step.line
    expect(step.accrued).toBe(10n * (1_800n + 1_200n))
    // Repay 2,000,000 on the 21st: 48,000 interest (a: 36,000, b: 12,000) then principal of a.
    const repaid = repayLine(line, 2_000_000n, d('2024-03-21'))
    if (repaid.status !== 'ok') throw new Error(repaid.status)
    expect(repaid.interestMinor).toBe(48_000n)
    expect(repaid.principalMinor).toBe(1_952_000n)
    expect(repaid.perDraw).toEqual([{ id: 'a', interestMinor: 36_000n, principalMinor: 1_952_000n }, { id: 'b', interestMinor: 12_000n, principalMinor: 0n }])
    line = repaid.line
    expect(measureAvailable(line)).toBe(1_952_000n)
    expect(measureInterestOwed(line)).toBe(0n)
    // Draw b (30 days, due 10 April) is overdue from 11 April.
    line = accrueThrough(line, d('2024-04-15')).line
    expect(findOverdueDraws(line, d('2024-04-10'))).toEqual([])
    expect(findOverdueDraws(line, d('2024-04-15')).map((x) => x.id)).toEqual(['b'])
    expect(measureLineDpd(line, d('2024-04-15'))).toBe(5)
    // Pay everything: the rest is overpayment, the limit is whole again.
    const all = measureDrawnPrincipal(line) + measureInterestOwed(line)
    const final = repayLine(line, all + 99n, d('2024-04-16'))
    if (final.status !== 'ok') throw new Error(final.status)
    expect(final.overpaymentMinor).toBe(99n)
    expect(measureAvailable(final.line)).toBe(terms.limitMinor)
    expect(measureLineDpd(final.line, d('2024-04-16'))).toBe(0)
    expect(repayLine(final.line, 0n, d('2024-04-16')).status).toBe('amount_must_be_positive')
    expect(drawOnLine({ ...final.line, status: 'frozen' }, { id: 'z', amountMinor: 1n, on: d('2024-04-16') }).status).toBe('line_not_active')
  })
})

describe('property: a draw accrues like one accrual over its days; repayment never exceeds the amount', () => {
  it('Σ daily line interest = round(Σ exact) and allocated + overpayment = amount', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 10_000_000n }),
      fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 999 })).map(([w, f]) => new RateDecimal(`${w}.${f}`)),
      fc.constantFrom('actual', '360', '364', '365' as const),
      fc.constantFrom('half_even', 'half_up', 'down', 'up' as const),
      fc.integer({ min: 1, max: 120 }),
      fc.bigInt({ min: 1n, max: 20_000_000n }),
      (amount, rate, daysInYear, rounding, days, payment) => {
        const opened = d('2023-12-01')
        let line = openRevolvingLine({ ...terms, annualRatePct: rate, daysInYear, rounding }, opened)
        line = draw(line, 'a', amount, opened)
        const { line: accrued, accrued: total } = accrueThrough(line, opened.add({ days: days - 1 }))
        expect(total).toBe(accrueInterestOverDays(amount, rate, daysInYear, rounding, opened, opened.add({ days })))
        const repaid = repayLine(accrued, payment, opened.add({ days }))
        if (repaid.status !== 'ok') throw new Error(repaid.status)
        expect(repaid.interestMinor + repaid.principalMinor + repaid.overpaymentMinor).toBe(payment)
        expect(repaid.interestMinor <= total).toBe(true)
        expect(repaid.principalMinor <= amount).toBe(true)
      },
    ), { numRuns: 60 })
  })
})

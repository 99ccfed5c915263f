/**
 * Tests for DPD, buckets, the five-tier classification (thresholds, judgement only worsens, write-off = loss),
 * provisioning, NPL and PAR; and a lifecycle: a late loan with partial payments aged through buckets and tiers.
 */
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { RateDecimal } from '../core/rate.ts'
import {
  bucketOfDpd, classifyLoan, classifyTier, defaultDelinquencyRules, measureDpd, measurePortfolio, measureProvision, tierOfDpd,
} from './delinquency.ts'
import { loanFromSchedule, writeOffLoan, type LoanState } from './loan-state.ts'
import { projectLoan } from './payoff.ts'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec, type ScheduleSpec } from './schedule-spec.ts'
import { allocatePayment } from './waterfall.ts'

function specOf(overrides: Record<string, unknown>): ScheduleSpec {
  const parsed = parseScheduleSpec({ principal: '12000.00', currency: 'CNY', annualRatePct: '12', installments: 24, disbursedOn: '2024-01-15', ...overrides })
  if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
  return parsed.value
}
function activeLoan(spec: ScheduleSpec): LoanState {
  return { ...loanFromSchedule(buildSchedule(spec), spec), status: 'active' }
}

describe('buckets and tiers', () => {
  it('buckets at their edges', () => {
    expect([0, 1, 30, 31, 60, 61, 90, 91, 400].map(bucketOfDpd)).toEqual(['current', '1-30', '1-30', '31-60', '31-60', '61-90', '61-90', '91+', '91+'])
  })
  it('default tiers at 1 / 91 / 271 / 361 DPD', () => {
    expect([0, 1, 90, 91, 270, 271, 360, 361].map((dpd) => tierOfDpd(dpd))).toEqual([
      'normal', 'special_mention', 'special_mention', 'substandard', 'substandard', 'doubtful', 'doubtful', 'loss',
    ])
  })
  it('configurable thresholds; non-increasing thresholds are a bug', () => {
    const thresholds = { specialMentionDpdMin: 5, substandardDpdMin: 61, doubtfulDpdMin: 181, lossDpdMin: 271 }
    expect(tierOfDpd(4, thresholds)).toBe('normal')
    expect(tierOfDpd(61, thresholds)).toBe('substandard')
    expect(() => tierOfDpd(1, { ...thresholds, doubtfulDpdMin: 61 })).toThrow()
  })
  it('judgement may worsen a tier but never improve it; restructured and written-off floors', () => {
    expect(classifyTier({ dpd: 0, judgement: 'doubtful', status: 'active' })).toBe('doubtful')
    expect(classifyTier({ dpd: 200, judgement: 'normal', status: 'active' })).toBe('substandard')
    expect(classifyTier({ dpd: 0, judgement: null, status: 'restructured' })).toBe('special_mention')
    expect(classifyTier({ dpd: 0, judgement: null, status: 'written_off' })).toBe('loss')
  })
  it('provision per tier on outstanding principal, rounded up by default', () => {
    expect(measureProvision(1_000_001n, 'normal')).toBe(10_001n) // 10000.01 → up
    expect(measureProvision(1_000_000n, 'special_mention')).toBe(20_000n)
    expect(measureProvision(1_000_000n, 'substandard')).toBe(250_000n)
    expect(measureProvision(1_000_000n, 'doubtful')).toBe(500_000n)
    expect(measureProvision(1_000_000n, 'loss')).toBe(1_000_000n)
    expect(measureProvision(1_000_001n, 'normal', { ...defaultDelinquencyRules, provisionRounding: 'half_even' })).toBe(10_000n)
  })
  it('NPL ratio and PAR30 over a book', () => {
    const book = [
      { dpd: 0, bucket: 'current', tier: 'normal', nonPerforming: false, principalOutstandingMinor: 600n, provisionMinor: 6n },
      { dpd: 45, bucket: '31-60', tier: 'special_mention', nonPerforming: false, principalOutstandingMinor: 300n, provisionMinor: 6n },
      { dpd: 120, bucket: '91+', tier: 'substandard', nonPerforming: true, principalOutstandingMinor: 100n, provisionMinor: 25n },
    ] as const
    const ratios = measurePortfolio(book)
    expect(ratios.nplRatio.equals(new RateDecimal('0.1'))).toBe(true)
    expect(ratios.parRatio.equals(new RateDecimal('0.4'))).toBe(true)
    expect(measurePortfolio([]).nplRatio.isZero()).toBe(true)
  })
})

describe('lifecycle: late, then partial payments — DPD ageing through buckets and tiers', () => {
  it('ages from current to loss, partial payments age from the oldest unpaid installment, write-off is loss at 100%', () => {
    const spec = specOf({})
    let loan = activeLoan(spec)
    const due1 = loan.installments[0]?.dueOn
    const due2 = loan.installments[1]?.dueOn
    if (due1 === undefined || due2 === undefined) throw new Error('installments')
    loan = projectLoan(loan, due1)
    expect(classifyLoan(loan, due1)).toMatchObject({ dpd: 0, bucket: 'current', tier: 'normal', nonPerforming: false })
    const seen: string[] = []
    for (const days of [1, 30, 31, 61, 91]) {
      const on = due1.add({ days })
      loan = projectLoan(loan, on)
      const c = classifyLoan(loan, on)
      expect(c.dpd).toBe(days)
      seen.push(`${c.bucket}/${c.tier}`)
    }
    expect(seen).toEqual(['1-30/special_mention', '1-30/special_mention', '31-60/special_mention', '61-90/special_mention', '91+/substandard'])
    expect(loan.nonAccrual).toBe(true)
    // A partial payment that clears installment 1 in full: DPD now counts from installment 2.
    const payOn = due1.add({ days: 92 })
    const i1 = loan.installments[0]
    if (i1 === undefined) throw new Error('installment 1')
    const clearing = i1.dueMinor.principal + i1.dueMinor.interest + i1.dueMinor.fees + i1.dueMinor.penalties
    const paid = allocatePayment(loan, clearing, payOn, { components: ['penalties', 'fees', 'interest', 'principal'], installments: 'installment_by_installment', inAdvance: false })
    if (paid.status !== 'ok') throw new Error(paid.status)
    expect(measureDpd(paid.state, payOn)).toBe(Temporal.PlainDate.compare(due2, payOn) < 0 ? due2.until(payOn).days : 0)
    expect(classifyLoan(paid.state, payOn).tier).toBe('special_mention')
    // A partial payment that leaves a cent of interest does not reset DPD.
    loan = projectLoan(loan, payOn.subtract({ days: 1 }))
    const short = allocatePayment(loan, clearing - 1n, payOn, { components: ['penalties', 'fees', 'principal', 'interest'], installments: 'installment_by_installment', inAdvance: false })
    if (short.status !== 'ok') throw new Error(short.status)
    expect(measureDpd(short.state, payOn)).toBe(92)
    // Unpaid for a year: doubtful, then loss.
    loan = projectLoan(short.state, due1.add({ days: 271 }))
    expect(classifyLoan(loan, due1.add({ days: 271 })).tier).toBe('doubtful')
    loan = projectLoan(loan, due1.add({ days: 361 }))
    const lossClass = classifyLoan(loan, due1.add({ days: 361 }))
    expect(lossClass.tier).toBe('loss')
    expect(lossClass.provisionMinor).toBe(lossClass.principalOutstandingMinor)
    // Written off: loss, provision 100% of the written-off principal.
    const writeOff = writeOffLoan(loan)
    if (writeOff.status !== 'ok') throw new Error(writeOff.status)
    const afterClass = classifyLoan(writeOff.state, due1.add({ days: 362 }))
    expect(afterClass.tier).toBe('loss')
    expect(afterClass.provisionMinor).toBe(writeOff.writtenOffMinor.principal)
    expect(writeOff.writtenOffMinor.principal).toBe(lossClass.principalOutstandingMinor)
  })
})

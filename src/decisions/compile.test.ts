/**
 * Tests of decide() with the SME 310 example: each knock-out, cut-off and referral gives its reason in
 * English and Chinese; the limit is the formula capped and rounded down to the step; pricing follows the
 * score band and never exceeds the cap; every rule appears in the trace. Properties: determinism (same
 * input → same decision), compiled and interpreted strategies agree, offers respect the product bounds.
 */
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RateDecimal } from '../core/rate.ts'
import { compileStrategy, convertMajorToMinor, convertMinorToMajor, decide, interpretStrategy, roundDownToStep, validateDecisionInput, type CompiledStrategy, type Decision } from './compile.ts'
import type { StrategyDocument } from './strategy.ts'

const example = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'sme-310.strategy.json'), 'utf8')) as StrategyDocument

function compileOrThrow(document: unknown): CompiledStrategy {
  const result = compileStrategy(document)
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.strategy
}
const strategy = compileOrThrow(example)

type Application = {
  application: { amount: number; termMonths: number; businessDate: string }
  enterprise: { registeredOn: string; industry: string | null }
  consent: { creditQuery: boolean }
  flags: { fraud: boolean; blacklisted: boolean }
  loans: { currentDpd: number; exposureMajor: number; monthlyDebtServiceMajor: number }
  score: number | null
  features: Record<string, number | null>
}
function goodApplication(): Application {
  return {
    application: { amount: 200_000, termMonths: 12, businessDate: '2026-03-31' },
    enterprise: { registeredOn: '2021-05-10', industry: 'apparel' },
    consent: { creditQuery: true },
    flags: { fraud: false, blacklisted: false },
    loans: { currentDpd: 0, exposureMajor: 50_000, monthlyDebtServiceMajor: 5_000 },
    score: 645,
    features: { gmv_6m: 1_800_000, gmv_trend_6m: 0.02, inflow_6m: 1_700_000, refund_rate_6m: 0.03, top_buyer_share: 0.1, declared_to_observed_revenue_12m: 0.9 },
  }
}
function decideWith(change: (a: Application) => void): Decision {
  const application = goodApplication()
  change(application)
  return decide(strategy, application)
}
const codes = (decision: Decision) => decision.reasons.map((r) => r.code)

describe('decide', () => {
  it('approves a good application with limit, rate and term', () => {
    const decision = decideWith(() => {})
    expect(decision).toEqual(expect.objectContaining({
      outcome: 'approved', reasons: [], score: 645, limitMajor: 450_000, annualRatePct: '12.6', termMonths: 12,
      strategy: { name: 'sme-310', version: 1 },
    }))
  })
  it('traces every rule, in order', () => {
    const decision = decideWith(() => {})
    const ruleEntries = decision.trace.filter((t) => t.step === 'knockout' || t.step === 'referral').map((t) => t.rule)
    expect(ruleEntries).toEqual([...example.knockouts ?? [], ...example.referrals ?? []].map((r) => r.code))
    expect(decision.trace.map((t) => t.step)).toEqual([
      ...Array<string>(8).fill('knockout'), 'cutoff', 'cutoff', ...Array<string>(5).fill('referral'), 'limit', 'limit', 'pricing', 'term',
    ])
    expect(decision.trace.find((t) => t.step === 'limit' && t.rule === 'formula')).toEqual({ step: 'limit', rule: 'formula', result: 'computed', value: 450_000 })
  })
  it('declines on each knock-out, with English and Chinese reasons', () => {
    const cases: [string, (a: Application) => void][] = [
      ['no_credit_consent', (a) => { a.consent.creditQuery = false }],
      ['fraud_flag', (a) => { a.flags.fraud = true }],
      ['blacklisted', (a) => { a.flags.blacklisted = true }],
      ['business_too_young', (a) => { a.enterprise.registeredOn = '2025-04-01' }],
      ['currently_past_due', (a) => { a.loans.currentDpd = 31 }],
      ['exposure_cap', (a) => { a.loans.exposureMajor = 2_900_000 }],
      ['no_sales_history', (a) => { a.features.gmv_6m = null }],
      ['restricted_industry', (a) => { a.enterprise.industry = 'gambling' }],
    ]
    for (const [code, change] of cases) {
      const decision = decideWith(change)
      expect(decision.outcome, code).toBe('declined')
      expect(codes(decision), code).toContain(code)
      const reason = decision.reasons.find((r) => r.code === code)
      expect(reason?.en.length).toBeGreaterThan(0)
      expect(reason?.zh.length).toBeGreaterThan(0)
      expect(decision.limitMajor).toBeUndefined()
      expect(decision.trace.find((t) => t.rule === code)?.result).toBe('fired')
    }
  })
  it('counts business age in whole months', () => {
    expect(decideWith((a) => { a.enterprise.registeredOn = '2025-03-31' }).outcome).toBe('approved')
    expect(codes(decideWith((a) => { a.enterprise.registeredOn = '2025-04-01' }))).toEqual(['business_too_young'])
  })
  it('gives every decline reason, not just the first', () => {
    expect(codes(decideWith((a) => { a.flags.fraud = true; a.consent.creditQuery = false; a.score = 500 }))).toEqual(['no_credit_consent', 'fraud_flag', 'score_below_decline_cutoff'])
  })
  it('applies the score cut-offs', () => {
    expect(codes(decideWith((a) => { a.score = 539 }))).toEqual(['score_below_decline_cutoff'])
    const referred = decideWith((a) => { a.score = 560 })
    expect(referred.outcome).toBe('referred')
    expect(codes(referred)).toEqual(['score_in_review_band'])
    expect(referred).toEqual(expect.objectContaining({ limitMajor: 450_000, annualRatePct: '18.0', termMonths: 12 }))
    expect(decideWith((a) => { a.score = 580 }).outcome).toBe('approved')
    const noScore = decideWith((a) => { a.score = null })
    expect(codes(noScore)).toEqual(['score_missing'])
    expect(noScore.annualRatePct).toBeUndefined()
  })
  it('refers on referral rules, and passes unknown ones that say so', () => {
    expect(codes(decideWith((a) => { a.features.refund_rate_6m = 0.2 }))).toEqual(['high_refunds'])
    expect(codes(decideWith((a) => { a.features.declared_to_observed_revenue_12m = 3 }))).toEqual(['revenue_mismatch'])
    expect(codes(decideWith((a) => { a.application.amount = 1_200_000 }))).toEqual(['large_request'])
    const unknown = decideWith((a) => { a.features.top_buyer_share = null })
    expect(unknown.outcome).toBe('approved')
    expect(unknown.trace.find((t) => t.rule === 'buyer_concentration')?.result).toBe('unknown')
  })
  it('computes the limit: the smallest of sales, debt service and exposure, capped, rounded down to the step', () => {
    expect(decideWith((a) => { a.features.gmv_6m = 1_234_567 }).limitMajor).toBe(308_000)
    expect(decideWith((a) => { a.features.gmv_6m = 9_000_000; a.features.inflow_6m = 9_000_000 }).limitMajor).toBe(1_000_000)
    // Debt service binds: (0.35 × 600,000 / 6 − 20,000) × 6 × 0.9 = 81,000.
    expect(decideWith((a) => { a.features.inflow_6m = 600_000; a.loans.monthlyDebtServiceMajor = 20_000; a.application.termMonths = 6 }).limitMajor).toBe(81_000)
    const small = decideWith((a) => { a.features.gmv_6m = 30_000 })
    expect(codes(small)).toEqual(['limit_below_minimum'])
    expect(small.trace.filter((t) => t.step === 'limit').map((t) => t.rule)).toEqual(['formula', 'step', 'min'])
    const capped = decideWith((a) => { a.features.gmv_6m = 9_000_000; a.features.inflow_6m = 9_000_000 })
    expect(capped.trace.filter((t) => t.step === 'limit')).toEqual([
      { step: 'limit', rule: 'formula', result: 'computed', value: 2_250_000 },
      { step: 'limit', rule: 'max', result: 'capped', value: 1_000_000 },
      { step: 'limit', rule: 'step', result: 'computed', value: 1_000_000 },
    ])
  })
  it('prices by score band', () => {
    const rateAt = (score: number) => decideWith((a) => { a.score = score }).annualRatePct
    expect([579, 580, 619, 620, 660, 699, 700, 900].map(rateAt)).toEqual(['18.0', '15.4', '15.4', '12.6', '9.9', '9.9', '7.2', '7.2'])
  })
  it('takes the requested term when offered, and declines one that is not', () => {
    expect(decideWith((a) => { a.application.termMonths = 6 }).termMonths).toBe(6)
    expect(codes(decideWith((a) => { a.application.termMonths = 9 }))).toEqual(['term_not_offered'])
  })
  it('refers when a required input is missing or of the wrong type, and says which', () => {
    const missing = decide(strategy, { ...goodApplication(), flags: { fraud: false } })
    expect(missing.outcome).toBe('referred')
    expect(missing.reasons).toEqual([
      expect.objectContaining({ code: 'input_missing' }),
      expect.objectContaining({ code: 'rule_data_unavailable', rule: 'blacklisted' }),
    ])
    expect(missing.trace[0]).toEqual({ step: 'input', rule: 'flags.blacklisted', result: 'missing' })
    const wrong = decideWith((a) => { (a.application as Record<string, unknown>).businessDate = '31/03/2026' })
    expect(codes(wrong)).toContain('input_invalid')
    expect(validateDecisionInput(strategy, { ...goodApplication(), score: '645' })).toEqual([{ name: 'score', problem: 'invalid', expected: 'number?' }])
    expect(validateDecisionInput(strategy, goodApplication())).toEqual([])
    const declineMissing = compileOrThrow({ ...example, onMissingInput: 'decline' })
    expect(decide(declineMissing, { ...goodApplication(), flags: { fraud: false } }).outcome).toBe('declined')
  })
  it('reads flat and nested inputs alike', () => {
    const nested = goodApplication()
    const flat: Record<string, unknown> = {}
    for (const [group, values] of Object.entries(nested)) {
      if (typeof values === 'object' && values !== null) for (const [key, value] of Object.entries(values)) flat[`${group}.${key}`] = value
      else flat[group] = values
    }
    expect(decide(strategy, flat)).toEqual(decide(strategy, nested))
  })
  it('copes with inputs that are not objects at all', () => {
    for (const input of [null, undefined, 42, 'x', [], { application: 'x' }]) {
      const decision = decide(strategy, input as never)
      expect(decision.outcome).not.toBe('approved')
    }
  })
})

describe('money at the boundary', () => {
  it('rounds limits down to the step exactly', () => {
    expect(roundDownToStep(0.3, 0.1)).toBe(0.3)
    expect(roundDownToStep(123_456.78, 1_000)).toBe(123_000)
    expect(roundDownToStep(999.999, 0.01)).toBe(999.99)
    expect(roundDownToStep(0, 500)).toBe(0)
  })
  it('converts between major and bigint minor units', () => {
    expect(convertMajorToMinor(450_000, 'CNY')).toBe(45_000_000n)
    expect(convertMajorToMinor(999.99, 'CNY')).toBe(99_999n)
    expect(convertMinorToMajor(12_345n, 'CNY')).toBe(123.45)
    expect(() => convertMajorToMinor(1.005, 'CNY')).toThrow()
  })
})

// ---------------------------------------------------------------------------------------------------
// Properties

const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null, freq: 8 })
const applicationArbitrary: fc.Arbitrary<Application> = fc.record({
  application: fc.record({
    amount: fc.integer({ min: 1_000, max: 3_000_000 }),
    termMonths: fc.constantFrom(3, 6, 9, 12),
    businessDate: fc.constantFrom('2026-03-31', '2026-01-15'),
  }),
  enterprise: fc.record({ registeredOn: fc.constantFrom('2010-01-01', '2025-06-30', '2025-01-15', '2026-01-01'), industry: maybe(fc.constantFrom('apparel', 'gambling', 'food')) }),
  consent: fc.record({ creditQuery: fc.boolean() }),
  flags: fc.record({ fraud: fc.boolean(), blacklisted: fc.boolean() }),
  loans: fc.record({ currentDpd: fc.integer({ min: 0, max: 90 }), exposureMajor: fc.integer({ min: 0, max: 3_000_000 }), monthlyDebtServiceMajor: fc.integer({ min: 0, max: 100_000 }) }),
  score: maybe(fc.integer({ min: 400, max: 850 })),
  features: fc.record({
    gmv_6m: maybe(fc.double({ min: 0, max: 20_000_000, noNaN: true })),
    gmv_trend_6m: maybe(fc.double({ min: -1, max: 1, noNaN: true })),
    inflow_6m: maybe(fc.double({ min: 0, max: 20_000_000, noNaN: true })),
    refund_rate_6m: maybe(fc.double({ min: 0, max: 0.5, noNaN: true })),
    top_buyer_share: maybe(fc.double({ min: 0, max: 1, noNaN: true })),
    declared_to_observed_revenue_12m: maybe(fc.double({ min: 0, max: 4, noNaN: true })),
  }),
})

describe('decision properties', () => {
  const interpreted = interpretStrategy(strategy)
  it('are deterministic, and the same compiled or interpreted', () => {
    fc.assert(fc.property(applicationArbitrary, (application) => {
      const first = decide(strategy, application)
      expect(decide(strategy, structuredClone(application))).toEqual(first)
      expect(decide(compileOrThrow(example), application)).toEqual(first)
      expect(decide(interpreted, application)).toEqual(first)
    }), { numRuns: 500 })
  })
  it('make offers inside the product bounds, never above the rate cap', () => {
    const cap = new RateDecimal(example.pricing.capAnnualRatePct)
    fc.assert(fc.property(applicationArbitrary, (application) => {
      const decision = decide(strategy, application)
      expect(decision.trace.filter((t) => t.step === 'knockout' || t.step === 'referral')).toHaveLength(13)
      if (decision.outcome === 'declined') {
        expect(decision.reasons.length).toBeGreaterThan(0)
        expect(decision.limitMajor).toBeUndefined()
        return
      }
      if (decision.outcome === 'referred') expect(decision.reasons.length).toBeGreaterThan(0)
      else expect(decision.reasons).toEqual([])
      if (decision.limitMajor !== undefined) {
        expect(decision.limitMajor).toBeGreaterThanOrEqual(10_000)
        expect(decision.limitMajor).toBeLessThanOrEqual(1_000_000)
        expect(decision.limitMajor % 1_000).toBe(0)
        expect(convertMajorToMinor(decision.limitMajor, 'CNY') % 100_000n).toBe(0n)
      }
      if (decision.annualRatePct !== undefined) expect(new RateDecimal(decision.annualRatePct).lte(cap)).toBe(true)
      if (decision.outcome === 'approved') {
        expect(decision.limitMajor).toBeDefined()
        expect(example.terms.allowedMonths).toContain(decision.termMonths)
        expect(application.flags.fraud || application.flags.blacklisted || !application.consent.creditQuery).toBe(false)
        expect(application.score).not.toBeNull()
        expect(application.score ?? 0).toBeGreaterThanOrEqual(580)
      }
    }), { numRuns: 1_000 })
  })
})

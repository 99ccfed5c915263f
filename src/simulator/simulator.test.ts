/**
 * The simulator's pure core: the PRNG is deterministic and keyed, the population is valid and stable
 * under growth, and the economy behaves as designed — a shock raises failures, better latent quality
 * means fewer failures, repayment never exceeds cash or what is due — the calibrated book lands in the ranges of
 * Chinese online SME lending (NPL about 1–3 %, PAR30 a few per cent) and a shock raises them clearly, and the
 * measures follow DOMAIN.md.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { isValidUscc } from '../credit/index.ts'
import { runBookModel, type BookRun } from './book.ts'
import { decideBorrowing, decideRepayment, initialState, monthActivity, prefersCreditLine, settleMonth, shockFactor, type Shock } from './economy.ts'
import { generateTrainingSet } from './history.ts'
import { buildVintageCurves, createVintageTracker, measurePortfolioRatios, observeVintages, ratioOf, type LoanObservation } from './metrics.ts'
import { generatePopulation, ownerIdNumber, type Firm } from './population.ts'
import { createRandom, mixKeys, streamOf } from './prng.ts'
import { lineChart, renderReport, type SimulationSummary } from './report.ts'

const start = '2025-01-01'

/** Share of firms failed after `months` months (no loans), under a shock or none. */
function failureShare(firms: readonly Firm[], months: number, shock: Shock | null): number {
  let failed = 0
  for (const firm of firms) {
    let state = initialState(firm)
    for (let month = 0; month < months; month++) state = settleMonth(7, firm, state, monthActivity(7, firm, start, month, shock, state.failed))
    if (state.failed) failed += 1
  }
  return failed / firms.length
}

describe('prng', () => {
  it('is deterministic per seed, differs across seeds, and stays in [0, 1)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
      const a = createRandom(seed)
      const b = createRandom(seed)
      const xs = Array.from({ length: 50 }, () => a.next())
      expect(Array.from({ length: 50 }, () => b.next())).toEqual(xs)
      for (const x of xs) expect(x >= 0 && x < 1).toBe(true)
    }), { numRuns: 50 })
    expect(createRandom(1).next()).not.toBe(createRandom(2).next())
  })
  it('keyed streams do not depend on what was drawn before, and the keys are ordered', () => {
    const first = streamOf(3, 10, 4, 'month').next()
    for (let i = 0; i < 100; i++) streamOf(3, i, 4, 'month').next()
    expect(streamOf(3, 10, 4, 'month').next()).toBe(first)
    expect(mixKeys([1, 2])).not.toBe(mixKeys([2, 1]))
  })
  it('is roughly uniform and its normals have mean 0 and variance 1', () => {
    const r = createRandom(99)
    const n = 20_000
    const buckets = new Array<number>(10).fill(0)
    let sum = 0
    let squares = 0
    for (let i = 0; i < n; i++) {
      const k = Math.floor(r.next() * 10)
      buckets[k] = (buckets[k] ?? 0) + 1
      const z = r.normal()
      sum += z
      squares += z * z
    }
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(n / 10 * 0.1)
    expect(Math.abs(sum / n)).toBeLessThan(0.05)
    expect(Math.abs(squares / n - 1)).toBeLessThan(0.05)
  })
})

describe('population', () => {
  it('draws valid, unique credit codes and owner identity numbers; firm i does not depend on the population size', () => {
    const firms = generatePopulation(5, 2_000, start)
    expect(new Set(firms.map((f) => f.uscc)).size).toBe(firms.length)
    for (const firm of firms) {
      expect(isValidUscc(firm.uscc), firm.uscc).toBe(true)
      expect(firm.quality > 0 && firm.quality < 1).toBe(true)
      expect(firm.foundedOn < start).toBe(true)
    }
    expect(generatePopulation(5, 10, start)[7]).toEqual(firms[7])
    expect(ownerIdNumber(5, 3)).toMatch(/^\d{17}[\dX]$/)
    // Some owners run several firms (the owner-link graph is not empty).
    expect(new Set(firms.map((f) => f.ownerKey)).size).toBeLessThan(firms.length)
  })
})

describe('economy', () => {
  const firms = generatePopulation(11, 3_000, start)
  it('a shock raises failures, more with severity', () => {
    const none = failureShare(firms, 12, null)
    const mild = failureShare(firms, 12, { month: 2, severity: 0.4 })
    const severe = failureShare(firms, 12, { month: 2, severity: 1 })
    expect(mild).toBeGreaterThan(none)
    expect(severe).toBeGreaterThan(mild)
  })
  it('better latent quality means fewer failures', () => {
    const sorted = [...firms].sort((a, b) => a.quality - b.quality)
    const third = Math.floor(sorted.length / 3)
    const worst = failureShare(sorted.slice(0, third), 12, { month: 2, severity: 0.6 })
    const best = failureShare(sorted.slice(-third), 12, { month: 2, severity: 0.6 })
    expect(best).toBeLessThan(worst)
  })
  it('the shock factor is 1 before the shock, lowest in its month, and recovers', () => {
    const firm = firms[0] as Firm
    const shock = { month: 3, severity: 0.8 }
    expect(shockFactor(firm, 2, shock)).toBe(1)
    expect(shockFactor(firm, 3, shock)).toBeLessThan(shockFactor(firm, 4, shock))
    expect(shockFactor(firm, 8, shock)).toBe(1)
  })
  it('a firm never pays more than it has or than is due, and a failed firm pays nothing', () => {
    fc.assert(fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.boolean(), (cash, due, failed) => {
      const paid = decideRepayment({ cashYuan: cash, failed, failedMonth: null, lastAppliedMonth: null }, due)
      expect(paid).toBeGreaterThanOrEqual(0)
      expect(paid).toBeLessThanOrEqual(due)
      if (paid < due) expect(paid).toBeLessThanOrEqual(Math.max(0, cash))
      if (failed) expect(paid).toBe(0)
    }))
  })
  it('a firm short of cash asks for money within the product; a failed one never does', () => {
    const firm = firms[1] as Firm
    const short = decideBorrowing(11, firm, { cashYuan: -1, failed: false, failedMonth: null, lastAppliedMonth: null }, 4, 4)
    expect(short).not.toBeNull()
    expect(short?.amountYuan).toBeGreaterThanOrEqual(10_000)
    expect(short?.amountYuan).toBeLessThanOrEqual(1_000_000)
    expect(decideBorrowing(11, firm, { cashYuan: -1, failed: true, failedMonth: 2, lastAppliedMonth: null }, 4, 4)).toBeNull()
    expect(decideBorrowing(11, firm, { cashYuan: -1, failed: false, failedMonth: null, lastAppliedMonth: 3 }, 4, 4)).toBeNull()
  })
  it('some firms (steady sales) borrow through a credit line, the others through loans', () => {
    const lineFirms = firms.filter(prefersCreditLine)
    expect(lineFirms.length).toBeGreaterThan(firms.length * 0.1)
    expect(lineFirms.length).toBeLessThan(firms.length * 0.7)
    const firm = lineFirms[0] as Firm
    expect(decideBorrowing(11, firm, { cashYuan: -1, failed: false, failedMonth: null, lastAppliedMonth: null }, 4, 4)?.channel).toBe('credit_line')
  })
  it('the training book is deterministic and has both outcomes', () => {
    const a = generateTrainingSet(3, 400, start)
    expect(generateTrainingSet(3, 400, start).csv).toBe(a.csv)
    const bads = a.target.reduce((s, t) => s + t, 0)
    expect(bads).toBeGreaterThan(0)
    expect(bads).toBeLessThan(400)
  })
})

describe('calibration (the pure book model, 3,000 firms × 12 months)', () => {
  // The ranges of a 310 lender in an ordinary year (MYbank-like: NPL about 1–3 %, PAR30 a few per cent), and a
  // shock in month 3 of severity 0.6 that raises both clearly; defaults concentrate in weaker firms.
  let calm: BookRun
  let shocked: BookRun
  beforeAll(() => {
    calm = runBookModel({ seed: 7, smes: 3_000, months: 12, shock: null })
    shocked = runBookModel({ seed: 7, smes: 3_000, months: 12, shock: { month: 2, severity: 0.6 } })
  }, 120_000)
  it('an ordinary year lands in the plausible ranges', () => {
    expect(calm.approved / calm.applications).toBeGreaterThan(0.15)
    expect(calm.approved / calm.applications).toBeLessThan(0.7)
    expect(calm.nplRatio).toBeGreaterThan(0.005)
    expect(calm.nplRatio).toBeLessThan(0.035)
    expect(calm.par30).toBeGreaterThan(0.01)
    expect(calm.par30).toBeLessThan(0.06)
    expect(calm.par30).toBeGreaterThanOrEqual(calm.nplRatio)
  })
  it('a shock raises NPL and PAR30 clearly', () => {
    expect(shocked.nplRatio).toBeGreaterThan(calm.nplRatio * 1.5)
    expect(shocked.par30).toBeGreaterThan(calm.par30 * 1.5)
    expect(shocked.failedFirms).toBeGreaterThan(calm.failedFirms)
  })
})

describe('metrics', () => {
  const loan = (over: Partial<LoanObservation>): LoanObservation => ({ id: 'a', disbursedMonth: 0, principalMinor: 1000n, outstandingMinor: 1000n, dpd: 0, tier: 'normal', status: 'active', ...over })
  it('NPL and PAR30 by DOMAIN.md over active loans', () => {
    const ratios = measurePortfolioRatios([
      loan({ id: 'a', outstandingMinor: 600n }), loan({ id: 'b', outstandingMinor: 300n, dpd: 45, tier: 'special_mention' }),
      loan({ id: 'c', outstandingMinor: 100n, dpd: 120, tier: 'substandard' }), loan({ id: 'd', outstandingMinor: 999n, status: 'written_off', dpd: 200, tier: 'loss' }),
    ])
    expect(ratios).toEqual({ outstandingMinor: 1000n, nplMinor: 100n, par30Minor: 400n, nplRatio: 0.1, par30: 0.4 })
    expect(ratioOf(1n, 3n)).toBe(0.333333)
    expect(ratioOf(2n, 3n)).toBe(0.666667)
    expect(ratioOf(5n, 0n)).toBe(0)
  })
  it('vintage curves are cumulative and never fall', () => {
    const tracker = createVintageTracker()
    observeVintages(tracker, 0, [loan({ id: 'a' }), loan({ id: 'b' })])
    observeVintages(tracker, 1, [loan({ id: 'a', dpd: 31 }), loan({ id: 'b' })])
    observeVintages(tracker, 2, [loan({ id: 'a', dpd: 0 }), loan({ id: 'b', status: 'written_off' })])
    const [curve] = buildVintageCurves(tracker, 3, (m) => `m${m}`)
    expect(curve).toEqual({ vintage: 'm0', loans: 2, principalMinor: 2000n, ever30: [0, 0.5, 1] })
  })
  it('the report is one self-contained HTML file', () => {
    const summary: SimulationSummary = {
      smes: 1, months: 1, seed: 1, shock: null, applications: 1, approved: 1, loans: 1, draws: 0, approvalRate: 1, nplRatio: 0, par30: 0, declined: 0, referred: 0, creditLines: 0, lineReviews: 0, failedFirms: 0,
      disbursedMinor: '100', repaidMinor: '0', outstandingMinor: '100', writtenOffMinor: '0', writtenOffLoans: 0, provisionMinor: '1', interestIncomeMinor: '1', currency: 'CNY',
      startDate: start, endDate: '2025-02-01', vintages: [{ vintage: '2025-01', loans: 1, principalMinor: '100', ever30: [0] }],
      monthly: [{ month: '2025-01', applications: 1, approved: 1, loans: 1, disbursedMinor: '100', repaidMinor: '0', outstandingMinor: '100', nplRatio: 0, par30: 0, failedFirms: 0 }],
    }
    const html = renderReport(summary, { version: 'test' })
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain('<svg')
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/) // nothing fetched from the network
    expect(lineChart('<b>', ['a'], [{ name: 'x', values: [1] }], { percent: false })).toContain('&lt;b&gt;')
  })
})

/**
 * Tests of backtesting: rates overall and by segment add up, expected bad rates mix observed outcomes
 * and predicted probabilities as documented, decline reasons are ranked, and CSV rows are read by the
 * strategy's declared input types.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCsv } from '../scoring/index.ts'
import { backtestStrategy, readBacktestCsv, unsegmented, type BacktestRow } from './backtest.ts'
import { compileStrategy, type CompiledStrategy } from './compile.ts'

const example = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'sme-310.strategy.json'), 'utf8')) as unknown
const compiled = compileStrategy(example)
if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors))
const strategy: CompiledStrategy = compiled.strategy

function input(change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'application.amount': 200_000, 'application.termMonths': 12, 'application.businessDate': '2026-03-31',
    'enterprise.registeredOn': '2021-05-10', 'enterprise.industry': 'apparel',
    'consent.creditQuery': true, 'flags.fraud': false, 'flags.blacklisted': false,
    'loans.currentDpd': 0, 'loans.exposureMajor': 50_000, 'loans.monthlyDebtServiceMajor': 5_000,
    score: 645, 'features.gmv_6m': 1_800_000, 'features.inflow_6m': 1_700_000,
    ...change,
  }
}

describe('backtestStrategy', () => {
  const rows: BacktestRow[] = [
    { input: input(), segment: 'apparel', outcome: { bad: false } },
    { input: input(), segment: 'apparel', outcome: { bad: true } },
    { input: input(), segment: 'apparel', badProbability: 0.1 },
    { input: input({ score: 560 }), segment: 'apparel', outcome: { bad: true } },
    { input: input({ 'flags.fraud': true }), segment: 'food', outcome: { bad: true } },
    { input: input({ score: 500, 'flags.fraud': true }), segment: 'food', outcome: { bad: false } },
    { input: input({ score: 500 }), segment: 'food' },
    { input: input() },
  ]
  const report = backtestStrategy(strategy, rows)

  it('reports approval, referral and decline rates overall and by segment', () => {
    expect(report.overall).toEqual(expect.objectContaining({ segment: 'all', applications: 8, approved: 4, referred: 1, declined: 3, approvalRate: 0.5, referralRate: 0.125, declineRate: 0.375 }))
    expect(report.segments.map((s) => [s.segment, s.approved, s.referred, s.declined])).toEqual([
      [unsegmented, 1, 0, 0], ['apparel', 3, 1, 0], ['food', 0, 0, 3],
    ])
    for (const segment of report.segments) expect(segment.approvalRate + segment.referralRate + segment.declineRate).toBeCloseTo(1, 12)
    expect(report.overall.approvedLimitMajorTotal).toBe(4 * 450_000)
  })
  it('mixes observed outcomes and predicted probabilities in the expected bad rate', () => {
    const apparel = report.segments.find((s) => s.segment === 'apparel')
    expect(apparel?.observedBadRate).toBe(0.5)
    expect(apparel?.approvedWithOutcome).toBe(2)
    expect(apparel?.expectedBadRate).toBeCloseTo((0 + 1 + 0.1) / 3, 12)
    expect(report.segments.find((s) => s.segment === unsegmented)?.expectedBadRate).toBeNull()
    expect(report.segments.find((s) => s.segment === 'food')?.declinedObservedBadRate).toBe(0.5)
  })
  it('ranks decline and referral reasons, once per application', () => {
    expect(report.topDeclineReasons).toEqual([
      { code: 'fraud_flag', count: 2, share: 2 / 3 },
      { code: 'score_below_decline_cutoff', count: 2, share: 2 / 3 },
    ])
    expect(report.topReferralReasons).toEqual([{ code: 'score_in_review_band', count: 1, share: 1 }])
  })
  it('handles no rows', () => {
    expect(backtestStrategy(strategy, []).overall).toEqual(expect.objectContaining({ applications: 0, approvalRate: 0, expectedBadRate: null }))
  })
})

describe('readBacktestCsv', () => {
  const header = 'application.amount,application.termMonths,application.businessDate,enterprise.registeredOn,consent.creditQuery,flags.fraud,flags.blacklisted,loans.currentDpd,loans.exposureMajor,loans.monthlyDebtServiceMajor,score,features.gmv_6m,features.inflow_6m,region,bad,pd'
  it('reads rows by declared type and backtests them', () => {
    const csv = [
      header,
      '200000,12,2026-03-31,2021-05-10,true,0,false,0,50000,5000,645,1800000,1700000,east,yes,0.02',
      '200000,12,2026-03-31,2021-05-10,1,false,false,0,50000,5000,NA,1800000,,west,no,',
    ].join('\n')
    const result = readBacktestCsv(strategy, parseCsv(csv), { segmentColumn: 'region', badColumn: 'bad', badValue: 'yes', badProbabilityColumn: 'pd' })
    if (!result.ok) throw new Error(JSON.stringify(result.errors))
    expect(result.rows[0]).toEqual(expect.objectContaining({ segment: 'east', outcome: { bad: true }, badProbability: 0.02 }))
    expect(result.rows[0]?.input['consent.creditQuery']).toBe(true)
    expect(result.rows[1]?.input.score).toBeNull()
    const report = backtestStrategy(strategy, result.rows)
    expect(report.segments.map((s) => [s.segment, s.approved, s.referred])).toEqual([['east', 1, 0], ['west', 0, 1]])
  })
  it('reports cells that do not fit their type, and unknown columns', () => {
    const csv = [header, 'lots,12,31/03/2026,2021-05-10,maybe,0,false,0,50000,5000,645,1800000,1700000,east,yes,2'].join('\n')
    const result = readBacktestCsv(strategy, parseCsv(csv), { segmentColumn: 'region', badColumn: 'bad', badValue: 'yes', badProbabilityColumn: 'pd' })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.errors.map((e) => `${e.row}:${e.column}`)).toEqual(['1:application.amount', '1:application.businessDate', '1:consent.creditQuery', '1:pd'])
    const missing = readBacktestCsv(strategy, parseCsv(header), { segmentColumn: 'segment' })
    expect(!missing.ok && missing.errors[0]).toEqual({ row: 0, column: 'segment', reason: 'no such column in the header' })
  })
})

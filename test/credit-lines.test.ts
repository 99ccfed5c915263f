/**
 * Credit lines (授信), the review queue and backtests over stored applications, on a real PostgreSQL through
 * HTTP: a line opened by an approved application, drawn without a new decision (checks, availability restored
 * by repayment, a failed payout holding nothing), re-evaluated (frozen by a declining strategy, unfrozen and
 * re-limited by an approving one); referred applications approved or declined by a reviewer exactly once; a
 * draft strategy backtested against what was stored.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import { createSimulatedBank, drawOnCreditLine, readCreditLine, reviewEveryDays } from '../src/flows/index.ts'
import { reconcileAllPayouts, reviewAllCreditLines } from '../src/jobs.ts'
import { loadKeyring } from '../src/keys/index.ts'
import { createLogger } from '../src/log.ts'
import { createTestApp, type TestApp } from './support/app.ts'
import { setUpLending, type Json, type Lending } from './support/lending-fixture.ts'

let t: TestApp
let l: Lending
let lineId: string

async function count(table: 'loans' | 'applications' | 'payouts' | 'credit_line_events' | 'offers'): Promise<number> {
  return inTenant(t.database.db, l.tenantId, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(trx)).rows[0]?.n ?? -1)
}
const ledgerBalances = () => l.expectLedgerBalanced()
const line = async (key = l.operator) => l.ok('GET', `/v1/credit-lines/${lineId}`, key)

beforeAll(async () => {
  t = await createTestApp()
  l = await setUpLending(t, 'lines')
  await l.publishStrategy(l.strategyDocument())
}, 60_000)
afterAll(async () => {
  l?.close()
  await t?.close()
})

describe('credit lines', () => {
  it('opens a line from an approved application: limit = the request capped by the strategy, the allowed terms, no offer', async () => {
    const response = await l.call('POST', '/v1/applications', l.operator, { enterpriseId: l.shop, productId: l.product, amountMinor: '30000000', termMonths: 12, kind: 'credit_line' })
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    const body = response.body
    expect(body).toMatchObject({ outcome: 'approved', kind: 'credit_line', offer: null })
    const opened = body.creditLine as Json
    lineId = opened.id as string
    const detail = await l.ok('GET', `/v1/applications/${body.id as string}`, l.operator)
    const decidedLimitMinor = BigInt(Math.round(((detail.decision as Json).limitMajor as number) * 100))
    const expected = decidedLimitMinor < 30_000_000n ? decidedLimitMinor : 30_000_000n
    expect(opened).toMatchObject({ status: 'active', limitMinor: expected.toString(), drawnMinor: '0', availableMinor: expected.toString(), termsAllowed: [3, 6, 12], expired: false })
    expect((opened.history as Json[]).map((e) => e.action)).toEqual(['opened'])
    expect(await count('offers')).toBe(0)
  })

  it('answers credit_line_exists to a second line application on the same product, deciding nothing', async () => {
    const before = await count('applications')
    const again = await l.call('POST', '/v1/applications', l.operator, { enterpriseId: l.shop, productId: l.product, amountMinor: '10000000', termMonths: 6, kind: 'credit_line' })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ code: 'credit_line_exists' })
    expect(await count('applications')).toBe(before)
  })

  it('draws without a new decision: a loan paid out, availability reduced, the draw in the history; the ledger balances', async () => {
    const applicationsBefore = await count('applications')
    const before = await line()
    const drawn = await l.call('POST', `/v1/credit-lines/${lineId}/draws`, l.borrower, { amountMinor: '5000000', termMonths: 6 })
    expect(drawn.status, JSON.stringify(drawn.body)).toBe(201)
    expect(drawn.body).toMatchObject({ loan: { status: 'active' }, payout: { status: 'succeeded' } })
    const after = drawn.body.creditLine as Json
    expect(BigInt(after.availableMinor as string)).toBe(BigInt(before.availableMinor as string) - 5_000_000n)
    expect(after.drawnMinor).toBe('5000000')
    expect((after.history as Json[]).map((e) => e.action)).toEqual(['opened', 'drawn'])
    expect(await count('applications')).toBe(applicationsBefore)
    const loan = await l.ok('GET', `/v1/loans/${(drawn.body.loan as Json).id as string}`, l.operator)
    expect(loan.loan).toMatchObject({ principalMinor: '5000000', annualRatePct: after.annualRatePct, status: 'active' })
    await ledgerBalances()
  })

  it('refuses draws the line does not allow, changing nothing', async () => {
    const loans = await count('loans')
    const events = await count('credit_line_events')
    const available = BigInt((await line()).availableMinor as string)
    const cases: [Json, number, string][] = [
      [{ amountMinor: '5000000', termMonths: 9 }, 422, 'term_not_allowed'],
      [{ amountMinor: (available + 1n).toString(), termMonths: 6 }, 422, 'credit_line_insufficient'],
      [{ amountMinor: '1000', termMonths: 6 }, 422, 'draw_outside_product'],
    ]
    for (const [body, status, code] of cases) {
      const refused = await l.call('POST', `/v1/credit-lines/${lineId}/draws`, l.operator, body)
      expect(refused.status, JSON.stringify(refused.body)).toBe(status)
      expect(refused.body).toMatchObject({ code })
    }
    const otherBorrower = await t.createKey(l.tenantId, 'borrower', l.stranger)
    expect((await l.call('POST', `/v1/credit-lines/${lineId}/draws`, otherBorrower, { amountMinor: '5000000', termMonths: 6 })).status).toBe(404)
    expect((await l.call('GET', `/v1/credit-lines/${lineId}`, otherBorrower)).status).toBe(404)
    expect(((await l.ok('GET', '/v1/credit-lines', otherBorrower)).items as Json[]).length).toBe(0)
    expect(await count('loans')).toBe(loans)
    expect(await count('credit_line_events')).toBe(events)
  })

  it('a repayment restores availability by the principal it repays', async () => {
    const before = await line()
    const loanId = ((before.history as Json[]).find((e) => e.action === 'drawn') as Json).loanId as string
    const repaid = await l.call('POST', `/v1/loans/${loanId}/repayments`, l.operator, { amountMinor: '1000000' })
    expect(repaid.status, JSON.stringify(repaid.body)).toBeLessThan(300)
    const after = await line()
    const loan = await l.ok('GET', `/v1/loans/${loanId}`, l.operator)
    const outstanding = (loan.schedule as { outstandingMinor: { principal: string } }[]).reduce((sum, i) => sum + BigInt(i.outstandingMinor.principal), 0n)
    expect(BigInt(after.drawnMinor as string)).toBe(outstanding)
    expect(BigInt(after.availableMinor as string)).toBeGreaterThan(BigInt(before.availableMinor as string))
  })

  it('a draw whose payout definitely fails holds nothing: the pending transfer voided, availability back', async () => {
    const before = await line()
    const result = await drawOnCreditLine({ db: t.database.db, ids: uuidv7Source, clock: systemClock, rail: createSimulatedBank({ mode: 'fail' }) }, {
      tenantId: l.tenantId, creditLineId: lineId, amountMinor: 2_000_000n, termMonths: 6, enterpriseId: null, actor: { kind: 'system', id: null },
    })
    expect(result.status).toBe('ok')
    if (result.status !== 'ok') return
    expect(result.payout.status).toBe('failed')
    expect(result.loan.status).toBe('approved')
    expect(result.line.availableMinor).toBe(BigInt(before.availableMinor as string))
    await ledgerBalances()
  })

  it('re-evaluation: a declining strategy freezes the line (draws refused); an approving one unfreezes it at drawn + headroom', async () => {
    await l.publishStrategy({ ...l.strategyDocument(), name: 'lines-decline', cutoffs: { declineBelow: 100_000, referBelow: 100_000 } })
    const frozen = await l.ok('POST', '/v1/credit-lines/review', l.analyst, { force: true, strategy: 'lines-decline' })
    expect(frozen).toMatchObject({ examined: 1, frozen: 1 })
    const afterFreeze = await line()
    expect(afterFreeze).toMatchObject({ status: 'frozen', availableMinor: '0' })
    const refused = await l.call('POST', `/v1/credit-lines/${lineId}/draws`, l.operator, { amountMinor: '1000000', termMonths: 3 })
    expect(refused.body).toMatchObject({ code: 'credit_line_frozen' })
    expect(refused.status).toBe(409)

    const reviewed = await l.ok('POST', '/v1/credit-lines/review', l.analyst, { force: true })
    expect(reviewed).toMatchObject({ examined: 1, unfrozen: 1 })
    const outcome = (reviewed.outcomes as Json[])[0] as Json
    const decision = await l.ok('GET', `/v1/applications/${outcome.applicationId as string}`, l.operator)
    expect(decision).toMatchObject({ kind: 'credit_line_review', creditLineId: lineId, outcome: 'approved' })
    const headroom = BigInt(Math.round(((decision.decision as Json).limitMajor as number) * 100))
    const unfrozen = await line()
    expect(unfrozen.status).toBe('active')
    expect(BigInt(unfrozen.limitMinor as string)).toBe(BigInt(afterFreeze.drawnMinor as string) + headroom)
    expect((unfrozen.history as Json[]).map((e) => e.action).slice(-2)).toEqual(['frozen', 'unfrozen'])
    const reviews = await l.ok('GET', '/v1/applications?kind=credit_line_review', l.operator)
    expect((reviews.items as Json[]).length).toBe(2)
    // Not due again today without `force`.
    expect(await l.ok('POST', '/v1/credit-lines/review', l.analyst, {})).toMatchObject({ examined: 0 })
  })
})

describe('review queue', () => {
  let referred: Json[] = []
  beforeAll(async () => {
    await l.publishStrategy({ ...l.strategyDocument(), name: 'sme-310', cutoffs: { declineBelow: 0, referBelow: 100_000 } })
    referred = []
    for (let i = 0; i < 3; i++) {
      const response = await l.ok('POST', '/v1/applications', l.operator, { enterpriseId: l.shop, productId: l.product, amountMinor: '2000000', termMonths: 6 })
      expect(response.outcome).toBe('referred')
      referred.push(response)
    }
  })

  it('lists referred applications not yet reviewed, newest first, with cursor pagination', async () => {
    const first = await l.ok('GET', '/v1/applications?outcome=referred&reviewed=false&limit=2', l.reviewer)
    const second = await l.ok('GET', `/v1/applications?outcome=referred&reviewed=false&limit=2&cursor=${first.nextCursor as string}`, l.reviewer)
    const ids = [...(first.items as Json[]), ...(second.items as Json[])].map((a) => a.id)
    expect(ids).toEqual(referred.map((a) => a.id).reverse())
    expect(second.nextCursor).toBeNull()
  })

  it('approving makes an open offer at the proposed terms; a second review is refused; the queue shrinks', async () => {
    const target = referred[0] as Json
    const approved = await l.ok('POST', `/v1/applications/${target.id as string}/review`, l.reviewer, { decision: 'approve', note: 'Known merchant, documents checked' })
    expect(approved).toMatchObject({ outcome: 'referred', review: { decision: 'approve', note: 'Known merchant, documents checked' }, offer: { status: 'open', amountMinor: '2000000' } })
    const again = await l.call('POST', `/v1/applications/${target.id as string}/review`, l.reviewer, { decision: 'decline', note: 'changed my mind' })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ code: 'application_already_reviewed' })
    const accepted = await l.ok('POST', `/v1/offers/${(approved.offer as Json).id as string}/accept`, l.borrower)
    expect(accepted).toMatchObject({ payout: { status: 'succeeded' } })
    const queue = await l.ok('GET', '/v1/applications?outcome=referred&reviewed=false', l.reviewer)
    expect((queue.items as Json[]).map((a) => a.id)).not.toContain(target.id)
  })

  it('a reviewer may set the terms; terms above the cap are refused, changing nothing', async () => {
    const target = referred[1] as Json
    const offers = await count('offers')
    const tooDear = await l.call('POST', `/v1/applications/${target.id as string}/review`, l.reviewer, { decision: 'approve', note: 'ok', annualRatePct: '30' })
    expect(tooDear.status).toBe(422)
    expect(tooDear.body).toMatchObject({ code: 'review_terms_invalid' })
    expect(await count('offers')).toBe(offers)
    const set = await l.ok('POST', `/v1/applications/${target.id as string}/review`, l.reviewer, { decision: 'approve', note: 'priced by hand', annualRatePct: '12.5', amountMinor: '1500000' })
    expect(set).toMatchObject({ offer: { amountMinor: '1500000', annualRatePct: '12.5' }, review: { amountMinor: '1500000', annualRatePct: '12.5' } })
  })

  it('declining records the note and makes no offer; engine decisions and other roles cannot be reviewed', async () => {
    const target = referred[2] as Json
    const offers = await count('offers')
    const declined = await l.ok('POST', `/v1/applications/${target.id as string}/review`, l.reviewer, { decision: 'decline', note: 'Revenue could not be verified' })
    expect(declined).toMatchObject({ review: { decision: 'decline' }, offer: null })
    expect(await count('offers')).toBe(offers)
    const operatorTry = await l.call('POST', `/v1/applications/${target.id as string}/review`, l.operator, { decision: 'approve', note: 'x' })
    expect(operatorTry.status).toBe(403)
    const engineApproved = ((await l.ok('GET', '/v1/applications?kind=credit_line', l.reviewer)).items as Json[])[0] as Json
    const notReferred = await l.call('POST', `/v1/applications/${engineApproved.id as string}/review`, l.reviewer, { decision: 'approve', note: 'x' })
    expect(notReferred.status).toBe(409)
    expect(notReferred.body).toMatchObject({ code: 'application_not_referred' })
    const reviewed = await l.ok('GET', '/v1/applications?outcome=referred&reviewed=true', l.reviewer)
    expect((reviewed.items as Json[]).length).toBe(3)
  })
})

describe('backtest over stored applications', () => {
  it('runs a draft against the stored decisions and reports rates by segment, changing nothing', async () => {
    const draft = await l.ok('POST', '/v1/strategies', l.analyst, { document: { ...l.strategyDocument(), name: 'sme-310-draft', cutoffs: { declineBelow: 0, referBelow: 0 } } })
    const applications = await count('applications')
    const report = await l.ok('POST', `/v1/strategies/${draft.id as string}/backtest`, l.analyst, { segmentBy: 'industry' })
    expect(report.source).toBe('applications')
    expect(report.applications).toBe(4) // the line application and the three referrals (re-evaluations are not applications)
    expect(report.overall).toMatchObject({ applications: 4, approved: 4, approvalRate: 1 })
    expect((report.segments as Json[]).map((s) => s.segment)).toEqual(['retail'])
    expect(await count('applications')).toBe(applications)
    const csv = await l.ok('POST', `/v1/strategies/${draft.id as string}/backtest`, l.analyst, { csv: 'score,segment\n700,a\n', segmentColumn: 'segment' })
    expect(csv).toMatchObject({ source: 'csv', applications: 1 })
    const bad = await l.call('POST', `/v1/strategies/${draft.id as string}/backtest`, l.analyst, { csv: 'score\nnot-a-number\n' })
    expect(bad.status).toBe(422)
    expect(bad.body).toMatchObject({ code: 'backtest_csv_invalid' })
  })
})

describe('line state', () => {
  it('the line read in a transaction agrees with the API', async () => {
    const fromDb = await inTenant(t.database.db, l.tenantId, (trx) => readCreditLine(trx, lineId, { enterpriseId: null }))
    const fromApi = await line()
    expect(fromDb?.limitMinor.toString()).toBe(fromApi.limitMinor)
    expect(fromDb?.history.length).toBe((fromApi.history as Json[]).length)
  })
})

describe('periodic work and the CLI', () => {
  const bin = path.join(import.meta.dirname, '..', 'bin', 'puhui.js')
  // The CLI reads its keys from $PUHUI_DATA_DIR/keys: point that at the test app's key directory.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-lines-cli-'))
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))
  const cli = (args: string[]) => {
    if (!fs.existsSync(path.join(dataDir, 'keys'))) fs.symlinkSync(t.keyDir, path.join(dataDir, 'keys'))
    return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DATABASE_URL: t.database.url, PUHUI_DATA_DIR: dataDir, PUHUI_LOG_LEVEL: 'warn' } })
  }
  const backdate = (days: number) => inTenant(t.database.db, l.tenantId, (trx) => sql`update credit_lines set last_reviewed_on = last_reviewed_on - ${days}::int`.execute(trx))

  it('the server job reviews lines once they are due, and only then', async () => {
    const deps = { db: t.database.db, clock: systemClock, ids: uuidv7Source, keyring: loadKeyring({ keyDir: t.keyDir }), rail: createSimulatedBank(), log: createLogger('silent') }
    expect((await reviewAllCreditLines(deps)).size).toBe(0)
    await backdate(reviewEveryDays)
    const reports = await reviewAllCreditLines(deps)
    expect(reports.get(l.tenantId)).toMatchObject({ examined: 1, failed: 0 })
    expect((await reviewAllCreditLines(deps)).size).toBe(0)
  })

  it('the server job settles a payout left unknown, asking the same rail', async () => {
    const rail = createSimulatedBank({ mode: 'timeout_then_succeeded', latencyMs: 50 })
    const deps = { db: t.database.db, clock: systemClock, ids: uuidv7Source, keyring: loadKeyring({ keyDir: t.keyDir }), rail, log: createLogger('silent') }
    const drawn = await drawOnCreditLine({ ...deps, payoutTimeoutMs: 10 }, { tenantId: l.tenantId, creditLineId: lineId, amountMinor: 1_000_000n, termMonths: 6, enterpriseId: null, actor: { kind: 'system', id: null } })
    expect(drawn.status === 'ok' && drawn.payout.status).toBe('unknown')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const reports = await reconcileAllPayouts(deps)
    expect(reports.get(l.tenantId)).toMatchObject({ examined: 1, succeeded: 1 })
    await ledgerBalances()
  })

  it('puhui credit-lines review and puhui payouts reconcile print one line of JSON', async () => {
    await backdate(reviewEveryDays)
    const reviewed = cli(['credit-lines', 'review', '--tenant', 'lines'])
    expect(reviewed.status, reviewed.stderr).toBe(0)
    expect(reviewed.stdout.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(reviewed.stdout)).toMatchObject({ examined: 1, failed: 0, outcomes: [{ lineId }] })
    const reconciled = cli(['payouts', 'reconcile', '--tenant', 'lines'])
    expect(reconciled.status, reconciled.stderr).toBe(0)
    expect(JSON.parse(reconciled.stdout)).toEqual({ examined: 0, succeeded: 0, failed: 0, stillUnknown: 0, resent: 0 })
    expect(cli(['credit-lines', 'review', '--tenant', 'nobody']).status).not.toBe(0)
  })
})

describe('line limits', () => {
  it('caps the line at the amount asked for, below the strategy’s limit', async () => {
    await l.publishStrategy({ ...l.strategyDocument(), name: 'limits' })
    const product = (await l.ok('POST', '/v1/loan-products', l.admin, {
      name: 'Small line', currency: 'CNY', principalMinMinor: '100000', principalMaxMinor: '100000000', installmentsMin: 3, installmentsMax: 12,
      schedule: { interestPeriod: 'daily', daysInYear: '365' }, annualRateCapPct: '24', upfrontFeePct: '0',
    })).id as string
    const small = await l.ok('POST', '/v1/applications', l.operator, { enterpriseId: l.shop, productId: product, amountMinor: '1500000', termMonths: 6, kind: 'credit_line', strategy: 'limits' })
    expect(small.outcome, JSON.stringify(small.reasons)).toBe('approved')
    expect(small.creditLine).toMatchObject({ limitMinor: '1500000', availableMinor: '1500000' })
  })
})

describe('a revolving line (随借随还): an interest-only, daily-interest product under a credit line', () => {
  it('draws any day, charges interest only for the days drawn, a partial repayment restores the limit, a pay-off closes the draw', async () => {
    // 按月付息、到期还本: interest monthly on what is drawn, principal at the draw's end, repayable any day.
    const revolvingProduct = (await l.ok('POST', '/v1/loan-products', l.admin, {
      name: '随借随还 revolving', currency: 'CNY', principalMinMinor: '100000', principalMaxMinor: '100000000', installmentsMin: 1, installmentsMax: 12,
      schedule: { interestPeriod: 'daily', daysInYear: '365', amortization: 'interest_only' }, annualRateCapPct: '24', upfrontFeePct: '0',
    })).id as string
    await l.publishStrategy({ ...l.strategyDocument(), name: 'revolving' })
    const applied = await l.ok('POST', '/v1/applications', l.operator, { enterpriseId: l.shop, productId: revolvingProduct, amountMinor: '10000000', termMonths: 6, kind: 'credit_line', strategy: 'revolving' })
    const revolving = applied.creditLine as Json
    expect(revolving, JSON.stringify(applied.reasons)).toMatchObject({ status: 'active' })
    const drawn = await l.ok('POST', `/v1/credit-lines/${revolving.id as string}/draws`, l.borrower, { amountMinor: '3000000', termMonths: 3 })
    const loanId = (drawn.loan as Json).id as string
    const schedule = (await l.ok('GET', `/v1/loans/${loanId}`, l.operator)).schedule as { dueMinor: { principal: string } }[]
    expect(schedule.map((i) => i.dueMinor.principal)).toEqual(['0', '0', '3000000'])
    // Ten days of daily interest on 30,000 yuan, then a partial repayment that prepays principal.
    const businessDate = async () => inTenant(t.database.db, l.tenantId, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants`.execute(trx)).rows[0]?.d as string)
    const start = await businessDate()
    const tenDays = new Date(Date.parse(`${start}T00:00:00Z`) + 10 * 86_400_000).toISOString().slice(0, 10)
    await inTenant(t.database.db, l.tenantId, (trx) => sql`update tenants set business_date = ${tenDays}::date`.execute(trx))
    const prepaid = await l.ok('POST', `/v1/loans/${loanId}/prepayments`, l.borrower, { amountMinor: '1000000', mode: 'reduce_installment' })
    const allocation = (prepaid.transaction as Json).allocation as Json
    const rate = Number(revolving.annualRatePct)
    const expectedInterest = Math.round(3_000_000 * rate / 100 * 10 / 365)
    expect(Math.abs(Number((allocation.totalsMinor as Json).interest) - expectedInterest)).toBeLessThanOrEqual(1)
    const after = await l.ok('GET', `/v1/credit-lines/${revolving.id as string}`, l.operator)
    expect(BigInt(after.drawnMinor as string)).toBe(3_000_000n - BigInt(allocation.prepaidPrincipalMinor as string))
    const quote = await l.ok('GET', `/v1/loans/${loanId}/payoff`, l.operator)
    const closed = await l.ok('POST', `/v1/loans/${loanId}/repayments`, l.borrower, { amountMinor: quote.totalMinor as string })
    expect(closed.loan).toMatchObject({ status: 'closed' })
    expect((await l.ok('GET', `/v1/credit-lines/${revolving.id as string}`, l.operator))).toMatchObject({ drawnMinor: '0', availableMinor: revolving.limitMinor })
    await ledgerBalances()
  })
})

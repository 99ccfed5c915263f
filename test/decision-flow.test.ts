/**
 * The 310 flow on a real PostgreSQL: strategies under maker-checker (HTTP), an application decided in the
 * same response with its trace, an approved offer (APR by IRR with the fee, never above the cap) accepted
 * and disbursed through the payout rail with a two-phase transfer — and the rail's failure and timeout
 * paths: a definite failure voids the pending transfer and leaves no active loan; a timeout leaves it
 * pending until reconciliation settles it either way.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import { compileStrategy, decide } from '../src/decisions/index.ts'
import { acceptOffer, createSimulatedBank, reconcilePayouts, type PayoutRail, type SimulatedPayoutMode } from '../src/flows/index.ts'
import { createTestApp, type TestApp } from './support/app.ts'
import { setUpLending, type Json, type Lending } from './support/lending-fixture.ts'

let t: TestApp
let lending: Lending
let tenantId: string
let admin: string
let analyst: string
let checker: string
let operator: string
let borrower: string
let shop: string
let stranger: string
let product: string
const call: Lending['call'] = (...args) => lending.call(...args)
const ok: Lending['ok'] = (...args) => lending.ok(...args)
const strategyDocument: Lending['strategyDocument'] = (overrides) => lending.strategyDocument(overrides)
const publishStrategy: Lending['publishStrategy'] = (document) => lending.publishStrategy(document)

async function apply(body: Json = {}, key = operator) {
  return call('POST', '/v1/applications', key, { enterpriseId: shop, productId: product, amountMinor: '5000000', termMonths: 12, ...body })
}

type AccountRow = { debits_posted: bigint; credits_posted: bigint; debits_pending: bigint; credits_pending: bigint }
async function principalAccount(loanId: string): Promise<AccountRow> {
  return inTenant(t.database.db, tenantId, async (trx) => (await sql<AccountRow>`
    select a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending from ledger_accounts a join loans l on l.principal_account_id = a.id where l.id = ${loanId}`.execute(trx)).rows[0] as AccountRow)
}
async function loanStatus(loanId: string): Promise<string> {
  return inTenant(t.database.db, tenantId, async (trx) => (await sql<{ status: string }>`select status from loans where id = ${loanId}`.execute(trx)).rows[0]?.status as string)
}
const ledgerBalances = () => lending.expectLedgerBalanced()

const payoutDeps = (rail: PayoutRail) => ({ db: t.database.db, ids: uuidv7Source, clock: systemClock, rail, payoutTimeoutMs: 2_000 })
async function approvedOffer(): Promise<Json> {
  const response = await apply()
  expect(response.body.outcome, JSON.stringify(response.body)).toBe('approved')
  return response.body.offer as Json
}

beforeAll(async () => {
  t = await createTestApp()
  lending = await setUpLending(t, 'decisions')
  ;({ tenantId, admin, analyst, checker, operator, borrower, shop, stranger, product } = lending)
}, 60_000)
afterAll(async () => {
  lending?.close()
  await t?.close()
})

describe('strategy governance over HTTP', () => {
  it('enforces maker-checker: the author cannot approve; another analyst can; activation retires the previous version', async () => {
    const invalid = await call('POST', '/v1/strategies', analyst, { document: { ...strategyDocument(), limit: { formula: 'features.gmv_6m +' } } })
    expect(invalid.status).toBe(422)
    expect(invalid.body).toMatchObject({ code: 'strategy_invalid' })
    expect((invalid.body.errors as { path: string }[])[0]?.path).toBe('$.limit.formula')

    expect((await call('POST', '/v1/strategies', operator, { document: strategyDocument() })).status).toBe(403)
    const created = await ok('POST', '/v1/strategies', analyst, { document: strategyDocument() })
    expect(created).toMatchObject({ name: 'sme-310', version: 1, status: 'draft' })
    const id = created.id as string
    expect(await call('POST', `/v1/strategies/${id}/approve`, checker)).toMatchObject({ status: 409, body: { code: 'action_not_allowed_in_status' } })
    await ok('POST', `/v1/strategies/${id}/submit`, analyst)
    expect(await call('POST', `/v1/strategies/${id}/approve`, analyst)).toMatchObject({ status: 403, body: { code: 'approver_must_differ_from_author' } })
    expect(await call('POST', `/v1/strategies/${id}/activate`, analyst)).toMatchObject({ status: 409, body: { code: 'action_not_allowed_in_status' } })
    expect(await ok('POST', `/v1/strategies/${id}/approve`, checker)).toMatchObject({ status: 'approved', approvedBy: expect.any(String) })
    expect(await ok('POST', `/v1/strategies/${id}/activate`, analyst)).toMatchObject({ status: 'active' })

    const second = await publishStrategy(strategyDocument())
    const list = await ok('GET', '/v1/strategies?name=sme-310', analyst)
    expect((list.items as Json[]).map((s) => [s.version, s.status])).toEqual([[2, 'active'], [1, 'retired']])
    expect((await ok('GET', `/v1/strategies/${second}`, checker)).history).toHaveLength(3)
  })
})

describe('applications', () => {
  it('approves with an offer (APR by IRR with the fee, within the cap), stores the trace, and accepting disburses the loan (payout succeeded)', async () => {
    const scoresOfShop = () => inTenant(t.database.db, tenantId, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from model_scores where subject = ${shop}`.execute(trx)).rows[0]?.n)
    const scoresBefore = await scoresOfShop()
    const response = await apply()
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    const body = response.body
    expect(body).toMatchObject({ outcome: 'approved', reasons: [], strategy: { name: 'sme-310', version: 2 }, model: { name: 'sme', version: 1 } })
    const offer = body.offer as Json
    expect(offer).toMatchObject({ amountMinor: '5000000', limitMinor: '15000000', termMonths: 12, status: 'open', upfrontFeeMinor: '50000' })
    const nominal = Number(offer.annualRatePct)
    const apr = Number(offer.aprPct)
    expect(apr).toBeGreaterThan(nominal)
    expect(apr).toBeLessThanOrEqual(24)
    expect(((offer.schedulePreview as Json).rows as Json[]).length).toBe(12)

    // Written with the application in one statement: the offer, the score kept for monitoring, and the audit
    // of the features read and of the decision (same request id).
    const kept = await inTenant(t.database.db, tenantId, async (trx) => ({
      offers: (await sql<{ n: number }>`select count(*)::int as n from offers where application_id = ${body.id as string}`.execute(trx)).rows[0]?.n,
      audits: (await sql<{ action: string; target_id: string }>`select action, target_id from audit_log where request_id = (select request_id from audit_log where target_id = ${body.id as string} and action = 'application.decide') order by action`.execute(trx)).rows,
    }))
    expect(await scoresOfShop()).toBe((scoresBefore ?? 0) + 1)
    expect(kept).toEqual({ offers: 1, audits: [{ action: 'application.decide', target_id: body.id }, { action: 'features.read', target_id: shop }] })

    const detail = await ok('GET', `/v1/applications/${body.id as string}`, borrower)
    expect((detail.decision as { trace: Json[] }).trace.length).toBeGreaterThan(10)
    expect(detail.inputs).toMatchObject({ 'consent.creditQuery': true, 'application.amount': 50000, 'features.gmv_6m': 600000 })

    const accepted = await ok('POST', `/v1/offers/${offer.id as string}/accept`, borrower)
    expect(accepted).toMatchObject({ loan: { status: 'active' }, payout: { status: 'succeeded', amountMinor: '4950000', attempts: 1 }, offer: { status: 'accepted' } })
    const loanId = (accepted.loan as Json).id as string
    expect(await principalAccount(loanId)).toEqual({ debits_posted: 5000000n, credits_posted: 0n, debits_pending: 0n, credits_pending: 0n })
    const loan = await ok('GET', `/v1/loans/${loanId}`, operator)
    expect(loan.loan).toMatchObject({ status: 'active', principalMinor: '5000000', upfrontFeeMinor: '50000' })
    expect(Number((loan.loan as Json).annualRatePct)).toBe(nominal)
    // Accepting again answers with the same loan and payout, and pays nothing twice.
    const again = await ok('POST', `/v1/offers/${offer.id as string}/accept`, operator)
    expect(again).toMatchObject({ loan: { id: loanId }, payout: { id: (accepted.payout as Json).id, status: 'succeeded' } })
    await ledgerBalances()
  })

  it('declines with reasons in English and Chinese', async () => {
    const response = await apply({ enterpriseId: stranger })
    expect(response.status).toBe(201)
    expect(response.body.outcome).toBe('declined')
    expect(response.body.offer).toBeNull()
    const codes = (response.body.reasons as { code: string; zh: string; en: string }[])
    expect(codes.map((r) => r.code)).toContain('no_credit_consent')
    expect(codes.find((r) => r.code === 'no_credit_consent')).toMatchObject({ zh: '未获得您的征信查询授权', en: expect.stringContaining('consent') })
    // A borrower cannot apply for, or read, another enterprise's application.
    expect((await apply({ enterpriseId: stranger }, borrower)).status).toBe(403)
    expect((await call('GET', `/v1/applications/${response.body.id as string}`, borrower)).status).toBe(404)
  })

  it('decides deterministically: same inputs and versions, same decision, and the stored inputs replay to it', async () => {
    const first = (await apply({ amountMinor: '2000000' })).body
    const second = (await apply({ amountMinor: '2000000' })).body
    const a = await ok('GET', `/v1/applications/${first.id as string}`, operator)
    const b = await ok('GET', `/v1/applications/${second.id as string}`, operator)
    expect(b.strategy).toEqual(a.strategy)
    expect(b.model).toEqual(a.model)
    // An open offer is not a loan: the first application changed nothing the second reads.
    expect(b.inputs).toEqual(a.inputs)
    expect(b.decision).toEqual(a.decision)
    const compiled = compileStrategy({ ...strategyDocument(), version: (a.strategy as Json).version })
    if (!compiled.ok) throw new Error('compiles')
    const replay = decide(compiled.strategy, a.inputs as Json)
    expect(replay.trace).toEqual((a.decision as Json).trace)
    expect(replay.outcome).toBe((a.decision as Json).engineOutcome)
  })

  it('scores with a pinned model version when the document names one, and refuses an unregistered one', async () => {
    await publishStrategy(strategyDocument({ name: 'sme-310-pinned', models: [{ name: 'sme', version: 7, output: 'score' }] }))
    expect(await apply({ strategy: 'sme-310-pinned' })).toMatchObject({ status: 422, body: { code: 'no_champion_model' } })
    await publishStrategy(strategyDocument({ name: 'sme-310-v1', models: [{ name: 'sme', version: 1, output: 'score' }] }))
    expect((await apply({ strategy: 'sme-310-v1', amountMinor: '2000000' })).body).toMatchObject({ outcome: 'approved', model: { version: 1 } })
    expect(await apply({ strategy: 'no-such-strategy' })).toMatchObject({ status: 422, body: { code: 'no_active_strategy' } })
  })

  it('never offers above the cap: an APR with the fee above 24 % refers the application', async () => {
    const grid = [{ annualRatePct: '23.5' }]
    await publishStrategy(strategyDocument({ name: 'sme-310-pricey', pricing: { capAnnualRatePct: '24', grid } }))
    const response = await apply({ strategy: 'sme-310-pricey', termMonths: 3 })
    expect(response.body).toMatchObject({ outcome: 'referred', offer: null })
    expect((response.body.reasons as Json[]).map((r) => r.code)).toEqual(['apr_above_cap'])
  })
})

describe('payout through the rail', () => {
  it('a definite failure voids the pending transfer and leaves no active loan', async () => {
    const offer = await approvedOffer()
    const bank = createSimulatedBank({ mode: 'fail' })
    const result = await acceptOffer(payoutDeps(bank), { tenantId, offerId: offer.id as string, enterpriseId: null })
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.payout).toMatchObject({ status: 'failed', attempts: 1 })
    expect(result.offer.status).toBe('payout_failed')
    expect(await loanStatus(result.loan.id)).toBe('approved')
    expect(await principalAccount(result.loan.id)).toEqual({ debits_posted: 0n, credits_posted: 0n, debits_pending: 0n, credits_pending: 0n })
    const voided = await inTenant(t.database.db, tenantId, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from ledger_transfers where pending_id = ${result.payout.pendingTransferId} and kind = 3`.execute(trx)).rows[0]?.n)
    expect(voided).toBe(1)
    expect(await call('POST', `/v1/offers/${offer.id as string}/accept`, operator)).toMatchObject({ status: 409, body: { code: 'offer_not_open' } })
    await ledgerBalances()
  })

  it('refuses an expired offer without originating anything', async () => {
    const offer = await approvedOffer()
    const later = { now: () => new Date(Date.parse(offer.expiresAt as string) + 1) }
    const loansBefore = await inTenant(t.database.db, tenantId, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from loans`.execute(trx)).rows[0]?.n)
    expect(await acceptOffer({ ...payoutDeps(createSimulatedBank()), clock: later }, { tenantId, offerId: offer.id as string, enterpriseId: null })).toEqual({ status: 'offer_expired' })
    expect(await inTenant(t.database.db, tenantId, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from loans`.execute(trx)).rows[0]?.n)).toBe(loansBefore)
  })

  for (const [mode, settled] of [['timeout_then_succeeded', 'succeeded'], ['timeout_then_failed', 'failed']] as [SimulatedPayoutMode, string][]) {
    it(`a timeout leaves the transfer pending, and reconciliation settles it (${settled})`, async () => {
      const offer = await approvedOffer()
      const bank = createSimulatedBank({ mode, pendingQueries: 1 })
      const deps = payoutDeps(bank)
      const result = await acceptOffer(deps, { tenantId, offerId: offer.id as string, enterpriseId: null })
      if (result.status !== 'ok') throw new Error(result.status)
      expect(result.payout.status).toBe('unknown')
      expect(await loanStatus(result.loan.id)).toBe('approved')
      expect(await principalAccount(result.loan.id)).toMatchObject({ debits_posted: 0n, debits_pending: 4950000n })
      // While the outcome is unknown, the loan cannot be paid out again through the servicing route.
      const direct = await call('POST', `/v1/loans/${result.loan.id}/disburse`, admin)
      expect(direct.status).toBe(409)
      expect((direct.body as { code: string }).code).toBe('loan_disbursement_pending')
      // The rail has not decided yet: nothing is voided, nothing posted.
      expect(await reconcilePayouts(deps, { tenantId })).toMatchObject({ examined: 1, stillUnknown: 1 })
      expect(await principalAccount(result.loan.id)).toMatchObject({ debits_posted: 0n, debits_pending: 4950000n })
      expect(await reconcilePayouts(deps, { tenantId })).toMatchObject({ examined: 1, [settled]: 1 })
      if (settled === 'succeeded') {
        expect(await loanStatus(result.loan.id)).toBe('active')
        expect(await principalAccount(result.loan.id)).toEqual({ debits_posted: 5000000n, credits_posted: 0n, debits_pending: 0n, credits_pending: 0n })
      } else {
        expect(await loanStatus(result.loan.id)).toBe('approved')
        expect(await principalAccount(result.loan.id)).toEqual({ debits_posted: 0n, credits_posted: 0n, debits_pending: 0n, credits_pending: 0n })
      }
      expect(bank.sendCalls()).toBe(1)
      expect(await ok('POST', '/v1/payouts/reconcile', admin)).toMatchObject({ examined: 0 })
      expect((await call('POST', '/v1/payouts/reconcile', operator)).status).toBe(403)
      await ledgerBalances()
    })
  }
})

/**
 * Servicing on the ledger against a real PostgreSQL, through HTTP and the service: products, origination,
 * disbursement, repayments (on time, late and partial, pay-off), waivers, write-off and recovery, overpayment
 * and refund, a borrower's scope, idempotent replays and bad input. After every scenario the loan subledger
 * (installments + loan scalars) is reconciled with the ledger balances of the loans' and products' accounts,
 * and the ledger sums to zero.
 */
import { sql, type Kysely } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import type { DB } from '../src/db/schema.ts'
import {
  closeLoanDayForLoan, loadLoan, measureSubledgerBalances, projectLoan, rulesOfProduct, findProduct, type LoanRecord, type ServicingContext,
} from '../src/loans/index.ts'
import { createTestApp, type TestApp } from './support/app.ts'

let t: TestApp
let tenantId: string
let admin: string
let operator: string
let borrower: string
let shop: string
let other: string
let product: string
let feeProduct: string
const auth = (key: string) => ({ authorization: `Bearer ${key}` })
const d = (text: string) => Temporal.PlainDate.from(text)
const ctx = (): ServicingContext => ({ tenantId, ids: uuidv7Source, now: new Date() })

type Json = Record<string, unknown>
async function call(method: 'GET' | 'POST', url: string, key: string, payload?: Json, headers: Record<string, string> = {}) {
  const response = await t.app.inject({ method, url, headers: { ...auth(key), ...headers }, ...(payload === undefined ? {} : { payload }) })
  return { status: response.statusCode, body: response.json() as Json & { loan: Json; transaction: Json; code?: string }, headers: response.headers }
}
async function ok(method: 'GET' | 'POST', url: string, key: string, payload?: Json) {
  const response = await call(method, url, key, payload)
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(300)
  return response.body
}

async function originate(body: Json): Promise<string> {
  const created = await ok('POST', '/v1/loans', operator, { productId: product, enterpriseId: shop, annualRatePct: '12', installments: 6, disbursedOn: '2024-01-15', principal: '12000.00', ...body })
  return created.id as string
}
async function disburse(loanId: string) {
  return ok('POST', `/v1/loans/${loanId}/disburse`, operator, {})
}
async function closeThrough(loanId: string, date: string): Promise<LoanRecord> {
  const result = await inTenant(t.database.db, tenantId, (trx) => closeLoanDayForLoan(trx, ctx(), loanId, d(date)))
  if (result.status !== 'ok') throw new Error(result.status)
  return result.loan
}
async function load(loanId: string): Promise<LoanRecord> {
  const loan = await inTenant(t.database.db, tenantId, (trx) => loadLoan(trx, tenantId, loanId, { forUpdate: false }))
  if (loan === undefined) throw new Error('no loan')
  return loan
}
async function repay(loanId: string, amountMinor: string, valueDate: string, key = operator) {
  return ok('POST', `/v1/loans/${loanId}/repayments`, key, { amountMinor, valueDate })
}

type AccountRow = { id: string; code: number; currency: string; debits_posted: bigint; credits_posted: bigint }
async function accounts(): Promise<Map<string, AccountRow>> {
  return inTenant(t.database.db, tenantId, async (trx) => new Map((await sql<AccountRow>`select id, code, currency, debits_posted, credits_posted from ledger_accounts`.execute(trx)).rows.map((r) => [r.id, r])))
}
async function journalSize(): Promise<bigint> {
  return inTenant(t.database.db, tenantId, async (trx) => (await sql<{ size: bigint }>`select coalesce((select size from ledger_journal_heads), 0)::bigint as size`.execute(trx)).rows[0]?.size ?? 0n)
}
const debitBalance = (a: AccountRow | undefined) => (a === undefined ? 0n : a.debits_posted - a.credits_posted)

/**
 * The subledger agrees with the ledger: each loan's 1201 and 2201, each product's 1202/1203/1204 and the
 * tenant's 1291, 2401 and 4004; Σ debits = Σ credits over the tenant's accounts.
 */
async function reconcile(): Promise<void> {
  const [all, gl, loans] = await Promise.all([
    accounts(),
    inTenant(t.database.db, tenantId, async (trx) => (await sql<{ code: number; product_id: string | null; account_id: string }>`select code, product_id, account_id from ledger_gl_accounts`.execute(trx)).rows),
    inTenant(t.database.db, tenantId, async (trx) => {
      const ids = (await sql<{ id: string }>`select id from loans order by id`.execute(trx)).rows
      return Promise.all(ids.map(async (row) => (await loadLoan(trx, tenantId, row.id, { forUpdate: false })) as LoanRecord))
    }),
  ])
  let debits = 0n
  let credits = 0n
  for (const account of all.values()) {
    debits += account.debits_posted
    credits += account.credits_posted
  }
  expect(debits).toBe(credits)
  const glOf = (code: number, productId: string | null = null) => all.get(gl.find((g) => g.code === code && g.product_id === productId)?.account_id ?? '')
  const perProduct = new Map<string, { interest: bigint; fees: bigint; penalties: bigint }>()
  let provision = 0n
  let deferredFees = 0n
  let recovered = 0n
  for (const loan of loans) {
    const books = measureSubledgerBalances(loan)
    expect(debitBalance(all.get(loan.principalAccountId)), `1201 of ${loan.id}`).toBe(books.principalMinor)
    expect(-debitBalance(all.get(loan.walletAccountId)), `2201 of ${loan.id}`).toBe(books.walletMinor)
    const sums = perProduct.get(loan.productId) ?? { interest: 0n, fees: 0n, penalties: 0n }
    perProduct.set(loan.productId, { interest: sums.interest + books.interestReceivableMinor, fees: sums.fees + books.feesReceivableMinor, penalties: sums.penalties + books.penaltiesReceivableMinor })
    provision += books.provisionMinor
    if (loan.state.status !== 'approved') deferredFees += loan.upfrontFeeMinor
    recovered += loan.state.recoveredMinor
  }
  for (const [productId, sums] of perProduct) {
    expect(debitBalance(glOf(1202, productId)), `1202 of ${productId}`).toBe(sums.interest)
    expect(debitBalance(glOf(1203, productId)), `1203 of ${productId}`).toBe(sums.fees)
    expect(debitBalance(glOf(1204, productId)), `1204 of ${productId}`).toBe(sums.penalties)
  }
  expect(-debitBalance(glOf(1291)), '1291').toBe(provision)
  expect(-debitBalance(glOf(2401)), '2401').toBe(deferredFees)
  expect(-debitBalance(glOf(4004)), '4004').toBe(recovered)
}

const productBody = {
  name: 'Daily-interest term loan',
  currency: 'CNY',
  principalMinMinor: '100000',
  principalMaxMinor: '100000000',
  installmentsMin: 3,
  installmentsMax: 36,
  schedule: { interestPeriod: 'daily', daysInYear: '365' },
  annualRateCapPct: '24',
  upfrontFeePct: '1',
}

beforeAll(async () => {
  t = await createTestApp()
  tenantId = await t.createTenant('loans-co')
  admin = await t.createKey(tenantId, 'admin')
  operator = await t.createKey(tenantId, 'operator')
  shop = await t.createEnterprise(tenantId, 'Shop Ltd')
  other = await t.createEnterprise(tenantId, 'Other Ltd')
  borrower = await t.createKey(tenantId, 'borrower', shop)
  product = (await ok('POST', '/v1/loan-products', admin, productBody)).id as string
  feeProduct = (await ok('POST', '/v1/loan-products', admin, {
    ...productBody, name: 'With late fee', upfrontFeePct: '0', penaltyRules: { lateFeeFixedMinor: '3000', lateFeeGraceDays: 2 },
    allocationOrder: { components: ['interest', 'principal', 'penalties', 'fees'] },
  })).id as string
})
afterAll(async () => {
  await t.close()
})

describe('products', () => {
  it('are created by admins with defaults filled in, listed, and refused when inconsistent', async () => {
    const list = await ok('GET', '/v1/loan-products', borrower)
    expect((list.items as Json[]).map((p) => p.name)).toEqual(['Daily-interest term loan', 'With late fee'])
    expect((list.items as Json[])[0]).toMatchObject({ annualRateCapPct: '24', upfrontFeePct: '1', allocationOrder: { components: ['penalties', 'fees', 'interest', 'principal'] }, penaltyRules: { penaltyRateMultiplier: '1.5' }, tierThresholds: { substandardDpdMin: 91 } })
    expect((await call('POST', '/v1/loan-products', operator, productBody)).status).toBe(403)
    const inverted = await call('POST', '/v1/loan-products', admin, { ...productBody, principalMinMinor: '900', principalMaxMinor: '100' })
    expect(inverted).toMatchObject({ status: 422, body: { code: 'invalid_product' } })
    const badGrace = await call('POST', '/v1/loan-products', admin, { ...productBody, schedule: { graceOnPrincipalPeriods: 5 } })
    expect(badGrace).toMatchObject({ status: 422, body: { code: 'invalid_product' } })
  })
})

describe('origination and disbursement', () => {
  it('builds the schedule, opens the loan accounts, and posts the disbursement net of the fee', async () => {
    const loanId = await originate({})
    const approved = await ok('GET', `/v1/loans/${loanId}`, operator)
    expect(approved.loan).toMatchObject({ status: 'approved', principalMinor: '1200000', upfrontFeeMinor: '12000', maturityOn: '2024-07-15' })
    expect((approved.schedule as Json[])[0]).toMatchObject({ n: 1, dueOn: '2024-02-15', dueMinor: { principal: '194809', interest: '12230' } })
    expect(approved.postings).toEqual([])

    const disbursed = await disburse(loanId)
    expect(disbursed.loan).toMatchObject({ status: 'active' })
    expect(disbursed.transaction).toMatchObject({ kind: 'disbursement', valueDate: '2024-01-15', amountMinor: '1200000', allocation: { netMinor: '1188000', upfrontFeeMinor: '12000' } })
    const detail = await ok('GET', `/v1/loans/${loanId}`, operator)
    expect((detail.postings as Json[]).map((p) => p.amountMinor)).toEqual(['1188000', '12000'])
    expect(detail.accounts).toEqual([
      expect.objectContaining({ code: 1201, debitsPostedMinor: '1200000', creditsPostedMinor: '0' }),
      expect.objectContaining({ code: 2201, debitsPostedMinor: '0', creditsPostedMinor: '0' }),
    ])
    expect((await call('POST', `/v1/loans/${loanId}/disburse`, operator, {})).body.code).toBe('loan_not_approved')
    await reconcile()
  })

  it('refuses loans outside the product, naming the reason, and changes nothing', async () => {
    const before = await journalSize()
    const cases: [Json, number, string][] = [
      [{ annualRatePct: '24.5' }, 422, 'rate_above_cap'],
      [{ principal: '999.99' }, 422, 'principal_out_of_range'],
      [{ installments: 37 }, 422, 'term_out_of_range'],
      [{ productId: '01a20000-0000-7000-8000-000000000000' }, 422, 'product_not_found'],
      [{ enterpriseId: '01a20000-0000-7000-8000-000000000000' }, 422, 'enterprise_not_found'],
      [{ firstRepaymentOn: '2024-01-10' }, 400, 'invalid_schedule_spec'],
      [{ principal: '12000.001' }, 400, 'invalid_field'],
      [{ principalMinor: '1200000' }, 400, 'invalid_field'],
      [{ annualRatePct: 12 }, 400, 'wrong_type'],
    ]
    for (const [body, status, code] of cases) {
      const response = await call('POST', '/v1/loans', operator, { productId: product, enterpriseId: shop, annualRatePct: '12', installments: 6, principal: '12000.00', disbursedOn: '2024-01-15', ...body })
      expect(response.status, code).toBe(status)
      expect(response.body.code).toBe(code)
    }
    expect(await journalSize()).toBe(before)
  })
})

describe('repayments', () => {
  it('on time: follows the allocation order (interest before principal), then in advance', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    await closeThrough(loanId, '2024-02-14')
    const first = await repay(loanId, '10000', '2024-02-15')
    expect(first.transaction.allocation).toMatchObject({ totalsMinor: { interest: '10000', principal: '0' }, overpaymentMinor: '0' })
    const second = await repay(loanId, '197039', '2024-02-15')
    expect(second.transaction.allocation).toMatchObject({ totalsMinor: { interest: '2230', principal: '194809', fees: '0', penalties: '0' }, installments: [{ n: 1, interest: '2230', principal: '194809' }] })
    await closeThrough(loanId, '2024-02-20')
    expect(await load(loanId)).toMatchObject({ dpd: 0, tier: 'normal' })
    // More than is due goes to principal in advance (installment 2 onward).
    const advance = await repay(loanId, '50000', '2024-02-21')
    expect(advance.transaction.allocation).toMatchObject({ totalsMinor: { principal: expect.any(String) } })
    await reconcile()
  })

  it('late then partial: penalties, DPD, tier and provision (the worked example of docs/servicing.md), then a pay-off', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    const disbursed = await load(loanId)
    await closeThrough(loanId, '2024-02-20')
    const late = await closeThrough(loanId, '2024-03-05')
    expect(late).toMatchObject({ dpd: 19, bucket: '1-30', tier: 'special_mention', provisionMinor: 24000n })
    expect(late.state.installments[0]?.dueMinor.penalties).toBe(1825n)
    // Closing in two steps through the database (carries stored and read back) equals the pure projection.
    const pureProduct = await inTenant(t.database.db, tenantId, (trx) => findProduct(trx, tenantId, product))
    if (pureProduct === undefined) throw new Error('product')
    const projected = projectLoan(disbursed.state, d('2024-03-05'), rulesOfProduct(pureProduct))
    const stored = (await load(loanId)).state
    expect(stored.accrualCarryMinor.equals(projected.accrualCarryMinor)).toBe(true)
    expect(stored.installments.map((i) => i.penaltyCarryMinor.toFixed())).toEqual(projected.installments.map((i) => i.penaltyCarryMinor.toFixed()))
    expect({ ...stored, accrualCarryMinor: 0, installments: stored.installments.map((i) => ({ ...i, penaltyCarryMinor: 0 })) })
      .toEqual({ ...projected, accrualCarryMinor: 0, installments: projected.installments.map((i) => ({ ...i, penaltyCarryMinor: 0 })) })
    await reconcile()

    const partial = await repay(loanId, '150000', '2024-03-06')
    expect(partial.transaction.allocation).toMatchObject({ totalsMinor: { penalties: '1825', interest: '12230', principal: '135945' } })
    await closeThrough(loanId, '2024-03-09')
    expect((await load(loanId)).dpd).toBe(23)
    const quote = await ok('GET', `/v1/loans/${loanId}/payoff?on=2024-03-10`, borrower)
    expect(quote).toMatchObject({ totalMinor: '1072102', owedMinor: { principal: '1064055', interest: '7931', penalties: '116' } })
    expect((await call('GET', `/v1/loans/${loanId}/payoff?on=2024-03-09`, operator)).body.code).toBe('quote_date_before_last_close')
    await reconcile()

    // A second partial payment, then pay off exactly what the quote says: the loan closes, nothing is left.
    await repay(loanId, '20000', '2024-03-10')
    await closeThrough(loanId, '2024-03-11')
    const second = await ok('GET', `/v1/loans/${loanId}/payoff?on=2024-03-12`, operator)
    const payoff = await repay(loanId, second.totalMinor as string, '2024-03-12')
    expect(payoff.loan).toMatchObject({ status: 'closed', provisionMinor: '0', overpaymentMinor: '0', outstandingMinor: { principal: '0', interest: '0', fees: '0', penalties: '0' } })
    expect(payoff.transaction.allocation).toMatchObject({ settled: true, closed: true })
    expect((await call('POST', `/v1/loans/${loanId}/repayments`, operator, { amountMinor: '100', valueDate: '2024-03-13' })).body.code).toBe('loan_not_active')
    await reconcile()
  })

  it('prepayment: paying more than the pay-off puts the rest in the wallet; the refund pays it back', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    await closeThrough(loanId, '2024-02-01')
    const quote = await ok('GET', `/v1/loans/${loanId}/payoff?on=2024-02-02`, operator)
    const total = BigInt(quote.totalMinor as string)
    const paid = await repay(loanId, (total + 10000n).toString(), '2024-02-02')
    expect(paid.loan).toMatchObject({ status: 'closed', overpaymentMinor: '10000' })
    expect(paid.transaction.allocation).toMatchObject({ overpaymentMinor: '10000', settled: true })
    await reconcile()
    expect((await call('POST', `/v1/loans/${loanId}/refund`, operator, { amountMinor: '10001' })).body.code).toBe('exceeds_overpayment')
    const refund = await ok('POST', `/v1/loans/${loanId}/refund`, operator, { valueDate: '2024-02-03' })
    expect(refund.transaction).toMatchObject({ kind: 'refund', amountMinor: '10000' })
    expect(refund.loan).toMatchObject({ overpaymentMinor: '0' })
    expect((await call('POST', `/v1/loans/${loanId}/refund`, operator, {})).body.code).toBe('amount_must_be_positive')
    await reconcile()
  })
})

describe('prepayments (reduce installment, reduce term)', () => {
  const principalOutstanding = (detail: Json) => (detail.schedule as { outstandingMinor: { principal: string } }[]).reduce((sum, i) => sum + BigInt(i.outstandingMinor.principal), 0n)
  const prepay = (loanId: string, body: Json) => call('POST', `/v1/loans/${loanId}/prepayments`, operator, body)

  it('reduce_installment: accrued interest first, the rest prepays principal; same dates, lower installments; the books reconcile', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    await closeThrough(loanId, '2024-01-24')
    const before = await ok('GET', `/v1/loans/${loanId}`, operator)
    const response = await prepay(loanId, { amountMinor: '500000', mode: 'reduce_installment', valueDate: '2024-01-25' })
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    const allocation = (response.body.transaction as Json).allocation as Json
    expect(response.body.transaction).toMatchObject({ kind: 'prepayment', amountMinor: '500000' })
    const interest = BigInt((allocation.totalsMinor as Json).interest as string)
    expect(interest).toBeGreaterThan(0n)
    expect(BigInt(allocation.prepaidPrincipalMinor as string)).toBe(500000n - interest)
    const after = await ok('GET', `/v1/loans/${loanId}`, operator)
    const dates = (x: Json) => (x.schedule as Json[]).map((i) => i.dueOn)
    expect(dates(after)).toEqual(dates(before))
    expect(principalOutstanding(after)).toBe(1200000n - (500000n - interest))
    const installment = (x: Json, n: number) => BigInt(((x.schedule as Json[])[n] as { dueMinor: { principal: string } }).dueMinor.principal)
    expect(installment(after, 2)).toBeLessThan(installment(before, 2))
    expect((allocation.schedule as Json[]).length).toBe(6)
    await reconcile()
  })

  it('reduce_term: the installment kept, the last dates dropped, maturity earlier; then a pay-off closes the loan', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    await closeThrough(loanId, '2024-01-24')
    const response = await prepay(loanId, { amountMinor: '600000', mode: 'reduce_term', valueDate: '2024-01-25' })
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    const after = await ok('GET', `/v1/loans/${loanId}`, operator)
    const schedule = after.schedule as Json[]
    expect(schedule.length).toBeLessThan(6)
    expect((after.loan as Json).maturityOn).toBe(schedule.at(-1)?.dueOn)
    expect(((response.body.transaction as Json).allocation as Json).schedule).toHaveLength(schedule.length)
    await reconcile()
    await closeThrough(loanId, '2024-02-01')
    const quote = await ok('GET', `/v1/loans/${loanId}/payoff?on=2024-02-02`, operator)
    const payoff = await repay(loanId, quote.totalMinor as string, '2024-02-02')
    expect(payoff.loan).toMatchObject({ status: 'closed' })
    await reconcile()
  })

  it('refuses a prepayment that pays no principal, or an unknown mode, changing nothing', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    await closeThrough(loanId, '2024-02-16')
    const before = await journalSize()
    const small = await prepay(loanId, { amountMinor: '1000', mode: 'reduce_installment', valueDate: '2024-02-17' })
    expect(small).toMatchObject({ status: 422, body: { code: 'prepayment_does_not_exceed_amount_due' } })
    expect((await prepay(loanId, { amountMinor: '1000', mode: 'shorter', valueDate: '2024-02-17' })).status).toBe(400)
    expect(await journalSize()).toBe(before)
    await reconcile()
  })
})

describe('rescheduling', () => {
  it('spreads the unpaid principal over a new schedule, keeps overdue charges owed, posts nothing, and floors the tier', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    await closeThrough(loanId, '2024-03-20')
    expect((await load(loanId)).dpd).toBeGreaterThan(0)
    const journal = await journalSize()
    const response = await call('POST', `/v1/loans/${loanId}/reschedule`, operator, { installments: 12, annualRatePct: '10', valueDate: '2024-03-21' })
    expect(response.status, JSON.stringify(response.body)).toBe(200)
    expect(response.body.transaction).toMatchObject({ kind: 'reschedule', amountMinor: '0', allocation: { movedPrincipalMinor: '1200000', installments: 12, annualRatePct: '10' } })
    expect(await journalSize()).toBe(journal)
    const detail = await ok('GET', `/v1/loans/${loanId}`, operator)
    const schedule = detail.schedule as { n: number; dueOn: string; outstandingMinor: { principal: string; interest: string } }[]
    expect(schedule).toHaveLength(14)
    expect(schedule.slice(0, 2).map((i) => i.outstandingMinor.principal)).toEqual(['0', '0'])
    for (const i of schedule.slice(0, 2)) expect(BigInt(i.outstandingMinor.interest)).toBeGreaterThan(0n)
    expect(schedule.reduce((sum, i) => sum + BigInt(i.outstandingMinor.principal), 0n)).toBe(1200000n)
    expect(detail.loan).toMatchObject({ annualRatePct: '10', tier: 'special_mention', maturityOn: schedule.at(-1)?.dueOn })
    await reconcile()

    // Pay the overdue charges and the first new installment: current again, but never better than special mention.
    await closeThrough(loanId, '2024-04-22')
    const quoteDue = (await ok('GET', `/v1/loans/${loanId}`, operator)).schedule as { dueOn: string; outstandingMinor: Record<string, string> }[]
    const due = quoteDue.filter((i) => i.dueOn <= '2024-04-23').reduce((sum, i) => sum + Object.values(i.outstandingMinor).reduce((a, b) => a + BigInt(b), 0n), 0n)
    await repay(loanId, (due + 100000n).toString(), '2024-04-23')
    await closeThrough(loanId, '2024-04-24')
    expect(await load(loanId)).toMatchObject({ dpd: 0, tier: 'special_mention' })
    await reconcile()
  })

  it('refuses terms it cannot build, a rate above the cap, and loans that are not active, changing nothing', async () => {
    const loanId = await originate({})
    const notActive = await call('POST', `/v1/loans/${loanId}/reschedule`, operator, { installments: 6 })
    expect(notActive).toMatchObject({ status: 422, body: { code: 'loan_not_active' } })
    await disburse(loanId)
    await closeThrough(loanId, '2024-01-30')
    const version = (await load(loanId)).version
    const grace = await call('POST', `/v1/loans/${loanId}/reschedule`, operator, { installments: 3, graceOnPrincipalPeriods: 3, valueDate: '2024-01-31' })
    expect(grace).toMatchObject({ status: 422, body: { code: 'invalid_reschedule_terms' } })
    const dear = await call('POST', `/v1/loans/${loanId}/reschedule`, operator, { installments: 6, annualRatePct: '30', valueDate: '2024-01-31' })
    expect(dear).toMatchObject({ status: 422, body: { code: 'rate_above_cap' } })
    expect((await call('POST', `/v1/loans/${loanId}/reschedule`, borrower, { installments: 6 })).status).toBe(403)
    expect((await load(loanId)).version).toBe(version)
  })
})

describe('back-dated repayments (value date on a closed day)', () => {
  const shape = (loan: LoanRecord) => ({
    installments: loan.state.installments.map((i) => ({ n: i.n, due: i.dueMinor, paid: i.paidMinor, late: i.lateFeeChargedOn?.toString() ?? null, carry: i.penaltyCarryMinor.toFixed() })),
    accrued: loan.state.accruedInterestMinor, carry: loan.state.accrualCarryMinor.toFixed(), wallet: loan.state.overpaymentMinor, dpd: loan.dpd, tier: loan.tier,
    provision: loan.provisionMinor, status: loan.state.status,
  })

  it('re-runs the loan from the value date: the same loan as if paid on that day, the books corrected and reconciled', async () => {
    // Twin A is paid on time; twin B is closed through a later day first, then paid back-dated.
    const a = await originate({})
    const b = await originate({})
    await disburse(a)
    await disburse(b)
    await closeThrough(a, '2024-02-14')
    await repay(a, '207039', '2024-02-15')
    await closeThrough(a, '2024-03-01')
    await repay(a, '50000', '2024-03-02')
    await closeThrough(a, '2024-03-20')
    await closeThrough(b, '2024-02-20')
    await repay(b, '50000', '2024-03-02')
    await closeThrough(b, '2024-03-20')
    expect((await load(b)).dpd).toBeGreaterThan(0)
    const journal = await journalSize()
    const rerun = await repay(b, '207039', '2024-02-15')
    expect(rerun.transaction).toMatchObject({ kind: 'repayment', valueDate: '2024-02-15', allocation: { rerunFrom: '2024-02-15', rerunThrough: '2024-03-20' } })
    expect(await journalSize()).toBeGreaterThan(journal)
    expect(shape(await load(b))).toEqual(shape(await load(a)))
    await reconcile()
  })

  it('a back-dated payment that repays everything closes the loan', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    await closeThrough(loanId, '2024-02-10')
    const quote = await ok('GET', `/v1/loans/${loanId}/payoff?on=2024-02-11`, operator)
    await closeThrough(loanId, '2024-02-25')
    const rerun = await repay(loanId, quote.totalMinor as string, '2024-02-11')
    expect(rerun.loan).toMatchObject({ status: 'closed', provisionMinor: '0' })
    await reconcile()
  })

  it('refuses a loan whose history it cannot replay, changing nothing', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    await closeThrough(loanId, '2024-02-20')
    await ok('POST', `/v1/loans/${loanId}/waivers`, operator, { n: 1, component: 'penalties', amountMinor: '10', valueDate: '2024-02-21' })
    await closeThrough(loanId, '2024-02-25')
    const journal = await journalSize()
    const refused = await call('POST', `/v1/loans/${loanId}/repayments`, operator, { amountMinor: '1000', valueDate: '2024-02-16' })
    expect(refused).toMatchObject({ status: 409, body: { code: 'value_date_rerun_not_supported' } })
    expect(await journalSize()).toBe(journal)
  })
})

describe('late fees, waivers, non-accrual, write-off and recovery', () => {
  let loanId: string
  it('charges the late fee after the grace days and waives it, reversing the income', async () => {
    loanId = await originate({ productId: feeProduct })
    await disburse(loanId)
    const late = await closeThrough(loanId, '2024-02-18')
    expect(late.state.installments[0]?.dueMinor.fees).toBe(3000n)
    expect(late.state.installments[0]?.lateFeeChargedOn?.toString()).toBe('2024-02-18')
    await reconcile()
    const waiver = await ok('POST', `/v1/loans/${loanId}/waivers`, operator, { n: 1, component: 'fees', amountMinor: '3000', valueDate: '2024-02-19' })
    expect(waiver.transaction).toMatchObject({ kind: 'waiver', allocation: { component: 'fees' } })
    const bad = [
      [{ n: 1, component: 'principal', amountMinor: '1' }, 'principal_cannot_be_waived'],
      [{ n: 9, component: 'interest', amountMinor: '1' }, 'installment_not_found'],
      [{ n: 1, component: 'fees', amountMinor: '1' }, 'exceeds_outstanding'],
      // Interest of a later period that has not accrued yet is not on the books: it cannot be waived.
      [{ n: 3, component: 'interest', amountMinor: '1' }, 'exceeds_outstanding'],
    ] as const
    for (const [body, code] of bad) expect((await call('POST', `/v1/loans/${loanId}/waivers`, operator, { ...body, valueDate: '2024-02-20' })).body.code).toBe(code)
    await ok('POST', `/v1/loans/${loanId}/waivers`, operator, { n: 1, component: 'interest', amountMinor: '1000', valueDate: '2024-02-20' })
    await reconcile()
  })

  it('goes non-accrual past 90 DPD (interest reserved, later charges off-balance), is written off, then recovers cash', async () => {
    const nonAccrual = await closeThrough(loanId, '2024-05-20')
    expect(nonAccrual).toMatchObject({ tier: 'substandard', bucket: '91+' })
    expect(nonAccrual.state.nonAccrual).toBe(true)
    expect(nonAccrual.state.suspendedInterestMinor).toBeGreaterThan(0n)
    await reconcile()
    // Cash while non-accrual goes principal first.
    const paid = await repay(loanId, '50000', '2024-05-21')
    expect(paid.transaction.allocation).toMatchObject({ totalsMinor: { principal: '50000' } })
    await reconcile()
    expect((await call('POST', `/v1/loans/${loanId}/recoveries`, operator, { amountMinor: '100' })).body.code).toBe('loan_not_written_off')
    const writeOff = await ok('POST', `/v1/loans/${loanId}/write-off`, operator, { valueDate: '2024-05-25' })
    expect(writeOff.loan).toMatchObject({ status: 'written_off', tier: 'loss', provisionMinor: '0', outstandingMinor: { principal: '0', interest: '0', fees: '0', penalties: '0' } })
    expect(BigInt(writeOff.loan.writtenOffMinor as string)).toBeGreaterThan(0n)
    await reconcile()
    expect((await call('POST', `/v1/loans/${loanId}/repayments`, operator, { amountMinor: '100', valueDate: '2024-05-26' })).body.code).toBe('loan_not_active')
    const recovery = await ok('POST', `/v1/loans/${loanId}/recoveries`, operator, { amountMinor: '80000', valueDate: '2024-06-01' })
    expect(recovery.loan).toMatchObject({ recoveredMinor: '80000' })
    await reconcile()
  })
})

describe('access, idempotency and bad input', () => {
  it("limits a borrower to its own enterprise's loans, which it may read, quote and repay", async () => {
    const own = await originate({})
    await disburse(own)
    const theirs = await originate({ enterpriseId: other })
    expect((await call('GET', `/v1/loans/${theirs}`, borrower)).status).toBe(404)
    expect((await call('GET', `/v1/loans/${theirs}/payoff?on=2024-01-20`, borrower)).status).toBe(404)
    expect((await call('POST', `/v1/loans/${theirs}/repayments`, borrower, { amountMinor: '100', valueDate: '2024-01-20' })).status).toBe(404)
    expect((await call('POST', `/v1/loans/${own}/disburse`, borrower, {})).status).toBe(403)
    const list = await ok('GET', '/v1/loans', borrower)
    expect((list.items as Json[]).every((l) => l.enterpriseId === shop)).toBe(true)
    expect((await ok('GET', `/v1/loans?enterpriseId=${other}`, borrower)).items).toEqual([])
    expect(((await ok('GET', `/v1/loans?enterpriseId=${other}`, operator)).items as Json[]).map((l) => l.id)).toEqual([theirs])
    expect(((await ok('GET', '/v1/loans?status=approved', operator)).items as Json[]).map((l) => l.id)).toEqual([theirs])
    expect((await call('GET', `/v1/loans/${own}`, borrower)).status).toBe(200)
    await repay(own, '1000', '2024-01-20', borrower)
    // Paging: one at a time, every loan once.
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: Json = await ok('GET', `/v1/loans?limit=1${cursor === null ? '' : `&after=${cursor}`}`, operator)
      seen.push(...(page.items as Json[]).map((l) => l.id as string))
      cursor = page.nextCursor as string | null
    } while (cursor !== null)
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen.length).toBe(((await ok('GET', '/v1/loans?limit=500', operator)).items as Json[]).length)
    await reconcile()
  })

  it('replays a repayment with the same Idempotency-Key: same answer, one posting', async () => {
    const loanId = await originate({})
    await disburse(loanId)
    const body = { amountMinor: '5000', valueDate: '2024-01-25' }
    const first = await call('POST', `/v1/loans/${loanId}/repayments`, operator, body, { 'idempotency-key': `repay-${loanId}` })
    const size = await journalSize()
    const again = await call('POST', `/v1/loans/${loanId}/repayments`, operator, body, { 'idempotency-key': `repay-${loanId}` })
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toEqual(first.body)
    expect(await journalSize()).toBe(size)
    const detail = await ok('GET', `/v1/loans/${loanId}`, operator)
    expect((detail.transactions as Json[]).filter((x) => x.kind === 'repayment')).toHaveLength(1)
    const reused = await call('POST', `/v1/loans/${loanId}/repayments`, operator, { ...body, amountMinor: '5001' }, { 'idempotency-key': `repay-${loanId}` })
    expect(reused.body.code).toBe('idempotency_key_reused')
    await reconcile()
  })

  it('answers bad input with problem+json and changes nothing', async () => {
    const loanId = await originate({})
    const before = await load(loanId)
    const size = await journalSize()
    const expectProblem = async (url: string, payload: Json, status: number, code: string) => {
      const response = await t.app.inject({ method: 'POST', url, headers: auth(operator), payload })
      expect(response.statusCode, code).toBe(status)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect((response.json() as Json).code).toBe(code)
    }
    await expectProblem(`/v1/loans/${loanId}/repayments`, { amountMinor: '100', valueDate: '2024-01-20' }, 422, 'loan_not_active')
    await disburse(loanId)
    const disbursed = await load(loanId)
    const afterDisbursement = await journalSize()
    expect(afterDisbursement).toBeGreaterThan(size)
    await expectProblem(`/v1/loans/${loanId}/repayments`, { amountMinor: '0', valueDate: '2024-01-20' }, 422, 'amount_must_be_positive')
    await expectProblem(`/v1/loans/${loanId}/repayments`, { amountMinor: 100, valueDate: '2024-01-20' }, 400, 'wrong_type')
    await expectProblem(`/v1/loans/${loanId}/repayments`, { amountMinor: '-5', valueDate: '2024-01-20' }, 400, 'invalid_field')
    await expectProblem(`/v1/loans/${loanId}/repayments`, { amountMinor: '100', valueDate: '2024-01-14' }, 422, 'value_date_before_disbursement')
    await expectProblem(`/v1/loans/${loanId}/repayments`, { amountMinor: '100', valueDate: '2999-01-01' }, 422, 'value_date_in_future')
    await expectProblem(`/v1/loans/${loanId}/repayments`, { amountMinor: '100', colour: 'red' }, 400, 'unknown_field')
    await expectProblem(`/v1/loans/01a20000-0000-7000-8000-000000000000/repayments`, { amountMinor: '100' }, 404, 'not_found')
    await expectProblem(`/v1/loans/${loanId}/write-off`, { valueDate: '2024-01-10' }, 422, 'value_date_before_last_close')
    expect(await journalSize()).toBe(afterDisbursement)
    const after = await load(loanId)
    expect(after.version).toBe(disbursed.version)
    expect(after.state).toEqual(disbursed.state)
    expect(before.state.status).toBe('approved')
    await reconcile()
  })
})

describe('loan detail', () => {
  it('reads a loan serviced for three years (daily accruals, monthly repayments) in a single-digit number of queries', async () => {
    const loanId = await originate({ installments: 36, disbursedOn: '2023-01-10' })
    await disburse(loanId)
    for (const installment of (await load(loanId)).state.installments) {
      await closeThrough(loanId, installment.dueOn.subtract({ days: 1 }).toString())
      await repay(loanId, (installment.dueMinor.principal + installment.dueMinor.interest).toString(), installment.dueOn.toString())
    }
    expect((await load(loanId)).state.status).toBe('closed')
    let queries = 0
    const counted: Kysely<DB> = t.database.db.withPlugin({ transformQuery: (args) => { queries++; return args.node }, transformResult: async (args) => args.result })
    const { readLoanDetail } = await import('../src/loans/index.ts')
    const detail = await inTenant(counted, tenantId, (trx) => readLoanDetail(trx, tenantId, loanId, { enterpriseId: null, transactionsMax: 20 }))
    expect(detail?.loan.state.installments).toHaveLength(36)
    expect(detail?.transactions).toHaveLength(20)
    expect(detail?.transactionsBefore).toBe(detail?.transactions[0]?.id)
    expect(queries).toBeLessThan(10)
    // Its speed is measured by `npm run bench -- cob` (loan_detail_p99_ms), never asserted here.
    const response = await t.app.inject({ url: `/v1/loans/${loanId}`, headers: auth(operator) })
    expect(response.statusCode).toBe(200)
    type Page = { transactions: { id: string; transferIds: string[] }[]; postings: { id: string }[]; transactionsBefore: string | null }
    const whole = response.json() as Page
    expect(whole.transactionsBefore).toBeNull() // fewer than the detail's 100
    const newest = await t.app.inject({ url: `/v1/loans/${loanId}/transactions?limit=10`, headers: auth(operator) })
    const first = newest.json() as Page
    expect(first.transactions.map((tx) => tx.id)).toEqual(whole.transactions.slice(-10).map((tx) => tx.id))

    // Older transactions page through GET /v1/loans/:id/transactions until the cursor is null: every transaction
    // exactly once, newest page first, each page oldest first, with exactly its transfers as postings.
    const seen: string[] = []
    let page = first
    for (;;) {
      expect(page.transactions.map((tx) => tx.id)).toEqual([...page.transactions.map((tx) => tx.id)].sort())
      expect(new Set(page.postings.map((p) => p.id))).toEqual(new Set(page.transactions.flatMap((tx) => tx.transferIds)))
      seen.unshift(...page.transactions.map((tx) => tx.id))
      if (page.transactionsBefore === null) break
      const next = await t.app.inject({ url: `/v1/loans/${loanId}/transactions?before=${page.transactionsBefore}&limit=10`, headers: auth(operator) })
      expect(next.statusCode).toBe(200)
      page = next.json()
    }
    const all = await inTenant(t.database.db, tenantId, (trx) => sql<{ id: string }>`select id from loan_transactions where loan_id = ${loanId} order by id`.execute(trx))
    expect(all.rows.length).toBeGreaterThan(60)
    expect(seen).toEqual(all.rows.map((row) => row.id))
    const unknown = await t.app.inject({ url: `/v1/loans/${uuidv7Source.next()}/transactions`, headers: auth(operator) })
    expect(unknown.statusCode).toBe(404)
    await reconcile()
  })
})

/**
 * The set-based close of business against its oracle, the per-loan `closeLoanDayForLoan` loop: two tenants get
 * the same products and the same loans (originated, disbursed, some repaid on time, some partly, some paid off,
 * the rest left late into non-accrual); tenant A is closed by `runCloseOfBusiness`, tenant B loan by loan. Every
 * loan's scalars and installments must be equal, both ledgers must reconcile with their subledgers, and a day
 * run twice must change nothing. Also: the SQL decimal helpers agree with decimal.js (RateDecimal).
 */
import { sql } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuidv7Source } from '../src/core/ids.ts'
import { RateDecimal, decimalRounding, roundings } from '../src/core/rate.ts'
import { inTenant } from '../src/db/database.ts'
import { closeLoanDayForLoan, loadLoan, measureSubledgerBalances, type LoanRecord } from '../src/loans/index.ts'
import { runCloseOfBusiness } from '../src/loans/cob.ts'
import { createTestApp, type TestApp } from './support/app.ts'

let t: TestApp
type Side = { tenantId: string; admin: string; operator: string; shop: string; products: string[]; loans: string[] }
let a: Side
let b: Side
const deps = { ids: uuidv7Source, now: () => new Date() }
type Json = Record<string, unknown>

async function ok(method: 'GET' | 'POST', url: string, key: string, payload?: Json): Promise<Json> {
  const response = await t.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload }) })
  expect(response.statusCode, response.body).toBeLessThan(300)
  return response.json() as Json
}

const products: Json[] = [
  { name: 'Daily 365', currency: 'CNY', principalMinMinor: '100000', principalMaxMinor: '100000000', installmentsMin: 2, installmentsMax: 36,
    schedule: { interestPeriod: 'daily', daysInYear: '365' }, annualRateCapPct: '24', upfrontFeePct: '1' },
  { name: 'Actual, late fee, tolerance', currency: 'CNY', principalMinMinor: '100000', principalMaxMinor: '100000000', installmentsMin: 2, installmentsMax: 36,
    schedule: { daysInYear: 'actual', rounding: 'half_up' }, annualRateCapPct: '24', upfrontFeePct: '0',
    penaltyRules: { lateFeeFixedMinor: '3000', lateFeePct: '1.5', lateFeeGraceDays: 3, penaltyRounding: 'down' },
    tierThresholds: { specialMentionDpdMin: 5, substandardDpdMin: 60, doubtfulDpdMin: 120, lossDpdMin: 180 }, toleranceMinor: '100',
    provisionRounding: 'half_even', nonAccrualDpdMin: 61 },
  { name: '360, equal principal', currency: 'CNY', principalMinMinor: '100000', principalMaxMinor: '100000000', installmentsMin: 2, installmentsMax: 36,
    schedule: { daysInYear: '360', amortization: 'equal_principal', interestPeriod: 'daily', rounding: 'up' }, annualRateCapPct: '36',
    penaltyRules: { penaltyRateMultiplier: '1.3', penaltyRounding: 'half_even' } },
]

async function makeSide(slug: string): Promise<Side> {
  const tenantId = await t.createTenant(slug)
  const admin = await t.createKey(tenantId, 'admin')
  const operator = await t.createKey(tenantId, 'operator')
  const shop = await t.createEnterprise(tenantId, 'Shop Ltd')
  const ids: string[] = []
  for (const body of products) ids.push((await ok('POST', '/v1/loan-products', admin, body)).id as string)
  return { tenantId, admin, operator, shop, products: ids, loans: [] }
}

/** A deterministic pseudo-random sequence, so both tenants get the same loans. */
function lcg(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
}

const loanCount = 240

async function load(side: Side, loanId: string): Promise<LoanRecord> {
  const loan = await inTenant(t.database.db, side.tenantId, (trx) => loadLoan(trx, side.tenantId, loanId, { forUpdate: false }))
  if (loan === undefined) throw new Error('no loan')
  return loan
}

async function closePerLoan(side: Side, through: string): Promise<void> {
  for (const loanId of side.loans) {
    await inTenant(t.database.db, side.tenantId, (trx) => closeLoanDayForLoan(trx, { tenantId: side.tenantId, ids: uuidv7Source, now: new Date() }, loanId, Temporal.PlainDate.from(through)))
  }
}

async function closeSetBased(through: string): Promise<void> {
  const result = await runCloseOfBusiness(t.database.db, deps, a.tenantId, through)
  expect(result.status).toBe('ok')
}

function comparable(loan: LoanRecord): Json {
  const s = loan.state
  return {
    status: s.status, accruedThroughOn: s.accruedThroughOn.toString(), accruedInterestMinor: s.accruedInterestMinor, carry: s.accrualCarryMinor.toFixed(),
    overpaymentMinor: s.overpaymentMinor, nonAccrual: s.nonAccrual, suspendedInterestMinor: s.suspendedInterestMinor, suspendedFeesMinor: loan.suspendedFeesMinor,
    suspendedPenaltiesMinor: loan.suspendedPenaltiesMinor, dpd: loan.dpd, bucket: loan.bucket, tier: loan.tier, provisionMinor: loan.provisionMinor,
    installments: s.installments.map((i) => ({
      n: i.n, dueOn: i.dueOn.toString(), due: i.dueMinor, paid: i.paidMinor, waived: i.waivedMinor, lateFeeChargedOn: i.lateFeeChargedOn?.toString() ?? null,
      penaltyThroughOn: i.penaltyThroughOn?.toString() ?? null, penaltyCarry: i.penaltyCarryMinor.toFixed(),
    })),
  }
}

async function expectSidesEqual(): Promise<void> {
  for (const [index, loanId] of a.loans.entries()) {
    const left = await load(a, loanId)
    const right = await load(b, b.loans[index] as string)
    expect(comparable(left), `loan #${index}`).toEqual(comparable(right))
  }
}

type AccountRow = { id: string; code: number; debits_posted: bigint; credits_posted: bigint }
const debitBalance = (row: AccountRow | undefined) => (row === undefined ? 0n : row.debits_posted - row.credits_posted)

/** The ledger agrees with the subledger (per loan 1201 / 2201, per product 1202 / 1203 / 1204, 1291) and sums to zero. */
async function reconcile(side: Side): Promise<void> {
  const { all, gl } = await inTenant(t.database.db, side.tenantId, async (trx) => ({
    all: new Map((await sql<AccountRow>`select id, code, debits_posted, credits_posted from ledger_accounts`.execute(trx)).rows.map((r) => [r.id, r])),
    gl: (await sql<{ code: number; product_id: string | null; account_id: string }>`select code, product_id, account_id from ledger_gl_accounts`.execute(trx)).rows,
  }))
  let net = 0n
  for (const row of all.values()) net += row.debits_posted - row.credits_posted
  expect(net).toBe(0n)
  const glOf = (code: number, productId: string | null = null) => all.get(gl.find((g) => g.code === code && g.product_id === productId)?.account_id ?? '')
  const perProduct = new Map<string, { interest: bigint; fees: bigint; penalties: bigint }>()
  let provision = 0n
  for (const loanId of side.loans) {
    const loan = await load(side, loanId)
    const books = measureSubledgerBalances(loan)
    expect(debitBalance(all.get(loan.principalAccountId))).toBe(books.principalMinor)
    expect(-debitBalance(all.get(loan.walletAccountId))).toBe(books.walletMinor)
    const sums = perProduct.get(loan.productId) ?? { interest: 0n, fees: 0n, penalties: 0n }
    perProduct.set(loan.productId, { interest: sums.interest + books.interestReceivableMinor, fees: sums.fees + books.feesReceivableMinor, penalties: sums.penalties + books.penaltiesReceivableMinor })
    provision += books.provisionMinor
  }
  for (const [productId, sums] of perProduct) {
    expect(debitBalance(glOf(1202, productId)), `1202 of ${productId}`).toBe(sums.interest)
    expect(debitBalance(glOf(1203, productId)), `1203 of ${productId}`).toBe(sums.fees)
    expect(debitBalance(glOf(1204, productId)), `1204 of ${productId}`).toBe(sums.penalties)
  }
  expect(-debitBalance(glOf(1291)), '1291').toBe(provision)
}

beforeAll(async () => {
  t = await createTestApp()
  a = await makeSide('cob-set')
  b = await makeSide('cob-loop')
  const random = lcg(42)
  for (let k = 0; k < loanCount; k++) {
    const productIndex = Math.floor(random() * products.length)
    const disbursedOn = Temporal.PlainDate.from('2024-01-05').add({ days: Math.floor(random() * 45) }).toString()
    const body = {
      enterpriseId: '', annualRatePct: (6 + Math.floor(random() * 1700) / 100).toFixed(2), installments: 2 + Math.floor(random() * 10), disbursedOn,
      principal: `${1000 + Math.floor(random() * 200_000)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`,
    }
    for (const side of [a, b]) {
      const created = await ok('POST', '/v1/loans', side.operator, { ...body, productId: side.products[productIndex], enterpriseId: side.shop })
      await ok('POST', `/v1/loans/${created.id as string}/disburse`, side.operator, {})
      side.loans.push(created.id as string)
    }
  }
}, 300_000)
afterAll(async () => {
  await t.close()
})

describe('set-based close of business', () => {
  it('agrees with the per-loan loop, loan by loan, through catch-up, repayments and non-accrual; the ledgers reconcile', async () => {
    await closeSetBased('2024-02-04')
    await closePerLoan(b, '2024-02-04')
    await expectSidesEqual()
    await reconcile(a)
    await reconcile(b)

    // Repayments on the first due date: 40% in full, 10% half, 5% paid off; the rest stay late.
    const random = lcg(7)
    for (const [index, loanId] of a.loans.entries()) {
      const first = (await load(a, loanId)).state.installments[0]
      if (first === undefined) throw new Error('installment')
      const roll = random()
      const full = first.dueMinor.principal + first.dueMinor.interest
      const amount = roll < 0.4 ? full : roll < 0.5 ? full / 2n : roll < 0.55 ? full * 20n : 0n
      if (amount === 0n) continue
      for (const [side, id] of [[a, loanId], [b, b.loans[index] as string]] as const) {
        await ok('POST', `/v1/loans/${id}/repayments`, side.operator, { amountMinor: amount.toString(), valueDate: first.dueOn.toString() })
      }
    }
    await closeSetBased('2024-03-31')
    await closePerLoan(b, '2024-03-31')
    await expectSidesEqual()
    await closeSetBased('2024-07-20')
    await closePerLoan(b, '2024-07-20')
    await expectSidesEqual()
    await reconcile(a)
    await reconcile(b)

    const states = await Promise.all(a.loans.map((id) => load(a, id)))
    expect(states.some((l) => l.state.nonAccrual)).toBe(true)
    expect(states.some((l) => l.state.status === 'closed')).toBe(true)
    expect(new Set(states.map((l) => l.tier)).size).toBeGreaterThanOrEqual(3)
    expect(states.some((l) => l.state.installments.some((i) => i.dueMinor.penalties > 0n))).toBe(true)
    expect(states.some((l) => l.state.installments.some((i) => i.lateFeeChargedOn !== null))).toBe(true)
  }, 600_000)

  it('is idempotent: a day run twice changes nothing, and the business date was opened', async () => {
    const snapshot = async () => inTenant(t.database.db, a.tenantId, async (trx) => ({
      loans: (await sql`select * from loans order by id`.execute(trx)).rows,
      installments: (await sql`select * from loan_installments order by loan_id, n`.execute(trx)).rows,
      journal: (await sql`select size from ledger_journal_heads`.execute(trx)).rows,
    }))
    const before = await snapshot()
    const again = await runCloseOfBusiness(t.database.db, deps, a.tenantId, '2024-07-20')
    expect(again.status).toBe('already_closed')
    const earlier = await runCloseOfBusiness(t.database.db, deps, a.tenantId, '2024-05-01')
    expect(earlier.status).toBe('already_closed')
    expect(await snapshot()).toEqual(before)
  })

  it('opens D + 1 before closing D', async () => {
    const tenantId = await t.createTenant('cob-date')
    await inTenant(t.database.db, tenantId, (trx) => sql`update tenants set business_date = '2030-01-01' where id = ${tenantId}`.execute(trx))
    const result = await runCloseOfBusiness(t.database.db, deps, tenantId, '2030-01-01')
    expect(result).toMatchObject({ status: 'ok', businessDate: '2030-01-02' })
  })
})

describe('SQL decimal helpers', () => {
  it('agree with decimal.js at 34 significant digits, half-even, and with the minor-unit roundings', async () => {
    const random = lcg(3)
    const cases: { x: string; y: number }[] = [{ x: '1', y: 3 }, { x: '12345678901234567890.123456789', y: 366 }, { x: '0.5', y: 360 }]
    for (let k = 0; k < 300; k++) cases.push({ x: (BigInt(Math.floor(random() * 1e12)) * BigInt(Math.floor(random() * 3000) + 1)).toString() + `.${Math.floor(random() * 1e6)}`, y: [360, 364, 365, 366][k % 4] as number })
    const rows = await inTenant(t.database.db, a.tenantId, async (trx) => (await sql<{ q: string; s: string }>`
      select puhui_div34(x::numeric, y::numeric)::text as q, puhui_sig34(x::numeric * 1.000000000000000000000000000001)::text as s
      from unnest(${`{${cases.map((c) => c.x).join(',')}}`}::text[], ${`{${cases.map((c) => c.y).join(',')}}`}::int[]) as v(x, y)`.execute(trx)).rows)
    for (const [index, c] of cases.entries()) {
      expect(new RateDecimal(rows[index]?.q ?? 'NaN').equals(new RateDecimal(c.x).div(c.y)), `${c.x} / ${c.y}`).toBe(true)
      expect(new RateDecimal(rows[index]?.s ?? 'NaN').equals(new RateDecimal(c.x).times('1.000000000000000000000000000001')), `sig34 ${c.x}`).toBe(true)
    }
    const values = ['2.5', '3.5', '-2.5', '-0.5', '0.49999', '1.0000001', '-1.2', '7']
    for (const mode of roundings) {
      const got = await inTenant(t.database.db, a.tenantId, async (trx) => (await sql<{ r: string }>`
        select puhui_round_minor(x::numeric, ${mode})::text as r from unnest(${`{${values.join(',')}}`}::text[]) as v(x)`.execute(trx)).rows)
      values.forEach((v, index) => expect(BigInt(got[index]?.r ?? 'x'), `${mode} ${v}`).toBe(BigInt(new RateDecimal(v).toDecimalPlaces(0, decimalRounding[mode]).toFixed(0))))
    }
  })
})

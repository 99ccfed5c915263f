/**
 * The set-based close of business against its oracle, the per-loan `closeLoanDayForLoan` loop: two tenants get
 * the same products and the same loans (originated, disbursed, some repaid on time, some partly, some paid off,
 * the rest left late into non-accrual); tenant A is closed by `runCloseOfBusiness`, tenant B loan by loan. Every
 * loan's scalars and installments must be equal, both ledgers must reconcile with their subledgers, and a day
 * run twice must change nothing. Also: the SQL decimal helpers and the plain-SQL daily-step kernel agree with
 * decimal.js (RateDecimal, `roundWithCarry` ∘ `computeDailyInterest`), on its fast path and on its fallback.
 */
import { sql } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuidv7Source } from '../src/core/ids.ts'
import { RateDecimal, decimalRounding, roundings } from '../src/core/rate.ts'
import { inTenant } from '../src/db/database.ts'
import { closeLoanDayForLoan, computeDailyInterest, loadLoan, measureSubledgerBalances, roundWithCarry, type LoanRecord } from '../src/loans/index.ts'
import { runCloseOfBusiness } from '../src/loans/cob.ts'
import { dailyStepSql, rateSplitSql } from '../src/loans/cob-kernel.ts'
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
    // Every fifth loan still active is rescheduled over six months: from then on its class is floored.
    let rescheduled = 0
    for (const [index, loanId] of a.loans.entries()) {
      if (index % 5 !== 0 || (await load(a, loanId)).state.status !== 'active') continue
      for (const [side, id] of [[a, loanId], [b, b.loans[index] as string]] as const) {
        await ok('POST', `/v1/loans/${id}/reschedule`, side.operator, { installments: 6, valueDate: '2024-04-01' })
      }
      // The overdue charges paid too: the loan is current, and only the floor keeps its class.
      const owed = (await load(a, loanId)).state.installments
        .filter((i) => i.dueOn.toString() <= '2024-04-01')
        .reduce((sum, i) => sum + (['principal', 'interest', 'fees', 'penalties'] as const).reduce((x, c) => x + i.dueMinor[c] - i.paidMinor[c] - i.waivedMinor[c], 0n), 0n)
      if (owed > 0n) {
        for (const [side, id] of [[a, loanId], [b, b.loans[index] as string]] as const) {
          await ok('POST', `/v1/loans/${id}/repayments`, side.operator, { amountMinor: owed.toString(), valueDate: '2024-04-01' })
        }
      }
      rescheduled += 1
    }
    expect(rescheduled).toBeGreaterThan(0)
    await closeSetBased('2024-04-20')
    await closePerLoan(b, '2024-04-20')
    await expectSidesEqual()
    const floored = (await Promise.all(a.loans.filter((_, index) => index % 5 === 0).map((id) => load(a, id)))).filter((l) => l.rescheduledOn !== null && l.dpd === 0)
    expect(floored.length).toBeGreaterThan(0)
    for (const loan of floored) expect(loan.tier).toBe('special_mention')
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

type StepCase = { acc: bigint; carry: string; base: bigint; rate: string; days: '360' | '364' | '365' | 'actual'; mode: (typeof roundings)[number] }
const leapDay = Temporal.PlainDate.from('2024-02-29')
const yearOf = (days: StepCase['days']) => (days === 'actual' ? 366 : Number.parseInt(days, 10))

/** One day of `roundWithCarry(counter, computeDailyInterest(…))` per case, computed by the SQL kernel. */
async function kernelSteps(cases: readonly StepCase[]): Promise<{ rounded: bigint; carry: string }[]> {
  const list = (values: readonly (string | number | bigint)[]) => `{${values.map(String).join(',')}}`
  const input = `
    select v.*, true as active, ${rateSplitSql('rate', 'ydays', 'r_')}
    from unnest('${list(cases.map((c) => c.acc))}'::bigint[], '${list(cases.map((c) => c.carry))}'::numeric[], '${list(cases.map((c) => c.base))}'::bigint[],
      '${list(cases.map((c) => c.rate))}'::numeric[], '${list(cases.map((c) => yearOf(c.days)))}'::int[], '${list(cases.map((c) => c.mode))}'::text[])
      with ordinality as v(acc, carry, base, rate, ydays, mode, ord)`
  const step = dailyStepSql(input, { prefix: 'k_', keep: ['ord'], active: 'active', acc: 'acc', carry: 'carry', base: 'base', rate: 'rate', rn: 'r_rn', rk: 'r_rk', rf: 'r_rf', ydays: 'ydays', mode: 'mode' })
  return inTenant(t.database.db, a.tenantId, async (trx) => (await sql<{ rounded: bigint; carry: string }>`
    select k_rounded as rounded, k_carry::text as carry from (${sql.raw(step)}) s order by ord`.execute(trx)).rows)
}

function expectKernelEqualsDecimal(cases: readonly StepCase[], got: readonly { rounded: bigint; carry: string }[]): void {
  for (const [index, c] of cases.entries()) {
    const exact = computeDailyInterest(c.base, new RateDecimal(c.rate), c.days, leapDay)
    const want = roundWithCarry({ accruedMinor: c.acc, carryMinor: new RateDecimal(c.carry) }, exact, c.mode)
    const row = got[index]
    const label = JSON.stringify({ ...c, acc: String(c.acc), base: String(c.base) })
    expect(row?.rounded, label).toBe(want.counter.accruedMinor)
    expect(new RateDecimal(row?.carry ?? 'NaN').equals(want.counter.carryMinor), `${label}: carry ${row?.carry} = ${want.counter.carryMinor.toFixed()}`).toBe(true)
  }
}

/** A carry within the mode's range, with up to 34 significant digits (what a counter holds). */
const carryOf = (mode: StepCase['mode'], digits: string, scale: number): string => {
  const magnitude = new RateDecimal(`0.${digits}`).toSignificantDigits(34).div(new RateDecimal(10).pow(scale)).toSignificantDigits(34)
  if (mode === 'down') return magnitude.toFixed()
  if (mode === 'up') return magnitude.negated().toFixed()
  return (digits.charCodeAt(0) % 2 === 0 ? magnitude.times(0.49) : magnitude.times(-0.49)).toSignificantDigits(34).toFixed()
}

describe('the daily-step kernel in plain SQL', () => {
  it('equals decimal.js for arbitrary counters, balances, rates, year lengths and roundings (fast path and fallback)', async () => {
    const arbitraryCase = fc.record({
      acc: fc.oneof(fc.constant(0n), fc.constant(1n), fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: 2_000_000_000_000_000n })),
      digits: fc.stringMatching(/^[0-9]{1,34}$/),
      scale: fc.integer({ min: 0, max: 6 }),
      base: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 5_000n }), fc.bigInt({ min: 0n, max: 100_000_000_000n }), fc.bigInt({ min: 0n, max: 9_000_000_000_000_000_000n })),
      rate: fc.oneof(fc.constantFrom('0', '12', '18.25', '0.0001', '36', '7.123456789', '13.000000000000000000001234'),
        fc.integer({ min: 0, max: 100_000_000 }).map((n) => (n / 1_000_000).toString())),
      days: fc.constantFrom('360' as const, '364' as const, '365' as const, 'actual' as const),
      mode: fc.constantFrom(...roundings),
    }).map(({ digits, scale, ...c }): StepCase => {
      // A counter at zero never holds a negative carry with `up` (it would have rounded to −1).
      const carry = carryOf(c.mode, digits, scale)
      return { ...c, carry: c.acc === 0n && c.mode === 'up' ? carry.replace('-', '') : carry }
    })
    await fc.assert(fc.asyncProperty(fc.array(arbitraryCase, { minLength: 50, maxLength: 200 }), async (cases) => {
      expectKernelEqualsDecimal(cases, await kernelSteps(cases))
    }), { numRuns: 12 })
  })

  it('rounds exact ties half-even at the 34th digit and at the minor unit, and crosses powers of ten', async () => {
    const cases: StepCase[] = []
    for (const mode of roundings) {
      // acc + carry with 35 significant digits ending in 5 (acc has 5 digits: the tie is at the 30th decimal).
      cases.push({ acc: 12_345n, carry: '0.123456789012345678901234567895', base: 0n, rate: '12', days: '365', mode: 'down' })
      cases.push({ acc: 12_345n, carry: '0.123456789012345678901234567885', base: 0n, rate: '12', days: '365', mode: 'down' })
      // A cumulative amount ending in exactly one half.
      cases.push({ acc: 2n, carry: mode === 'up' ? '-0.5' : mode === 'down' ? '0.5' : '0.25', base: mode === 'half_even' || mode === 'half_up' ? 365n * 25n : 0n, rate: '1', days: '365', mode })
      cases.push({ acc: 3n, carry: '0', base: 365n * 50n, rate: '1', days: '365', mode })
      // Quotients at and next to powers of ten: 10^k exactly, and a hair below (the float estimate of the exponent is off by one).
      for (const k of [0, 3, 7]) {
        const base = 36_500n * 10n ** BigInt(k)
        cases.push({ acc: 999n, carry: '0', base, rate: '1', days: '365', mode })
        cases.push({ acc: 999n, carry: '0', base: base - 1n, rate: '1', days: '365', mode })
        cases.push({ acc: 0n, carry: '0', base: base - 1n, rate: '0.999999999', days: '360', mode })
      }
      // A quotient of exactly 35 significant digits ending in 5 (base × rate ÷ 36,000 terminates): half-even at the 34th.
      for (const rate of ['9.999999999999999999', '9.999999999999999997', '9.999999999999999995']) {
        cases.push({ acc: 0n, carry: '0', base: 999_999_999_999_999n, rate, days: '360', mode })
        cases.push({ acc: 123_456n, carry: '0', base: 999_999_999_999_999n, rate, days: '360', mode })
      }
      // Sums below one and amounts beyond the fast path's ranges take the fallback.
      cases.push({ acc: 1n, carry: mode === 'down' ? '0' : '-0.0001234567890123456789012345678901234', base: 3n, rate: '12', days: 'actual', mode })
      cases.push({ acc: 0n, carry: '0', base: 7n, rate: '12.5', days: '364', mode })
      cases.push({ acc: 5_000_000_000_000_000n, carry: '0', base: 9_000_000_000_000_000_000n, rate: '33.3333333333333333333', days: '365', mode })
    }
    expectKernelEqualsDecimal(cases, await kernelSteps(cases))
  })
})

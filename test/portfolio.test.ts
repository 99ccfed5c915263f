/**
 * GET /v1/portfolio/summary on a real PostgreSQL, over a small book made through the loans service: a loan
 * repaid on time, one never paid (substandard), one about 40 days late (special mention, in PAR30), one paid
 * 40 days late and settled (cured: out of the book, still in its vintage), one approved but not disbursed,
 * one disbursed this month, and three applications (approved, referred, declined). Each figure is checked
 * against the loans as the loan API reports them (DOMAIN.md definitions); the vintage curve against the
 * dates the late payments fell due.
 */
import { sql } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import { closeLoanDayForLoan } from '../src/loans/index.ts'
import { createTestApp, type TestApp } from './support/app.ts'
import { callApi, createProduct, giveEnterpriseData, okApi, publishSmallStrategy, registerChampion } from './e2e/lending.ts'

type Components = { principal: string; interest: string; fees: string; penalties: string }
type Installment = { n: number; dueOn: string; dueMinor: Components }
type LoanItem = { id: string; status: string; principalMinor: string; disbursedOn: string; dpd: number; tier: string; principalOutstandingMinor: string }
type Summary = {
  currency: string; businessDate: string; activeLoans: number; outstandingPrincipalMinor: string; nplMinor: string; nplRatio: string; par30Minor: string; par30: string
  disbursed: { month: string; monthLoans: number; monthMinor: string; totalLoans: number; totalMinor: string }
  applications: { decided: number; approved: number; declined: number; referred: number; approvalRate: string | null }
  applicationsByMonth: { month: string; approved: number; declined: number; referred: number }[]
  tiers: { key: string; loans: number; outstandingMinor: string }[]
  buckets: { key: string; loans: number; outstandingMinor: string }[]
  vintages: { cohort: string; loans: number; principalMinor: string; points: { monthsOnBook: number; ever30Loans: number; share: string }[] }[]
}

let t: TestApp
let tenantId: string
let admin: string
let operator: string
let product: string
let shop: string
let businessDate: Temporal.PlainDate
const loans: Record<'onTime' | 'neverPaid' | 'late40' | 'cured' | 'approvedOnly' | 'fresh', string> = { onTime: '', neverPaid: '', late40: '', cured: '', approvedOnly: '', fresh: '' }

const total = (c: Components) => BigInt(c.principal) + BigInt(c.interest) + BigInt(c.fees) + BigInt(c.penalties)
const monthOf = (date: Temporal.PlainDate) => date.toString().slice(0, 7)
const monthsBetween = (from: string, to: string) => Temporal.PlainYearMonth.from(from).until(Temporal.PlainYearMonth.from(to), { largestUnit: 'months' }).months

async function originate(disbursedOn: Temporal.PlainDate, disburse = true): Promise<string> {
  const loan = await okApi(t, 'POST', '/v1/loans', operator, { productId: product, enterpriseId: shop, principal: '12000.00', annualRatePct: '12', installments: 6, disbursedOn: disbursedOn.toString() })
  if (disburse) await okApi(t, 'POST', `/v1/loans/${loan.id as string}/disburse`, operator)
  return loan.id as string
}
async function schedule(loanId: string): Promise<Installment[]> {
  return (await okApi(t, 'GET', `/v1/loans/${loanId}`, operator)).schedule as Installment[]
}
async function repay(loanId: string, amountMinor: bigint, on: string): Promise<void> {
  await okApi(t, 'POST', `/v1/loans/${loanId}/repayments`, operator, { amountMinor: amountMinor.toString(), valueDate: on })
}
/** Close of business for one loan through the day before the business date (the business date is open). */
async function closeThroughYesterday(loanId: string): Promise<void> {
  const result = await inTenant(t.database.db, tenantId, (trx) => closeLoanDayForLoan(trx, { tenantId, ids: uuidv7Source, now: new Date() }, loanId, businessDate.subtract({ days: 1 })))
  expect(['ok', 'loan_not_active']).toContain(result.status)
}

beforeAll(async () => {
  t = await createTestApp()
  tenantId = await t.createTenant('portfolio')
  admin = await t.createKey(tenantId, 'admin')
  operator = await t.createKey(tenantId, 'operator')
  shop = await t.createEnterprise(tenantId, 'Shop Ltd')
  product = await createProduct(t, admin)
  businessDate = Temporal.PlainDate.from(await inTenant(t.database.db, tenantId, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants`.execute(trx)).rows[0]?.d as string))

  // Repaid on time: each instalment due so far paid on its due date.
  loans.onTime = await originate(businessDate.subtract({ months: 5 }))
  for (const installment of await schedule(loans.onTime)) {
    if (Temporal.PlainDate.compare(Temporal.PlainDate.from(installment.dueOn), businessDate) < 0) await repay(loans.onTime, total(installment.dueMinor), installment.dueOn)
  }
  // Same month, never paid: its first instalment is about four months overdue (substandard).
  loans.neverPaid = await originate(businessDate.subtract({ months: 5 }))
  // First instalment about 40 days overdue (special mention, DPD > 30).
  loans.late40 = await originate(businessDate.subtract({ months: 2, days: 10 }))
  // Cured: the first instalment paid 40 days late with enough to settle the loan.
  loans.cured = await originate(businessDate.subtract({ months: 4 }))
  const curedFirst = (await schedule(loans.cured))[0] as Installment
  const payoff = await okApi(t, 'GET', `/v1/loans/${loans.cured}/payoff?on=${Temporal.PlainDate.from(curedFirst.dueOn).add({ days: 40 }).toString()}`, operator)
  await repay(loans.cured, BigInt(payoff.totalMinor as string), Temporal.PlainDate.from(curedFirst.dueOn).add({ days: 40 }).toString())
  // Approved, never disbursed; and one disbursed on the business date.
  loans.approvedOnly = await originate(businessDate.subtract({ months: 1 }), false)
  loans.fresh = await originate(businessDate)
  for (const id of Object.values(loans)) await closeThroughYesterday(id)

  // Applications: approved, referred, declined.
  const analyst = await t.createKey(tenantId, 'risk_analyst')
  const checker = await t.createKey(tenantId, 'risk_analyst')
  await giveEnterpriseData(t, admin, shop, businessDate.toString())
  await registerChampion(t, analyst)
  await publishSmallStrategy(t, analyst, checker)
  for (const amountMinor of ['1000000', '2500000', '6000000']) await okApi(t, 'POST', '/v1/applications', operator, { enterpriseId: shop, productId: product, amountMinor, termMonths: 6 })
}, 120_000)
afterAll(async () => {
  await t?.close()
})

describe('GET /v1/portfolio/summary', () => {
  it('reports the book by the DOMAIN.md definitions, as the loan API sees the loans', async () => {
    const summary = (await okApi(t, 'GET', '/v1/portfolio/summary', operator)) as unknown as Summary
    const items = ((await okApi(t, 'GET', '/v1/loans?limit=100', operator)).items as LoanItem[])
    const byId = new Map(items.map((item) => [item.id, item]))
    const loan = (key: keyof typeof loans) => byId.get(loans[key]) as LoanItem

    // The scenario is what it claims to be.
    expect(loan('onTime')).toMatchObject({ status: 'active', dpd: 0, tier: 'normal' })
    expect(loan('neverPaid')).toMatchObject({ status: 'active', tier: 'substandard' })
    expect(loan('late40').dpd).toBeGreaterThan(30)
    expect(loan('late40').tier).toBe('special_mention')
    expect(loan('cured').status).toBe('closed')
    expect(loan('approvedOnly').status).toBe('approved')

    const book = items.filter((item) => item.status === 'active' || item.status === 'restructured')
    const sum = (rows: LoanItem[], field: 'principalOutstandingMinor' | 'principalMinor') => rows.reduce((s, r) => s + BigInt(r[field]), 0n)
    const outstanding = sum(book, 'principalOutstandingMinor')
    const npl = sum(book.filter((item) => ['substandard', 'doubtful', 'loss'].includes(item.tier)), 'principalOutstandingMinor')
    const par30 = sum(book.filter((item) => item.dpd > 30), 'principalOutstandingMinor')
    expect(npl).toBeGreaterThan(0n)
    expect(par30).toBeGreaterThan(npl)
    expect(summary).toMatchObject({ currency: 'CNY', businessDate: businessDate.toString(), activeLoans: book.length, outstandingPrincipalMinor: outstanding.toString(), nplMinor: npl.toString(), par30Minor: par30.toString() })
    expect(Number(summary.nplRatio)).toBeCloseTo(Number(npl) / Number(outstanding), 6)
    expect(Number(summary.par30)).toBeCloseTo(Number(par30) / Number(outstanding), 6)

    const disbursed = items.filter((item) => item.status !== 'approved')
    const thisMonth = disbursed.filter((item) => item.disbursedOn.slice(0, 7) === monthOf(businessDate))
    expect(summary.disbursed).toEqual({ month: monthOf(businessDate), monthLoans: thisMonth.length, monthMinor: sum(thisMonth, 'principalMinor').toString(), totalLoans: 5, totalMinor: sum(disbursed, 'principalMinor').toString() })

    for (const tier of ['normal', 'special_mention', 'substandard', 'doubtful', 'loss']) {
      const rows = book.filter((item) => item.tier === tier)
      expect(summary.tiers.find((g) => g.key === tier)).toEqual({ key: tier, loans: rows.length, outstandingMinor: sum(rows, 'principalOutstandingMinor').toString() })
    }
    expect(summary.buckets.map((b) => b.key)).toEqual(['current', '1-30', '31-60', '61-90', '91+'])
    expect(summary.buckets.reduce((n, b) => n + b.loans, 0)).toBe(book.length)

    expect(summary.applications).toEqual({ decided: 3, approved: 1, declined: 1, referred: 1, approvalRate: '0.333333' })
    expect(summary.applicationsByMonth).toHaveLength(12)
    expect(summary.applicationsByMonth.at(-1)).toEqual({ month: monthOf(businessDate), approved: 1, declined: 1, referred: 1 })
  })

  it('draws vintage curves: the cumulative share of each origination month ever more than 30 days past due', async () => {
    const summary = (await okApi(t, 'GET', '/v1/portfolio/summary?currency=CNY', operator)) as unknown as Summary
    const month = monthOf(businessDate)
    // The cohort five months back: on time and never paid; the never-paid loan crossed 30 DPD on its first due date + 31.
    const cohort = monthOf(businessDate.subtract({ months: 5 }))
    const vintage = summary.vintages.find((v) => v.cohort === cohort)
    expect(vintage).toMatchObject({ loans: 2, principalMinor: '2400000' })
    const firstDue = Temporal.PlainDate.from(((await schedule(loans.neverPaid))[0] as Installment).dueOn)
    const crossedAt = monthsBetween(cohort, monthOf(firstDue.add({ days: 31 })))
    expect(vintage?.points.map((p) => p.monthsOnBook)).toEqual(Array.from({ length: monthsBetween(cohort, month) + 1 }, (_, m) => m))
    expect(vintage?.points.map((p) => p.share)).toEqual(vintage?.points.map((p) => (p.monthsOnBook < crossedAt ? '0.000000' : '0.500000')))

    // The cured loan counts in its vintage from the month it crossed 30 DPD, though it is no longer on the book.
    const curedCohort = summary.vintages.find((v) => v.cohort === monthOf(businessDate.subtract({ months: 4 })))
    const curedDue = Temporal.PlainDate.from(((await schedule(loans.cured))[0] as Installment).dueOn)
    const curedAt = monthsBetween(curedCohort?.cohort ?? '', monthOf(curedDue.add({ days: 31 })))
    expect(curedCohort?.points.find((p) => p.monthsOnBook === curedAt)?.ever30Loans).toBe(1)
    expect(curedCohort?.points.find((p) => p.monthsOnBook === curedAt - 1)?.ever30Loans).toBe(0)
    // Not yet disbursed: in no vintage. Disbursed today: a cohort with one point at 0.
    expect(summary.vintages.reduce((n, v) => n + v.loans, 0)).toBe(5)
    expect(summary.vintages.find((v) => v.cohort === month)?.points.at(-1)?.ever30Loans).toBe(0)
  })

  it('is for staff: a borrower is refused; an empty currency answers zeros', async () => {
    const borrower = await t.createKey(tenantId, 'borrower', shop)
    expect((await callApi(t, 'GET', '/v1/portfolio/summary', borrower)).status).toBe(403)
    const usd = (await okApi(t, 'GET', '/v1/portfolio/summary?currency=USD', operator)) as unknown as Summary
    expect(usd).toMatchObject({ currency: 'USD', activeLoans: 0, outstandingPrincipalMinor: '0', nplRatio: '0.000000', par30: '0.000000', vintages: [] })
    expect((await callApi(t, 'GET', '/v1/portfolio/summary?currency=XXX', operator)).status).toBe(400)
  })
})

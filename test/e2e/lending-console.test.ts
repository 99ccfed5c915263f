/**
 * The lending console end to end (built console/dist, in-process app, headless Chromium): a borrower
 * applies in the portal, gets an instant offer, accepts it (the loan is paid out through the simulated
 * bank), opens the repayment plan and repays the first installment; the operator sees the loan on the
 * dashboard's portfolio figures and in the loans pages (plan, transactions, ledger postings); a reviewer
 * opens the referred application from the review queue (trace, enterprise) and approves it with a note.
 * The data are set up through the API (product, consented sales data, a champion scorecard, an active
 * strategy); screenshots go to test-results/.
 */
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Temporal } from 'temporal-polyfill'
import { uuidv7Source } from '../../src/core/ids.ts'
import { inTenant } from '../../src/db/database.ts'
import { runCloseOfBusiness } from '../../src/loans/index.ts'
import { createTestApp, type TestApp } from '../support/app.ts'
import { consoleDir, declareBrowserRequirement, hasBrowser, launchChromium, openSignedIn, requireConsoleBuild, screenshotDir } from '../support/browser.ts'
import { createProduct, giveEnterpriseData, okApi, publishSmallStrategy, registerChampion } from './lending.ts'

declareBrowserRequirement('lending console (end to end)')

const password = 'correct-horse-battery-staple'
type Summary = { outstandingPrincipalMinor: string; disbursed: { totalLoans: number; totalMinor: string }; applications: { decided: number; approved: number; approvalRate: string | null } }

/** What the console shows for an amount in minor units, in English: "¥10,000.00". */
const yuan = (minor: string | bigint) => {
  const digits = String(minor).padStart(3, '0')
  return `¥${new Intl.NumberFormat('en').format(BigInt(digits.slice(0, -2)))}.${digits.slice(-2)}`
}

describe.skipIf(!hasBrowser)('lending console (end to end)', { timeout: 60_000 }, () => {
  let t: TestApp
  let tenantId: string
  let admin: string
  let shop: string
  let browser: Browser
  let baseUrl: string
  let referredId: string
  let loanId: string
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshotDir, `console-${name}.png`), fullPage: true })
  const open = (email: string): Promise<Page> => openSignedIn(browser, baseUrl, { tenant: 'acme', email, password })

  beforeAll(async () => {
    requireConsoleBuild()
    t = await createTestApp({ consoleDir })
    tenantId = await t.createTenant('acme')
    admin = await t.createKey(tenantId, 'admin')
    const analyst = await t.createKey(tenantId, 'risk_analyst')
    const checker = await t.createKey(tenantId, 'risk_analyst')
    shop = await t.createEnterprise(tenantId, '杭州云织服饰有限公司')
    await inTenant(t.database.db, tenantId, (trx) => sql`update enterprises set sector = 'apparel e-commerce', region = '浙江省杭州市', founded_on = '2017-03-14'`.execute(trx))
    await t.createUser(tenantId, 'borrower@acme.test', 'borrower', password, shop)
    await t.createUser(tenantId, 'operator@acme.test', 'operator', password)
    await t.createUser(tenantId, 'reviewer@acme.test', 'reviewer', password)
    const businessDate = await inTenant(t.database.db, tenantId, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants`.execute(trx)).rows[0]?.d as string)
    await createProduct(t, admin, 'Working capital 310')
    await giveEnterpriseData(t, admin, shop, businessDate)
    await registerChampion(t, analyst)
    await publishSmallStrategy(t, analyst, checker)
    // A request above 20,000 yuan is referred to a person: it waits in the review queue.
    const products = await okApi(t, 'GET', '/v1/loan-products', admin)
    const referred = await okApi(t, 'POST', '/v1/applications', admin, { enterpriseId: shop, productId: (products.items as { id: string }[])[0]?.id as string, amountMinor: '2500000', termMonths: 6 })
    expect(referred.outcome).toBe('referred')
    referredId = referred.id as string
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' })
    browser = await launchChromium()
    fs.mkdirSync(screenshotDir, { recursive: true })
  }, 60_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await t?.close()
  })

  it('a borrower applies, gets an instant offer, accepts it and repays the first installment', async () => {
    const page = await open('borrower@acme.test')
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Borrower portal' }).click()
    const apply = page.getByTestId('apply')
    await apply.getByLabel('Amount (yuan)').fill('10000')
    await apply.getByLabel('Term').selectOption('6')
    await apply.getByRole('button', { name: 'Apply now' }).click()
    const decision = page.getByTestId('decision')
    await decision.waitFor()
    expect(await decision.getByTestId('outcome').textContent()).toBe('Approved')
    expect(await decision.getByTestId('offer-amount').textContent()).toBe('¥10,000.00')
    expect(Number((await decision.getByTestId('offer-apr').textContent())?.replace('%', ''))).toBeGreaterThanOrEqual(12)
    await decision.getByText('Repayment plan (6 installments)').click()
    expect(await decision.locator('[data-testid="offer-schedule"] tbody tr').count()).toBe(6)
    await shot(page, 'portal-offer')

    await decision.getByRole('button', { name: 'Accept the offer' }).click()
    await decision.getByTestId('accepted').waitFor()
    expect(await decision.getByTestId('accepted').textContent()).toContain('¥10,000.00 has been paid to your account.')
    await decision.getByRole('link', { name: 'See your repayment plan' }).click()
    await page.getByTestId('portal-loan').waitFor()
    loanId = new URL(page.url()).pathname.split('/').at(-1) as string
    const first = page.getByTestId('installment-1')
    expect(await first.getAttribute('data-state')).toBe('due')
    expect(await page.locator('[data-testid="schedule"] tbody tr').count()).toBe(6)
    expect(await page.getByTestId('postings').count()).toBe(0) // ledger postings are for staff

    // A month passes: close of business runs up to the first due date, which becomes the business date.
    const schedule = (await okApi(t, 'GET', `/v1/loans/${loanId}`, admin)).schedule as { dueOn: string }[]
    const dueOn = schedule[0]?.dueOn as string
    const closed = await runCloseOfBusiness(t.database.db, { ids: uuidv7Source, now: () => new Date() }, tenantId, Temporal.PlainDate.from(dueOn).subtract({ days: 1 }).toString())
    expect(closed.status).toBe('ok')
    await page.reload()
    await page.getByTestId('portal-loan').waitFor()
    const detail = await okApi(t, 'GET', `/v1/loans/${loanId}`, admin)
    const due = (detail.schedule as { outstandingMinor: Record<string, string> }[])[0]?.outstandingMinor as Record<string, string>
    const firstDue = Object.values(due).reduce((sum, v) => sum + BigInt(v), 0n)
    await first.getByTestId('repay').click()
    await page.getByTestId('repaid').waitFor()
    expect(await page.getByTestId("repaid").textContent()).toBe(`Thank you: installment 1 paid (${yuan(firstDue)}).`)
    await expect.poll(() => page.getByTestId('installment-1').getAttribute('data-state')).toBe('paid')
    expect(await page.getByTestId('installment-2').getAttribute('data-state')).toBe('due')
    expect(await page.locator('[data-testid="transactions"] tbody tr').count()).toBe(2) // disbursement, repayment
    await shot(page, 'portal-plan')
    await page.context().close()
  })

  it('the operator sees it on the dashboard and in the loan’s plan, transactions and ledger postings', async () => {
    const summary = (await okApi(t, 'GET', '/v1/portfolio/summary', admin)) as unknown as Summary
    expect(summary.disbursed.totalLoans).toBe(1)
    expect(summary.applications).toMatchObject({ decided: 2, approved: 1, approvalRate: '0.500000' })
    const page = await open('operator@acme.test')
    await page.getByTestId('portfolio').waitFor()
    const kpi = (id: string) => page.getByTestId(`kpi-${id}-value`).textContent()
    expect(await kpi('outstanding')).toBe(yuan(summary.outstandingPrincipalMinor))
    expect(BigInt(summary.outstandingPrincipalMinor)).toBeLessThan(1_000_000n) // the first installment's principal is repaid
    expect(await kpi('disbursed-total')).toBe('¥10,000.00')
    expect(summary.disbursed.totalMinor).toBe('1000000')
    expect(await kpi('approval-rate')).toBe('50.0%')
    expect(await kpi('npl')).toBe('0.00%')
    expect(await kpi('par30')).toBe('0.00%')
    for (const chart of ['tiers', 'vintages', 'decisions']) await page.locator(`[data-testid="chart-${chart}"] canvas`).waitFor()
    await page.waitForTimeout(700) // the charts' entry animation
    await shot(page, 'operator-dashboard')

    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Loans' }).click()
    await page.getByTestId('loan-row').first().getByRole('link').click()
    await page.getByTestId('loan-detail').waitFor()
    expect(new URL(page.url()).pathname).toBe(`/loans/${loanId}`)
    expect(await page.getByTestId('installment-1').getAttribute('data-state')).toBe('paid')
    expect(await page.locator('[data-testid="postings"] tbody tr').count()).toBeGreaterThanOrEqual(2)
    expect(await page.getByTestId('postings').textContent()).toContain('1201 loan principal')

    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Applications' }).click()
    await page.getByTestId('outcome-filter').selectOption('approved')
    await expect.poll(() => page.getByTestId('application-row').count()).toBe(1)
    await page.getByTestId('application-row').getByRole('link').click()
    await page.getByTestId('trace').waitFor()
    expect(await page.getByTestId('inputs').textContent()).toContain('application.amount')
    await page.context().close()
  })

  it('a reviewer handles the referral from the queue: trace, enterprise, approve with a note', async () => {
    const page = await open('reviewer@acme.test')
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Review queue' }).click()
    const rows = page.getByTestId('application-row')
    await expect.poll(() => rows.count()).toBe(1)
    expect(await rows.first().textContent()).toContain('Requests above 20,000 yuan are reviewed by a credit officer')
    await rows.first().getByRole('link').click()
    await page.getByTestId('application-detail').waitFor()
    expect(new URL(page.url()).pathname).toBe(`/review/${referredId}`)
    expect(await page.getByTestId('outcome').first().textContent()).toBe('Referred')
    await page.getByTestId('application-enterprise').getByRole('link', { name: '杭州云织服饰有限公司' }).waitFor()
    expect(await page.locator('[data-testid="trace"] tbody tr').count()).toBeGreaterThan(3)

    const form = page.getByTestId('review-form')
    await form.getByRole('button', { name: 'Approve' }).click()
    expect(await form.getByRole('alert').textContent()).toContain('Write a note')
    await form.getByLabel('Amount in yuan (optional)').fill('22000')
    await form.getByLabel('Note').fill('Six months of steady sales; owner known to the branch.')
    await shot(page, 'review-detail')
    await form.getByRole('button', { name: 'Approve' }).click()
    await page.getByTestId('review-result').waitFor()
    expect(await page.getByTestId('review-result').textContent()).toContain('Approved by a reviewer')
    expect(await page.getByTestId('offer-amount').textContent()).toBe('¥22,000.00')
    expect(await page.getByTestId('review-form').count()).toBe(0)
    const stored = await okApi(t, 'GET', `/v1/applications/${referredId}`, admin)
    expect(stored.review).toMatchObject({ decision: 'approve', note: 'Six months of steady sales; owner known to the branch.' })

    await page.getByRole('link', { name: 'Review queue' }).first().click()
    await page.getByText('The queue is empty').waitFor()
    await page.context().close()
  })

  it('the borrower accepts the reviewer’s offer, then opens a credit line and draws on it', async () => {
    const page = await open('borrower@acme.test')
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Borrower portal' }).click()
    await page.getByTestId('my-applications').getByRole('button', { name: 'Accept the offer of ¥22,000.00' }).click()
    await page.getByTestId('portal-loan').waitFor()
    expect(await page.getByTestId('loan-outstanding').textContent()).toMatch(/^¥22,/)
    await page.getByRole('button', { name: 'Borrower portal' }).click()
    const apply = page.getByTestId('apply')
    await apply.getByLabel('What you need').selectOption('credit_line')
    await apply.getByLabel('Amount (yuan)').fill('15000')
    await apply.getByLabel('Term').selectOption('3')
    await apply.getByRole('button', { name: 'Apply now' }).click()
    const decision = page.getByTestId('decision')
    await decision.getByTestId('credit-line').waitFor()
    expect(await decision.getByTestId('outcome').textContent()).toBe('Approved')
    const line = ((await okApi(t, 'GET', `/v1/credit-lines?enterpriseId=${shop}`, admin)).items as { limitMinor: string }[])[0]
    expect(await decision.getByTestId('credit-line').textContent()).toContain(`Credit line of ${yuan(line?.limitMinor ?? '0')}`)

    expect(await page.locator('[data-testid="my-loans"] tbody tr').count()).toBe(2)
    const lines = page.getByTestId('my-credit-lines')
    await lines.waitFor()
    await lines.getByLabel('Draw (yuan)').fill('5000')
    await lines.getByRole('button', { name: 'Draw' }).click()
    await lines.getByText('¥5,000.00 has been paid to your account.').waitFor()
    await expect.poll(() => lines.getByTestId('credit-line').textContent()).toContain(`Available ${yuan(BigInt(line?.limitMinor ?? '0') - 500_000n)}`)
    await shot(page, 'portal-credit-line')
    await page.context().close()
  })
})

/**
 * Servicing a loan from the console (built console/dist, in-process app, headless Chromium): an operator opens
 * an active loan, quotes the pay-off, prepays (the plan is re-amortised), is told in words when an amount is
 * not one, and a risk analyst reschedules it (the plan grows, the class floors at special mention). The loan is
 * set up through the API; screenshots go to test-results/.
 */
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import type { Browser, Page } from 'playwright-core'
import { Temporal } from 'temporal-polyfill'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuidv7Source } from '../../src/core/ids.ts'
import { inTenant } from '../../src/db/database.ts'
import { closeLoanDayForLoan } from '../../src/loans/index.ts'
import { createTestApp, type TestApp } from '../support/app.ts'
import { consoleDir, declareBrowserRequirement, hasBrowser, launchChromium, openSignedIn, requireConsoleBuild, screenshotDir } from '../support/browser.ts'
import { createProduct, okApi } from './lending.ts'

declareBrowserRequirement('loan servicing console (end to end)')

const password = 'correct-horse-battery-staple'

describe.skipIf(!hasBrowser)('loan servicing console (end to end)', { timeout: 60_000 }, () => {
  let t: TestApp
  let browser: Browser
  let baseUrl: string
  let loanId: string
  let admin: string
  let tenantId: string
  let product: string
  let shop: string
  let businessDate: string
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshotDir, `console-${name}.png`), fullPage: true })
  async function open(email: string): Promise<Page> {
    const page = await openSignedIn(browser, baseUrl, { tenant: 'servicing', email, password })
    await page.goto(`${baseUrl}/loans/${loanId}`)
    await page.getByTestId('loan-detail').waitFor()
    return page
  }

  beforeAll(async () => {
    requireConsoleBuild()
    t = await createTestApp({ consoleDir })
    tenantId = await t.createTenant('servicing')
    admin = await t.createKey(tenantId, 'admin')
    shop = await t.createEnterprise(tenantId, 'Shop Ltd')
    await t.createUser(tenantId, 'operator@servicing.test', 'operator', password)
    await t.createUser(tenantId, 'analyst@servicing.test', 'risk_analyst', password)
    await t.createUser(tenantId, 'admin@servicing.test', 'admin', password)
    product = await createProduct(t, admin)
    const me = await okApi(t, 'GET', '/v1/me', admin)
    businessDate = (me.tenant as { businessDate: string }).businessDate
    const loan = await okApi(t, 'POST', '/v1/loans', admin, { productId: product, enterpriseId: shop, annualRatePct: '12', installments: 6, disbursedOn: businessDate, principal: '60000.00' })
    loanId = loan.id as string
    await okApi(t, 'POST', `/v1/loans/${loanId}/disburse`, admin, {})
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' })
    browser = await launchChromium()
    fs.mkdirSync(screenshotDir, { recursive: true })
  }, 60_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await t?.close()
  })

  it('an operator quotes the pay-off and prepays; the plan is re-amortised and the prepayment listed', async () => {
    const page = await open('operator@servicing.test')
    const panel = page.getByTestId('servicing')
    await panel.getByTestId('quote').click()
    expect(await panel.getByTestId('quote-result').textContent()).toContain('¥60,000.00')
    await panel.getByTestId('servicing-action').selectOption('prepay')
    await panel.getByTestId('servicing-amount').fill('lots')
    await panel.getByTestId('servicing-submit').click()
    await panel.getByText('Enter an amount in yuan').waitFor()
    const before = (await okApi(t, 'GET', `/v1/loans/${loanId}`, admin)).schedule as { dueMinor: { principal: string } }[]
    await panel.getByTestId('servicing-amount').fill('20,000')
    await panel.getByTestId('servicing-submit').click()
    await panel.getByTestId('servicing-done').waitFor()
    await page.getByTestId('transactions').getByText('Prepayment').waitFor()
    const after = (await okApi(t, 'GET', `/v1/loans/${loanId}`, admin)).schedule as { dueMinor: { principal: string } }[]
    expect(after).toHaveLength(before.length)
    expect(BigInt(after[1]?.dueMinor.principal ?? '0')).toBeLessThan(BigInt(before[1]?.dueMinor.principal ?? '0'))
    await shot(page, 'servicing-prepaid')
  })

  it('a risk analyst reschedules: the plan grows and the class floors at special mention', async () => {
    const page = await open('analyst@servicing.test')
    const panel = page.getByTestId('servicing')
    expect(await panel.getByTestId('servicing-action').locator('option').allTextContents()).toEqual(['Reschedule'])
    await panel.getByTestId('servicing-installments').fill('12')
    await panel.getByTestId('servicing-submit').click()
    await panel.getByTestId('servicing-done').waitFor()
    await page.getByTestId('transactions').getByText('Rescheduling').waitFor()
    expect(await page.locator('[data-testid="schedule"] tbody tr').count()).toBe(12)
    const loan = (await okApi(t, 'GET', `/v1/loans/${loanId}`, admin)).loan as { tier: string }
    expect(loan.tier).toBe('special_mention')
    await shot(page, 'servicing-rescheduled')
  })

  it('a loan closed daily for 130 days shows its newest 100 transactions and the older ones on request', async () => {
    const from = Temporal.PlainDate.from(businessDate).subtract({ days: 130 })
    const long = (await okApi(t, 'POST', '/v1/loans', admin, { productId: product, enterpriseId: shop, annualRatePct: '12', installments: 12, disbursedOn: from.toString(), principal: '10000.00' })).id as string
    await okApi(t, 'POST', `/v1/loans/${long}/disburse`, admin, {})
    for (let day = from; Temporal.PlainDate.compare(day, Temporal.PlainDate.from(businessDate)) < 0; day = day.add({ days: 1 })) {
      const closed = await inTenant(t.database.db, tenantId, (trx) => closeLoanDayForLoan(trx, { tenantId, ids: uuidv7Source, now: new Date() }, long, day))
      expect(closed.status).toBe('ok')
    }
    const page = await openSignedIn(browser, baseUrl, { tenant: 'servicing', email: 'operator@servicing.test', password })
    await page.goto(`${baseUrl}/loans/${long}`)
    await page.getByTestId('loan-detail').waitFor()
    const rows = page.locator('[data-testid="transactions"] tbody tr')
    expect(await rows.count()).toBe(100)
    await page.getByTestId('older-transactions').click()
    await page.getByTestId('older-transactions').waitFor({ state: 'detached' })
    const stored = await inTenant(t.database.db, tenantId, (trx) => sql<{ n: number }>`select count(*)::int as n from loan_transactions where loan_id = ${long}`.execute(trx))
    expect(stored.rows[0]?.n).toBeGreaterThan(100)
    expect(await rows.count()).toBe(stored.rows[0]?.n)
    await shot(page, 'servicing-older-transactions')
  })

  it('an admin creates a loan product from the loans page; the server names what it refuses', async () => {
    const page = await open('admin@servicing.test')
    await page.goto(`${baseUrl}/loans`)
    const card = page.getByTestId('products')
    await card.getByTestId('product-new').click()
    const form = card.getByTestId('product-form')
    await form.getByLabel('Name').fill('随借随还 revolving')
    await form.getByLabel('Repayment').selectOption('interest_only')
    await form.getByLabel('Minimum (yuan)').fill('200,000')
    await form.getByRole('button', { name: 'Create product' }).click()
    await card.getByRole('alert').waitFor()
    await form.getByLabel('Minimum (yuan)').fill('1,000')
    await form.getByLabel('Rate cap %').fill('18')
    await form.getByRole('button', { name: 'Create product' }).click()
    await card.getByText('随借随还 revolving').waitFor()
    const products = (await okApi(t, 'GET', '/v1/loan-products', admin)).items as { name: string; annualRateCapPct: string }[]
    expect(products.find((p) => p.name === '随借随还 revolving')?.annualRateCapPct).toBe('18')
    await shot(page, 'products')
  })
})

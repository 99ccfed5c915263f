/**
 * The strategies pages end to end (built console/dist, in-process app, headless Chromium): a risk analyst
 * edits the active strategy as JSON — a broken formula answers with the server's path and reason, a fixed
 * one is saved as the next draft version — backtests the draft over the stored applications, submits it,
 * and is refused when approving it herself (maker-checker); a second analyst approves and activates it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inTenant } from '../../src/db/database.ts'
import { createTestApp, type TestApp } from '../support/app.ts'
import { consoleDir, declareBrowserRequirement, hasBrowser, launchChromium, openSignedIn, requireConsoleBuild, screenshotDir } from '../support/browser.ts'
import { createProduct, giveEnterpriseData, okApi, publishSmallStrategy, registerChampion, smallStrategy } from './lending.ts'

declareBrowserRequirement('strategies console (end to end)')

const password = 'correct-horse-battery-staple'

describe.skipIf(!hasBrowser)('strategies console (end to end)', { timeout: 60_000 }, () => {
  let t: TestApp
  let browser: Browser
  let baseUrl: string
  let activeId: string
  let draftPath: string
  const open = (email: string): Promise<Page> => openSignedIn(browser, baseUrl, { tenant: 'acme', email, password })

  beforeAll(async () => {
    requireConsoleBuild()
    t = await createTestApp({ consoleDir })
    const tenantId = await t.createTenant('acme')
    const admin = await t.createKey(tenantId, 'admin')
    const analyst = await t.createKey(tenantId, 'risk_analyst')
    const checker = await t.createKey(tenantId, 'risk_analyst')
    await t.createUser(tenantId, 'maker@acme.test', 'risk_analyst', password)
    await t.createUser(tenantId, 'checker@acme.test', 'risk_analyst', password)
    const shop = await t.createEnterprise(tenantId, 'Shop Ltd')
    const businessDate = await inTenant(t.database.db, tenantId, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants`.execute(trx)).rows[0]?.d as string)
    const product = await createProduct(t, admin)
    await giveEnterpriseData(t, admin, shop, businessDate)
    await registerChampion(t, analyst)
    activeId = await publishSmallStrategy(t, analyst, checker)
    for (const amountMinor of ['1000000', '1800000', '2500000', '6000000']) await okApi(t, 'POST', '/v1/applications', admin, { enterpriseId: shop, productId: product, amountMinor, termMonths: 6 })
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' })
    browser = await launchChromium()
    fs.mkdirSync(screenshotDir, { recursive: true })
  }, 60_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await t?.close()
  })

  it('edits the strategy as JSON: the server’s path and reason for a broken formula, then a new draft version', async () => {
    const page = await open('maker@acme.test')
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Strategies' }).click()
    const row = page.getByTestId('strategy-row')
    await expect.poll(() => row.count()).toBe(1)
    expect(await row.first().textContent()).toContain('Active')
    await row.first().getByRole('link', { name: 'sme-310' }).click()
    expect(new URL(page.url()).pathname).toBe(`/strategies/${activeId}`)

    const editor = page.getByTestId('strategy-editor')
    const document = editor.getByLabel('Strategy document (JSON)')
    expect(JSON.parse(await document.inputValue())).toMatchObject({ name: 'sme-310', limit: { formula: '30_000' } })
    await document.fill('{ "name": ')
    await editor.getByRole('button', { name: 'Save as a new draft' }).click()
    expect(await editor.getByRole('alert').textContent()).toContain('This is not valid JSON')

    await document.fill(JSON.stringify({ ...smallStrategy, limit: { ...smallStrategy.limit, formula: 'application.amount +' } }, null, 2))
    await editor.getByRole('button', { name: 'Save as a new draft' }).click()
    await editor.getByTestId('strategy-errors').waitFor()
    expect(await editor.getByTestId('strategy-errors').textContent()).toContain('$.limit.formula')
    expect(await editor.getByRole('alert').first().textContent()).toContain('The strategy document has errors')

    const referAbove15k = { ...smallStrategy, referrals: [{ ...smallStrategy.referrals[0], when: 'application.amount > 15_000' }] }
    await document.fill(JSON.stringify(referAbove15k, null, 2))
    await editor.getByRole('button', { name: 'Save as a new draft' }).click()
    await expect.poll(() => new URL(page.url()).pathname).not.toBe(`/strategies/${activeId}`)
    draftPath = new URL(page.url()).pathname
    await page.getByRole('heading', { name: 'sme-310 v2' }).waitFor()
    expect(await page.getByTestId('strategy-status').textContent()).toBe('Draft')
    await page.context().close()
  })

  it('backtests the draft, submits it, and may not approve its own version', async () => {
    const page = await open('maker@acme.test')
    await page.goto(`${baseUrl}${draftPath}`)
    const backtest = page.getByTestId('backtest')
    await backtest.getByLabel('Segment by').selectOption('none')
    await backtest.getByRole('button', { name: 'Run the backtest' }).click()
    await backtest.getByTestId('backtest-report').waitFor()
    expect(await backtest.getByTestId('backtest-report').textContent()).toContain('4 applications replayed.')
    // Under the draft, 18,000 yuan is referred as well: 1 approved, 2 referred, 1 declined.
    const overall = await backtest.locator('[data-testid="backtest-report"] tbody tr').first().textContent()
    expect(overall).toContain('25.0%')
    expect(overall).toContain('50.0%')
    await page.screenshot({ path: path.join(screenshotDir, 'console-strategy-backtest.png'), fullPage: true })

    await page.getByRole('button', { name: 'Submit for approval' }).click()
    await expect.poll(() => page.getByTestId('strategy-status').textContent()).toBe('Submitted')
    await page.getByRole('button', { name: 'Approve' }).click()
    await page.getByText('You wrote this version, so someone else must approve it (maker-checker).').waitFor()
    expect(await page.getByTestId('strategy-status').textContent()).toBe('Submitted')
    await page.context().close()
  })

  it('a second analyst approves and activates it; the first version is retired; in Chinese too', async () => {
    const page = await open('checker@acme.test')
    await page.goto(`${baseUrl}${draftPath}`)
    await page.getByRole('button', { name: 'Approve' }).click()
    await expect.poll(() => page.getByTestId('strategy-status').textContent()).toBe('Approved')
    await page.getByRole('button', { name: 'Activate' }).click()
    await expect.poll(() => page.getByTestId('strategy-status').textContent()).toBe('Active')
    await page.getByRole('button', { name: '中文' }).click()
    await page.getByRole('link', { name: '‹ 策略' }).click()
    const rows = page.getByTestId('strategy-row')
    await expect.poll(() => rows.count()).toBe(2)
    expect(await rows.nth(0).textContent()).toContain('生效中')
    expect(await rows.nth(1).textContent()).toContain('已停用')
    await page.context().close()
  })
})

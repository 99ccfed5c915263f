/**
 * The console's enterprise profile end to end (built console/dist, in-process app, headless Chromium), as
 * an operator: open an enterprise from the list; its registration details, its consent, the features as
 * of a month-end with the cross-check flag its data raises (declared revenue far above observed sales)
 * and its evidence, the features-over-time chart; revoke the consent from the page (no source left to
 * read), record a new one through the form (the features come back), and the page in Chinese.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { usccCheckCharacter } from '../../src/credit/uscc.ts'
import { inTenant } from '../../src/db/database.ts'
import { mulberry32 } from '../../src/scoring/index.ts'
import { createTestApp, type TestApp } from '../support/app.ts'
import { consoleDir, declareBrowserRequirement, hasBrowser, launchChromium, requireConsoleBuild, root, screenshotDir, signIn } from '../support/browser.ts'

declareBrowserRequirement('enterprise profile console (end to end)')

const password = 'correct-horse-battery-staple'
const name = '杭州云织服饰有限公司'
const uscc = `91330106MA2B3C4D5${usccCheckCharacter('91330106MA2B3C4D5') as string}`
const auth = (key: string) => ({ authorization: `Bearer ${key}` })

/** The 12 months (YYYY-MM) ending with the last month that has ended (in UTC), oldest first. */
function lastTwelveMonths(now: Date): string[] {
  return Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 12 + i, 1)).toISOString().slice(0, 7))
}
/** The last day of a YYYY-MM month. */
const monthEnd = (month: string) => new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).toISOString().slice(0, 10)

describe.skipIf(!hasBrowser)('enterprise profile console (end to end)', { timeout: 60_000 }, () => {
  let t: TestApp
  let tenantId: string
  let enterpriseId: string
  let otherId: string
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let baseUrl: string
  const months = lastTwelveMonths(new Date())
  const asOf = monthEnd(months[11] as string)
  // GMV 80,000.00 rising by 5,000.00 a month; 300,000.00 declared to the tax authority each month: about
  // 2.8× the observed sales over 12 months, so `revenue_over_declared` fires. Money received: 90 % of GMV.
  const gmv = (i: number) => 80_000 + i * 5_000
  const gmv3m = gmv(9) + gmv(10) + gmv(11) // 390,000.00

  beforeAll(async () => {
    requireConsoleBuild()
    t = await createTestApp({ consoleDir })
    tenantId = await t.createTenant('acme')
    await t.createUser(tenantId, 'operator@acme.test', 'operator', password)
    const admin = await t.createKey(tenantId, 'admin')
    otherId = await t.createEnterprise(tenantId, '义乌小商品贸易商行')
    await t.createUser(tenantId, 'auditor@acme.test', 'auditor', password)
    await t.createUser(tenantId, 'borrower@acme.test', 'borrower', password, otherId)
    const created = await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers: auth(admin), payload: { name, uscc, sector: 'apparel e-commerce', region: '浙江省杭州市', foundedOn: '2017-03-14' } })
    expect(created.statusCode).toBe(201)
    enterpriseId = (created.json() as { id: string }).id
    const consent = await t.app.inject({ method: 'POST', url: `/v1/enterprises/${enterpriseId}/consents`, headers: auth(admin), payload: { purpose: 'credit_assessment', scope: ['orders', 'tax_filings', 'payment_flows'], expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString() } })
    expect(consent.statusCode).toBe(201)
    const records = {
      orders: months.map((month, i) => ({ externalId: `ord-${month}`, enterpriseId, month, gmvMinor: String(gmv(i) * 100), orders: String(400 + i * 10), buyers: '250', repeatBuyers: '90', topBuyerShare: '0.08', refundsMinor: String(gmv(i) * 2), refunds: '6', currency: 'CNY' })),
      tax_filings: months.map((month) => ({ externalId: `tax-${month}`, enterpriseId, month, filedOn: monthEnd(month), declaredRevenueMinor: '30000000', taxPaidMinor: '300000', currency: 'CNY' })),
      payment_flows: months.map((month, i) => ({ externalId: `pay-${month}`, enterpriseId, month, inflowMinor: String(gmv(i) * 90), outflowMinor: String(gmv(i) * 70), transactions: '320', counterparties: '45', currency: 'CNY' })),
    }
    for (const [source, rows] of Object.entries(records)) {
      const ingested = await t.app.inject({ method: 'POST', url: `/v1/data/${source}`, headers: auth(admin), payload: { records: rows } })
      expect((ingested.json() as { results: { status: string }[] }).results.map((r) => r.status)).toEqual(rows.map(() => 'created'))
    }
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' })
    browser = await launchChromium()
    context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
    context.setDefaultTimeout(20_000)
    page = await context.newPage()
  }, 120_000)

  afterAll(async () => {
    await context?.close().catch(() => {})
    await browser?.close().catch(() => {})
    await t?.close()
  })

  const features = () => page.getByTestId('features')
  const logIn = (target: Page, email: string) => signIn(target, { tenant: 'acme', email, password })
  const gmvValue = () => page.getByTestId('feature-value-gmv_3m')

  it('opens the enterprise from the list and shows its details and consent', async () => {
    await page.goto(baseUrl)
    await logIn(page, 'operator@acme.test')
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Enterprises' }).click()
    await page.getByTestId('enterprises').getByRole('link', { name }).click()
    await page.getByRole('heading', { name, level: 1 }).waitFor()
    expect(new URL(page.url()).pathname).toBe(`/enterprises/${enterpriseId}`)
    expect(await page.getByTestId('detail-uscc').textContent()).toBe(uscc)
    expect(await page.getByTestId('detail-sector').textContent()).toBe('apparel e-commerce')
    expect(await page.getByTestId('detail-region').textContent()).toBe('浙江省杭州市')
    expect(await page.getByTestId('detail-founded').textContent()).toBe('Mar 14, 2017')
    // The navigation keeps Enterprises current on a profile.
    expect(await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Enterprises' }).getAttribute('aria-current')).toBe('page')

    const rows = page.getByTestId('consent-row')
    await rows.first().waitFor()
    expect(await rows.count()).toBe(1)
    const row = await rows.first().textContent()
    for (const text of ['Credit assessment', 'Orders', 'Tax filings', 'Payment flows', 'Active']) expect(row).toContain(text)
  })

  it('shows the features as of a month-end: the flag with its evidence, formatted values, and the chart', async () => {
    const dateInput = features().getByLabel('As of')
    expect(await dateInput.inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}$/) // today by default
    expect(await features().getByLabel('Purpose').inputValue()).toBe('credit_assessment')
    await dateInput.fill(asOf)
    await page.getByText(`as of ${new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${asOf}T00:00:00Z`))}`).waitFor()

    const flag = page.locator('[data-testid="flag"][data-code="revenue_over_declared"]')
    await flag.waitFor()
    expect(await flag.textContent()).toContain('Revenue declared for tax is more than twice observed sales')
    expect(await flag.textContent()).toContain('High')
    const evidence = await flag.getByTestId('evidence').allTextContents()
    expect(evidence).toContain('Declared revenue (12 m) 3,600,000')
    expect(evidence).toContain(`GMV (12 m) ${new Intl.NumberFormat('en-US').format(months.reduce((sum, _, i) => sum + gmv(i), 0))}`)

    expect(await gmvValue().textContent()).toBe(new Intl.NumberFormat('en-US', { minimumFractionDigits: 2 }).format(gmv3m)) // 390,000.00
    expect(await page.getByTestId('feature-value-orders_6m').textContent()).toBe('2,910') // 6 × 400 + 10 × (6 + … + 11)
    expect(await page.getByTestId('feature-value-refund_rate_6m').textContent()).toBe('2%')
    expect(await page.getByTestId('feature-value-months_filed_12m').textContent()).toBe('12')
    expect(await page.getByTestId('feature-value-inflow_to_gmv_6m').textContent()).toBe('90%')
    expect(await page.getByTestId('feature-value-declared_to_observed_revenue_12m').textContent()).toBe('279.1%') // 3,600,000 / 1,290,000
    expect(await page.getByTestId('feature-value-review_score_6m').textContent()).toBe('—no consent') // reviews: not consented
    expect(await page.getByTestId('sources-used').textContent()).toContain('Tax filings')

    const chart = page.getByTestId('features-over-time')
    await chart.locator('[data-testid="chart-features-over-time"] canvas').waitFor()
    expect(await chart.getByRole('img').getAttribute('aria-label')).toContain('GMV')
    // Twelve month-ends read, each audited with its purpose, besides the as-of reads.
    const reads = await inTenant(t.database.db, tenantId, (trx) => trx.selectFrom('audit_log').select(['purpose']).where('action', '=', 'features.read').execute())
    expect(reads.length).toBeGreaterThanOrEqual(12)
    expect(new Set(reads.map((r) => r.purpose))).toEqual(new Set(['credit_assessment']))

    await page.getByTestId('score').getByText('No champion scoring model yet').waitFor()
    await page.waitForTimeout(800) // let the chart's entry animation finish before the screenshot
    fs.mkdirSync(screenshotDir, { recursive: true })
    await page.screenshot({ path: path.join(screenshotDir, 'console-enterprise.png'), fullPage: true })
  })

  it('revokes the consent from the page: no source is read any more', async () => {
    const row = page.getByTestId('consent-row').first()
    await row.getByRole('button', { name: 'Revoke' }).click()
    await row.getByRole('button', { name: 'Confirm revocation' }).click()
    await page.locator('[data-testid="consent-row"][data-active="false"]').getByText('Revoked', { exact: true }).waitFor()
    await page.getByTestId('no-sources').getByText('No data source has an active consent for this purpose').waitFor()
    expect(await page.locator('[data-testid="flag"]').count()).toBe(0)
    await page.getByTestId('no-flags').waitFor()
    expect(await gmvValue().textContent()).toBe('—no consent')
    await page.getByTestId('history-empty').waitFor() // the month-ends are read again: nothing left to draw
    const consents = await inTenant(t.database.db, tenantId, (trx) => sql<{ revoked: boolean }>`select revoked_at is not null as revoked from consents`.execute(trx))
    expect(consents.rows).toEqual([{ revoked: true }])
  })

  it('records a new consent through the form, and the features come back', async () => {
    await page.getByRole('button', { name: 'Record a consent' }).click()
    const form = page.getByTestId('grant-form')
    await form.getByRole('button', { name: 'Grant consent' }).click()
    await form.getByRole('alert').getByText('Choose at least one item of the scope.').waitFor()
    for (const item of ['Orders', 'Tax filings', 'Payment flows']) await form.getByLabel(item, { exact: true }).check()
    await form.getByRole('button', { name: 'Grant consent' }).click()
    await page.getByText('Consent recorded.').waitFor()
    await page.locator('[data-testid="consent-row"][data-active="true"]').waitFor()
    expect(await page.getByTestId('consent-row').count()).toBe(2)
    await page.locator('[data-testid="flag"][data-code="revenue_over_declared"]').waitFor()
    expect(await gmvValue().textContent()).toBe('390,000.00')
    await page.locator('[data-testid="chart-features-over-time"] canvas').waitFor()
  })

  it('shows the profile in Chinese', async () => {
    await page.getByRole('button', { name: '中文' }).click()
    await page.getByRole('heading', { name: '数据授权' }).waitFor()
    await page.getByRole('heading', { name: '指定日期的特征' }).waitFor()
    await page.getByRole('heading', { name: '特征走势' }).waitFor()
    await page.locator('[data-testid="flag"]').getByText('纳税申报收入超过观测销售额两倍').waitFor()
    await features().getByText('近 3 个月 GMV', { exact: true }).waitFor()
    expect(await page.locator('[data-testid="consent-row"][data-active="false"]').textContent()).toContain('已撤销')
    expect(await features().getByLabel('截至日期').inputValue()).toBe(asOf)
    await page.waitForTimeout(800)
    await page.screenshot({ path: path.join(screenshotDir, 'console-enterprise-zh.png'), fullPage: true })
  })
  it('shows an auditor the consents but not the features, and a borrower only its own enterprise', async () => {
    const other = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
    try {
      const auditor = await other.newPage()
      auditor.setDefaultTimeout(20_000)
      await auditor.goto(`${baseUrl}/enterprises/${enterpriseId}`)
      await logIn(auditor, 'auditor@acme.test')
      await auditor.getByRole('heading', { name, level: 1 }).waitFor()
      await auditor.getByTestId('consent-row').first().waitFor()
      expect(await auditor.getByRole('button', { name: 'Revoke' }).count()).toBe(0)
      expect(await auditor.getByRole('button', { name: 'Record a consent' }).count()).toBe(0)
      await auditor.getByText('Your role may see the consents but not read the enterprise’s data features.').waitFor()
      await auditor.getByRole('button', { name: 'Sign out' }).click()
      await auditor.getByRole('heading', { name: 'Sign in to the console' }).waitFor()

      await auditor.goto(`${baseUrl}/enterprises/${enterpriseId}`)
      await logIn(auditor, 'borrower@acme.test')
      await auditor.getByRole('alert').getByText('Not found').waitFor() // another enterprise's profile
      await auditor.goto(`${baseUrl}/enterprises`)
      await auditor.getByTestId('enterprises').getByRole('link', { name: '义乌小商品贸易商行' }).click()
      await auditor.getByRole('heading', { name: '义乌小商品贸易商行', level: 1 }).waitFor()
      await auditor.getByText('No consents yet').waitFor()
      await auditor.getByTestId('no-sources').waitFor()
    } finally {
      await other.close()
    }
  })
  it('scores the enterprise with the champion model and shows the reasons', async () => {
    // A scorecard trained (by `puhui model train`) on three of the features, registered and made champion.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-profile-model-'))
    try {
      const random = mulberry32(11)
      const lines = ['gmv_6m,net_flow_ratio_6m,refund_rate_6m,bad']
      for (let i = 0; i < 600; i++) {
        const gmv6 = Math.round(random() * 1_000_000)
        const net = Math.round((random() * 0.6 - 0.1) * 1000) / 1000
        const refund = Math.round(random() * 0.1 * 1000) / 1000
        const risk = 1 / (1 + Math.exp(-(-1 - gmv6 / 300_000 - 4 * net + 20 * refund)))
        lines.push(`${gmv6},${net},${refund},${random() < risk ? 1 : 0}`)
      }
      fs.writeFileSync(path.join(dir, 'train.csv'), `${lines.join('\n')}\n`)
      const train = spawnSync(process.execPath, [path.join(root, 'bin', 'puhui.js'), 'model', 'train', '--data', path.join(dir, 'train.csv'), '--target', 'bad', '--bad', '1', '--out', path.join(dir, 'sme.json')], { encoding: 'utf8', env: { ...process.env, PUHUI_DATA_DIR: dir } })
      expect(train.status, train.stderr).toBe(0)
      const admin = await t.createKey(tenantId, 'admin')
      const model = (await t.app.inject({ method: 'POST', url: '/v1/models', headers: auth(admin), payload: { name: 'sme', artefact: JSON.parse(fs.readFileSync(path.join(dir, 'sme.json'), 'utf8')) as Record<string, unknown> } })).json() as { id: string }
      await t.app.inject({ method: 'POST', url: `/v1/models/${model.id}/status`, headers: auth(admin), payload: { status: 'champion' } })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    await page.reload()
    await page.getByTestId('score-result').waitFor()
    const score = Number(await page.getByTestId('score-value').textContent())
    expect(score).toBeGreaterThan(300)
    expect(score).toBeLessThan(900)
    expect(await page.getByTestId('score').textContent()).toContain('sme v1')
    const scored = await inTenant(t.database.db, tenantId, (trx) => sql<{ subject: string }>`select subject from model_scores`.execute(trx))
    expect(scored.rows.map((r) => r.subject)).toContain(enterpriseId)
  })
})

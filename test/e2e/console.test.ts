/**
 * The web console end to end: the built console (console/dist) served by the in-process app on a real
 * port, driven by headless Chromium — failed and successful sign-in, the dashboard's KPIs and charts,
 * the enterprises and audit-log pages, the language switch (remembered across a reload), role-filtered
 * navigation for a borrower, and sign-out (which must reach the server, so the CSRF header was sent).
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inTenant } from '../../src/db/database.ts'
import { createTestApp, type TestApp } from '../support/app.ts'
import { consoleDir, declareBrowserRequirement, hasBrowser, launchChromium, requireConsoleBuild, screenshotDir, signIn } from '../support/browser.ts'

declareBrowserRequirement('web console (end to end)')

const password = 'correct-horse-battery-staple'
const enterpriseNames = ['杭州云织服饰有限公司', '义乌小商品贸易商行', '东莞精工五金制品厂'] as const

describe.skipIf(!hasBrowser)('web console (end to end)', { timeout: 60_000 }, () => {
  let t: TestApp
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let baseUrl: string
  let businessDate: string

  beforeAll(async () => {
    requireConsoleBuild()
    t = await createTestApp({ consoleDir })
    const tenantId = await t.createTenant('acme')
    await t.createUser(tenantId, 'admin@acme.test', 'admin', password)
    await t.createUser(tenantId, 'reviewer@acme.test', 'reviewer', password)
    const enterpriseIds: string[] = []
    for (const name of enterpriseNames) enterpriseIds.push(await t.createEnterprise(tenantId, name))
    await t.createUser(tenantId, 'borrower@acme.test', 'borrower', password, enterpriseIds[0])
    const tenant = await inTenant(t.database.db, tenantId, (trx) => trx.selectFrom('tenants').select('business_date').executeTakeFirstOrThrow())
    businessDate = String(tenant.business_date)
    baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' })
    browser = await launchChromium()
    context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })
    context.setDefaultTimeout(20_000)
    page = await context.newPage()
  }, 120_000)

  afterAll(async () => {
    await context?.close().catch(() => {})
    await browser?.close().catch(() => {})
    await t?.close()
  })

  const logIn = (target: Page, email: string, secret: string) => signIn(target, { tenant: 'acme', email, password: secret })

  it('refuses a wrong password with a clear message', async () => {
    await page.goto(baseUrl)
    await expect.poll(() => page.getByLabel('Tenant').inputValue()).toBe('demo') // the default tenant slug
    await logIn(page, 'admin@acme.test', 'not-the-password')
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong tenant, email or password')
    expect(await page.locator('[data-testid="dashboard"]').count()).toBe(0)
  })

  it('signs in and shows the dashboard with its KPIs and charts', async () => {
    await logIn(page, 'admin@acme.test', password)
    await page.locator('[data-testid="dashboard"]').waitFor()
    const kpi = (id: string) => page.getByTestId(`kpi-${id}-value`)
    await kpi('enterprises').waitFor()
    expect(await kpi('enterprises').textContent()).toBe(String(enterpriseNames.length))
    expect(await kpi('users').textContent()).toBe('3')
    expect(await kpi('active-api-keys').textContent()).toBe('0')
    expect(await kpi('business-date').textContent()).toBe(businessDate)
    await page.locator('[data-testid="chart-users-by-role"] canvas').waitFor()
    await page.locator('[data-testid="chart-audit-by-day"] canvas').waitFor()
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Overview')
    await page.waitForTimeout(800) // let the charts' entry animation finish before the screenshot
    fs.mkdirSync(screenshotDir, { recursive: true })
    await page.screenshot({ path: path.join(screenshotDir, 'console-dashboard.png'), fullPage: true })
  })

  it('lists enterprises and the audit log', async () => {
    await page.getByRole('link', { name: 'Enterprises' }).click()
    await page.getByTestId('enterprises').waitFor()
    for (const name of enterpriseNames) await page.getByRole('cell', { name }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/enterprises')

    await page.getByRole('link', { name: 'Audit log' }).click()
    await page.getByTestId('audit-log').waitFor()
    await page.getByText('session.login').first().waitFor()
    expect(await page.locator('[data-testid="audit-log"] tbody tr').count()).toBeGreaterThan(1)

    // Modules not built yet answer with a tidy placeholder.
    await page.getByRole('link', { name: /Users & keys/ }).click()
    await page.getByRole('heading', { name: 'Users & keys — coming soon' }).waitFor()
  })

  it('switches to Chinese, remembers it across a reload, and keeps the session', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click()
    await page.getByRole('heading', { name: 'Audit log' }).waitFor()
    await page.getByRole('button', { name: '中文' }).click()
    await page.getByRole('heading', { name: '审计日志' }).waitFor()
    expect(await page.getByRole('link', { name: '企业', exact: true }).count()).toBe(1)
    expect(await page.getByRole('button', { name: '中文' }).getAttribute('aria-pressed')).toBe('true')
    expect(await page.evaluate('localStorage.getItem("puhui.lang")')).toBe('zh-CN')

    await page.reload() // /audit-log again: the server's SPA fallback, then GET /v1/me with the cookie
    await page.getByRole('heading', { name: '审计日志' }).waitFor()
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN')

    await page.getByRole('link', { name: '运营看板' }).click()
    await page.getByRole('heading', { name: '运营概览' }).waitFor()
    await page.locator('[data-testid="chart-audit-by-day"] canvas').waitFor()
    await page.waitForTimeout(800)
    await page.screenshot({ path: path.join(screenshotDir, 'console-dashboard-zh.png'), fullPage: true })
  })

  it('signs out (server side too) and shows the sign-in form again', async () => {
    await page.getByRole('button', { name: '退出登录' }).click()
    await page.getByRole('heading', { name: '登录控制台' }).waitFor()
    await page.getByLabel('租户').waitFor()
    // The session is gone on the server: logout was accepted, so the X-CSRF-Token header was sent.
    const me = await context.request.get(`${baseUrl}/v1/me`)
    expect(me.status()).toBe(401)

    await page.getByRole('button', { name: 'English' }).click()
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor()
    expect(await page.getByLabel('Tenant').inputValue()).toBe('acme') // remembered from the last sign-in
  })

  it('gives a borrower a role home and only the borrower modules', async () => {
    const borrowerContext = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } })
    try {
      const borrower = await borrowerContext.newPage()
      borrower.setDefaultTimeout(20_000)
      await borrower.goto(baseUrl)
      await borrower.getByRole('heading', { name: '登录控制台' }).waitFor() // Chinese from the browser language
      await borrower.getByRole('button', { name: 'English' }).click()
      await logIn(borrower, 'borrower@acme.test', password)
      await borrower.getByTestId('role-home').waitFor()
      const nav = borrower.getByRole('navigation', { name: 'Main navigation' })
      expect(await nav.getByRole('link', { name: 'Borrower portal' }).count()).toBe(1)
      expect(await nav.getByRole('link', { name: 'Audit log' }).count()).toBe(0)
      expect(await borrower.locator('[data-testid="dashboard"]').count()).toBe(0)

      await nav.getByRole('link', { name: 'Enterprises' }).click()
      await borrower.getByRole('cell', { name: enterpriseNames[0] }).waitFor() // its own enterprise only
      expect(await borrower.locator('[data-testid="enterprises"] tbody tr').count()).toBe(1)

      await borrower.goto(`${baseUrl}/audit-log`)
      await borrower.getByRole('heading', { name: 'Not available for your role' }).waitFor()

      // On a phone-sized screen the navigation folds behind a menu button.
      await borrower.setViewportSize({ width: 390, height: 800 })
      expect(await borrower.getByRole('link', { name: 'Borrower portal' }).isVisible()).toBe(false)
      await borrower.getByRole('button', { name: 'Menu' }).click()
      await borrower.getByRole('link', { name: 'Borrower portal' }).waitFor()
    } finally {
      await borrowerContext.close()
    }
  })
})

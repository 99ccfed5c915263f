/**
 * Shared by the console end-to-end tests: Debian's Chromium through playwright-core (no browser
 * download), the built console, and what to do when either is missing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { describe, it } from 'vitest'

export const root = path.resolve(import.meta.dirname, '..', '..')
export const consoleDir = path.join(root, 'console', 'dist')
export const screenshotDir = path.join(root, 'test-results')
export const chromiumPath = process.env.PUHUI_CHROMIUM ?? '/usr/bin/chromium'
export const hasBrowser = fs.existsSync(chromiumPath)

/**
 * Without Chromium a browser suite is skipped with a warning, except when PUHUI_REQUIRE_BROWSER=1
 * (CI), where a failing test says what is missing.
 */
export function declareBrowserRequirement(suite: string): void {
  if (hasBrowser) return
  const message = `the ${suite} test needs Chromium at ${chromiumPath}: install it (apt-get install chromium) or set PUHUI_CHROMIUM to its path`
  if (process.env.PUHUI_REQUIRE_BROWSER === '1') {
    describe(suite, () => {
      it('has a browser', () => {
        throw new Error(`${message} (PUHUI_REQUIRE_BROWSER=1)`)
      })
    })
  } else {
    console.warn(`skipping: ${message}`)
  }
}

export function requireConsoleBuild(): void {
  if (!fs.existsSync(path.join(consoleDir, 'index.html'))) {
    throw new Error('console/dist/index.html is missing: build the console first with `npx vite build --config console/vite.config.ts` (npm ci runs it as "prepare")')
  }
}

/** Headless Chromium with the flags this closed network needs (no background connections). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

/** Fills the console's sign-in form and submits it. */
export async function signIn(page: Page, credentials: { tenant: string; email: string; password: string }): Promise<void> {
  await page.getByLabel('Tenant').fill(credentials.tenant)
  await page.getByLabel('Email').fill(credentials.email)
  await page.getByLabel('Password').fill(credentials.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

/** A fresh English page (1280 × 900, 15 s default timeout) signed in to the console at `baseUrl`, ready to navigate. */
export async function openSignedIn(browser: Browser, baseUrl: string, credentials: { tenant: string; email: string; password: string }): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  await page.goto(baseUrl)
  await signIn(page, credentials)
  await page.getByRole('button', { name: 'Sign out' }).waitFor() // signed in before navigating on
  return page
}

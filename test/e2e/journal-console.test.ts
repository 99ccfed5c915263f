/**
 * The console's Journal page end to end (built console/dist, in-process app, headless Chromium), as an
 * auditor: sign a tree head and see its Ed25519 signature verified in the browser, look up a transfer and
 * see its inclusion proof verified step by step against the signed root, a transfer newer than the head
 * (sign again: the new head is checked to extend the old one), and the negatives — a proof or a head
 * altered on the wire (intercepted by the test) is reported NOT verified.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { v7 as uuidv7 } from 'uuid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuidv7Source } from '../../src/core/ids.ts'
import { createAccounts, createTransfers, transferFlags, type TransferInput } from '../../src/ledger/index.ts'
import { createTestApp, type TestApp } from '../support/app.ts'
import { consoleDir, declareBrowserRequirement, hasBrowser, launchChromium, requireConsoleBuild, screenshotDir } from '../support/browser.ts'

declareBrowserRequirement('journal console (end to end)')

const password = 'correct-horse-battery-staple'
const transferCount = 20

describe.skipIf(!hasBrowser)('journal console (end to end)', { timeout: 60_000 }, () => {
  let t: TestApp
  let tenantId: string
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let baseUrl: string
  const cash = uuidv7()
  const loan = uuidv7()
  const transferIds: string[] = []

  const ledger = () => ({ db: t.database.db, ids: uuidv7Source })
  /** Posts `count` transfers loan → cash of 1,000.00 + i × 12.34 CNY; returns their ids in journal order. */
  async function postTransfers(count: number, first: number): Promise<string[]> {
    const inputs: TransferInput[] = Array.from({ length: count }, (_, i) => ({
      id: uuidv7(),
      debitAccountId: loan,
      creditAccountId: cash,
      amountMinor: 100_000n + BigInt(first + i) * 1_234n,
      currency: 'CNY',
      code: 1,
      flags: transferFlags(),
      pendingId: null,
      timeoutSeconds: 0,
      userData: BigInt(first + i),
      valueDate: null,
    }))
    const outcome = await createTransfers(ledger(), tenantId, inputs, { now: new Date(), origin: null })
    expect(outcome.results.map((result) => result.status)).toEqual(inputs.map(() => 'created'))
    return inputs.map((input) => input.id)
  }

  beforeAll(async () => {
    requireConsoleBuild()
    t = await createTestApp({ consoleDir })
    tenantId = await t.createTenant('acme')
    await t.createUser(tenantId, 'auditor@acme.test', 'auditor', password)
    const flags = { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false }
    const statuses = await createAccounts(
      ledger(),
      tenantId,
      [
        { id: cash, currency: 'CNY', code: 1001, flags, owner: null, userData: 0n },
        { id: loan, currency: 'CNY', code: 1201, flags, owner: null, userData: 0n },
      ],
      new Date(),
    )
    expect(statuses).toEqual(['created', 'created'])
    // Several batches, so the journal grows in more than one commit.
    for (let first = 0; first < transferCount; first += 7) transferIds.push(...(await postTransfers(Math.min(7, transferCount - first), first)))
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

  const verdict = () => page.getByTestId('inclusion-verdict')
  async function lookUp(id: string): Promise<void> {
    await page.getByLabel('Transfer ID').fill(id)
    await page.getByRole('button', { name: 'Look up' }).click()
  }

  it('signs in as an auditor and opens the journal page from the navigation', async () => {
    await page.goto(baseUrl)
    await page.getByLabel('Tenant').fill('acme')
    await page.getByLabel('Email').fill('auditor@acme.test')
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    const link = page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: /Ledger \/ Journal/ })
    expect(await link.textContent()).not.toContain('soon') // built
    await link.click()
    await page.getByRole('heading', { name: 'Journal verification', level: 1 }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/journal')
    await page.getByText('No tree head has been signed in this session yet').waitFor()
    await page.getByText('the operator cannot change or remove the transfer without the signed root changing').waitFor()
  })

  it('signs a tree head and verifies its signature in the browser', async () => {
    await page.getByTestId('tree-head').getByRole('button', { name: 'Sign a new tree head' }).click()
    const badge = page.getByTestId('sth-signature')
    await badge.waitFor()
    expect(await badge.textContent()).toContain('Signature verified in this browser')
    expect(await badge.getAttribute('data-verified')).toBe('true')
    expect(await page.getByTestId('sth-tree-size').textContent()).toBe(`${transferCount} entries`)
    expect(await page.getByTestId('sth-root-hash').textContent()).toMatch(/^[0-9a-f]{64}$/)
  })

  it('looks up a transfer in the middle and verifies its inclusion proof against the signed root', async () => {
    const middle = 10
    await lookUp(transferIds[middle] as string)
    await verdict().waitFor()
    expect(await verdict().getAttribute('data-verified')).toBe('true')
    expect(await verdict().textContent()).toContain(`Verified: this transfer is entry ${middle} of the journal`)
    expect(await page.getByTestId('transfer-index').textContent()).toBe(String(middle))
    expect(await page.getByTestId('transfer-amount').textContent()).toMatch(/^CNY\s1,123\.40$/) // 100,000 + 10 × 1,234 fen
    // Leaf 10 of 20: five steps, the last of which gives the signed root.
    const rows = page.locator('[data-testid="proof-steps"] tbody tr')
    expect(await rows.count()).toBe(5)
    const signedRoot = await page.getByTestId('sth-root-hash').textContent()
    expect(await page.getByTestId('computed-root').textContent()).toBe(signedRoot)
    expect(await rows.last().locator('td').last().textContent()).toBe(signedRoot)
    fs.mkdirSync(screenshotDir, { recursive: true })
    await page.screenshot({ path: path.join(screenshotDir, 'console-journal.png'), fullPage: true })
  })

  it('reports NOT verified when the proof is altered on the way to the browser', async () => {
    await page.route('**/v1/ledger/journal/inclusion?*', async (route) => {
      const response = await route.fetch()
      const body = (await response.json()) as { proof: string[] }
      const first = body.proof[0] as string
      body.proof[0] = `${first.slice(0, 10)}${first[10] === '0' ? '1' : '0'}${first.slice(11)}` // one hex digit changed
      await route.fulfill({ response, json: body })
    })
    try {
      await lookUp(transferIds[3] as string)
      await page.locator('[data-testid="inclusion-verdict"][data-verified="false"]').waitFor()
      expect(await verdict().textContent()).toContain('NOT verified: the path leads to a different root than the signed one.')
      expect(await page.getByTestId('computed-root').textContent()).not.toBe(await page.getByTestId('sth-root-hash').textContent())
    } finally {
      await page.unroute('**/v1/ledger/journal/inclusion?*')
    }
  })

  it('refuses to verify a transfer newer than the signed head until a new head is signed, which extends the old one', async () => {
    const [newest] = (await postTransfers(2, transferCount)).slice(-1) as [string]
    await lookUp(newest)
    await page.getByTestId('proof-newer').waitFor()
    expect(await page.getByTestId('proof-newer').textContent()).toContain(`This transfer (journal index ${transferCount + 1}) is newer than the signed tree head (size ${transferCount})`)
    await page.getByTestId('proof-newer').getByRole('button', { name: 'Sign a new tree head' }).click()
    await page.getByTestId('sth-tree-size').getByText(`${transferCount + 2} entries`).waitFor()
    await page.locator('[data-testid="sth-signature"][data-verified="true"]').waitFor()
    await page.getByTestId('sth-consistency').getByText(`Extends the previous head (size ${transferCount})`).waitFor()
    await page.locator('[data-testid="inclusion-verdict"][data-verified="true"]').waitFor()
    expect(await verdict().textContent()).toContain(`entry ${transferCount + 1} of the journal`)
  })

  it('says so when a tree head is altered on the way to the browser, and for unknown or malformed ids', async () => {
    await page.route('**/v1/ledger/journal/tree-heads', async (route) => {
      const response = await route.fetch()
      const body = (await response.json()) as { treeSize: number }
      await route.fulfill({ response, json: { ...body, treeSize: body.treeSize + 1 } })
    })
    try {
      await page.getByTestId('tree-head').getByRole('button', { name: 'Sign a new tree head' }).click()
      await page.locator('[data-testid="sth-signature"][data-verified="false"]').waitFor()
      expect(await page.getByTestId('sth-signature').textContent()).toContain('Signature NOT valid for this key')
    } finally {
      await page.unroute('**/v1/ledger/journal/tree-heads')
    }
    await lookUp(uuidv7())
    await page.getByTestId('transfer-lookup').getByRole('alert').getByText('Not found').waitFor()
    await lookUp('not-a-uuid')
    await page.getByTestId('transfer-lookup').getByRole('alert').getByText('A transfer ID is a UUID').waitFor()
  })

  it('shows the page in Chinese, keeping the head across a reload (re-verified)', async () => {
    await page.getByTestId('tree-head').getByRole('button', { name: 'Sign a new tree head' }).click()
    await page.locator('[data-testid="sth-signature"][data-verified="true"]').waitFor()
    await page.getByRole('button', { name: '中文' }).click()
    await page.reload()
    await page.getByRole('heading', { name: '分录验证', level: 1 }).waitFor()
    await page.locator('[data-testid="sth-signature"][data-verified="true"]').getByText('签名已在本浏览器中验证').waitFor()
    await page.getByLabel('转账 ID').fill(transferIds[0] as string)
    await page.getByRole('button', { name: '查询' }).click()
    await page.locator('[data-testid="inclusion-verdict"][data-verified="true"]').getByText('已验证').waitFor()
    await page.screenshot({ path: path.join(screenshotDir, 'console-journal-zh.png'), fullPage: true })
  })
})

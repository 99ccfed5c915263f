/**
 * The console's model pages end to end (built console/dist, in-process app, headless Chromium): a
 * scorecard trained by `puhui model train` on the German credit data is registered, made champion and
 * scores 300 of the training rows through the API; then, as a risk analyst, the list shows the version
 * with its AUC, its page draws the ROC, KS, score-distribution and calibration charts (the KS computed
 * from the training score bands, as console/src/model-charts.ts does) and the bins, monitoring reads the
 * score PSI as stable with a CSI chart, a second version is registered by uploading the MODEL.json and
 * made champion from the page (the first becomes challenger), and a bad file or name is refused with a
 * message. An auditor sees the same pages without the register form or the status buttons.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ksCurve, scoreBandsOf } from '../../console/src/model-charts.ts'
import { parseCsv } from '../../src/scoring/index.ts'
import { createTestApp, type TestApp } from '../support/app.ts'
import { consoleDir, declareBrowserRequirement, hasBrowser, launchChromium, requireConsoleBuild, root, screenshotDir, signIn } from '../support/browser.ts'
import { sharedDataDir } from '../support/shared-data.ts'

declareBrowserRequirement('models console (end to end)')

const password = 'correct-horse-battery-staple'
type Summary = { id: string; name: string; version: number; status: string; metrics: { auc: number; ks: number } }

describe.skipIf(!hasBrowser)('models console (end to end)', { timeout: 60_000 }, () => {
  let t: TestApp
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let baseUrl: string
  let analystKey: string
  let first: Summary
  let artefact: { metrics: Record<string, unknown> }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-models-console-'))
  const modelFile = path.join(dir, 'german.json')
  const en3 = (value: number) => value.toFixed(3)

  async function call<T>(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<T> {
    const response = await t.app.inject({ method, url, headers: { authorization: `Bearer ${analystKey}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })
    expect(response.statusCode, response.body).toBeLessThan(300)
    return response.json() as T
  }

  beforeAll(async () => {
    requireConsoleBuild()
    const germanFile = path.join(sharedDataDir(), 'german_credit_g.csv')
    const train = spawnSync(process.execPath, [path.join(root, 'bin', 'puhui.js'), 'model', 'train', '--data', germanFile, '--target', 'class', '--bad', 'bad', '--out', modelFile], { encoding: 'utf8', env: { ...process.env, PUHUI_DATA_DIR: dir } })
    expect(train.status, train.stderr).toBe(0)
    artefact = JSON.parse(fs.readFileSync(modelFile, 'utf8')) as typeof artefact
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a model\n')
    fs.writeFileSync(path.join(dir, 'broken.json'), JSON.stringify({ format: 'puhui-scorecard', formatVersion: 1 }))

    t = await createTestApp({ consoleDir })
    const tenantId = await t.createTenant('acme')
    await t.createUser(tenantId, 'analyst@acme.test', 'risk_analyst', password)
    await t.createUser(tenantId, 'auditor@acme.test', 'auditor', password)
    analystKey = await t.createKey(tenantId, 'risk_analyst')
    first = await call<Summary>('POST', '/v1/models', { name: 'sme-scorecard', artefact })
    await call('POST', `/v1/models/${first.id}/status`, { status: 'champion' })
    // 300 rows spread over the training file: the training population, so no drift.
    const table = parseCsv(fs.readFileSync(germanFile, 'utf8'))
    const rows = table.rows.filter((_, i) => i % 10 < 3).map((cells, i) => ({ subject: `applicant-${i}`, values: Object.fromEntries(table.header.map((name, j) => [name, cells[j] ?? null])) }))
    expect(rows).toHaveLength(300)
    const scored = await call<{ results: unknown[] }>('POST', `/v1/models/${first.id}/scores`, { rows })
    expect(scored.results).toHaveLength(300)

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
    fs.rmSync(dir, { recursive: true, force: true })
  })

  async function logIn(target: Page, email: string): Promise<void> {
    await target.goto(baseUrl)
    await signIn(target, { tenant: 'acme', email, password })
  }

  /** How many pixels of a chart's canvas are painted (ECharts animates in: poll it). */
  async function painted(target: Page, testId: string): Promise<number> {
    const canvas = target.getByTestId(testId).locator('canvas').first()
    await canvas.waitFor()
    return canvas.evaluate((element) => {
      type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null }
      const c = element as unknown as Canvas
      const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data
      let n = 0
      if (data !== undefined) for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) n++
      return n
    })
  }

  const row = (version: number) => page.getByTestId(`model-sme-scorecard-v${version}`)
  const statusOf = (version: number) => row(version).getByTestId('model-status').getAttribute('data-status')

  it('signs in as a risk analyst and lists the champion version with its metrics', async () => {
    await logIn(page, 'analyst@acme.test')
    const link = page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: /Models/ })
    expect(await link.textContent()).not.toContain('soon') // built
    await link.click()
    await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/models')
    await row(1).waitFor()
    expect(await statusOf(1)).toBe('champion')
    expect(await row(1).getByTestId('model-status').textContent()).toBe('champion')
    expect(await row(1).getByTestId('model-auc').textContent()).toBe(en3(first.metrics.auc))
    expect(first.metrics.auc).toBeGreaterThan(0.75)
    expect(await page.getByTestId('model-group-sme-scorecard').getByText('1 versions').count()).toBe(1)
  })

  it('opens the version: KPIs, the ROC, KS, distribution and calibration charts, and the bins', async () => {
    await row(1).getByRole('link', { name: 'v1' }).click()
    await page.getByRole('heading', { name: 'sme-scorecard v1', level: 1 }).waitFor()
    expect(new URL(page.url()).pathname).toBe(`/models/${first.id}`)
    expect(await page.getByTestId('kpi-auc-value').textContent()).toBe(en3(first.metrics.auc))
    expect(await page.getByTestId('kpi-ks-value').textContent()).toBe(en3(first.metrics.ks))
    expect(await page.getByTestId('kpi-n-value').textContent()).toBe('1,000')
    expect(await page.getByTestId('curves-note').textContent()).toContain('computed here from the training score bands (20 points wide)')
    for (const chart of ['chart-roc', 'chart-ks', 'chart-distribution', 'chart-calibration']) await expect.poll(() => painted(page, chart), { timeout: 10_000 }).toBeGreaterThan(5_000)
    // The KS of the bands, as the page computes it: a little under the exact KS, never above.
    const ks = ksCurve(scoreBandsOf(artefact.metrics))
    expect(ks).toBeDefined()
    expect(await page.getByTestId('ks-value').textContent()).toBe(`KS ${en3(ks?.ks as number)} at a cut-off of ${ks?.score}`)
    expect(ks?.ks).toBeLessThanOrEqual(first.metrics.ks + 1e-9)
    expect(ks?.ks).toBeGreaterThan(first.metrics.ks - 0.05)
    expect(await page.getByTestId('roc-area').textContent()).toMatch(/^Area under the band curve 0\.8\d\d$/)

    const variable = page.getByTestId('variable-checking_status')
    await variable.getByRole('button', { name: 'Show bins' }).click()
    const bins = page.getByTestId('bins-checking_status')
    await bins.waitFor()
    const noChecking = bins.locator('tbody tr', { hasText: 'no checking' })
    expect(await noChecking.locator('td').allTextContents()).toEqual(['no checking', '394', '46', '11.7%', '-1.172', '26.1'])
    await variable.getByRole('button', { name: 'Hide bins' }).click()
    await bins.waitFor({ state: 'detached' })
  })

  it('reads the drift: the training population is stable, with a CSI bar per variable', async () => {
    const monitoring = page.getByTestId('model-monitoring')
    await monitoring.getByTestId('monitoring-n').getByText('300').waitFor()
    const badge = monitoring.getByTestId('psi-badge')
    expect(await badge.getAttribute('data-stability')).toBe('stable')
    expect(await badge.textContent()).toMatch(/^PSI 0\.0\d\d · stable$/)
    expect(await monitoring.getByTestId('shifted-variables').textContent()).toBe('No variable has shifted.')
    await expect.poll(() => painted(page, 'chart-csi'), { timeout: 10_000 }).toBeGreaterThan(5_000)
    for (const window of ['Last 7 days', 'All time', 'Last 90 days']) {
      await monitoring.getByLabel('Scored in').selectOption({ label: window })
      await monitoring.getByTestId('monitoring-n').getByText('300').waitFor()
    }
    fs.mkdirSync(screenshotDir, { recursive: true })
    await page.screenshot({ path: path.join(screenshotDir, 'console-model.png'), fullPage: true })
  })

  it('refuses a file that is not a model, and a bad name, with a message', async () => {
    await page.getByRole('link', { name: 'All models' }).click()
    const form = page.getByTestId('model-register')
    await form.waitFor()
    const file = form.getByLabel('Model file (MODEL.json)')
    await form.getByRole('button', { name: 'Register' }).click()
    await form.getByRole('alert').getByText('Choose a MODEL.json file.').waitFor()
    await file.setInputFiles(path.join(dir, 'notes.txt'))
    await form.getByRole('alert').getByText('The file notes.txt is not JSON.').waitFor()
    await file.setInputFiles(path.join(dir, 'broken.json'))
    await form.getByRole('button', { name: 'Register' }).click()
    await form.getByRole('alert').getByText('The server cannot read this model file: the model file has no valid scorecard').waitFor()
    await file.setInputFiles(modelFile)
    await form.getByLabel('Model name').fill('Bad Name')
    await form.getByRole('button', { name: 'Register' }).click()
    await form.getByRole('alert').getByText('A model name is 1 to 63 lower-case letters').waitFor()
    expect((await call<{ items: Summary[] }>('GET', '/v1/models')).items).toHaveLength(1)
  })

  it('registers a second version by uploading its MODEL.json and makes it champion: the first becomes challenger', async () => {
    const form = page.getByTestId('model-register')
    await form.getByLabel('Model name').fill('sme-scorecard')
    await form.getByLabel('Model file (MODEL.json)').setInputFiles(modelFile)
    expect(await form.getByTestId('model-file-preview').textContent()).toBe(`german.json: target class, trained on 1,000 rows, AUC ${en3(first.metrics.auc)}.`)
    await form.getByRole('button', { name: 'Register' }).click()
    await page.getByTestId('models-notice').getByText('Registered sme-scorecard v2.').waitFor()
    await row(2).waitFor()
    expect(await statusOf(2)).toBe('registered')
    expect(await page.getByTestId('model-group-sme-scorecard').getByText('2 versions').count()).toBe(1)

    await row(2).getByRole('button', { name: 'Make champion' }).click()
    await page.getByTestId('models-notice').getByText('sme-scorecard v2 is now champion.').waitFor()
    await row(1).locator('[data-status="challenger"]').waitFor()
    expect(await statusOf(2)).toBe('champion')
    expect(await row(2).getByRole('button', { name: 'Make champion' }).count()).toBe(0)
    const listed = (await call<{ items: Summary[] }>('GET', '/v1/models')).items
    expect(listed.map((m) => [m.version, m.status]).sort()).toEqual([
      [1, 'challenger'],
      [2, 'champion'],
    ])
    await page.screenshot({ path: path.join(screenshotDir, 'console-models.png'), fullPage: true })
  })

  it('retires a version after confirmation', async () => {
    await row(1).getByRole('button', { name: 'Retire' }).click()
    await row(1).getByRole('button', { name: 'Confirm retirement' }).click()
    await row(1).locator('[data-status="retired"]').waitFor()
    expect(await row(1).getByRole('button', { name: 'Retire' }).count()).toBe(0)
    expect(await row(1).getByRole('button', { name: 'Make challenger' }).count()).toBe(1)
  })

  it('shows the version page in Chinese', async () => {
    await page.getByRole('button', { name: '中文' }).click()
    await row(1).getByRole('link', { name: 'v1' }).click()
    await page.getByRole('heading', { name: 'sme-scorecard v1', level: 1 }).waitFor()
    await page.getByRole('heading', { name: '训练数据上的表现' }).waitFor()
    await page.getByTestId('psi-badge').getByText('稳定').waitFor()
    expect(await page.getByTestId('ks-value').textContent()).toMatch(/^KS 0\.\d{3}，分数线 \d+$/)
    await expect.poll(() => painted(page, 'chart-ks'), { timeout: 10_000 }).toBeGreaterThan(5_000)
    await page.screenshot({ path: path.join(screenshotDir, 'console-model-zh.png'), fullPage: true })
    await page.getByRole('button', { name: 'English' }).click()
  })

  it('lets an auditor read the pages but not register or change a status', async () => {
    const auditorContext = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
    auditorContext.setDefaultTimeout(20_000)
    try {
      const auditor = await auditorContext.newPage()
      await logIn(auditor, 'auditor@acme.test')
      await auditor.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: /Models/ }).click()
      await auditor.getByTestId('model-sme-scorecard-v2').waitFor()
      expect(await auditor.getByTestId('model-register').count()).toBe(0)
      expect(await auditor.getByRole('button', { name: 'Make champion' }).count()).toBe(0)
      await auditor.getByTestId('model-sme-scorecard-v1').getByRole('link', { name: 'v1' }).click()
      await auditor.getByTestId('psi-badge').waitFor()
      expect(await auditor.getByRole('button', { name: /Make champion|Retire/ }).count()).toBe(0)
      // The new champion has scored nothing yet: no PSI, no CSI chart.
      await auditor.getByRole('link', { name: 'All models' }).click()
      await auditor.getByTestId('model-sme-scorecard-v2').getByRole('link', { name: 'v2' }).click()
      await auditor.getByTestId('model-monitoring').getByText('No scores in this window: nothing to compare yet.').waitFor()
      expect(await auditor.getByTestId('psi-badge').textContent()).toBe('not available')
      expect(await auditor.getByTestId('chart-csi').count()).toBe(0)
    } finally {
      await auditorContext.close()
    }
  })
})

/**
 * Shared by the portfolio and console tests: a loan product, a tiny scorecard trained in process (a
 * second, no CLI), an enterprise's consent and six months of sales, and a small strategy on amount bands,
 * so that a test decides applications in milliseconds: requests above 50,000 yuan are declined, above
 * 20,000 referred to a person, the rest approved at 12 % up to 30,000.
 */
import { expect } from 'vitest'
import { buildArtefact, defaultScorecardOptions, detectColumns, evaluateScorecard, mulberry32, parseCsv, predictColumns, targetFromColumn, trainScorecard } from '../../src/scoring/index.ts'
import type { TestApp } from '../support/app.ts'

type Json = Record<string, unknown>
const auth = (key: string) => ({ authorization: `Bearer ${key}` })

export async function callApi(t: TestApp, method: 'GET' | 'POST', url: string, key: string, payload?: Json): Promise<{ status: number; body: Json }> {
  const body = payload ?? (method === 'POST' ? {} : undefined)
  const response = await t.app.inject({ method, url, headers: auth(key), ...(body === undefined ? {} : { payload: body }) })
  return { status: response.statusCode, body: response.json() as Json }
}

export async function okApi(t: TestApp, method: 'GET' | 'POST', url: string, key: string, payload?: Json): Promise<Json> {
  const response = await callApi(t, method, url, key, payload)
  expect(response.status, `${method} ${url}: ${JSON.stringify(response.body)}`).toBeLessThan(300)
  return response.body
}

export const smallStrategy = {
  name: 'sme-310',
  description: 'A test strategy: amount bands only.',
  inputs: { 'application.amount': 'number', 'application.termMonths': 'number' },
  models: [{ name: 'sme', output: 'score' }],
  knockouts: [{ code: 'amount_too_large', when: 'application.amount > 50_000', reason: { en: 'Requests above 50,000 yuan are not served', zh: '申请金额超过5万元，不予受理' } }],
  referrals: [{ code: 'large_request', when: 'application.amount > 20_000', reason: { en: 'Requests above 20,000 yuan are reviewed by a credit officer', zh: '2万元以上的申请需信贷员审核' } }],
  limit: { formula: '30_000', max: 30_000, min: 1_000, step: 100 },
  pricing: { capAnnualRatePct: '24', grid: [{ annualRatePct: '12' }] },
  terms: { allowedMonths: [3, 6, 12], requested: 'application.termMonths' },
}

/** A monthly-instalment product (1,000 – 100,000 yuan, 3–12 months, cap 24 %, no fee) created by an admin key. */
export async function createProduct(t: TestApp, admin: string, name = 'Working capital'): Promise<string> {
  const product = await okApi(t, 'POST', '/v1/loan-products', admin, { name, currency: 'CNY', principalMinMinor: '100000', principalMaxMinor: '10000000', installmentsMin: 3, installmentsMax: 12, annualRateCapPct: '24' })
  return product.id as string
}

/** Writes, submits, approves (another analyst) and activates `smallStrategy`. */
export async function publishSmallStrategy(t: TestApp, author: string, checker: string): Promise<string> {
  const created = await okApi(t, 'POST', '/v1/strategies', author, { document: smallStrategy })
  const id = created.id as string
  await okApi(t, 'POST', `/v1/strategies/${id}/submit`, author)
  await okApi(t, 'POST', `/v1/strategies/${id}/approve`, checker)
  await okApi(t, 'POST', `/v1/strategies/${id}/activate`, author)
  return id
}

/** A scorecard on gmv_6m and refund_rate_6m (more sales, fewer refunds: better), registered as the champion of `sme`. */
export async function registerChampion(t: TestApp, analyst: string): Promise<void> {
  const random = mulberry32(11)
  const lines = ['gmv_6m,refund_rate_6m,bad']
  for (let i = 0; i < 600; i++) {
    const gmv = Math.round(random() * 1_200_000)
    const refund = Math.round(random() * 0.2 * 1000) / 1000
    const risk = 1 / (1 + Math.exp(-(-0.5 - gmv / 300_000 + 12 * refund)))
    lines.push(`${gmv},${refund},${random() < risk ? 1 : 0}`)
  }
  const columns = detectColumns(parseCsv(`${lines.join('\n')}\n`))
  const target = targetFromColumn(columns.find((c) => c.name === 'bad') as (typeof columns)[number], '1')
  const features = columns.filter((c) => c.name !== 'bad')
  const card = trainScorecard({ columns: features, target }, defaultScorecardOptions)
  const metrics = evaluateScorecard(card, predictColumns(card, features), target)
  const artefact = buildArtefact({
    createdAt: new Date().toISOString(), trainingData: { sha256: '0'.repeat(64), rows: target.length, bads: target.reduce((s, x) => s + x, 0), columns: columns.map((c) => c.name) },
    target: { column: 'bad', bad: '1' }, excluded: [], card, metrics: { ...metrics, cvAuc: null, cvFolds: 0, cvSeed: 0 },
  })
  const model = await okApi(t, 'POST', '/v1/models', analyst, { name: 'sme', artefact: artefact as unknown as Json })
  await okApi(t, 'POST', `/v1/models/${model.id as string}/status`, analyst, { status: 'champion' })
}

/** A credit-assessment consent and six months of sales (100,000 yuan a month) and cash received before `businessDate`. */
export async function giveEnterpriseData(t: TestApp, admin: string, enterpriseId: string, businessDate: string): Promise<void> {
  await okApi(t, 'POST', `/v1/enterprises/${enterpriseId}/consents`, admin, { purpose: 'credit_assessment', scope: ['orders', 'payment_flows'], expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(), evidence: 'signed form' })
  const [year, month] = businessDate.split('-').map(Number) as [number, number]
  const months = Array.from({ length: 6 }, (_, i) => new Date(Date.UTC(year, month - 1 - 6 + i, 1)).toISOString().slice(0, 7))
  const orders = months.map((m) => ({ externalId: `o-${enterpriseId}-${m}`, enterpriseId, month: m, gmvMinor: '10000000', orders: '500', buyers: '400', repeatBuyers: '100', topBuyerShare: '0.1', refundsMinor: '0', refunds: '0', currency: 'CNY' }))
  const flows = months.map((m) => ({ externalId: `p-${enterpriseId}-${m}`, enterpriseId, month: m, inflowMinor: '9500000', outflowMinor: '6000000', transactions: '200', counterparties: '20', currency: 'CNY' }))
  for (const [source, records] of [['orders', orders], ['payment_flows', flows]] as const) await okApi(t, 'POST', `/v1/data/${source}`, admin, { records })
}

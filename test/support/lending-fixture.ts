/**
 * A lending tenant over HTTP for flow tests: keys for each staff role, an enterprise with six months of sales
 * and cash flows and a credit-assessment consent, a borrower key scoped to it, a second enterprise without
 * consent, a 3–12-month product (24 % cap, 1 % fee), and a small scorecard `sme` trained by the CLI and made
 * champion. `publishStrategy` takes a document through maker-checker to active.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { expect } from 'vitest'
import { inTenant } from '../../src/db/database.ts'
import { mulberry32 } from '../../src/scoring/index.ts'
import sme310 from '../../src/decisions/sme-310.strategy.json' with { type: 'json' }
import type { TestApp } from './app.ts'

export type Json = Record<string, unknown>
export type Lending = {
  readonly tenantId: string
  readonly admin: string
  readonly analyst: string
  readonly checker: string
  readonly operator: string
  readonly reviewer: string
  readonly borrower: string
  readonly shop: string
  readonly stranger: string
  readonly product: string
  readonly call: (method: 'GET' | 'POST', url: string, key: string, payload?: Json) => Promise<{ status: number; body: Json }>
  readonly ok: (method: 'GET' | 'POST', url: string, key: string, payload?: Json) => Promise<Json>
  readonly publishStrategy: (document: Json) => Promise<string>
  readonly strategyDocument: (overrides?: Json) => Json
  /** Σ debits = Σ credits over the tenant's accounts, posted and pending. */
  readonly expectLedgerBalanced: () => Promise<void>
  readonly close: () => void
}

export async function setUpLending(t: TestApp, slug: string): Promise<Lending> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `puhui-${slug}-`))
  const auth = (key: string) => ({ authorization: `Bearer ${key}` })
  const call = async (method: 'GET' | 'POST', url: string, key: string, payload?: Json) => {
    const body = payload ?? (method === 'POST' ? {} : undefined)
    const response = await t.app.inject({ method, url, headers: auth(key), ...(body === undefined ? {} : { payload: body }) })
    return { status: response.statusCode, body: response.json() as Json }
  }
  const ok = async (method: 'GET' | 'POST', url: string, key: string, payload?: Json): Promise<Json> => {
    const response = await call(method, url, key, payload)
    expect(response.status, JSON.stringify(response.body)).toBeLessThan(300)
    return response.body
  }
  const tenantId = await t.createTenant(slug)
  const admin = await t.createKey(tenantId, 'admin')
  const analyst = await t.createKey(tenantId, 'risk_analyst')
  const checker = await t.createKey(tenantId, 'risk_analyst')
  const operator = await t.createKey(tenantId, 'operator')
  const reviewer = await t.createKey(tenantId, 'reviewer')
  const shop = await t.createEnterprise(tenantId, 'Shop Ltd')
  const stranger = await t.createEnterprise(tenantId, 'No Consent Ltd')
  const borrower = await t.createKey(tenantId, 'borrower', shop)
  await inTenant(t.database.db, tenantId, (trx) => sql`update enterprises set founded_on = '2015-03-01', sector = 'retail'`.execute(trx))
  const product = (await ok('POST', '/v1/loan-products', admin, {
    name: '310 working capital', currency: 'CNY', principalMinMinor: '1000000', principalMaxMinor: '100000000', installmentsMin: 3, installmentsMax: 12,
    schedule: { interestPeriod: 'daily', daysInYear: '365' }, annualRateCapPct: '24', upfrontFeePct: '1',
  })).id as string
  await ok('POST', `/v1/enterprises/${shop}/consents`, admin, { purpose: 'credit_assessment', scope: ['orders', 'payment_flows'], expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(), evidence: 'signed form' })
  // Six months of sales (100,000 yuan a month) and cash received, before the business date.
  const businessDate = await inTenant(t.database.db, tenantId, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants`.execute(trx)).rows[0]?.d as string)
  const [year, month] = businessDate.split('-').map(Number) as [number, number]
  const months = Array.from({ length: 6 }, (_, i) => new Date(Date.UTC(year, month - 1 - 6 + i, 1)).toISOString().slice(0, 7))
  const orders = months.map((m) => ({ externalId: `o-${m}`, enterpriseId: shop, month: m, gmvMinor: '10000000', orders: '500', buyers: '400', repeatBuyers: '100', topBuyerShare: '0.1', refundsMinor: '0', refunds: '0', currency: 'CNY' }))
  const flows = months.map((m) => ({ externalId: `p-${m}`, enterpriseId: shop, month: m, inflowMinor: '9500000', outflowMinor: '6000000', transactions: '200', counterparties: '20', currency: 'CNY' }))
  for (const [source, records] of [['orders', orders], ['payment_flows', flows]] as const) {
    const response = await ok('POST', `/v1/data/${source}`, admin, { records })
    expect((response.results as { status: string }[]).every((r) => r.status === 'created')).toBe(true)
  }
  // A tiny scorecard on feature names: more sales, fewer refunds → better.
  const random = mulberry32(11)
  const lines = ['gmv_6m,refund_rate_6m,bad']
  for (let i = 0; i < 600; i++) {
    const gmv = Math.round(random() * 1_200_000)
    const refund = Math.round(random() * 0.2 * 1000) / 1000
    const risk = 1 / (1 + Math.exp(-(-0.5 - gmv / 300_000 + 12 * refund)))
    lines.push(`${gmv},${refund},${random() < risk ? 1 : 0}`)
  }
  fs.writeFileSync(path.join(dir, 'train.csv'), `${lines.join('\n')}\n`)
  const train = spawnSync(process.execPath, [path.join(import.meta.dirname, '..', '..', 'bin', 'puhui.js'), 'model', 'train', '--data', path.join(dir, 'train.csv'), '--target', 'bad', '--bad', '1', '--out', path.join(dir, 'sme.json')], { encoding: 'utf8', env: { ...process.env, PUHUI_DATA_DIR: dir } })
  expect(train.status, train.stderr).toBe(0)
  const artefact = JSON.parse(fs.readFileSync(path.join(dir, 'sme.json'), 'utf8')) as Json
  const model = await ok('POST', '/v1/models', analyst, { name: 'sme', artefact })
  await ok('POST', `/v1/models/${model.id as string}/status`, analyst, { status: 'champion' })

  const strategyDocument = (overrides: Json = {}): Json => ({ ...structuredClone(sme310), models: [{ name: 'sme', output: 'score' }], cutoffs: { declineBelow: 400, referBelow: 450 }, ...overrides })
  const publishStrategy = async (document: Json): Promise<string> => {
    const created = await ok('POST', '/v1/strategies', analyst, { document })
    const id = created.id as string
    await ok('POST', `/v1/strategies/${id}/submit`, analyst)
    await ok('POST', `/v1/strategies/${id}/approve`, checker)
    await ok('POST', `/v1/strategies/${id}/activate`, analyst)
    return id
  }
  const expectLedgerBalanced = async (): Promise<void> => {
    const sums = await inTenant(t.database.db, tenantId, async (trx) => (await sql<{ d: string; c: string; dp: string; cp: string }>`
      select sum(debits_posted)::text as d, sum(credits_posted)::text as c, sum(debits_pending)::text as dp, sum(credits_pending)::text as cp from ledger_accounts`.execute(trx)).rows[0])
    expect(sums?.d).toBe(sums?.c)
    expect(sums?.dp).toBe(sums?.cp)
  }
  return { tenantId, admin, analyst, checker, operator, reviewer, borrower, shop, stranger, product, call, ok, publishStrategy, strategyDocument, expectLedgerBalanced, close: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

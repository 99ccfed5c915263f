/**
 * Relationships, feature snapshots and scoring an enterprise, over HTTP: shared contacts link
 * enterprises (consent to owners required), features are recomputed and stored as records arrive, and an
 * enterprise is scored by the champion of a model trained (with `puhui model train`) on feature names.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mulberry32 } from '../src/scoring/index.ts'
import { createTestApp, type TestApp } from './support/app.ts'

let t: TestApp
let admin: string
let analyst: string
let a: string
let b: string
let c: string
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-credit-scoring-'))
const auth = (key: string) => ({ authorization: `Bearer ${key}` })
const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString()

beforeAll(async () => {
  t = await createTestApp()
  const tenantId = await t.createTenant('scoring')
  admin = await t.createKey(tenantId, 'admin')
  analyst = await t.createKey(tenantId, 'risk_analyst')
  a = await t.createEnterprise(tenantId, 'A Trading')
  b = await t.createEnterprise(tenantId, 'B Shell')
  c = await t.createEnterprise(tenantId, 'C Unrelated')
  for (const id of [a, b, c]) {
    await t.app.inject({ method: 'POST', url: `/v1/enterprises/${id}/consents`, headers: auth(admin), payload: { purpose: 'credit_assessment', scope: ['orders', 'payment_flows', 'owners'], expiresAt: inAYear(), evidence: 'signed form' } })
  }
})
afterAll(async () => {
  await t.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('relationships', () => {
  it('links enterprises sharing an address, a phone or a bank account written differently', async () => {
    const add = (id: string, kind: string, value: string) => t.app.inject({ method: 'POST', url: `/v1/enterprises/${id}/contacts`, headers: auth(admin), payload: { kind, value } })
    expect((await add(a, 'address', '浙江省杭州市  西湖区 文三路 1 号')).statusCode).toBe(201)
    await add(b, 'address', '浙江省杭州市 西湖区 文三路 1 号')
    await add(a, 'bank_account', '6222 0202 0000 1234')
    await add(b, 'bank_account', '6222020200001234')
    await add(c, 'phone', '+86 139 0000 0000')
    await t.app.inject({ method: 'POST', url: `/v1/enterprises/${a}/owners`, headers: auth(admin), payload: { name: 'Li Si', idNumber: '330106198801011111', phone: '13900000000', role: 'legal_representative' } })
    const related = (await t.app.inject({ url: `/v1/enterprises/${a}/related?purpose=credit_assessment`, headers: auth(analyst) })).json() as { items: { enterpriseId: string; via: string; name: string }[] }
    expect(related.items.map((r) => `${r.name}:${r.via}`).sort()).toEqual(['B Shell:address', 'B Shell:bank_account', 'C Unrelated:phone'])
    expect((await t.app.inject({ url: `/v1/enterprises/${a}/related?purpose=monitoring`, headers: auth(analyst) })).statusCode).toBe(403)
  })
})

describe('features as data arrives, and scoring', () => {
  it('stores a snapshot when records arrive and updates it with the next batch', async () => {
    const month = (id: string, m: string, gmv: string, inflow: string) => [
      { externalId: `o-${id}-${m}`, enterpriseId: id, month: m, gmvMinor: gmv, orders: '50', buyers: '40', repeatBuyers: '10', topBuyerShare: '0.1', refundsMinor: '0', refunds: '0', currency: 'CNY' },
      { externalId: `p-${id}-${m}`, enterpriseId: id, month: m, inflowMinor: inflow, outflowMinor: inflow, transactions: '20', counterparties: '2', currency: 'CNY' },
    ]
    const ingest = async (records: Record<string, unknown>[]) => {
      for (const source of ['orders', 'payment_flows']) {
        const rows = records.filter((r) => (source === 'orders' ? 'gmvMinor' in r : 'inflowMinor' in r))
        const response = await t.app.inject({ method: 'POST', url: `/v1/data/${source}`, headers: auth(admin), payload: { records: rows } })
        expect((response.json() as { results: { status: string }[] }).results.every((r) => r.status === 'created')).toBe(true)
      }
    }
    const today = new Date()
    const months = Array.from({ length: 6 }, (_, i) => new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 6 + i, 1)).toISOString().slice(0, 7))
    await ingest(months.slice(0, 3).flatMap((m) => month(a, m, '1000000', '900000')))
    const first = (await t.app.inject({ url: `/v1/enterprises/${a}/feature-history?purpose=credit_assessment`, headers: auth(analyst) })).json() as { items: { features: Record<string, number | null>; computedAt: string }[] }
    expect(first.items).toHaveLength(1)
    const gmvBefore = first.items[0]?.features.gmv_6m
    await ingest(months.slice(3).flatMap((m) => [...month(a, m, '1000000', '900000'), ...month(b, m, '500000', '500000')]))
    const second = (await t.app.inject({ url: `/v1/enterprises/${a}/feature-history?purpose=credit_assessment`, headers: auth(analyst) })).json() as { items: { features: Record<string, number | null> }[] }
    expect(second.items).toHaveLength(1)
    expect(second.items[0]?.features.gmv_6m).toBeGreaterThan(gmvBefore as number)
  })

  it('scores an enterprise with the champion of a model trained on feature names, with reasons', async () => {
    const random = mulberry32(7)
    const lines = ['gmv_6m,net_flow_ratio_6m,refund_rate_6m,bad']
    for (let i = 0; i < 600; i++) {
      const gmv = Math.round(random() * 100_000)
      const net = Math.round((random() * 0.6 - 0.1) * 1000) / 1000
      const refund = Math.round(random() * 0.2 * 1000) / 1000
      const risk = 1 / (1 + Math.exp(-(-1 - gmv / 30_000 - 4 * net + 10 * refund)))
      lines.push(`${gmv},${net},${refund},${random() < risk ? 1 : 0}`)
    }
    fs.writeFileSync(path.join(dir, 'train.csv'), `${lines.join('\n')}\n`)
    const train = spawnSync(process.execPath, [path.join(import.meta.dirname, '..', 'bin', 'puhui.js'), 'model', 'train', '--data', path.join(dir, 'train.csv'), '--target', 'bad', '--bad', '1', '--out', path.join(dir, 'sme.json')], { encoding: 'utf8', env: { ...process.env, PUHUI_DATA_DIR: dir } })
    expect(train.status, train.stderr).toBe(0)
    const artefact = JSON.parse(fs.readFileSync(path.join(dir, 'sme.json'), 'utf8')) as Record<string, unknown>
    expect((await t.app.inject({ url: `/v1/enterprises/${a}/score?purpose=credit_assessment&model=sme`, headers: auth(analyst) })).json()).toMatchObject({ code: 'no_champion_model' })
    const model = (await t.app.inject({ method: 'POST', url: '/v1/models', headers: auth(analyst), payload: { name: 'sme', artefact } })).json() as { id: string }
    await t.app.inject({ method: 'POST', url: `/v1/models/${model.id}/status`, headers: auth(analyst), payload: { status: 'champion' } })
    const scored = await t.app.inject({ url: `/v1/enterprises/${b}/score?purpose=credit_assessment&model=sme`, headers: auth(analyst) })
    expect(scored.statusCode).toBe(200)
    const body = scored.json() as { model: { version: number }; score: number; probability: number; reasons: { code: string; zh: string }[]; flags: { code: string }[] }
    expect(body.model.version).toBe(1)
    expect(body.probability).toBeGreaterThan(0)
    expect(body.probability).toBeLessThan(1)
    expect(body.reasons.length).toBeGreaterThan(0)
    // B passes all its money straight through and shares an address and a bank account with A, which does too.
    expect(body.flags.map((f) => f.code)).toContain('circular_trading_suspected')
    const monitoring = (await t.app.inject({ url: `/v1/models/${model.id}/monitoring`, headers: auth(analyst) })).json() as { n: number }
    expect(monitoring.n).toBe(1)
  })
})

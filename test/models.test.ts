/**
 * The model registry over HTTP: a scorecard trained by `puhui model train` is registered, versioned,
 * made champion (demoting the previous), scores rows with reasons, and its drift is measured: scoring
 * the training population is stable, a shifted population shows up in the PSI and the CSI.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCsv } from '../src/scoring/index.ts'
import { createTestApp, type TestApp } from './support/app.ts'
import { sharedDataDir } from './support/shared-data.ts'

let t: TestApp
let analyst: string
let artefact: Record<string, unknown>
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-models-'))
const germanFile = path.join(sharedDataDir(), 'german_credit_g.csv')
const headers = () => ({ authorization: `Bearer ${analyst}` })

beforeAll(async () => {
  const train = spawnSync(process.execPath, [path.join(import.meta.dirname, '..', 'bin', 'puhui.js'), 'model', 'train', '--data', germanFile, '--target', 'class', '--bad', 'bad', '--out', path.join(dir, 'german.json')], { encoding: 'utf8', env: { ...process.env, PUHUI_DATA_DIR: dir } })
  expect(train.status, train.stderr).toBe(0)
  artefact = JSON.parse(fs.readFileSync(path.join(dir, 'german.json'), 'utf8')) as Record<string, unknown>
  t = await createTestApp()
  const tenantId = await t.createTenant('models')
  analyst = await t.createKey(tenantId, 'risk_analyst')
}, 60_000)
afterAll(async () => {
  await t.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

function rows(filter: (row: Record<string, string | null>) => boolean, mutate: (row: Record<string, string | null>) => Record<string, string | null> = (r) => r) {
  const table = parseCsv(fs.readFileSync(germanFile, 'utf8'))
  return table.rows
    .map((cells) => Object.fromEntries(table.header.map((name, i) => [name, cells[i] ?? null])))
    .filter(filter)
    .map((row) => ({ values: mutate(row) }))
}

describe('model registry', () => {
  let first: string
  let second: string
  it('registers versions with fingerprint and metrics, and refuses a broken artefact', async () => {
    const a = await t.app.inject({ method: 'POST', url: '/v1/models', headers: headers(), payload: { name: 'sme-scorecard', artefact } })
    expect(a.statusCode).toBe(201)
    const b = await t.app.inject({ method: 'POST', url: '/v1/models', headers: headers(), payload: { name: 'sme-scorecard', artefact } })
    const va = a.json() as { id: string; version: number; status: string; fingerprint: string; metrics: { auc: number } }
    const vb = b.json() as { id: string; version: number }
    expect([va.version, vb.version]).toEqual([1, 2])
    expect(va.status).toBe('registered')
    expect(va.fingerprint).toMatch(/^[0-9a-f]{64}$/)
    expect(va.metrics.auc).toBeGreaterThan(0.75)
    first = va.id
    second = vb.id
    const broken = await t.app.inject({ method: 'POST', url: '/v1/models', headers: headers(), payload: { name: 'sme-scorecard', artefact: { format: 'something-else' } } })
    expect(broken.statusCode).toBe(422)
    expect((broken.json() as { code: string }).code).toBe('model_artefact_invalid')
  })
  it('keeps one champion per name', async () => {
    expect((await t.app.inject({ method: 'POST', url: `/v1/models/${first}/status`, headers: headers(), payload: { status: 'champion' } })).json()).toMatchObject({ status: 'champion' })
    await t.app.inject({ method: 'POST', url: `/v1/models/${second}/status`, headers: headers(), payload: { status: 'champion' } })
    const list = (await t.app.inject({ url: '/v1/models', headers: headers() })).json() as { items: { id: string; status: string }[] }
    expect(list.items.find((m) => m.id === second)?.status).toBe('champion')
    expect(list.items.find((m) => m.id === first)?.status).toBe('challenger')
  })
  it('scores with reasons, and measures drift', async () => {
    const scored = await t.app.inject({ method: 'POST', url: `/v1/models/${second}/scores`, headers: headers(), payload: { rows: rows(() => true).slice(0, 500) } })
    expect(scored.statusCode).toBe(200)
    const results = (scored.json() as { results: { score: number; probability: number; reasons: { code: string; en: string; zh: string }[] }[] }).results
    expect(results).toHaveLength(500)
    expect(results.some((r) => r.reasons.length > 0 && r.reasons[0]?.zh !== '')).toBe(true)
    const stable = (await t.app.inject({ url: `/v1/models/${second}/monitoring`, headers: headers() })).json() as { n: number; scorePsi: number; scoreStability: string }
    expect(stable.n).toBe(500)
    expect(stable.scorePsi).toBeLessThan(0.1)

    const since = new Date().toISOString()
    // A shifted population: only applicants without a checking account history, all asking for long terms.
    const shifted = rows((r) => r.checking_status === '<0').map((r) => ({ values: { ...r.values, duration: '60' } }))
    await t.app.inject({ method: 'POST', url: `/v1/models/${first}/scores`, headers: headers(), payload: { rows: shifted } })
    const drift = (await t.app.inject({ url: `/v1/models/${first}/monitoring?since=${since}`, headers: headers() })).json() as { scorePsi: number; scoreStability: string; csi: Record<string, number | null>; shiftedVariables: string[] }
    expect(drift.scorePsi).toBeGreaterThan(0.25)
    expect(drift.scoreStability).toBe('shift')
    expect(drift.shiftedVariables).toEqual(expect.arrayContaining(['checking_status']))
  })
  it('refuses to score with a retired version', async () => {
    await t.app.inject({ method: 'POST', url: `/v1/models/${first}/status`, headers: headers(), payload: { status: 'retired' } })
    const refused = await t.app.inject({ method: 'POST', url: `/v1/models/${first}/scores`, headers: headers(), payload: { rows: [{ values: {} }] } })
    expect((refused.json() as { code: string }).code).toBe('model_retired')
  })
})

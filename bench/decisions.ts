/**
 * `npm run bench -- decisions [--quick]`: the decision engine in process, and the 310 flow over HTTP.
 *
 * In process (one core: Node's main thread). The 1,000-rule strategy of decisions/generator.ts (seed
 * below; 123 features; comparisons, ranges, set membership, arithmetic, functions, combined conditions),
 * a WoE scorecard trained on 20,000 generated applications (bad ~ logistic in a handful of features).
 * One decision = the scorecard's score from the raw feature vector (scoring/scorecard.ts `scoreRow`,
 * with its reason codes) + the strategy deciding on the vector through an input layout, every rule
 * evaluated and recorded in the compact trace (a byte per rule). `decisions_per_s` is that, compiled;
 * `interpreted_decisions_per_s` the same loop with the same strategy interpreted from its ASTs
 * (`interpretStrategy`), the baseline. Both on the same 5,000 generated applications, cycled.
 *
 * Over HTTP. Puhui on a real socket (127.0.0.1, ephemeral port) on the embedded PostgreSQL (fsync on),
 * the SME 310 strategy with a trained champion scorecard, N enterprises with six months of sales and
 * payment flows and a credit-assessment consent, and the simulated bank with its latency fixed at 100 ms.
 * The server runs in two HTTP threads sharing the port, as `PUHUI_HTTP_THREADS=2` runs it (until the fourth
 * session: one, on this thread; `PUHUI_BENCH_HTTP_THREADS=0` still measures that). The load generator runs in a worker thread of this process (bench/decisions-load.ts: its own event
 * loop, as a separate client would be; until the third session it shared the server's), open loop: a
 * request is sent every 5 ms (200/s) on schedule whatever the answers, and each latency is measured from
 * its scheduled send time, so a stall counts against every request it delays (no coordinated omission). Every request has its own
 * Idempotency-Key; enterprises rotate. Warm-up 10 s, then 60 s measured: `http_apply_p50_ms`,
 * `http_apply_p99_ms` (every response must be 200). Then `apply_to_disbursed_p99_ms`: flows started open
 * loop at 20/s for 30 s, each an application and, when approved, the offer's acceptance, timed from the
 * application's scheduled send to the acceptance's answer with the payout `succeeded` (the loan is active
 * and the money posted). --quick: 2 s warm-up, 5 s load, 5 s of flows, fewer decisions.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { sql } from 'kysely'
import { createApiKey, createTenant, systemActor } from '../src/access/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import {
  compileStrategy, createInputLayout, decide, decideValues, featureCatalogue, generateApplication, generateStrategy, interpretStrategy, seededRandom,
  type CompiledStrategy, type GeneratedApplication,
} from '../src/decisions/index.ts'
import sme310 from '../src/decisions/sme-310.strategy.json' with { type: 'json' }
import { createSimulatedBank } from '../src/flows/index.ts'
import { buildApp } from '../src/http/app.ts'
import { startHttpThreads } from '../src/http/threads.ts'
import { loadKeyring } from '../src/keys/index.ts'
import { createLogger } from '../src/log.ts'
import {
  buildArtefact, compileScorecard, defaultScorecardOptions, evaluateScorecard, predictColumns, scoreRow, trainScorecard, type Column, type CompiledScorecard,
} from '../src/scoring/index.ts'
import type { LoadPhase, LoadTarget, PhaseReport } from './decisions-load.ts'
import pg from 'pg'
import { cpuMeter, describeCpu, openBenchDatabase, percentile, round } from './support.ts'

const strategySeed = 20_261_122
const log = (line: string) => process.stderr.write(`${line}\n`)

// ---------------------------------------------------------------------------------------------------
// In process

/** The generated applications' "true" risk: what the scorecard learns (and the strategy never sees). */
function badProbability(a: GeneratedApplication): number {
  const f = a.features
  const v = (name: string, fallback: number) => f[name] ?? fallback
  const z = -7.6 + 7 * v('refund_rate_6m', 0.25) + 5 * v('late_payment_rate_6m', 0.25) - 0.9 * Math.log(v('gmv_6m', 360_000) / 360_000)
    - 4 * v('gmv_trend_3m', 0) + 0.004 * v('credit_inquiries_6m', 240) - 2 * v('repeat_buyer_rate_12m', 0.25)
  return 1 / (1 + Math.exp(-z))
}

const scorecardFeatures = [
  'refund_rate_6m', 'late_payment_rate_6m', 'gmv_6m', 'gmv_trend_3m', 'credit_inquiries_6m', 'repeat_buyer_rate_12m', 'inflow_6m', 'top_buyer_share_6m',
  'disputes_6m', 'chargeback_rate_6m', 'orders_6m', 'margin_trend_6m',
]

function trainBenchScorecard(rows: number): CompiledScorecard {
  const random = seededRandom(strategySeed + 1)
  const applications = Array.from({ length: rows }, () => generateApplication(random))
  const target = Uint8Array.from(applications, (a) => (random() < badProbability(a) ? 1 : 0))
  const columns: Column[] = scorecardFeatures.map((name) => ({ kind: 'numeric', name, values: Float64Array.from(applications, (a) => a.features[name] ?? Number.NaN) }))
  const card = trainScorecard({ columns, target }, defaultScorecardOptions)
  const metrics = evaluateScorecard(card, predictColumns(card, columns), target)
  log(`scorecard: ${card.variables.length} variables, AUC ${metrics.auc.toFixed(3)} on ${rows} generated applications (${target.reduce((s, t) => s + t, 0)} bad)`)
  return compileScorecard(card)
}

type Vectors = { names: string[]; rows: unknown[][]; scoreAt: number; featureAt: Map<string, number> }

/** Applications as value vectors in the caller's order: the feature store's columns, then the application's fields, then the score. */
function toVectors(compiled: CompiledStrategy, applications: readonly GeneratedApplication[]): Vectors {
  const features = featureCatalogue().map((spec) => `features.${spec.name}`)
  const others = compiled.inputs.map((input) => input.name).filter((name) => !name.startsWith('features.') && name !== 'score')
  const names = [...features, ...others, 'score']
  const read = (a: GeneratedApplication, name: string) => name.split('.').reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], a)
  return {
    names,
    rows: applications.map((a) => names.map((name) => (name === 'score' ? null : read(a, name) ?? null))),
    scoreAt: names.length - 1,
    featureAt: new Map(features.map((name, i) => [name.slice('features.'.length), i])),
  }
}

function timeDecisions(label: string, strategy: CompiledStrategy, card: CompiledScorecard, vectors: Vectors, count: number): { perS: number; outcomes: Record<string, number> } {
  const layout = createInputLayout(strategy, vectors.names)
  const { rows, scoreAt, featureAt } = vectors
  const outcomes: Record<string, number> = { approved: 0, declined: 0, referred: 0 }
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const row = rows[i % rows.length] as unknown[]
      const values = row.slice()
      values[scoreAt] = scoreRow(card, (name) => row[featureAt.get(name) as number] as number | null).score
      const decision = decideValues(strategy, layout, values)
      outcomes[decision.outcome] = (outcomes[decision.outcome] as number) + 1
    }
  }
  run(Math.min(count, 5_000))
  for (const key of Object.keys(outcomes)) outcomes[key] = 0
  const started = performance.now()
  run(count)
  const seconds = (performance.now() - started) / 1000
  const perS = count / seconds
  log(`${label.padEnd(34)} ${round(perS, 0).toString().padStart(9)} decisions/s   ${round((seconds * 1e6) / count, 2)} µs each   ${JSON.stringify(outcomes)}`)
  return { perS, outcomes }
}

export function benchInProcess(quick: boolean): { decisionsPerS: number; interpretedPerS: number } {
  let started = performance.now()
  const document = generateStrategy({ seed: strategySeed, rules: 1_000 })
  const result = compileStrategy(document)
  if (!result.ok) throw new Error(`the generated strategy compiles: ${JSON.stringify(result.errors.slice(0, 3))}`)
  const compiled = result.strategy
  log(`strategy: ${compiled.knockouts.length} knock-outs + ${compiled.referrals.length} referrals over ${document.requiredFeatures?.length ?? 0} features (generated and compiled in ${round(performance.now() - started, 0)} ms)`)
  const card = trainBenchScorecard(quick ? 5_000 : 20_000)
  const random = seededRandom(strategySeed + 2)
  const applications = Array.from({ length: 5_000 }, () => generateApplication(random))
  const vectors = toVectors(compiled, applications)
  const interpreted = interpretStrategy(compiled)
  const scores = vectors.rows.map((row) => scoreRow(card, (name) => row[vectors.featureAt.get(name) as number] as number | null).score).sort((a, b) => a - b)
  log(`scores of the bench applications: p10 ${round(percentile(scores, 10), 0)}, p50 ${round(percentile(scores, 50), 0)}, p90 ${round(percentile(scores, 90), 0)} (cut-offs: decline < 520, refer < 560)`)

  // Same decisions either way (the property tests check this in general; here on the bench's own data).
  const layout = createInputLayout(compiled, vectors.names)
  for (const row of vectors.rows.slice(0, quick ? 200 : 1_000)) {
    const values = row.slice()
    values[vectors.scoreAt] = 600
    const a = decideValues(compiled, layout, values)
    const b = decideValues(interpreted, layout, values)
    if (JSON.stringify({ ...a, ruleOutcomes: [...a.ruleOutcomes] }) !== JSON.stringify({ ...b, ruleOutcomes: [...b.ruleOutcomes] })) throw new Error('compiled and interpreted decisions differ')
  }
  const compiledRun = timeDecisions('compiled (scorecard + strategy)', compiled, card, vectors, quick ? 30_000 : 300_000)
  const interpretedRun = timeDecisions('interpreted (baseline)', interpreted, card, vectors, quick ? 2_000 : 20_000)

  // For the record: the other ways in, not part of the floor.
  started = performance.now()
  const expanded = quick ? 3_000 : 30_000
  for (let i = 0; i < expanded; i++) decide(compiled, { ...(applications[i % applications.length] as GeneratedApplication), score: 600 })
  log(`decide() by name, trace expanded     ${round(expanded / ((performance.now() - started) / 1000), 0).toString().padStart(9)} decisions/s (object input, named trace of ${compiled.knockouts.length + compiled.referrals.length}+ entries)`)
  log(`compiled / interpreted: ${round(compiledRun.perS / interpretedRun.perS, 1)}×`)
  return { decisionsPerS: compiledRun.perS, interpretedPerS: interpretedRun.perS }
}

// ---------------------------------------------------------------------------------------------------
// Over HTTP

type Http = { base: string; headers(key: string, idempotencyKey?: string): Record<string, string> }

/** A POST; a connection that fails answers status 0 with the error as the body (it counts as a failed request). */
async function post(http: Http, key: string, url: string, body: unknown, idempotencyKey?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const response = await fetch(`${http.base}${url}`, { method: 'POST', headers: http.headers(key, idempotencyKey), body: JSON.stringify(body) })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  } catch (error) {
    return { status: 0, body: { error: String(error), cause: String((error as { cause?: unknown }).cause) } }
  }
}

async function ok(http: Http, key: string, url: string, body: unknown = {}): Promise<Record<string, unknown>> {
  const response = await post(http, key, url, body)
  if (response.status >= 300) throw new Error(`${url}: HTTP ${response.status} ${JSON.stringify(response.body)}`)
  return response.body
}

type Setup = { operator: string; enterprises: string[]; product: string }

async function setUp(http: Http, db: Parameters<typeof inTenant>[0], enterpriseCount: number): Promise<Setup> {
  const deps = { db, clock: systemClock, ids: uuidv7Source }
  const tenant = await createTenant(deps, { slug: 'bench', name: 'Bench' })
  if (tenant.status !== 'ok') throw new Error(tenant.status)
  const tenantId = tenant.value.id
  const key = async (role: 'admin' | 'risk_analyst' | 'operator') => {
    const created = await inTenant(db, tenantId, (trx) => createApiKey(trx, deps, { tenantId, actor: systemActor, name: `bench ${role}`, role, enterpriseId: null }))
    if (created.status !== 'ok') throw new Error(created.status)
    return created.value.key
  }
  const admin = await key('admin')
  const analyst = await key('risk_analyst')
  const checker = await key('risk_analyst')
  const operator = await key('operator')
  const enterprises = Array.from({ length: enterpriseCount }, () => uuidv7Source.next())
  await inTenant(db, tenantId, async (trx) => {
    await trx.insertInto('enterprises').values(enterprises.map((id, i) => ({ tenant_id: tenantId, id, name: `Bench shop ${i}`, uscc: null, sector: 'retail', region: null, founded_on: '2015-03-01', created_at: new Date() }))).execute()
  })
  const product = (await ok(http, admin, '/v1/loan-products', {
    name: '310 working capital', currency: 'CNY', principalMinMinor: '1000000', principalMaxMinor: '100000000', installmentsMin: 3, installmentsMax: 12,
    schedule: { interestPeriod: 'daily', daysInYear: '365' }, annualRateCapPct: '24', upfrontFeePct: '1',
  })).id as string
  const expiresAt = new Date(Date.now() + 365 * 86_400_000).toISOString()
  for (const id of enterprises) await ok(http, admin, `/v1/enterprises/${id}/consents`, { purpose: 'credit_assessment', scope: ['orders', 'payment_flows'], expiresAt, evidence: 'bench' })
  // Six months of sales and cash received before the business date, different per shop.
  const businessDate = await inTenant(db, tenantId, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants`.execute(trx)).rows[0]?.d as string)
  const [year, month] = businessDate.split('-').map(Number) as [number, number]
  const months = Array.from({ length: 6 }, (_, i) => new Date(Date.UTC(year, month - 1 - 6 + i, 1)).toISOString().slice(0, 7))
  const random = seededRandom(strategySeed + 3)
  const orders: unknown[] = []
  const flows: unknown[] = []
  enterprises.forEach((id, e) => {
    const gmv = Math.round(60_000 + random() * 200_000) * 100
    for (const m of months) {
      orders.push({ externalId: `o-${e}-${m}`, enterpriseId: id, month: m, gmvMinor: String(gmv), orders: '500', buyers: '400', repeatBuyers: '100', topBuyerShare: '0.1', refundsMinor: String(Math.round(gmv * random() * 0.05)), refunds: '5', currency: 'CNY' })
      flows.push({ externalId: `p-${e}-${m}`, enterpriseId: id, month: m, inflowMinor: String(Math.round(gmv * 0.95)), outflowMinor: String(Math.round(gmv * 0.6)), transactions: '200', counterparties: '20', currency: 'CNY' })
    }
  })
  for (const [source, records] of [['orders', orders], ['payment_flows', flows]] as const) {
    for (let from = 0; from < records.length; from += 1_000) await ok(http, admin, `/v1/data/${source}`, { records: records.slice(from, from + 1_000) })
  }
  // A small scorecard on the hub's feature names: more sales, fewer refunds → better.
  const scoreRandom = seededRandom(11)
  const gmv = new Float64Array(2_000)
  const refund = new Float64Array(2_000)
  const target = new Uint8Array(2_000)
  for (let i = 0; i < gmv.length; i++) {
    gmv[i] = Math.round(scoreRandom() * 1_200_000)
    refund[i] = Math.round(scoreRandom() * 0.2 * 1000) / 1000
    target[i] = scoreRandom() < 1 / (1 + Math.exp(-(-0.5 - (gmv[i] as number) / 300_000 + 12 * (refund[i] as number)))) ? 1 : 0
  }
  const columns: Column[] = [{ kind: 'numeric', name: 'gmv_6m', values: gmv }, { kind: 'numeric', name: 'refund_rate_6m', values: refund }]
  const card = trainScorecard({ columns, target }, defaultScorecardOptions)
  const artefact = buildArtefact({
    createdAt: new Date().toISOString(), trainingData: { sha256: createHash('sha256').update(gmv).update(refund).update(target).digest('hex'), rows: target.length, bads: target.reduce((s, t) => s + t, 0), columns: ['gmv_6m', 'refund_rate_6m', 'bad'] },
    target: { column: 'bad', bad: '1' }, excluded: [], card, metrics: { ...evaluateScorecard(card, predictColumns(card, columns), target) },
  })
  const model = await ok(http, analyst, '/v1/models', { name: 'sme', artefact })
  await ok(http, analyst, `/v1/models/${model.id as string}/status`, { status: 'champion' })
  const document = { ...structuredClone(sme310), models: [{ name: 'sme', output: 'score' }], cutoffs: { declineBelow: 400, referBelow: 450 } }
  const strategy = (await ok(http, analyst, '/v1/strategies', { document })).id as string
  await ok(http, analyst, `/v1/strategies/${strategy}/submit`)
  await ok(http, checker, `/v1/strategies/${strategy}/approve`)
  await ok(http, analyst, `/v1/strategies/${strategy}/activate`)
  return { operator, enterprises, product }
}

/**
 * `count` Puhui HTTP server threads on one port (the product's `PUHUI_HTTP_THREADS`, http/threads.ts), the
 * simulated bank at 100 ms in each; none for 0 (the server on this thread).
 */
async function startServerThreads(count: number, url: string, keyDir: string): Promise<{ count: number; base: string; close(): Promise<void> }> {
  if (count === 0) return { count, base: '', close: async () => undefined }
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const port = (probe.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const threads = await startHttpThreads(count, { databaseUrl: url, poolMax: 16, keys: { keyDir }, host: '127.0.0.1', port, logLevel: 'silent', cookieSecure: false, consoleDir: undefined, version: 'bench', railLatencyMs: 100 })
  return { count, base: `http://127.0.0.1:${port}`, close: async () => { await threads.close() } }
}

async function benchHttp(quick: boolean): Promise<{ p50: number; p99: number; disbursedP99: number }> {
  const database = await openBenchDatabase()
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-bench-keys-'))
  const rail = createSimulatedBank({ latencyMs: 100 })
  const app = await buildApp({ db: database.db, clock: systemClock, ids: uuidv7Source, keyring: loadKeyring({ keyDir }), log: createLogger('silent'), cookieSecure: false, consoleDir: undefined, version: 'bench', rail })
  try {
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const http: Http = {
      base: address,
      headers: (key, idempotencyKey) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }) }),
    }
    const enterpriseCount = quick ? 100 : 400
    let started = performance.now()
    const setup = await setUp(http, database.db, enterpriseCount)
    log(`http setup: ${enterpriseCount} enterprises with data and consents, champion scorecard, sme-310 active (${round((performance.now() - started) / 1000, 1)} s)`)
    // As pgbench does before a run: vacuum and analyze what the setup loaded, so that the measured minute
    // is not the one in which autovacuum first finds the freshly filled tables (its scans and the plan
    // invalidations after ANALYZE showed up as the tail's largest episode).
    started = performance.now()
    const owner = new pg.Client({ connectionString: database.url })
    await owner.connect()
    try {
      await owner.query('vacuum (analyze)')
    } finally {
      await owner.end()
    }
    log(`vacuum (analyze): ${round((performance.now() - started) / 1000, 1)} s`)
    // The load generator runs in a worker thread (its own event loop); the server in two HTTP threads sharing
    // one port, as `PUHUI_HTTP_THREADS=2` runs it on a two-core machine (PUHUI_BENCH_HTTP_THREADS=0: on this thread).
    const serverThreads = await startServerThreads(Number(process.env.PUHUI_BENCH_HTTP_THREADS ?? 2), database.url, keyDir)
    if (serverThreads.count > 0) log(`server: ${serverThreads.count} threads on ${serverThreads.base} (SO_REUSEPORT)`)
    const target: LoadTarget = { base: serverThreads.count > 0 ? serverThreads.base : address, key: setup.operator, enterprises: setup.enterprises, product: setup.product }
    const worker = new Worker(new URL('./decisions-load.ts', import.meta.url), { workerData: target })
    const run = (phase: LoadPhase) => new Promise<PhaseReport>((resolve, reject) => {
      worker.once('message', (report: PhaseReport | { error: string }) => ('error' in report ? reject(new Error(report.error)) : resolve(report)))
      worker.once('error', reject)
      worker.postMessage(phase)
    })
    try {
      let meter = cpuMeter()
      const serial = await run({ kind: 'serial', count: quick ? 40 : 200 })
      log(`one at a time: ${serial.latencies.length} applications, p50 ${round(percentile(serial.latencies, 50), 1)} ms, p99 ${round(percentile(serial.latencies, 99), 1)} ms; ${describeCpu(meter.read(), serial.sent, 'application')}`)
      const warmUp = await run({ kind: 'apply', ratePerS: 200, seconds: quick ? 2 : 10 })
      if (warmUp.failures.length > 0) log(`warm-up: ${warmUp.failures.length} applications failed, e.g. ${warmUp.failures[0] ?? ''}`)
      log(`warm-up: ${warmUp.sent} applications, p99 ${round(percentile(warmUp.latencies, 99), 1)} ms`)
      started = performance.now()
      meter = cpuMeter()
      const walBytes = async () => BigInt((await sql<{ bytes: string }>`select wal_bytes::text as bytes from pg_stat_wal`.execute(database.db)).rows[0]?.bytes ?? '0')
      const walBefore = await walBytes()
      const delay = monitorEventLoopDelay({ resolution: 5 })
      delay.enable()
      const load = await run({ kind: 'apply', ratePerS: 200, seconds: quick ? 5 : 60 })
      delay.disable()
      log(`WAL per application: ${round(Number(await walBytes() - walBefore) / 1024 / Math.max(1, Math.round(200 * (quick ? 5 : 60))), 1)} KiB (all of the server's WAL while the open loop ran)`)
      log(`server event loop delay: p50 ${round(delay.percentile(50) / 1e6, 1)} ms, p99 ${round(delay.percentile(99) / 1e6, 1)} ms, max ${round(delay.max / 1e6, 1)} ms`)
      log(`open loop: ${describeCpu(meter.read(), load.sent, 'application')}; slowest (due at ms: took ms) ${load.slowest.map((slow) => `${slow.atMs}: ${slow.latencyMs}`).join(', ')}`)
      const seconds = (performance.now() - started) / 1000
      // A failed request keeps its latency (until the failure was seen) in the figures, and is reported here.
      if (load.failures.length > 0) log(`${load.failures.length} of ${load.sent} applications FAILED, e.g. ${load.failures[0] ?? ''}`)
      const p50 = percentile(load.latencies, 50)
      const p99 = percentile(load.latencies, 99)
      log(`POST /v1/applications open loop 200/s: ${load.sent} in ${round(seconds, 1)} s, p50 ${round(p50, 1)} ms, p90 ${round(percentile(load.latencies, 90), 1)} ms, p99 ${round(p99, 1)} ms, max ${round(load.latencies.at(-1) ?? 0, 1)} ms; latest send ${round(load.lateStartMaxMs, 1)} ms behind schedule; ${JSON.stringify(load.outcomes)}`)
      const flows = await run({ kind: 'flows', ratePerS: 20, seconds: quick ? 5 : 30 })
      if (flows.failures.length > 0) log(`${flows.failures.length} flows FAILED (not counted as disbursed), e.g. ${flows.failures[0] ?? ''}`)
      const disbursedP99 = percentile(flows.latencies, 99)
      log(`apply → disbursed open loop 20/s (rail 100 ms): ${flows.latencies.length} disbursed of ${flows.sent}, p50 ${round(percentile(flows.latencies, 50), 1)} ms, p99 ${round(disbursedP99, 1)} ms; ${JSON.stringify(flows.outcomes)}`)
      if (flows.latencies.length === 0) throw new Error('no application was approved and disbursed')
      return { p50, p99, disbursedP99 }
    } finally {
      await worker.terminate()
      await serverThreads.close()
    }
  } finally {
    await app.close()
    await database.close()
    fs.rmSync(keyDir, { recursive: true, force: true })
  }
}

export async function benchDecisions(quick: boolean): Promise<Record<string, number>> {
  const inProcess = benchInProcess(quick)
  const http = await benchHttp(quick)
  return {
    decisions_per_s: round(inProcess.decisionsPerS, 0),
    interpreted_decisions_per_s: round(inProcess.interpretedPerS, 0),
    http_apply_p50_ms: round(http.p50, 2),
    http_apply_p99_ms: round(http.p99, 2),
    apply_to_disbursed_p99_ms: round(http.disbursedP99, 2),
  }
}

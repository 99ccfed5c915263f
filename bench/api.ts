/**
 * `npm run bench -- api`: the HTTP foundation in process (Fastify inject, real PostgreSQL):
 * authenticated reads (API key → tenant transaction → row) and idempotent creates, against the
 * baseline of /health (no authentication, no database) measured in the same run.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadKeyring } from '../src/keys/index.ts'
import { createApiKey, createTenant, systemActor } from '../src/access/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import type { InjectOptions } from 'fastify'
import { buildApp, type App } from '../src/http/app.ts'
import { createLogger } from '../src/log.ts'
import { openBenchDatabase, percentile, round } from './support.ts'

async function measure(label: string, app: App, total: number, concurrency: number, request: (i: number) => InjectOptions): Promise<{ perS: number; p99Ms: number }> {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++
        const t0 = performance.now()
        const response = await app.inject(request(i))
        latencies.push(performance.now() - t0)
        if (response.statusCode >= 300) throw new Error(`${label}: HTTP ${response.statusCode} ${response.body}`)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const result = { perS: total / seconds, p99Ms: percentile(latencies, 99) }
  process.stderr.write(`${label.padEnd(28)} ${round(result.perS, 0).toString().padStart(8)} req/s   p99 ${round(result.p99Ms, 2)} ms\n`)
  return result
}

export async function benchApi(quick: boolean): Promise<Record<string, number>> {
  const database = await openBenchDatabase()
  const deps = { db: database.db, clock: systemClock, ids: uuidv7Source }
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-bench-keys-'))
  const keyring = loadKeyring({ keyDir })
  const app = await buildApp({ ...deps, keyring, log: createLogger('silent'), cookieSecure: false, consoleDir: undefined, version: 'bench' })
  try {
    const tenant = await createTenant(deps, { slug: 'bench', name: 'Bench' })
    if (tenant.status !== 'ok') throw new Error(tenant.status)
    const key = await inTenant(database.db, tenant.value.id, (trx) => createApiKey(trx, deps, { tenantId: tenant.value.id, actor: systemActor, name: 'bench', role: 'admin', enterpriseId: null }))
    if (key.status !== 'ok') throw new Error(key.status)
    const headers = { authorization: `Bearer ${key.value.key}` }
    const n = quick ? 1_000 : 20_000
    const concurrency = 16
    await measure('warm-up', app, 500, concurrency, () => ({ url: '/v1/me', headers }))
    const health = await measure('baseline GET /health', app, n, concurrency, () => ({ url: '/health' }))
    const me = await measure('GET /v1/me (API key)', app, n, concurrency, () => ({ url: '/v1/me', headers }))
    const creates = await measure('POST /v1/enterprises (idem)', app, Math.floor(n / 4), concurrency, (i) => ({ method: 'POST', url: '/v1/enterprises', headers: { ...headers, 'idempotency-key': `bench-${i}` }, payload: { name: `Bench ${i}` } }))
    return {
      requests: n,
      concurrency,
      authenticated_read_per_s: round(me.perS, 0),
      authenticated_read_p99_ms: round(me.p99Ms, 2),
      idempotent_create_per_s: round(creates.perS, 0),
      idempotent_create_p99_ms: round(creates.p99Ms, 2),
      baseline_health_per_s: round(health.perS, 0),
    }
  } finally {
    await app.close()
    await database.close()
    fs.rmSync(keyDir, { recursive: true, force: true })
  }
}

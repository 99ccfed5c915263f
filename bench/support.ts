/**
 * Shared by benchmarks: a database of its own (a throw-away embedded server with fsync on, or a fresh
 * database on DATABASE_URL, dropped afterwards), and latency statistics.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { createKysely, ensureDatabase, withDatabaseName } from '../src/db/database.ts'
import { openEmbeddedServer } from '../src/db/embedded.ts'
import { migrate } from '../src/db/migrate.ts'
import type { DB } from '../src/db/schema.ts'
import { createLogger } from '../src/log.ts'

export type BenchDatabase = { db: Kysely<DB>; url: string; close(): Promise<void> }

export async function openBenchDatabase(): Promise<BenchDatabase> {
  const log = createLogger('warn', 'bench')
  const name = `puhui_bench_${Date.now().toString(36)}`
  let release = async () => undefined as void
  let serverUrl = process.env.DATABASE_URL
  if (serverUrl === undefined || serverUrl === '') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-bench-'))
    fs.chmodSync(dataDir, 0o755)
    const server = await openEmbeddedServer({ dataDir, log, osUser: process.env.PUHUI_PG_OS_USER ?? 'puhui' })
    serverUrl = server.url
    release = async () => {
      await server.release()
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
  await ensureDatabase(serverUrl, name)
  const url = withDatabaseName(serverUrl, name)
  await migrate(url)
  const db = createKysely(url, 16, { prepare: process.env.PUHUI_BENCH_PREPARE !== 'off' })
  const adminUrl = serverUrl
  return {
    db,
    url,
    async close() {
      await db.destroy()
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      await client.query(`drop database if exists "${name}" with (force)`)
      await client.end()
      await release()
    },
  }
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return 0
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))] as number
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits

export type CpuReading = { wallMs: number; mainBusyMs: number; processCpuMs: number; postgresCpuMs: number | null }

/** CPU time of every PostgreSQL process on this machine (Linux /proc; null elsewhere), in ms. */
function postgresCpuMs(): number | null {
  let entries: string[]
  try { entries = fs.readdirSync('/proc') } catch { return null }
  const tickMs = 10 // USER_HZ is 100 on Linux
  let total = 0
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'latin1')
      const close = stat.lastIndexOf(')')
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue
      const fields = stat.slice(close + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) * tickMs // utime, stime (fields 14 and 15 of stat)
    } catch { /* the process ended meanwhile */ }
  }
  return total
}

/**
 * Where a phase's CPU went: this process's main thread busy time (event-loop utilisation), the whole
 * process (main thread, workers, GC threads) and the PostgreSQL processes, from `start()` to `read()`.
 */
export function cpuMeter(): { read(): CpuReading } {
  const wall = performance.now()
  const elu = performance.eventLoopUtilization()
  const cpu = process.cpuUsage()
  const postgres = postgresCpuMs()
  return {
    read() {
      const used = process.cpuUsage(cpu)
      const postgresNow = postgresCpuMs()
      return {
        wallMs: performance.now() - wall,
        mainBusyMs: performance.eventLoopUtilization(elu).active,
        processCpuMs: (used.user + used.system) / 1000,
        postgresCpuMs: postgres === null || postgresNow === null ? null : postgresNow - postgres,
      }
    },
  }
}

/** "main 3.1 ms, process 4.2 ms, PostgreSQL 2.0 ms per application". */
export function describeCpu(reading: CpuReading, count: number, unit: string): string {
  const per = (ms: number) => `${round(ms / count, 2)} ms`
  return `CPU per ${unit}: main thread ${per(reading.mainBusyMs)}, process ${per(reading.processCpuMs)}, PostgreSQL ${reading.postgresCpuMs === null ? 'n/a' : per(reading.postgresCpuMs)} (wall ${round(reading.wallMs / 1000, 1)} s)`
}

export type WalReading = { records: number; fullPageImages: number; bytes: number }

/** WAL the server wrote (pg_stat_wal, cluster-wide) from `walMeter()` to `read()`. */
export async function walMeter(db: Kysely<DB>): Promise<{ read(): Promise<WalReading> }> {
  const sample = async (): Promise<WalReading> => {
    const { rows } = await sql<{ records: string; fpi: string; bytes: string }>`select wal_records::text as records, wal_fpi::text as fpi, wal_bytes::text as bytes from pg_stat_wal`.execute(db)
    const row = rows[0]
    return { records: Number(row?.records ?? 0), fullPageImages: Number(row?.fpi ?? 0), bytes: Number(row?.bytes ?? 0) }
  }
  const start = await sample()
  return {
    async read() {
      const now = await sample()
      return { records: now.records - start.records, fullPageImages: now.fullPageImages - start.fullPageImages, bytes: now.bytes - start.bytes }
    },
  }
}

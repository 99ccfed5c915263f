/**
 * Shared by benchmarks: a database of its own (a throw-away embedded server with fsync on, or a fresh
 * database on DATABASE_URL, dropped afterwards), and latency statistics.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Kysely } from 'kysely'
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
  const db = createKysely(url, 16)
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

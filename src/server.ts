/**
 * @module server
 * `puhui serve`: opens the database (starting the embedded server if needed), migrates, seeds the demo
 * tenant on first start, serves HTTP, and shuts down in order on SIGINT/SIGTERM: stop accepting, finish
 * in-flight requests, close the pool, stop the embedded server if this process owns it.
 */
import { sql, type Kysely } from 'kysely'
import { buildApp, type App } from './http/app.ts'
import { sharedPortListen, startHttpThreads } from './http/threads.ts'
import { idempotencyRetentionHours } from './core/limits.ts'
import type { DB } from './db/schema.ts'
import { loadConfig, type Config } from './config.ts'
import { systemClock } from './core/clock.ts'
import { uuidv7Source } from './core/ids.ts'
import { openDatabase, type Database } from './db/database.ts'
import { seedDemo, type DemoLogins } from './demo.ts'
import { createSimulatedBank } from './flows/index.ts'
import { startJobs } from './jobs.ts'
import { expirePendingTransfers, signJournalHead } from './ledger/index.ts'
import { loadKeyring, type Keyring } from './keys/index.ts'
import { createLogger, type Logger } from './log.ts'
import { version } from './version.ts'

const maintenanceIntervalMs = 3_600_000
const sessionsKeptAfterExpiryMs = 7 * 24 * 3_600_000

/** Deletes idempotency records past retention and sessions long expired (migration 0002). */
export async function purgeExpired(db: Kysely<DB>, now: Date): Promise<{ idempotencyKeys: bigint; sessions: bigint }> {
  const idempotencyBefore = new Date(now.getTime() - idempotencyRetentionHours * 3_600_000)
  const sessionsBefore = new Date(now.getTime() - sessionsKeptAfterExpiryMs)
  const result = await sql<{ idempotency_keys: bigint; sessions: bigint }>`select * from puhui_purge_expired(${idempotencyBefore}, ${sessionsBefore})`.execute(db)
  const row = result.rows[0]
  return { idempotencyKeys: row?.idempotency_keys ?? 0n, sessions: row?.sessions ?? 0n }
}

const expiryIntervalMs = 60_000

/** Expires every tenant's pending transfers whose timeout has passed; returns how many. */
export async function expireDuePendings(db: Kysely<DB>, now: Date): Promise<number> {
  const tenants = await sql<{ tenant_id: string }>`select puhui_tenants_with_expired_pendings as tenant_id from puhui_tenants_with_expired_pendings(${now})`.execute(db)
  let expired = 0
  for (const { tenant_id: tenantId } of tenants.rows) expired += await expirePendingTransfers({ db, ids: uuidv7Source }, tenantId, now)
  return expired
}

const treeHeadIntervalMs = 300_000

/** Signs a tree head for every tenant whose journal grew since its last signed head; returns how many. */
export async function signDueTreeHeads(db: Kysely<DB>, keyring: Keyring, now: Date): Promise<number> {
  const tenants = await sql<{ tenant_id: string }>`select puhui_tenants_with_unsigned_journal as tenant_id from puhui_tenants_with_unsigned_journal()`.execute(db)
  for (const { tenant_id: tenantId } of tenants.rows) await signJournalHead({ db, ids: uuidv7Source }, keyring, tenantId, now)
  return tenants.rows.length
}

export type RunningServer = { app: App; database: Database; url: string; demo: DemoLogins | undefined; stop(): Promise<void> }

export async function startServer(config: Config = loadConfig(), log: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const database = await openDatabase(config, log)
  try {
    const deps = { db: database.db, clock: systemClock, ids: uuidv7Source }
    const keyring = loadKeyring({ keyDir: config.keyDir, signingKeyFile: config.signingKeyFile, dataKeyFile: config.dataKeyFile })
    const demo = config.demo ? await seedDemo({ ...deps, keyring }, config.dataDir, (message) => log.info(message)) : undefined
    // One rail for the routes and the periodic reconciliation (a real bank adapter would be chosen here).
    const rail = createSimulatedBank()
    const app = await buildApp({ ...deps, log, keyring, cookieSecure: config.cookieSecure, consoleDir: config.consoleDir, version, rail })
    // With PUHUI_HTTP_THREADS > 1 this thread and the others share the port (SO_REUSEPORT, http/threads.ts).
    const shared = config.httpThreads > 1
    await app.listen(shared ? sharedPortListen(config.host, config.port) : { port: config.port, host: config.host })
    const threads = shared
      ? await startHttpThreads(config.httpThreads - 1, {
          databaseUrl: database.url, poolMax: config.dbPoolMax, keys: { keyDir: config.keyDir, signingKeyFile: config.signingKeyFile, dataKeyFile: config.dataKeyFile },
          host: config.host, port: config.port, logLevel: config.logLevel, cookieSecure: config.cookieSecure, consoleDir: config.consoleDir, version,
        }).catch(async (error: unknown) => { await app.close(); throw error })
      : undefined
    const url = `http://${config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host}:${config.port}`
    const maintenance = setInterval(() => {
      purgeExpired(database.db, systemClock.now()).catch((error: unknown) => log.error({ err: error }, 'retention purge failed'))
    }, maintenanceIntervalMs)
    maintenance.unref()
    const expiry = setInterval(() => {
      expireDuePendings(database.db, systemClock.now()).catch((error: unknown) => log.error({ err: error }, 'pending-transfer expiry failed'))
    }, expiryIntervalMs)
    expiry.unref()
    const treeHeads = setInterval(() => {
      signDueTreeHeads(database.db, keyring, systemClock.now()).catch((error: unknown) => log.error({ err: error }, 'periodic tree-head signing failed'))
    }, treeHeadIntervalMs)
    treeHeads.unref()
    const stopJobs = startJobs({ ...deps, keyring, rail, log, autoCob: config.autoCob })
    let stopping: Promise<void> | undefined
    const stop = () => {
      stopping ??= (async () => {
        clearInterval(maintenance)
        clearInterval(expiry)
        clearInterval(treeHeads)
        stopJobs()
        await threads?.close()
        await app.close()
        await database.close()
      })()
      return stopping
    }
    return { app, database, url, demo, stop }
  } catch (error) {
    await database.close()
    throw error
  }
}

export function describeStart(server: RunningServer): string {
  const lines = [`Puhui ${version} is running at ${server.url}`, `  console: ${server.url}/   API reference: ${server.url}/docs   OpenAPI: ${server.url}/openapi.json`]
  if (server.demo !== undefined) {
    lines.push(`  demo tenant "${server.demo.tenant}" — log in with:`)
    for (const login of server.demo.logins) lines.push(`    ${login.role.padEnd(16)} ${login.email.padEnd(34)} ${login.password}`)
  }
  return lines.join('\n')
}

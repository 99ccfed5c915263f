/**
 * @module db/database
 * Opens PostgreSQL: the server named by DATABASE_URL, or Puhui's own embedded server. Migrates, then
 * gives a Kysely instance whose connections run as the `puhui_app` role (so row-level security and the
 * append-only grants apply). Driver type conversion lives here and nowhere else.
 */
import crypto from 'node:crypto'
import { CompiledQuery, Kysely, PostgresDialect, type Transaction } from 'kysely'
import pg from 'pg'
import type { Logger } from 'pino'
import type { Config } from '../config.ts'
import { openEmbeddedServer, type EmbeddedServer } from './embedded.ts'
import { migrate } from './migrate.ts'
import type { DB } from './schema.ts'

export type Tx = Transaction<DB>
export type Database = {
  readonly db: Kysely<DB>
  /** Connection string of the migrating (owner) user; tests clone databases through it. */
  readonly url: string
  readonly embedded: EmbeddedServer | undefined
  close(): Promise<void>
}

const oid = { int8: 20, int8Array: 1016, numeric: 1700, numericArray: 1231, date: 1082, dateArray: 1182 } as const
const defaultParser = (id: number) => pg.types.getTypeParser(id, 'text') as (text: string) => unknown
const textArrayOid = 1009
/** Splits an array literal as text[] (elements stay text), then converts each element. */
const parseArrayOf = (each: (text: string) => unknown) => (text: string) =>
  (defaultParser(textArrayOid)(text) as (string | null)[]).map((value) => (value === null ? null : each(value)))

/**
 * The one place where database text becomes JS values. int8 → bigint (minor units never pass through
 * a float); numeric → the exact decimal string (rates go to decimal.js); date → 'YYYY-MM-DD' (a
 * calendar date has no time zone: the driver's default would make it a local-midnight Date).
 */
const parsers = new Map<number, (text: string) => unknown>([
  [oid.int8, (text) => BigInt(text)],
  [oid.int8Array, parseArrayOf((text) => BigInt(text))],
  [oid.numeric, (text) => text],
  [oid.numericArray, parseArrayOf((text) => text)],
  [oid.date, (text) => text],
  [oid.dateArray, parseArrayOf((text) => text)],
])
export const pgTypes = {
  getTypeParser: ((id: number, format?: string) =>
    format === 'binary' ? pg.types.getTypeParser(id, 'binary') : (parsers.get(id) ?? defaultParser(id))) as typeof pg.types.getTypeParser,
}

export const appRole = 'puhui_app'
/** How long an idle pooled connection is kept (see createKysely). */
export const poolIdleMs = 300_000

/**
 * A Kysely instance over `url` whose every connection acts as the application role. `prepare` (default
 * on): statements the process runs repeatedly become prepared statements on each connection
 * (`preparingRepeatedStatements`).
 */
export function createKysely(url: string, poolMax: number, options: { prepare?: boolean } = {}): Kysely<DB> {
  // Idle connections are kept for five minutes, not node-postgres's ten seconds: under steady traffic with
  // bursts, a pool that shrinks after every quiet moment opens new connections in the next burst, and a new
  // server process (fork, catalog caches, every prepared statement parsed again) is slowest exactly then
  // (decisions bench: the p99 at 200 applications/s fell from 98 to 75 ms, the slowest from 202 to 126 ms).
  const pool = new pg.Pool({ connectionString: url, max: poolMax, types: pgTypes, application_name: 'puhui', idleTimeoutMillis: poolIdleMs })
  // An idle client can be cut off by the server (restart, shutdown, a dropped database): node-postgres
  // then emits 'error' on the pool, which would crash the process if nobody listened. The client is
  // discarded by the pool either way, and the next query reports any real outage.
  pool.on('error', () => undefined)
  if (options.prepare !== false) pool.on('connect', preparingRepeatedStatements)
  return new Kysely<DB>({
    dialect: new PostgresDialect({
      pool,
      onCreateConnection: async (connection) => {
        await connection.executeQuery(CompiledQuery.raw(`set role ${appRole}`))
      },
    }),
  })
}

/** Statement texts seen, with how often (bounded: forgotten all at once when full). */
const statementUses = new Map<string, { uses: number; name: string | null }>()
const statementTextsMax = 20_000
/** Prepared statements a connection keeps at most (each holds a plan in its server process). */
export const preparedPerConnectionMax = 500

/**
 * Makes `client` run a parameterised statement as a named prepared statement from its second use in
 * this process on: PostgreSQL then parses and analyses it once per connection instead of on every
 * execution (and may reuse a generic plan), and the driver sends only Bind/Execute. Statements without
 * parameters (`begin; …` in `inTenant`, multi-statement scripts) stay on the simple protocol. Names are a
 * hash of the text, so one text has one name everywhere; at most `preparedPerConnectionMax` per
 * connection, the rest run unnamed as before. PostgreSQL re-plans a prepared statement by itself when a
 * table it reads changes (migrations run before the pool opens).
 */
function preparingRepeatedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  const prepared = new Set<string>()
  const patched = (text: unknown, values?: unknown, callback?: unknown): unknown => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) return query(text, values, callback)
    let seen = statementUses.get(text)
    if (seen === undefined) {
      if (statementUses.size >= statementTextsMax) statementUses.clear()
      seen = { uses: 0, name: null }
      statementUses.set(text, seen)
    }
    seen.uses++
    if (seen.uses < 2) return query(text, values)
    seen.name ??= `p${crypto.createHash('sha1').update(text).digest('hex').slice(0, 24)}`
    if (!prepared.has(seen.name)) {
      if (prepared.size >= preparedPerConnectionMax) return query(text, values)
      prepared.add(seen.name)
    }
    return query({ name: seen.name, text, values })
  }
  client.query = patched as typeof client.query
}

const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Runs `fn` in one transaction scoped to `tenantId`: row-level security shows it that tenant only.
 *
 * `BEGIN` and the tenant setting travel in one round trip (a simple-protocol query of two statements; the
 * tenant id, checked to be a UUID, is the only value inlined), then `fn`'s queries, then `COMMIT`: every
 * request pays one round trip less than Kysely's own transaction (BEGIN, then the setting). A COMMIT that
 * PostgreSQL answers with ROLLBACK (the transaction had failed) throws, as Kysely's does.
 *
 * `asyncCommit` (synchronous_commit off for this transaction only) is for writes whose loss in a crash is
 * harmless because nothing depends on them until a later durable commit, which flushes the WAL up to its
 * own record and with it every earlier one (an idempotency reservation: a lost one means the effect never
 * committed either). Never for money, state or audit.
 */
export async function inTenant<T>(db: Kysely<DB>, tenantId: string, fn: (trx: Tx) => Promise<T>, options: { asyncCommit?: boolean } = {}): Promise<T> {
  if (!uuidText.test(tenantId)) throw new Error(`tenant id is not a UUID: ${JSON.stringify(tenantId)}`)
  const begin = `begin; select set_config('puhui.tenant_id', '${tenantId}', true)${options.asyncCommit === true ? '; set local synchronous_commit = off' : ''}`
  return db.connection().execute(async (connection) => {
    await connection.executeQuery(CompiledQuery.raw(begin))
    let result: T
    try {
      // The connection is inside the transaction just begun: to `fn` it is the transaction.
      result = await fn(connection as unknown as Tx)
    } catch (error) {
      await connection.executeQuery(CompiledQuery.raw('rollback')).catch(() => undefined)
      throw error
    }
    const committed = await connection.executeQuery<{ command?: string }>(CompiledQuery.raw('commit'))
    if (committed.rows[0]?.command === 'ROLLBACK') throw new Error('the transaction had failed and was rolled back at commit')
    return result
  })
}

export async function ensureDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name])
    if (found.rowCount === 0) {
      await client.query(`create database "${name}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error // duplicate_database: another process won the race
      })
    }
  } finally {
    await client.end()
  }
}

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

export type OpenOptions = { migrate?: boolean; fsync?: boolean }

export async function openDatabase(config: Config, log: Logger, options: OpenOptions = {}): Promise<Database> {
  let embedded: EmbeddedServer | undefined
  let url: string
  if (config.databaseUrl !== undefined) {
    url = config.databaseUrl
  } else {
    embedded = await openEmbeddedServer({ dataDir: config.dataDir, log, osUser: config.pgOsUser, ...(options.fsync === undefined ? {} : { fsync: options.fsync }) })
    try {
      await ensureDatabase(embedded.url, 'puhui')
    } catch (error) {
      await embedded.release()
      throw error
    }
    url = withDatabaseName(embedded.url, 'puhui')
  }
  try {
    if (options.migrate !== false) {
      const result = await migrate(url)
      if (result.applied.length > 0) log.info({ applied: result.applied }, 'migrations applied')
    }
  } catch (error) {
    await embedded?.release()
    throw error
  }
  const db = createKysely(url, config.dbPoolMax)
  return {
    db,
    url,
    embedded,
    async close() {
      await db.destroy()
      await embedded?.release()
    },
  }
}

/**
 * The database layer against a real PostgreSQL: row-level security scopes every tenant-owned row,
 * append-only tables refuse change, driver types convert in one place, migrations are forward-only.
 */
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant } from '../src/access/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import { migrate, readMigrations } from '../src/db/migrate.ts'
import { freshDatabase, type TestDatabase } from './support/db.ts'

let t: TestDatabase
let tenantA: string
let tenantB: string

beforeAll(async () => {
  t = await freshDatabase()
  const deps = { db: t.db, clock: systemClock, ids: uuidv7Source }
  const a = await createTenant(deps, { slug: 'rls-a', name: 'A' })
  const b = await createTenant(deps, { slug: 'rls-b', name: 'B' })
  if (a.status !== 'ok' || b.status !== 'ok') throw new Error('tenants')
  tenantA = a.value.id
  tenantB = b.value.id
  for (const [tenant, name] of [[tenantA, 'A Co'], [tenantB, 'B Co']] as const) {
    await inTenant(t.db, tenant, (trx) => trx.insertInto('enterprises').values({ tenant_id: tenant, id: uuidv7Source.next(), name, uscc: null, sector: null, region: null, founded_on: '2020-02-29', created_at: new Date() }).execute())
  }
})
afterAll(async () => {
  await t.close()
})

describe('row-level security', () => {
  it('runs the application as puhui_app', async () => {
    const row = await sql<{ current_user: string }>`select current_user`.execute(t.db)
    expect(row.rows[0]?.current_user).toBe('puhui_app')
  })
  it('shows nothing outside a tenant transaction', async () => {
    expect(await t.db.selectFrom('enterprises').selectAll().execute()).toEqual([])
    expect(await t.db.selectFrom('tenants').selectAll().execute()).toEqual([])
  })
  it("shows a tenant only its own rows, even when asked for another's", async () => {
    const rows = await inTenant(t.db, tenantA, (trx) => trx.selectFrom('enterprises').select(['name', 'tenant_id']).execute())
    expect(rows).toEqual([{ name: 'A Co', tenant_id: tenantA }])
    const other = await inTenant(t.db, tenantA, (trx) => trx.selectFrom('enterprises').selectAll().where('tenant_id', '=', tenantB).execute())
    expect(other).toEqual([])
  })
  it("refuses to write a row into another tenant", async () => {
    await expect(
      inTenant(t.db, tenantA, (trx) => trx.insertInto('enterprises').values({ tenant_id: tenantB, id: uuidv7Source.next(), name: 'sneaky', uscc: null, sector: null, region: null, founded_on: null, created_at: new Date() }).execute()),
    ).rejects.toThrow(/row-level security/)
    const updated = await inTenant(t.db, tenantA, (trx) => trx.updateTable('enterprises').set({ name: 'renamed' }).where('tenant_id', '=', tenantB).executeTakeFirst())
    expect(updated.numUpdatedRows).toBe(0n)
  })
})

describe('prepared statements', () => {
  it('prepares a statement from its second use on a connection; results follow the parameters and the tenant setting', async () => {
    await t.db.connection().execute(async (connection) => {
      const names = (tenant: string) => sql<{ name: string }>`select name from enterprises where founded_on = ${'2020-02-29'}::date and tenant_id = ${tenant}`.execute(connection)
      await sql`select set_config('puhui.tenant_id', ${tenantA}, false)`.execute(connection)
      for (let k = 0; k < 8; k++) expect((await names(tenantA)).rows).toEqual([{ name: 'A Co' }]) // past PostgreSQL's switch to a generic plan
      const prepared = await sql<{ statement: string; parameter_types: string[] }>`select statement, parameter_types::text[] from pg_prepared_statements where statement like ${'select name from enterprises where founded_on%'}`.execute(connection)
      expect(prepared.rows).toHaveLength(1)
      expect(prepared.rows[0]?.parameter_types).toEqual(['date', 'uuid'])
      // Row-level security is evaluated at execution: the same prepared statement sees the other tenant's rows only.
      await sql`select set_config('puhui.tenant_id', ${tenantB}, false)`.execute(connection)
      expect((await names(tenantA)).rows).toEqual([])
      expect((await names(tenantB)).rows).toEqual([{ name: 'B Co' }])
      await sql`select set_config('puhui.tenant_id', '', false)`.execute(connection)
    })
  })

  it('keeps statements without parameters (several statements in one) on the simple protocol', async () => {
    const result = await inTenant(t.db, tenantA, async (trx) => {
      for (let k = 0; k < 3; k++) await sql.raw(`select 1; select 2`).execute(trx)
      return sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements where statement like 'select 1;%'`.execute(trx)
    })
    expect(result.rows[0]?.n).toBe(0)
  })
})

describe('connection', () => {
  it('reaches the embedded server over its Unix-domain socket (no TCP round trips), an external one as configured', async () => {
    const address = (await sql<{ addr: string | null }>`select inet_server_addr()::text as addr`.execute(t.db)).rows[0]?.addr
    if (process.env.DATABASE_URL === undefined) expect(address).toBeNull()
    else expect(address).not.toBeNull()
  })
})

describe('append-only audit log', () => {
  it('refuses UPDATE and DELETE from the application role', async () => {
    await inTenant(t.db, tenantA, (trx) => trx.insertInto('audit_log').values({ tenant_id: tenantA, id: uuidv7Source.next(), at: new Date(), actor_kind: 'system', actor_id: null, action: 'test', target_kind: null, target_id: null, purpose: null, request_id: null }).execute())
    await expect(inTenant(t.db, tenantA, (trx) => trx.updateTable('audit_log').set({ action: 'changed' }).execute())).rejects.toThrow(/permission denied/)
    await expect(inTenant(t.db, tenantA, (trx) => trx.deleteFrom('audit_log').execute())).rejects.toThrow(/permission denied/)
  })
  it('refuses them from the owner too (trigger)', async () => {
    const owner = new pg.Client({ connectionString: t.url })
    await owner.connect()
    try {
      await expect(owner.query(`update audit_log set action = 'changed'`)).rejects.toThrow(/append-only/)
      await expect(owner.query('delete from audit_log')).rejects.toThrow(/append-only/)
      await expect(owner.query('truncate audit_log')).rejects.toThrow(/append-only/)
    } finally {
      await owner.end()
    }
  })
})

describe('driver types convert in one place', () => {
  it('int8 → bigint, numeric → exact string, date → YYYY-MM-DD, timestamptz → Date', async () => {
    const row = await sql<{ big: bigint; rate: string; day: string; at: Date; bigs: bigint[]; days: string[] }>`
      select 9223372036854775807::int8 as big, 0.123456789012345678901234567890::numeric as rate,
             '2024-02-29'::date as day, '2026-01-01T00:00:00Z'::timestamptz as at,
             array[1, -9007199254740993]::int8[] as bigs, array['2024-12-31'::date] as days`.execute(t.db)
    const value = row.rows[0]
    expect(value?.big).toBe(9223372036854775807n)
    expect(value?.rate).toBe('0.123456789012345678901234567890')
    expect(value?.day).toBe('2024-02-29')
    expect(value?.at).toEqual(new Date('2026-01-01T00:00:00Z'))
    expect(value?.bigs).toEqual([1n, -9007199254740993n])
    expect(value?.days).toEqual(['2024-12-31'])
  })
  it('round-trips a bigint parameter and a date column', async () => {
    const row = await sql<{ n: bigint }>`select ${12345678901234567n}::int8 + 1 as n`.execute(t.db)
    expect(row.rows[0]?.n).toBe(12345678901234568n)
    const enterprise = await inTenant(t.db, tenantA, (trx) => trx.selectFrom('enterprises').select('founded_on').executeTakeFirstOrThrow())
    expect(enterprise.founded_on).toBe('2020-02-29')
  })
})

describe('migrations', () => {
  it('every migration has notes, and a second run applies nothing', async () => {
    const migrations = readMigrations()
    expect(migrations.length).toBeGreaterThan(0)
    const result = await migrate(t.url)
    expect(result.applied).toEqual([])
    expect(result.current).toBe(migrations.at(-1)?.id)
  })
  it('refuses an applied migration whose text changed', async () => {
    const [first, ...rest] = readMigrations()
    if (first === undefined) throw new Error('no migrations')
    await expect(migrate(t.url, [{ ...first, sql: `${first.sql}\n-- edited`, checksum: 'edited' }, ...rest])).rejects.toThrow(/forward-only/)
  })
})

describe('retention', () => {
  it('purges completed idempotency records past retention and long-expired sessions, across tenants', async () => {
    const { purgeExpired } = await import('../src/server.ts')
    const now = new Date('2026-06-01T00:00:00Z')
    const day = 86_400_000
    const record = (tenantId: string, key: string, completedAt: Date) => ({
      tenant_id: tenantId, key, principal_id: uuidv7Source.next(), method: 'POST', route: '/v1/x', request_hash: Buffer.alloc(32), state: 'completed' as const,
      lease_until: completedAt, response_status: 201, response_body: '{}', created_at: completedAt, completed_at: completedAt,
    })
    await inTenant(t.db, tenantA, (trx) => trx.insertInto('idempotency_keys').values([record(tenantA, 'old', new Date(now.getTime() - 2 * day)), record(tenantA, 'fresh', new Date(now.getTime() - 3_600_000))]).execute())
    await inTenant(t.db, tenantB, (trx) => trx.insertInto('idempotency_keys').values(record(tenantB, 'old-b', new Date(now.getTime() - 3 * day))).execute())
    const purged = await purgeExpired(t.db, now)
    expect(purged.idempotencyKeys).toBe(2n)
    const left = await inTenant(t.db, tenantA, (trx) => trx.selectFrom('idempotency_keys').select('key').execute())
    expect(left.map((r) => r.key)).toEqual(['fresh'])
    expect((await purgeExpired(t.db, now)).idempotencyKeys).toBe(0n)
  })
})

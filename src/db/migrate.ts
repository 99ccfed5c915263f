/**
 * @module db/migrate
 * Forward-only SQL migrations: `migrations/NNNN-name/up.sql` with a `notes.md` beside it. Each runs
 * once, in its own transaction, under an advisory lock so that a server and a CLI starting together
 * do not race. An applied migration whose file changed is an error: write a new step instead.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'

export const migrationsDir = path.join(import.meta.dirname, '..', '..', 'migrations')
const advisoryLockKey = 7_374_001 // any constant shared by every Puhui process

export type Migration = { id: string; sql: string; checksum: string }
export type MigrateResult = { applied: string[]; current: string | undefined }

export function readMigrations(dir = migrationsDir): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d{4}-[a-z0-9-]+$/.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((id) => {
      const sql = fs.readFileSync(path.join(dir, id, 'up.sql'), 'utf8')
      if (!fs.existsSync(path.join(dir, id, 'notes.md'))) throw new Error(`migration ${id} has no notes.md`)
      return { id, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') }
    })
}

export async function migrate(connectionString: string, migrations = readMigrations()): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    await client.query('select pg_advisory_lock($1)', [advisoryLockKey])
    await client.query('create table if not exists schema_migrations (id text primary key, checksum text not null, applied_at timestamptz not null default now())')
    const done = new Map((await client.query<{ id: string; checksum: string }>('select id, checksum from schema_migrations')).rows.map((row) => [row.id, row.checksum]))
    const applied: string[] = []
    for (const migration of migrations) {
      const checksum = done.get(migration.id)
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) throw new Error(`migration ${migration.id} was changed after it was applied; migrations are forward-only: add a new one`)
        continue
      }
      await client.query('begin')
      try {
        await client.query(migration.sql)
        await client.query('insert into schema_migrations (id, checksum) values ($1, $2)', [migration.id, migration.checksum])
        await client.query('commit')
      } catch (error) {
        await client.query('rollback')
        throw new Error(`migration ${migration.id} failed: ${(error as Error).message}`, { cause: error })
      }
      applied.push(migration.id)
    }
    return { applied, current: migrations.at(-1)?.id }
  } finally {
    await client.query('select pg_advisory_unlock($1)', [advisoryLockKey]).catch(() => undefined)
    await client.end()
  }
}

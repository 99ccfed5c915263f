/**
 * A fresh database per test file, cloned from the migrated template of the run (global-setup.ts).
 */
import crypto from 'node:crypto'
import type { Kysely } from 'kysely'
import pg from 'pg'
import { inject } from 'vitest'
import { createKysely, withDatabaseName } from '../../src/db/database.ts'
import type { DB } from '../../src/db/schema.ts'

export type TestDatabase = { name: string; url: string; db: Kysely<DB>; close(): Promise<void> }

export async function cloneTemplate(): Promise<{ name: string; url: string }> {
  const serverUrl = inject('pgServerUrl')
  const name = `${inject('pgPrefix')}_${crypto.randomBytes(5).toString('hex')}`
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`create database "${name}" template "${inject('pgTemplate')}"`)
        break
      } catch (error) {
        // 55006: the template is briefly in use by a concurrent clone; try again.
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100))
      }
    }
  } finally {
    await client.end()
  }
  return { name, url: withDatabaseName(serverUrl, name) }
}

export async function freshDatabase(): Promise<TestDatabase> {
  const { name, url } = await cloneTemplate()
  const db = createKysely(url, 5)
  return { name, url, db, close: () => db.destroy() }
}

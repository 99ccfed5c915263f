/**
 * An in-process app on a fresh database, with helpers to make tenants, users and keys.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadKeyring } from '../../src/keys/index.ts'
import { createApiKey, createTenant, createUser, systemActor, type Role } from '../../src/access/index.ts'
import { systemClock } from '../../src/core/clock.ts'
import { uuidv7Source } from '../../src/core/ids.ts'
import { inTenant } from '../../src/db/database.ts'
import { buildApp, type App } from '../../src/http/app.ts'
import { createLogger } from '../../src/log.ts'
import { freshDatabase, type TestDatabase } from './db.ts'

export type TestApp = {
  app: App
  database: TestDatabase
  /** The key directory the app's keyring lives in (a CLI run against the same database needs the same keys). */
  keyDir: string
  createTenant(slug: string): Promise<string>
  createKey(tenantId: string, role: Role, enterpriseId?: string | null): Promise<string>
  createEnterprise(tenantId: string, name: string): Promise<string>
  createUser(tenantId: string, email: string, role: Role, password: string, enterpriseId?: string | null): Promise<string>
  close(): Promise<void>
}

export async function createTestApp(options: { consoleDir?: string } = {}): Promise<TestApp> {
  const database = await freshDatabase()
  const deps = { db: database.db, clock: systemClock, ids: uuidv7Source }
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-test-keys-'))
  const keyring = loadKeyring({ keyDir })
  const app = await buildApp({ ...deps, keyring, log: createLogger(process.env.PUHUI_TEST_LOG_LEVEL ?? 'silent'), cookieSecure: false, consoleDir: options.consoleDir, version: 'test' })
  await app.ready()
  return {
    app,
    database,
    keyDir,
    async createTenant(slug) {
      const result = await createTenant(deps, { slug, name: `Tenant ${slug}` })
      if (result.status !== 'ok') throw new Error(result.status)
      return result.value.id
    },
    async createKey(tenantId, role, enterpriseId = null) {
      const result = await inTenant(database.db, tenantId, (trx) => createApiKey(trx, deps, { tenantId, actor: systemActor, name: 'test', role, enterpriseId }))
      if (result.status !== 'ok') throw new Error(result.status)
      return result.value.key
    },
    async createEnterprise(tenantId, name) {
      const id = uuidv7Source.next()
      await inTenant(database.db, tenantId, (trx) => trx.insertInto('enterprises').values({ tenant_id: tenantId, id, name, uscc: null, sector: null, region: null, founded_on: null, created_at: new Date() }).execute())
      return id
    },
    async createUser(tenantId, email, role, password, enterpriseId = null) {
      const result = await inTenant(database.db, tenantId, (trx) => createUser(trx, deps, { tenantId, actor: systemActor, email, displayName: email, role, password, enterpriseId }))
      if (result.status !== 'ok') throw new Error(result.status)
      return result.value.id
    },
    async close() {
      await app.close()
      await database.close()
      fs.rmSync(keyDir, { recursive: true, force: true })
    },
  }
}

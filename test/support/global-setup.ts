/**
 * Global setup of the `db` test project. Starts a throw-away embedded PostgreSQL (fsync off: test data
 * need not survive a power cut; the durability tests start their own server with fsync on), or uses
 * DATABASE_URL; creates and migrates a template database with a unique per-run prefix; each test file
 * clones it (test/support/db.ts). Teardown drops every database of the run and stops the server.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { openEmbeddedServer, type EmbeddedServer } from '../../src/db/embedded.ts'
import { ensureDatabase, withDatabaseName } from '../../src/db/database.ts'
import { migrate } from '../../src/db/migrate.ts'
import { createLogger } from '../../src/log.ts'

declare module 'vitest' {
  interface ProvidedContext {
    pgServerUrl: string
    pgTemplate: string
    pgPrefix: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = createLogger(process.env.PUHUI_TEST_LOG_LEVEL ?? 'warn', 'puhui-test')
  const prefix = `puhui_t${Date.now().toString(36)}${process.pid.toString(36)}`
  let embedded: EmbeddedServer | undefined
  let dataDir: string | undefined
  let serverUrl: string
  if (process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '') {
    serverUrl = process.env.DATABASE_URL
  } else {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-test-'))
    fs.chmodSync(dataDir, 0o755)
    embedded = await openEmbeddedServer({ dataDir, log, osUser: process.env.PUHUI_PG_OS_USER ?? 'puhui', fsync: false })
    serverUrl = embedded.url
  }
  const template = `${prefix}_tpl`
  await ensureDatabase(serverUrl, template)
  await migrate(withDatabaseName(serverUrl, template))
  project.provide('pgServerUrl', serverUrl)
  project.provide('pgTemplate', template)
  project.provide('pgPrefix', prefix)

  return async () => {
    const client = new pg.Client({ connectionString: serverUrl })
    await client.connect()
    try {
      const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${prefix}%`])
      for (const row of rows) await client.query(`drop database if exists "${row.datname}" with (force)`)
    } finally {
      await client.end()
    }
    await embedded?.release()
    if (dataDir !== undefined) fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

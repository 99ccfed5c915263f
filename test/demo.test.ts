/**
 * The demo tenant as `npm start` seeds it on an empty database (src/demo.ts, `seedDemo`): the simulation
 * leaves applications of every outcome, active and overdue loans (more than 30 days past due, reached
 * through servicing and close of business), a referral waiting for review, a credit line, and ledger
 * postings; one login per role is written to the data directory; a second call creates nothing. The time
 * the seeding takes is printed (the first start should take at most 30 s: measured, not asserted).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findTenantIdBySlug, roles } from '../src/access/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import { demoLoginsFile, demoSimulation, demoStartDate, demoTenantSlug, readDemoLogins, seedDemo } from '../src/demo.ts'
import { loadKeyring } from '../src/keys/index.ts'
import { freshDatabase, type TestDatabase } from './support/db.ts'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-demo-'))
let database: TestDatabase
let seconds = 0

beforeAll(async () => {
  database = await freshDatabase()
  const keyring = loadKeyring({ keyDir: path.join(dataDir, 'keys') })
  const t0 = performance.now()
  await seedDemo({ db: database.db, clock: systemClock, ids: uuidv7Source, keyring }, dataDir)
  seconds = (performance.now() - t0) / 1000
  process.stderr.write(`demo seeded in ${seconds.toFixed(1)} s (first start budget: 30 s)\n`)
}, 240_000)
afterAll(async () => {
  await database?.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('the demo tenant', () => {
  it('shows a living lending business: every outcome, active and overdue loans, a referral to review, a credit line, postings', async () => {
    const tenantId = await findTenantIdBySlug(database.db, demoTenantSlug)
    expect(tenantId).toBeDefined()
    const seen = await inTenant(database.db, tenantId as string, async (trx) => (await sql<Record<string, number>>`
      select
        (select count(*)::int from applications where status = 'approved') as approved,
        (select count(*)::int from applications where status = 'declined') as declined,
        (select count(*)::int from applications where status = 'referred') as referred,
        (select count(*)::int from applications a where a.status = 'referred' and a.kind <> 'credit_line_review'
          and not exists (select 1 from application_reviews r where r.tenant_id = a.tenant_id and r.application_id = a.id)) as waiting_review,
        (select count(*)::int from loans where status = 'active') as active,
        (select count(*)::int from loans where status = 'active' and dpd > 0) as overdue,
        (select count(*)::int from loans where status = 'active' and dpd > 30) as overdue_30,
        (select count(*)::int from credit_lines) as credit_lines,
        (select count(*)::int from loans where credit_line_id is not null) as draws,
        (select count(*)::int from ledger_transfers) as postings`.execute(trx)).rows[0])
    process.stderr.write(`demo contents: ${JSON.stringify(seen)}\n`)
    // The simulation ends this month, so the server's daily close of business carries the book on to today.
    const businessDate = await inTenant(database.db, tenantId as string, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants`.execute(trx)).rows[0]?.d)
    expect(businessDate).toBe(Temporal.PlainDate.from(demoStartDate(systemClock.now())).add({ months: demoSimulation.months }).toString())
    expect(seen?.approved).toBeGreaterThan(0)
    expect(seen?.declined).toBeGreaterThan(0)
    expect(seen?.referred).toBeGreaterThan(0)
    expect(seen?.waiting_review).toBeGreaterThan(0)
    expect(seen?.active).toBeGreaterThan(0)
    expect(seen?.overdue).toBeGreaterThan(0)
    expect(seen?.overdue_30).toBeGreaterThan(0)
    expect(seen?.credit_lines).toBeGreaterThan(0)
    expect(seen?.postings).toBeGreaterThan(0)
  })

  it('writes one login per role (the borrower bound to a firm with a loan) and seeds only once', async () => {
    const logins = readDemoLogins(dataDir)
    expect(logins?.logins.map((l) => l.role).sort()).toEqual([...roles].sort())
    expect(fs.statSync(demoLoginsFile(dataDir)).mode & 0o777).toBe(0o600)
    const tenantId = await findTenantIdBySlug(database.db, demoTenantSlug)
    const borrower = await inTenant(database.db, tenantId as string, async (trx) => (await sql<{ loans: number }>`
      select count(*)::int as loans from users u join loans l on l.tenant_id = u.tenant_id and l.enterprise_id = u.enterprise_id where u.role = 'borrower'`.execute(trx)).rows[0])
    expect(borrower?.loans).toBeGreaterThan(0)
    const before = await inTenant(database.db, tenantId as string, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from applications`.execute(trx)).rows[0]?.n)
    const keyring = loadKeyring({ keyDir: path.join(dataDir, 'keys') })
    expect(await seedDemo({ db: database.db, clock: systemClock, ids: uuidv7Source, keyring }, dataDir)).toEqual(logins)
    const after = await inTenant(database.db, tenantId as string, async (trx) => (await sql<{ n: number }>`select count(*)::int as n from applications`.execute(trx)).rows[0]?.n)
    expect(after).toBe(before)
  })
})

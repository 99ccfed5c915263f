/**
 * The server's periodic work across tenants: the daily close of business closes each tenant's business date once
 * its calendar day has passed in the tenant's time zone, leaves a current tenant alone, and does not silently
 * catch up a tenant months behind.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import { createSimulatedBank } from '../src/flows/index.ts'
import { autoCobLagDaysMax, runDailyCob } from '../src/jobs.ts'
import { loadKeyring } from '../src/keys/index.ts'
import { createLogger } from '../src/log.ts'
import { createTestApp, type TestApp } from './support/app.ts'

let t: TestApp
const now = new Date('2026-03-10T02:00:00Z') // 10:00 on 2026-03-10 in Asia/Shanghai, still 2026-03-09 in New York
const deps = () => ({ db: t.database.db, clock: { now: () => now }, ids: uuidv7Source, keyring: loadKeyring({ keyDir: t.keyDir }), rail: createSimulatedBank(), log: createLogger('silent') })
const setTenant = (id: string, businessDate: string, timeZone: string) => inTenant(t.database.db, id, (trx) => sql`update tenants set business_date = ${businessDate}::date, time_zone = ${timeZone}`.execute(trx))
const businessDateOf = (id: string) => inTenant(t.database.db, id, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants`.execute(trx)).rows[0]?.d)

beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

describe('daily close of business', () => {
  it('closes each tenant through yesterday in its own time zone, once; leaves far-behind tenants to an operator', async () => {
    const shanghai = await t.createTenant('shanghai')
    const newYork = await t.createTenant('new-york')
    const behind = await t.createTenant('behind')
    await setTenant(shanghai, '2026-03-07', 'Asia/Shanghai')
    await setTenant(newYork, '2026-03-09', 'America/New_York')
    await setTenant(behind, '2025-12-01', 'Asia/Shanghai')
    const first = await runDailyCob(deps())
    const of = (id: string) => first.find((o) => o.tenantId === id)
    expect(of(shanghai)).toMatchObject({ status: 'closed', closedThrough: '2026-03-09' })
    expect(await businessDateOf(shanghai)).toBe('2026-03-10')
    expect(of(newYork)).toMatchObject({ status: 'current' })
    expect(await businessDateOf(newYork)).toBe('2026-03-09')
    expect(of(behind)?.status).toBe('too_far_behind')
    expect(of(behind)?.lagDays).toBeGreaterThan(autoCobLagDaysMax)
    expect(await businessDateOf(behind)).toBe('2025-12-01')
    const again = await runDailyCob(deps())
    expect(again.find((o) => o.tenantId === shanghai)?.status).toBe('current')
  })
})

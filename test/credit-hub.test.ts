/**
 * The credit data hub against a real PostgreSQL: consents gate ingestion and every read, revocation
 * stops use, personal data is encrypted at rest and every read of it is audited with its purpose,
 * ingestion is validated per row and idempotent per (source, external id), records are read as known by
 * a moment, and shared owners are found without decrypting.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findRelatedEnterprises } from '../src/credit/index.ts'
import { inTenant } from '../src/db/database.ts'
import { createTestApp, type TestApp } from './support/app.ts'

let t: TestApp
let tenantId: string
let admin: string
let borrower: string
let shop: string
let other: string
const auth = (key: string) => ({ authorization: `Bearer ${key}` })
const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString()

function orders(enterpriseId: string, month: string, gmv: string, extra: Record<string, unknown> = {}) {
  return { externalId: `ord-${enterpriseId.slice(-6)}-${month}`, enterpriseId, month, gmvMinor: gmv, orders: '120', buyers: '80', repeatBuyers: '30', topBuyerShare: '0.12', refundsMinor: '5000', refunds: '3', currency: 'CNY', ...extra }
}

beforeAll(async () => {
  t = await createTestApp()
  tenantId = await t.createTenant('hub')
  admin = await t.createKey(tenantId, 'admin')
  shop = await t.createEnterprise(tenantId, 'Shop Ltd')
  other = await t.createEnterprise(tenantId, 'Other Ltd')
  borrower = await t.createKey(tenantId, 'borrower', shop)
})
afterAll(async () => {
  await t.close()
})

describe('consents and ingestion', () => {
  it('takes no data without a consent covering the source, then takes it, idempotently', async () => {
    const before = await t.app.inject({ method: 'POST', url: '/v1/data/orders', headers: auth(admin), payload: { records: [orders(shop, '2026-01', '1200000')] } })
    expect(before.json()).toEqual({ results: [{ index: 0, externalId: expect.any(String), status: 'consent_required' }] })

    const consent = await t.app.inject({ method: 'POST', url: `/v1/enterprises/${shop}/consents`, headers: auth(borrower), payload: { purpose: 'credit_assessment', scope: ['orders', 'tax_filings', 'owners'], expiresAt: inAYear() } })
    expect(consent.statusCode).toBe(201)
    expect(consent.json()).toMatchObject({ active: true, purpose: 'credit_assessment' })
    // A borrower cannot consent for another enterprise.
    expect((await t.app.inject({ method: 'POST', url: `/v1/enterprises/${other}/consents`, headers: auth(borrower), payload: { purpose: 'monitoring', scope: ['orders'], expiresAt: inAYear() } })).statusCode).toBe(404)

    const batch = [
      orders(shop, '2026-01', '1200000'),
      orders(shop, '2026-02', '1350000'),
      orders(shop, '2026-03', 'lots'),
      orders(shop, '2026-03', '100', { repeatBuyers: '99' }),
      { ...orders(shop, '2026-04', '100'), colour: 'red' },
      orders(other, '2026-01', '1'),
      orders('01a20000-0000-7000-8000-000000000000', '2026-01', '1'),
      orders(shop, '2026-02', '1350000'),
    ]
    const first = (await t.app.inject({ method: 'POST', url: '/v1/data/orders', headers: auth(admin), payload: { records: batch } })).json() as { results: { status: string; errors?: { field: string }[] }[] }
    expect(first.results.map((r) => r.status)).toEqual(['created', 'created', 'invalid', 'invalid', 'invalid', 'consent_required', 'enterprise_not_found', 'duplicate_in_batch'])
    expect(first.results[2]?.errors?.map((e) => e.field)).toEqual(['gmvMinor'])
    expect(first.results[3]?.errors?.map((e) => e.field)).toEqual(['repeatBuyers'])
    expect(first.results[4]?.errors?.map((e) => e.field)).toEqual(['colour'])
    const replay = (await t.app.inject({ method: 'POST', url: '/v1/data/orders', headers: auth(admin), payload: { records: [batch[0], orders(shop, '2026-02', '999')] } })).json() as { results: { status: string }[] }
    expect(replay.results.map((r) => r.status)).toEqual(['exists', 'exists_with_different_fields'])
    const stored = await inTenant(t.database.db, tenantId, (trx) => sql<{ n: bigint; occurred_on: string; provenance: { channel: string } }>`select count(*) over () as n, occurred_on, provenance from data_records order by occurred_on`.execute(trx))
    expect(stored.rows.map((r) => r.occurred_on)).toEqual(['2026-01-31', '2026-02-28'])
    expect(stored.rows[0]?.provenance.channel).toBe('api')
  })

  it('reads records for a consented purpose only, as known by a moment, and audits the read', async () => {
    const read = await t.app.inject({ url: `/v1/enterprises/${shop}/records?source=orders&purpose=credit_assessment`, headers: auth(admin) })
    expect(read.statusCode).toBe(200)
    expect((read.json() as { items: unknown[] }).items).toHaveLength(2)
    const past = await t.app.inject({ url: `/v1/enterprises/${shop}/records?source=orders&purpose=credit_assessment&asOf=2026-01-01T00:00:00Z`, headers: auth(admin) })
    expect((past.json() as { items: unknown[] }).items).toHaveLength(0)
    const wrongPurpose = await t.app.inject({ url: `/v1/enterprises/${shop}/records?source=orders&purpose=monitoring`, headers: auth(admin) })
    expect(wrongPurpose.statusCode).toBe(403)
    expect((wrongPurpose.json() as { code: string }).code).toBe('consent_required')
    const audit = await inTenant(t.database.db, tenantId, (trx) => trx.selectFrom('audit_log').select(['action', 'purpose']).where('action', '=', 'records.read').execute())
    expect(audit).toEqual([{ action: 'records.read', purpose: 'credit_assessment' }, { action: 'records.read', purpose: 'credit_assessment' }])
  })
})

describe('owners: personal data', () => {
  it('is encrypted at rest, shown in clear only under consent, every read audited; revocation stops it', async () => {
    const created = await t.app.inject({ method: 'POST', url: `/v1/enterprises/${shop}/owners`, headers: auth(admin), payload: { name: '张三', idNumber: '110101199003078888', phone: '+86 138 0013 8000', sharePct: '60', role: 'legal_representative' } })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ idNumberMasked: '1101**********8888', sharePct: '60' })
    const raw = await inTenant(t.database.db, tenantId, (trx) => sql<Record<string, unknown>>`select * from owners`.execute(trx))
    expect(JSON.stringify(raw.rows)).not.toContain('110101199003078888')
    expect(JSON.stringify(raw.rows)).not.toContain('张三')

    expect((await t.app.inject({ url: `/v1/enterprises/${shop}/owners?purpose=identity_verification`, headers: auth(admin) })).statusCode).toBe(403)
    const clear = await t.app.inject({ url: `/v1/enterprises/${shop}/owners?purpose=credit_assessment`, headers: auth(admin) })
    expect(clear.statusCode).toBe(200)
    expect((clear.json() as { items: { name: string; idNumber: string; phone: string }[] }).items[0]).toMatchObject({ name: '张三', idNumber: '110101199003078888', phone: '+86 138 0013 8000' })
    const audit = await inTenant(t.database.db, tenantId, (trx) => trx.selectFrom('audit_log').select(['action', 'purpose', 'actor_kind']).where('action', '=', 'owner.read').execute())
    expect(audit).toEqual([{ action: 'owner.read', purpose: 'credit_assessment', actor_kind: 'api_key' }])

    const consents = (await t.app.inject({ url: `/v1/enterprises/${shop}/consents`, headers: auth(borrower) })).json() as { items: { id: string }[] }
    const revoked = await t.app.inject({ method: 'POST', url: `/v1/consents/${consents.items[0]?.id}/revoke`, headers: auth(borrower) })
    expect(revoked.json()).toMatchObject({ active: false })
    expect((await t.app.inject({ url: `/v1/enterprises/${shop}/owners?purpose=credit_assessment`, headers: auth(admin) })).statusCode).toBe(403)
    expect((await t.app.inject({ method: 'POST', url: '/v1/data/orders', headers: auth(admin), payload: { records: [orders(shop, '2026-05', '1')] } })).json()).toMatchObject({ results: [{ status: 'consent_required' }] })
  })

  it('finds enterprises sharing an owner without decrypting', async () => {
    await t.app.inject({ method: 'POST', url: `/v1/enterprises/${other}/owners`, headers: auth(admin), payload: { name: 'Zhang San', idNumber: '110101199003078888', role: 'shareholder' } })
    const related = await inTenant(t.database.db, tenantId, (trx) => findRelatedEnterprises(trx, shop))
    expect(related).toEqual([{ enterpriseId: other, via: 'id_number' }])
  })
})

describe('features as of a date, as known by an instant', () => {
  it('uses only records ingested by then, only consented sources, and audits the read', async () => {
    const otherKey = await t.createKey(tenantId, 'borrower', other)
    await t.app.inject({ method: 'POST', url: `/v1/enterprises/${other}/consents`, headers: auth(otherKey), payload: { purpose: 'credit_assessment', scope: ['orders'], expiresAt: inAYear() } })
    const beforeIngestion = new Date().toISOString()
    await new Promise((resolve) => setTimeout(resolve, 5))
    const records = ['2026-01', '2026-02', '2026-03'].map((month) => orders(other, month, '100000'))
    const ingested = (await t.app.inject({ method: 'POST', url: '/v1/data/orders', headers: auth(admin), payload: { records } })).json() as { results: { status: string }[] }
    expect(ingested.results.map((r) => r.status)).toEqual(['created', 'created', 'created'])

    const now = await t.app.inject({ url: `/v1/enterprises/${other}/features?purpose=credit_assessment&asOf=2026-03-31`, headers: auth(admin) })
    expect(now.statusCode).toBe(200)
    const report = now.json() as { catalogueVersion: string; features: Record<string, number | null>; sourcesUsed: string[]; sourcesWithoutConsent: string[] }
    expect(report.features.gmv_3m).toBe(3000)
    expect(report.features.declared_revenue_12m).toBeNull()
    expect(report.sourcesUsed).toEqual(['orders'])
    expect(report.sourcesWithoutConsent).toContain('tax_filings')

    const earlier = (await t.app.inject({ url: `/v1/enterprises/${other}/features?purpose=credit_assessment&asOf=2026-03-31&knownBy=${beforeIngestion}`, headers: auth(admin) })).json() as { features: Record<string, number | null> }
    expect(earlier.features.gmv_3m).toBeNull()
    const asOfFebruary = (await t.app.inject({ url: `/v1/enterprises/${other}/features?purpose=credit_assessment&asOf=2026-02-28`, headers: auth(admin) })).json() as { features: Record<string, number | null> }
    expect(asOfFebruary.features.gmv_3m).toBe(2000)

    expect((await t.app.inject({ url: `/v1/enterprises/${other}/features?purpose=monitoring`, headers: auth(admin) })).json()).toMatchObject({ sourcesUsed: [] })
    expect((await t.app.inject({ url: `/v1/enterprises/${shop}/features?purpose=credit_assessment`, headers: auth(otherKey) })).statusCode).toBe(404)
    const catalogue = (await t.app.inject({ url: '/v1/features/catalogue', headers: auth(admin) })).json() as { features: unknown[] }
    expect(catalogue.features.length).toBeGreaterThanOrEqual(30)
    const audit = await inTenant(t.database.db, tenantId, (trx) => trx.selectFrom('audit_log').select('purpose').where('action', '=', 'features.read').execute())
    expect(audit.length).toBe(4)
  })
})

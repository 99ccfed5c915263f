/**
 * The HTTP foundation, in process against a real PostgreSQL: tenant isolation, roles, scope inside a
 * tenant, idempotency, problem+json for bad input (and nothing changed), sessions and CSRF.
 */
import crypto from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inTenant } from '../src/db/database.ts'
import { canonicalJson } from '../src/http/idempotency.ts'
import { createTestApp, type TestApp } from './support/app.ts'

let t: TestApp
let tenantA: string
let tenantB: string
let adminA: string
let adminB: string
let enterpriseA1: string
let enterpriseA2: string
let enterpriseB: string
let borrowerA1: string

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

async function countRows(tenantId: string, table: 'users' | 'enterprises' | 'api_keys' | 'audit_log' | 'idempotency_keys'): Promise<number> {
  const row = await inTenant(t.database.db, tenantId, (trx) => trx.selectFrom(table).select(sql<bigint>`count(*)`.as('n')).executeTakeFirstOrThrow())
  return Number(row.n)
}

function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string) {
  expect(response.statusCode).toBe(status)
  expect(String(response.headers['content-type'])).toContain('application/problem+json')
  const body = response.json() as { code: string; status: number; title: string; requestId: string }
  expect(body.code).toBe(code)
  expect(body.status).toBe(status)
  expect(body.requestId).toBeTruthy()
  return body
}

beforeAll(async () => {
  t = await createTestApp()
  tenantA = await t.createTenant('tenant-a')
  tenantB = await t.createTenant('tenant-b')
  adminA = await t.createKey(tenantA, 'admin')
  adminB = await t.createKey(tenantB, 'admin')
  enterpriseA1 = await t.createEnterprise(tenantA, 'A1 Trading')
  enterpriseA2 = await t.createEnterprise(tenantA, 'A2 Workshop')
  enterpriseB = await t.createEnterprise(tenantB, 'B Shop')
  borrowerA1 = await t.createKey(tenantA, 'borrower', enterpriseA1)
})
afterAll(async () => {
  await t.close()
})

describe('system routes', () => {
  it('serves /health, /ready, /metrics, /openapi.json (3.1) and /docs', async () => {
    expect((await t.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok', version: 'test' })
    expect((await t.app.inject({ url: '/ready' })).json()).toEqual({ status: 'ready' })
    const metrics = await t.app.inject({ url: '/metrics' })
    expect(metrics.body).toContain('puhui_http_requests_total')
    const openapi = (await t.app.inject({ url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, unknown> }
    expect(openapi.openapi).toBe('3.1.0')
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/users', '/v1/api-keys', '/v1/enterprises/{id}', '/v1/auth/login']))
    const docs = await t.app.inject({ url: '/docs/' })
    expect(docs.statusCode).toBe(200)
    expect(docs.body).toContain('swagger')
  })
  it('publishes the signing public keys by key id, without credentials', async () => {
    const response = await t.app.inject({ url: '/v1/keys/signing' })
    expect(response.statusCode).toBe(200)
    const body = response.json() as { current: string; keys: { keyId: string; algorithm: string; publicKeyPem: string }[] }
    expect(body.keys.find((k) => k.keyId === body.current)?.publicKeyPem).toContain('BEGIN PUBLIC KEY')
  })
  it('echoes a request id', async () => {
    const response = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } })
    expect(response.headers['x-request-id']).toBe('abc-123')
  })
  it('answers unknown routes with route_not_found', async () => {
    expectProblem(await t.app.inject({ url: '/v1/nothing-here', headers: bearer(adminA) }), 404, 'route_not_found')
  })
})

describe('tenant isolation', () => {
  it("answers 404 (never 403) for another tenant's resources", async () => {
    const userB = await t.createUser(tenantB, 'someone@b.test', 'operator', 'long-enough-password')
    const keysB = (await t.app.inject({ url: '/v1/api-keys', headers: bearer(adminB) })).json() as { items: { id: string }[] }
    const keyB = keysB.items[0]?.id as string
    expectProblem(await t.app.inject({ url: `/v1/users/${userB}`, headers: bearer(adminA) }), 404, 'not_found')
    expectProblem(await t.app.inject({ url: `/v1/enterprises/${enterpriseB}`, headers: bearer(adminA) }), 404, 'not_found')
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${keyB}`, headers: bearer(adminA) }), 404, 'not_found')
    // B's own admin sees them, and B's key was not revoked by A's attempt.
    expect((await t.app.inject({ url: `/v1/users/${userB}`, headers: bearer(adminB) })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(adminB) })).statusCode).toBe(200)
  })
  it('lists only the caller tenant rows', async () => {
    const listA = (await t.app.inject({ url: '/v1/enterprises', headers: bearer(adminA) })).json() as { items: { id: string }[] }
    expect(listA.items.map((e) => e.id).sort()).toEqual([enterpriseA1, enterpriseA2].sort())
  })
})

describe('roles and scope inside a tenant', () => {
  it('forbids routes outside the role (403)', async () => {
    const body = expectProblem(await t.app.inject({ url: '/v1/users', headers: bearer(borrowerA1) }), 403, 'forbidden')
    expect(body).toHaveProperty('detail')
    const operator = await t.createKey(tenantA, 'operator')
    const before = await countRows(tenantA, 'users')
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/users', headers: bearer(operator), payload: { email: 'x@a.test', displayName: 'X', role: 'admin', password: 'long-enough-password' } }), 403, 'forbidden')
    expect(await countRows(tenantA, 'users')).toBe(before)
  })
  it('shows a borrower its own enterprise only', async () => {
    const own = await t.app.inject({ url: `/v1/enterprises/${enterpriseA1}`, headers: bearer(borrowerA1) })
    expect(own.statusCode).toBe(200)
    expectProblem(await t.app.inject({ url: `/v1/enterprises/${enterpriseA2}`, headers: bearer(borrowerA1) }), 404, 'not_found')
    const list = (await t.app.inject({ url: '/v1/enterprises', headers: bearer(borrowerA1) })).json() as { items: { id: string }[] }
    expect(list.items.map((e) => e.id)).toEqual([enterpriseA1])
  })
  it('refuses a borrower key without an enterprise', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/v1/api-keys', headers: bearer(adminA), payload: { name: 'b', role: 'borrower' } })
    expectProblem(response, 422, 'enterprise_required')
  })
})

describe('authentication', () => {
  it('rejects missing, malformed, unknown and revoked keys', async () => {
    expectProblem(await t.app.inject({ url: '/v1/me' }), 401, 'unauthenticated')
    expectProblem(await t.app.inject({ url: '/v1/me', headers: { authorization: 'Basic abc' } }), 401, 'unauthenticated')
    expectProblem(await t.app.inject({ url: '/v1/me', headers: bearer('puhui_AAAAAAAAAAAA_' + 'A'.repeat(43)) }), 401, 'unauthenticated')
    const created = (await t.app.inject({ method: 'POST', url: '/v1/api-keys', headers: bearer(adminA), payload: { name: 'temp', role: 'auditor' } })).json() as { id: string; key: string }
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(created.key) })).statusCode).toBe(200)
    // A key that differs in its secret only is refused even though its prefix exists.
    const forged = created.key.slice(0, -4) + (created.key.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    expectProblem(await t.app.inject({ url: '/v1/me', headers: bearer(forged) }), 401, 'unauthenticated')
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${created.id}`, headers: bearer(adminA) })).statusCode).toBe(200)
    expectProblem(await t.app.inject({ url: '/v1/me', headers: bearer(created.key) }), 401, 'api_key_revoked')
  })

  it('logs in with a password, requires the CSRF token for changes, logs out', async () => {
    await t.createUser(tenantA, 'Admin@A.test', 'admin', 'correct horse battery')
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { tenant: 'tenant-a', email: 'admin@a.test', password: 'wrong password!' } }), 401, 'invalid_credentials')
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { tenant: 'no-such', email: 'admin@a.test', password: 'correct horse battery' } }), 401, 'invalid_credentials')
    const login = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { tenant: 'tenant-a', email: 'admin@a.test', password: 'correct horse battery' } })
    expect(login.statusCode).toBe(200)
    const cookie = login.cookies.find((c) => c.name === 'puhui_session')
    expect(cookie?.httpOnly).toBe(true)
    expect(cookie?.sameSite).toBe('Strict')
    const { csrfToken } = login.json() as { csrfToken: string }
    const cookies = { puhui_session: cookie?.value as string }
    const me = (await t.app.inject({ url: '/v1/me', cookies })).json() as { principal: { role: string }; tenant: { slug: string } }
    expect(me.principal.role).toBe('admin')
    expect(me.tenant.slug).toBe('tenant-a')
    const before = await countRows(tenantA, 'enterprises')
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/enterprises', cookies, payload: { name: 'No CSRF Ltd' } }), 403, 'csrf_token_invalid')
    expect(await countRows(tenantA, 'enterprises')).toBe(before)
    const created = await t.app.inject({ method: 'POST', url: '/v1/enterprises', cookies, headers: { 'x-csrf-token': csrfToken }, payload: { name: 'With CSRF Ltd' } })
    expect(created.statusCode).toBe(201)
    expect((await t.app.inject({ method: 'POST', url: '/v1/auth/logout', cookies, headers: { 'x-csrf-token': csrfToken } })).statusCode).toBe(204)
    expectProblem(await t.app.inject({ url: '/v1/me', cookies }), 401, 'unauthenticated')
  })
})

describe('idempotency', () => {
  const payload = { name: 'Idem Co', sector: 'retail' }

  it('replays a completed request: same status and body, one effect', async () => {
    const before = await countRows(tenantA, 'enterprises')
    const headers = { ...bearer(adminA), 'idempotency-key': 'create-idem-co' }
    const first = await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers, payload })
    const second = await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers, payload: { sector: 'retail', name: 'Idem Co' } })
    expect(first.statusCode).toBe(201)
    expect(second.statusCode).toBe(201)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    expect(second.json()).toEqual(first.json())
    expect(await countRows(tenantA, 'enterprises')).toBe(before + 1)
  })

  it('rejects the same key with a different body (422) and changes nothing', async () => {
    const headers = { ...bearer(adminA), 'idempotency-key': 'create-idem-co-2' }
    expect((await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers, payload })).statusCode).toBe(201)
    const before = await countRows(tenantA, 'enterprises')
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers, payload: { ...payload, name: 'Other Co' } }), 422, 'idempotency_key_reused')
    expect(await countRows(tenantA, 'enterprises')).toBe(before)
  })

  it('answers 409 while a request with the key is in flight', async () => {
    const headers = { ...bearer(adminA), 'idempotency-key': 'in-flight-key' }
    // Send many identical requests at once: exactly one effect; the others replay or see it in flight.
    const before = await countRows(tenantA, 'enterprises')
    const responses = await Promise.all(Array.from({ length: 8 }, () => t.app.inject({ method: 'POST', url: '/v1/enterprises', headers, payload: { name: 'Race Co' } })))
    expect(await countRows(tenantA, 'enterprises')).toBe(before + 1)
    const statuses = responses.map((r) => r.statusCode).sort()
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1)
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true)
    expect(responses.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)).toHaveLength(1)
    for (const r of responses.filter((x) => x.statusCode === 409)) expectProblem(r, 409, 'idempotency_request_in_flight')

    // Deterministically: a live reservation held by another request answers 409.
    const principal = (await t.app.inject({ url: '/v1/me', headers: bearer(adminA) })).json() as { principal: { id: string } }
    await inTenant(t.database.db, tenantA, (trx) =>
      trx
        .insertInto('idempotency_keys')
        .values({ tenant_id: tenantA, key: 'held', principal_id: principal.principal.id, method: 'POST', route: '/v1/enterprises', request_hash: crypto.createHash('sha256').update(`POST /v1/enterprises\n${canonicalJson({ name: 'Held Co' })}`).digest(), state: 'in_flight', lease_until: new Date(Date.now() + 60_000), response_status: null, response_body: null, created_at: new Date(), completed_at: null })
        .execute(),
    )
    const before2 = await countRows(tenantA, 'enterprises')
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers: { ...bearer(adminA), 'idempotency-key': 'held' }, payload: { name: 'Held Co' } }), 409, 'idempotency_request_in_flight')
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers: { ...bearer(adminA), 'idempotency-key': 'held' }, payload: { name: 'Other Co' } }), 422, 'idempotency_key_reused')
    expect(await countRows(tenantA, 'enterprises')).toBe(before2)
  })

  it('stores a business failure with the key and replays it, without the effect', async () => {
    const headers = { ...bearer(adminA), 'idempotency-key': 'bad-uscc-dup' }
    const body = { name: 'Dup', uscc: '91350100M000100Y43' }
    expect((await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers: bearer(adminA), payload: body })).statusCode).toBe(201)
    const first = await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers, payload: body })
    expectProblem(first, 409, 'uscc_taken')
    const replay = await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers, payload: body })
    expectProblem(replay, 409, 'uscc_taken')
    expect(replay.headers['idempotent-replayed']).toBe('true')
  })

  it('never stores a new API key secret for replay', async () => {
    const headers = { ...bearer(adminA), 'idempotency-key': 'key-once' }
    const first = (await t.app.inject({ method: 'POST', url: '/v1/api-keys', headers, payload: { name: 'once', role: 'auditor' } })).json() as { key: string; id: string }
    const replay = (await t.app.inject({ method: 'POST', url: '/v1/api-keys', headers, payload: { name: 'once', role: 'auditor' } })).json() as { key: string | null; id: string }
    expect(first.key).toMatch(/^puhui_/)
    expect(replay.id).toBe(first.id)
    expect(replay.key).toBeNull()
    const stored = await inTenant(t.database.db, tenantA, (trx) => trx.selectFrom('idempotency_keys').select('response_body').where('key', '=', 'key-once').executeTakeFirstOrThrow())
    expect(JSON.stringify(stored.response_body)).not.toContain(first.key)
  })

  it('rejects an invalid key header', async () => {
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/enterprises', headers: { ...bearer(adminA), 'idempotency-key': 'x'.repeat(300) }, payload }), 400, 'idempotency_key_invalid')
  })
})

describe('bad input answers problem+json and changes nothing', () => {
  const cases: { name: string; request: { payload: string | Record<string, unknown>; headers?: Record<string, string> }; status: number; code: string }[] = [
    { name: 'malformed JSON', request: { payload: '{"name": "x",', headers: { 'content-type': 'application/json' } }, status: 400, code: 'malformed_json' },
    { name: 'empty JSON body', request: { payload: '', headers: { 'content-type': 'application/json' } }, status: 400, code: 'malformed_json' },
    { name: 'unknown field', request: { payload: { name: 'x', color: 'red' } }, status: 400, code: 'unknown_field' },
    { name: 'missing field', request: { payload: { sector: 'retail' } }, status: 400, code: 'missing_field' },
    { name: 'wrong type', request: { payload: { name: 42 } }, status: 400, code: 'wrong_type' },
    { name: 'invalid value', request: { payload: { name: 'x', foundedOn: 'yesterday' } }, status: 400, code: 'invalid_field' },
    { name: 'invalid credit code', request: { payload: { name: 'x', uscc: '91350100M000100Y44' } }, status: 422, code: 'uscc_invalid' },
    { name: 'oversize body', request: { payload: JSON.stringify({ name: 'x'.repeat(1_100_000) }), headers: { 'content-type': 'application/json' } }, status: 413, code: 'body_too_large' },
    { name: 'unsupported media type', request: { payload: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415, code: 'unsupported_media_type' },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const before = await Promise.all([countRows(tenantA, 'enterprises'), countRows(tenantA, 'audit_log'), countRows(tenantA, 'idempotency_keys')])
      const response = await t.app.inject({ method: 'POST', url: '/v1/enterprises', ...c.request, headers: { ...bearer(adminA), 'idempotency-key': `bad-${c.name.replaceAll(' ', '-')}`, ...(c.request.headers ?? {}) } })
      const body = expectProblem(response, c.status, c.code) as { errors?: { path: string }[] }
      if (c.code === 'unknown_field') expect(body.errors?.[0]?.path).toBe('body/color')
      const after = await Promise.all([countRows(tenantA, 'enterprises'), countRows(tenantA, 'audit_log'), countRows(tenantA, 'idempotency_keys')])
      expect(after).toEqual(before)
    })
  }
  it('rejects an invalid path id and query', async () => {
    expectProblem(await t.app.inject({ url: '/v1/enterprises/not-a-uuid', headers: bearer(adminA) }), 400, 'invalid_field')
    expectProblem(await t.app.inject({ url: '/v1/enterprises?limit=0', headers: bearer(adminA) }), 400, 'invalid_field')
    expectProblem(await t.app.inject({ url: '/v1/enterprises?colour=red', headers: bearer(adminA) }), 400, 'unknown_field')
  })
})

describe('audit log', () => {
  it('records operator actions with the actor, and is readable by auditors', async () => {
    const auditor = await t.createKey(tenantA, 'auditor')
    const response = await t.app.inject({ url: '/v1/audit-log?limit=200', headers: bearer(auditor) })
    expect(response.statusCode).toBe(200)
    const entries = (response.json() as { items: { action: string; actorKind: string }[] }).items
    expect(entries.some((e) => e.action === 'enterprise.create' && e.actorKind === 'api_key')).toBe(true)
    expect(entries.some((e) => e.action === 'api_key.revoke')).toBe(true)
  })
  it('paginates users with a cursor', async () => {
    for (let i = 0; i < 5; i++) await t.createUser(tenantA, `page${i}@a.test`, 'reviewer', 'long-enough-password')
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = (await t.app.inject({ url: `/v1/users?limit=2${cursor === null ? '' : `&after=${cursor}`}`, headers: bearer(adminA) })).json() as { items: { id: string }[]; nextCursor: string | null }
      expect(page.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.items.map((u) => u.id))
      cursor = page.nextCursor
    } while (cursor !== null)
    expect(new Set(seen).size).toBe(seen.length)
    expect(seen.length).toBe(await countRows(tenantA, 'users'))
  })
})

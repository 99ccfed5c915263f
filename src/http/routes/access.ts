/**
 * @module http/routes/access
 * Login and logout, the caller's identity, the tenant, users, API keys and the audit log.
 */
import { sql } from 'kysely'
import { Type } from 'typebox'
import {
  actorOf,
  appendAudit,
  createApiKey,
  createUser,
  login,
  logout,
  revokeApiKey,
  toUserView,
} from '../../access/index.ts'
import { sessionTtlHours } from '../../core/limits.ts'
import { inTenant } from '../../db/database.ts'
import type { App, AppDeps } from '../app.ts'
import { anyRole, principalOf, sessionCookie } from '../authenticate.ts'
import { mutate } from '../idempotency.ts'
import { Problem } from '../problem.ts'
import { IdParams, PageQuery, RoleSchema, Strict, Uuid, problemResponses } from './schemas.ts'

const Timestamp = Type.String({ format: 'date-time' })
const UserSchema = Type.Object({ id: Uuid, email: Type.String(), displayName: Type.String(), role: RoleSchema, enterpriseId: Type.Union([Uuid, Type.Null()]), disabled: Type.Boolean(), createdAt: Timestamp })
const ApiKeySchema = Type.Object({ id: Uuid, name: Type.String(), prefix: Type.String(), role: RoleSchema, enterpriseId: Type.Union([Uuid, Type.Null()]), createdAt: Timestamp, revokedAt: Type.Union([Timestamp, Type.Null()]) })
const TenantSchema = Type.Object({ id: Uuid, slug: Type.String(), name: Type.String(), timeZone: Type.String(), businessDate: Type.String({ format: 'date' }) })
const MeSchema = Type.Object({
  tenant: TenantSchema,
  principal: Type.Object({ kind: Type.Union([Type.Literal('user'), Type.Literal('api_key')]), id: Uuid, role: RoleSchema, enterpriseId: Type.Union([Uuid, Type.Null()]) }),
  user: Type.Union([UserSchema, Type.Null()]),
  csrfToken: Type.Union([Type.String(), Type.Null()]),
})
const AuditEntrySchema = Type.Object({
  id: Uuid,
  at: Timestamp,
  actorKind: Type.String(),
  actorId: Type.Union([Uuid, Type.Null()]),
  action: Type.String(),
  targetKind: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  purpose: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
})

const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' })

export function registerAccessRoutes(app: App, deps: AppDeps): void {
  app.post(
    '/v1/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags: ['access'],
        summary: 'Log in to the console (sets the session cookie)',
        description: 'Not idempotent by key: each call opens a new session. The response carries the CSRF token that state-changing requests made with the cookie must send as `X-CSRF-Token`.',
        security: [],
        body: Type.Object({ tenant: Type.String({ minLength: 1, maxLength: 63 }), email: Email, password: Type.String({ minLength: 1, maxLength: 1024 }) }, Strict),
        response: { 200: Type.Object({ user: UserSchema, csrfToken: Type.String(), expiresAt: Timestamp }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const result = await login(deps, request.body)
      if (result.status !== 'ok') throw new Problem(result.status)
      reply.setCookie(sessionCookie, result.value.token, { path: '/', httpOnly: true, sameSite: 'strict', secure: deps.cookieSecure, maxAge: sessionTtlHours * 3600 })
      return { user: result.value.user, csrfToken: result.value.principal.session?.csrfToken ?? '', expiresAt: result.value.expiresAt.toISOString() }
    },
  )

  app.post(
    '/v1/auth/logout',
    { config: { access: { roles: anyRole } }, schema: { tags: ['access'], summary: 'End the console session', response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      const principal = principalOf(request)
      reply.clearCookie(sessionCookie, { path: '/' })
      return mutate(request, reply, deps, async (trx) => {
        await logout(trx, deps, principal)
        return { statusCode: 204, body: null }
      })
    },
  )

  app.get(
    '/v1/me',
    { config: { access: { roles: anyRole } }, schema: { tags: ['access'], summary: 'Who am I: tenant, role, scope', response: { 200: MeSchema, ...problemResponses } } },
    async (request) => {
      const principal = principalOf(request)
      return inTenant(deps.db, principal.tenantId, async (trx) => {
        const tenant = await trx.selectFrom('tenants').selectAll().executeTakeFirstOrThrow()
        const user = principal.kind === 'user' ? await trx.selectFrom('users').selectAll().where('id', '=', principal.id).executeTakeFirst() : undefined
        return {
          tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, timeZone: tenant.time_zone, businessDate: tenant.business_date },
          principal: { kind: principal.kind, id: principal.id, role: principal.role, enterpriseId: principal.enterpriseId },
          user: user === undefined ? null : toUserView(user),
          csrfToken: principal.session?.csrfToken ?? null,
        }
      })
    },
  )

  app.get(
    '/v1/users',
    { config: { access: { roles: ['admin'] } }, schema: { tags: ['access'], summary: 'List users', querystring: PageQuery, response: { 200: Type.Object({ items: Type.Array(UserSchema), nextCursor: Type.Union([Uuid, Type.Null()]) }), ...problemResponses } } },
    async (request) => {
      const { limit = 50, after } = request.query
      const rows = await inTenant(deps.db, principalOf(request).tenantId, (trx) => {
        let query = trx.selectFrom('users').selectAll().orderBy('id').limit(limit + 1)
        if (after !== undefined) query = query.where('id', '>', after)
        return query.execute()
      })
      return { items: rows.slice(0, limit).map(toUserView), nextCursor: rows.length > limit ? (rows[limit - 1]?.id ?? null) : null }
    },
  )

  app.post(
    '/v1/users',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['access'],
        summary: 'Create a user',
        description: 'Console users log in with the tenant slug, email and password. Borrower users are bound to an enterprise.',
        body: Type.Object(
          {
            email: Email,
            displayName: Type.String({ minLength: 1, maxLength: 200 }),
            role: RoleSchema,
            password: Type.Optional(Type.String({ maxLength: 1024 })),
            enterpriseId: Type.Optional(Uuid),
          },
          Strict,
        ),
        response: { 201: UserSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const body = request.body
      return mutate(request, reply, deps, async (trx) => {
        const result = await createUser(trx, deps, {
          tenantId: principal.tenantId,
          actor: actorOf(principal),
          email: body.email,
          displayName: body.displayName,
          role: body.role,
          password: body.password ?? null,
          enterpriseId: body.enterpriseId ?? null,
        })
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        return { statusCode: 201, body: result.value }
      })
    },
  )

  app.get(
    '/v1/users/:id',
    { config: { access: { roles: ['admin'] } }, schema: { tags: ['access'], summary: 'A user', params: IdParams, response: { 200: UserSchema, ...problemResponses } } },
    async (request) => {
      const row = await inTenant(deps.db, principalOf(request).tenantId, (trx) => trx.selectFrom('users').selectAll().where('id', '=', request.params.id).executeTakeFirst())
      if (row === undefined) throw new Problem('not_found', 'no such user')
      return toUserView(row)
    },
  )

  app.get(
    '/v1/api-keys',
    { config: { access: { roles: ['admin'] } }, schema: { tags: ['access'], summary: 'List API keys (never their secrets)', querystring: PageQuery, response: { 200: Type.Object({ items: Type.Array(ApiKeySchema), nextCursor: Type.Union([Uuid, Type.Null()]) }), ...problemResponses } } },
    async (request) => {
      const { limit = 50, after } = request.query
      const rows = await inTenant(deps.db, principalOf(request).tenantId, (trx) => {
        let query = trx.selectFrom('api_keys').select(['id', 'name', 'prefix', 'role', 'enterprise_id', 'created_at', 'revoked_at']).orderBy('id').limit(limit + 1)
        if (after !== undefined) query = query.where('id', '>', after)
        return query.execute()
      })
      return {
        items: rows.slice(0, limit).map((row) => ({ id: row.id, name: row.name, prefix: row.prefix, role: row.role, enterpriseId: row.enterprise_id, createdAt: row.created_at.toISOString(), revokedAt: row.revoked_at?.toISOString() ?? null })),
        nextCursor: rows.length > limit ? (rows[limit - 1]?.id ?? null) : null,
      }
    },
  )

  app.post(
    '/v1/api-keys',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['access'],
        summary: 'Create an API key (the key is shown once)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), role: RoleSchema, enterpriseId: Type.Optional(Uuid) }, Strict),
        response: { 201: Type.Object({ ...ApiKeySchema.properties, key: Type.Union([Type.String(), Type.Null()], { description: 'the secret: shown only in this response; null in an idempotent replay, because the secret is never stored' }) }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const body = request.body
      return mutate(request, reply, deps, async (trx) => {
        const result = await createApiKey(trx, deps, { tenantId: principal.tenantId, actor: actorOf(principal), name: body.name, role: body.role, enterpriseId: body.enterpriseId ?? null })
        if (result.status !== 'ok') throw new Problem(result.status)
        return { statusCode: 201, body: result.value, replayBody: { ...result.value, key: null } }
      })
    },
  )

  app.delete(
    '/v1/api-keys/:id',
    { config: { access: { roles: ['admin'] } }, schema: { tags: ['access'], summary: 'Revoke an API key', params: IdParams, response: { 200: ApiKeySchema, ...problemResponses } } },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await revokeApiKey(trx, deps, { tenantId: principal.tenantId, actor: actorOf(principal), id: request.params.id })
        if (result.status !== 'ok') throw new Problem('not_found', 'no such API key')
        return { statusCode: 200, body: result.value }
      })
    },
  )

  app.get(
    '/v1/audit-log',
    {
      config: { access: { roles: ['admin', 'auditor'] } },
      schema: {
        tags: ['access'],
        summary: 'The append-only audit log, newest first',
        querystring: Type.Object({ ...PageQuery.properties, before: Type.Optional(Type.String({ format: 'uuid' })) }, Strict),
        response: { 200: Type.Object({ items: Type.Array(AuditEntrySchema), nextCursor: Type.Union([Uuid, Type.Null()]) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const { limit = 50, before } = request.query
      const rows = await inTenant(deps.db, principal.tenantId, async (trx) => {
        let query = trx.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit + 1)
        if (before !== undefined) query = query.where('id', '<', before)
        const found = await query.execute()
        await appendAudit(trx, { tenantId: principal.tenantId, actor: actorOf(principal), action: 'audit_log.read', purpose: 'audit', requestId: request.id, at: deps.clock.now(), ids: deps.ids })
        return found
      })
      return {
        items: rows.slice(0, limit).map((row) => ({ id: row.id, at: row.at.toISOString(), actorKind: row.actor_kind, actorId: row.actor_id, action: row.action, targetKind: row.target_kind, targetId: row.target_id, purpose: row.purpose, requestId: row.request_id })),
        nextCursor: rows.length > limit ? (rows[limit - 1]?.id ?? null) : null,
      }
    },
  )

  app.get(
    '/v1/dashboard/summary',
    {
      config: { access: { roles: ['admin', 'operator', 'risk_analyst', 'reviewer', 'auditor'] } },
      schema: {
        tags: ['dashboard'],
        summary: 'Headline figures for the operator dashboard',
        response: {
          200: Type.Object({
            tenant: TenantSchema,
            enterprises: Type.Integer(),
            users: Type.Integer(),
            activeApiKeys: Type.Integer(),
            usersByRole: Type.Record(Type.String(), Type.Integer()),
            auditEventsByDay: Type.Array(Type.Object({ day: Type.String(), events: Type.Integer() })),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      return inTenant(deps.db, principalOf(request).tenantId, async (trx) => {
        const tenant = await trx.selectFrom('tenants').selectAll().executeTakeFirstOrThrow()
        const counts = await trx
          .selectNoFrom([
            sql<bigint>`(select count(*) from enterprises)`.as('enterprises'),
            sql<bigint>`(select count(*) from users)`.as('users'),
            sql<bigint>`(select count(*) from api_keys where revoked_at is null)`.as('active_api_keys'),
          ])
          .executeTakeFirstOrThrow()
        const byRole = await trx.selectFrom('users').select(['role', sql<bigint>`count(*)`.as('n')]).groupBy('role').execute()
        const byDay = await trx
          .selectFrom('audit_log')
          .select([sql<string>`to_char(at at time zone ${tenant.time_zone}, 'YYYY-MM-DD')`.as('day'), sql<bigint>`count(*)`.as('n')])
          .where('at', '>', sql<Date>`now() - interval '14 days'`)
          .groupBy(sql`1`)
          .orderBy(sql`1`)
          .execute()
        return {
          tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, timeZone: tenant.time_zone, businessDate: tenant.business_date },
          enterprises: Number(counts.enterprises),
          users: Number(counts.users),
          activeApiKeys: Number(counts.active_api_keys),
          usersByRole: Object.fromEntries(byRole.map((row) => [row.role, Number(row.n)])),
          auditEventsByDay: byDay.map((row) => ({ day: row.day, events: Number(row.n) })),
        }
      })
    },
  )
}

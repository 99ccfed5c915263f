/**
 * @module access/access-service
 * Tenants, users, API keys, sessions and the audit log. Functions that act inside a tenant take the
 * tenant-scoped transaction (`Tx`, see db/database.ts `inTenant`); authentication, which happens before
 * the tenant is known, goes through the definer functions of migration 0001.
 */
import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely'
import type { Clock } from '../core/clock.ts'
import type { IdSource } from '../core/ids.ts'
import { passwordLengthMin, sessionTtlHours } from '../core/limits.ts'
import { fail, ok, type Result } from '../core/result.ts'
import { inTenant, type Tx } from '../db/database.ts'
import type { DB, Role, UsersTable } from '../db/schema.ts'
import { decoyPasswordHash, generateApiKey, generateToken, hashPassword, hashesEqual, parseApiKey, sha256, verifyPassword } from './credentials.ts'

export type Deps = { db: Kysely<DB>; clock: Clock; ids: IdSource }

/** Who is calling: resolved once per request from an API key or a session cookie. */
export type Principal = {
  tenantId: string
  kind: 'user' | 'api_key'
  id: string
  role: Role
  /** Borrowers (and other parties) see only their own enterprise. */
  enterpriseId: string | null
  session?: { id: string; csrfToken: string }
}

export type Actor = { kind: 'user' | 'api_key' | 'system'; id: string | null }
export const systemActor: Actor = { kind: 'system', id: null }
export function actorOf(principal: Principal): Actor {
  return { kind: principal.kind, id: principal.id }
}

export type TenantView = { id: string; slug: string; name: string; timeZone: string; businessDate: string; createdAt: Date }

export async function createTenant(
  deps: Deps,
  input: { slug: string; name: string; timeZone?: string; businessDate?: string },
): Promise<Result<TenantView, 'tenant_slug_taken'>> {
  const id = deps.ids.next()
  const now = deps.clock.now()
  const existing = await deps.db.selectNoFrom(sql<string | null>`puhui_tenant_by_slug(${input.slug})`.as('id')).executeTakeFirstOrThrow()
  if (existing.id !== null) return fail('tenant_slug_taken')
  const row = {
    id,
    slug: input.slug,
    name: input.name,
    time_zone: input.timeZone ?? 'Asia/Shanghai',
    business_date: input.businessDate ?? businessDateIn(now, input.timeZone ?? 'Asia/Shanghai'),
    created_at: now,
  }
  try {
    await inTenant(deps.db, id, async (trx) => {
      await trx.insertInto('tenants').values(row).execute()
      await appendAudit(trx, { tenantId: id, actor: systemActor, action: 'tenant.create', targetKind: 'tenant', targetId: id, at: now, ids: deps.ids, detail: { slug: input.slug } })
    })
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return fail('tenant_slug_taken')
    throw error
  }
  return ok({ id, slug: row.slug, name: row.name, timeZone: row.time_zone, businessDate: row.business_date, createdAt: now })
}

/** The calendar date at `instant` in `timeZone`, as YYYY-MM-DD. */
export function businessDateIn(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant)
}

export async function findTenantIdBySlug(db: Kysely<DB>, slug: string): Promise<string | undefined> {
  const row = await db.selectNoFrom(sql<string | null>`puhui_tenant_by_slug(${slug})`.as('id')).executeTakeFirstOrThrow()
  return row.id ?? undefined
}

export type UserView = { id: string; email: string; displayName: string; role: Role; enterpriseId: string | null; disabled: boolean; createdAt: Date }

export function toUserView(row: Selectable<UsersTable>): UserView {
  return { id: row.id, email: row.email, displayName: row.display_name, role: row.role, enterpriseId: row.enterprise_id, disabled: row.disabled_at !== null, createdAt: row.created_at }
}

export type CreateUserStatus = 'email_taken' | 'password_too_short' | 'enterprise_not_found' | 'enterprise_required'

export async function createUser(
  trx: Tx,
  deps: Pick<Deps, 'clock' | 'ids'>,
  input: { tenantId: string; actor: Actor; email: string; displayName: string; role: Role; password: string | null; enterpriseId: string | null },
): Promise<Result<UserView, CreateUserStatus>> {
  if (input.password !== null && input.password.length < passwordLengthMin) return fail('password_too_short', `at least ${passwordLengthMin} characters`)
  const enterpriseCheck = await checkEnterprise(trx, input.role, input.enterpriseId)
  if (enterpriseCheck !== undefined) return fail(enterpriseCheck)
  const taken = await trx.selectFrom('users').select('id').where(sql<boolean>`lower(email) = lower(${input.email})`).executeTakeFirst()
  if (taken !== undefined) return fail('email_taken')
  const now = deps.clock.now()
  const row = {
    tenant_id: input.tenantId,
    id: deps.ids.next(),
    email: input.email,
    display_name: input.displayName,
    role: input.role,
    password_hash: input.password === null ? null : await hashPassword(input.password),
    enterprise_id: input.enterpriseId,
    disabled_at: null,
    created_at: now,
  }
  await trx.insertInto('users').values(row).execute()
  await appendAudit(trx, { tenantId: input.tenantId, actor: input.actor, action: 'user.create', targetKind: 'user', targetId: row.id, at: now, ids: deps.ids, detail: { role: input.role } })
  return ok(toUserView(row))
}

/** Borrowers must be bound to an enterprise of the tenant; other roles may be. */
async function checkEnterprise(trx: Tx, role: Role, enterpriseId: string | null): Promise<'enterprise_not_found' | 'enterprise_required' | undefined> {
  if (enterpriseId === null) return role === 'borrower' ? 'enterprise_required' : undefined
  const found = await trx.selectFrom('enterprises').select('id').where('id', '=', enterpriseId).executeTakeFirst()
  return found === undefined ? 'enterprise_not_found' : undefined
}

export type ApiKeyView = { id: string; name: string; prefix: string; role: Role; enterpriseId: string | null; createdAt: Date; revokedAt: Date | null }

export async function createApiKey(
  trx: Tx,
  deps: Pick<Deps, 'clock' | 'ids'>,
  input: { tenantId: string; actor: Actor; name: string; role: Role; enterpriseId: string | null },
): Promise<Result<ApiKeyView & { key: string }, 'enterprise_not_found' | 'enterprise_required'>> {
  const enterpriseCheck = await checkEnterprise(trx, input.role, input.enterpriseId)
  if (enterpriseCheck !== undefined) return fail(enterpriseCheck)
  const generated = generateApiKey()
  const now = deps.clock.now()
  const id = deps.ids.next()
  await trx
    .insertInto('api_keys')
    .values({ tenant_id: input.tenantId, id, prefix: generated.prefix, secret_hash: generated.secretHash, name: input.name, role: input.role, enterprise_id: input.enterpriseId, created_by: input.actor.id, created_at: now, revoked_at: null })
    .execute()
  await appendAudit(trx, { tenantId: input.tenantId, actor: input.actor, action: 'api_key.create', targetKind: 'api_key', targetId: id, at: now, ids: deps.ids, detail: { role: input.role, prefix: generated.prefix } })
  return ok({ id, name: input.name, prefix: generated.prefix, role: input.role, enterpriseId: input.enterpriseId, createdAt: now, revokedAt: null, key: generated.key })
}

export async function revokeApiKey(trx: Tx, deps: Pick<Deps, 'clock' | 'ids'>, input: { tenantId: string; actor: Actor; id: string }): Promise<Result<ApiKeyView, 'api_key_not_found'>> {
  const now = deps.clock.now()
  const row = await trx.updateTable('api_keys').set({ revoked_at: sql<Date>`coalesce(revoked_at, ${now})` }).where('id', '=', input.id).returningAll().executeTakeFirst()
  if (row === undefined) return fail('api_key_not_found')
  await appendAudit(trx, { tenantId: input.tenantId, actor: input.actor, action: 'api_key.revoke', targetKind: 'api_key', targetId: input.id, at: now, ids: deps.ids })
  return ok({ id: row.id, name: row.name, prefix: row.prefix, role: row.role, enterpriseId: row.enterprise_id, createdAt: row.created_at, revokedAt: row.revoked_at })
}

export type AuthFailure = 'unauthenticated' | 'api_key_revoked' | 'session_expired'

export async function authenticateApiKey(db: Kysely<DB>, key: string): Promise<Result<Principal, AuthFailure>> {
  const prefix = parseApiKey(key)
  if (prefix === undefined) return fail('unauthenticated', 'malformed API key')
  const result = await sql<{ tenant_id: string; id: string; secret_hash: Buffer; role: Role; enterprise_id: string | null; revoked_at: Date | null }>`select * from puhui_api_key_lookup(${prefix})`.execute(db)
  const row = result.rows[0]
  if (row === undefined || !hashesEqual(row.secret_hash, sha256(key))) return fail('unauthenticated', 'unknown API key')
  if (row.revoked_at !== null) return fail('api_key_revoked')
  return ok({ tenantId: row.tenant_id, kind: 'api_key', id: row.id, role: row.role, enterpriseId: row.enterprise_id })
}

export type LoginResult = { principal: Principal; token: string; expiresAt: Date; user: UserView }

export async function login(deps: Deps, input: { tenant: string; email: string; password: string }): Promise<Result<LoginResult, 'invalid_credentials'>> {
  const tenantId = await findTenantIdBySlug(deps.db, input.tenant)
  if (tenantId === undefined) {
    await verifyPassword(await decoyPasswordHash(), input.password)
    return fail('invalid_credentials')
  }
  return inTenant(deps.db, tenantId, async (trx) => {
    const user = await trx.selectFrom('users').selectAll().where(sql<boolean>`lower(email) = lower(${input.email})`).executeTakeFirst()
    const valid = await verifyPassword(user?.password_hash ?? (await decoyPasswordHash()), input.password)
    if (user === undefined || user.password_hash === null || user.disabled_at !== null || !valid) return fail('invalid_credentials')
    const now = deps.clock.now()
    const token = generateToken()
    const session = { id: deps.ids.next(), csrfToken: generateToken() }
    const expiresAt = new Date(now.getTime() + sessionTtlHours * 3_600_000)
    await trx
      .insertInto('sessions')
      .values({ tenant_id: tenantId, id: session.id, user_id: user.id, token_hash: sha256(token), csrf_token: session.csrfToken, created_at: now, expires_at: expiresAt, revoked_at: null })
      .execute()
    await appendAudit(trx, { tenantId, actor: { kind: 'user', id: user.id }, action: 'session.login', targetKind: 'session', targetId: session.id, at: now, ids: deps.ids })
    return ok({ principal: { tenantId, kind: 'user' as const, id: user.id, role: user.role, enterpriseId: user.enterprise_id, session }, token, expiresAt, user: toUserView(user) })
  })
}

export async function authenticateSession(deps: Pick<Deps, 'db' | 'clock'>, token: string): Promise<Result<Principal, AuthFailure>> {
  const result = await sql<{ tenant_id: string; id: string; user_id: string; csrf_token: string; expires_at: Date; revoked_at: Date | null }>`select * from puhui_session_lookup(${sha256(token)})`.execute(deps.db)
  const row = result.rows[0]
  if (row === undefined || row.revoked_at !== null) return fail('unauthenticated', 'no such session')
  if (row.expires_at.getTime() <= deps.clock.now().getTime()) return fail('session_expired')
  const user = await inTenant(deps.db, row.tenant_id, (trx) => trx.selectFrom('users').select(['role', 'enterprise_id', 'disabled_at']).where('id', '=', row.user_id).executeTakeFirst())
  if (user === undefined || user.disabled_at !== null) return fail('unauthenticated', 'user disabled')
  return ok({ tenantId: row.tenant_id, kind: 'user', id: row.user_id, role: user.role, enterpriseId: user.enterprise_id, session: { id: row.id, csrfToken: row.csrf_token } })
}

export async function logout(trx: Tx, deps: Pick<Deps, 'clock' | 'ids'>, principal: Principal): Promise<void> {
  if (principal.session === undefined) return
  const now = deps.clock.now()
  await trx.updateTable('sessions').set({ revoked_at: now }).where('id', '=', principal.session.id).execute()
  await appendAudit(trx, { tenantId: principal.tenantId, actor: actorOf(principal), action: 'session.logout', targetKind: 'session', targetId: principal.session.id, at: now, ids: deps.ids })
}

export type AuditEntry = {
  tenantId: string
  actor: Actor
  action: string
  targetKind?: string
  targetId?: string
  purpose?: string
  requestId?: string
  detail?: Record<string, unknown>
  at: Date
  ids: IdSource
}

/** Appends to the audit log in the caller's transaction: the entry commits or rolls back with the act. */
export async function appendAudit(trx: Tx, entry: AuditEntry): Promise<void> {
  await auditInsert([entry]).execute(trx)
}

/**
 * The INSERT of audit entries as one statement: run alone, or as the last part of a `WITH` of the act's
 * own writes, so that an act and its audit travel in one round trip.
 */
export function auditInsert(entries: readonly AuditEntry[]): RawBuilder<unknown> {
  if (entries.length === 0) throw new Error('auditInsert needs at least one entry')
  const rows = entries.map((entry) => sql`(${entry.tenantId}, ${entry.ids.next()}, ${entry.at}, ${entry.actor.kind}, ${entry.actor.id}, ${entry.action}, ${entry.targetKind ?? null},
    ${entry.targetId ?? null}, ${entry.purpose ?? null}, ${entry.requestId ?? null}, ${JSON.stringify(entry.detail ?? {})}::jsonb)`)
  return sql`insert into audit_log (tenant_id, id, at, actor_kind, actor_id, action, target_kind, target_id, purpose, request_id, detail) values ${sql.join(rows)}`
}

/**
 * @module db/schema
 * Kysely table types, as the driver returns them after db/database.ts's conversions: int8 → bigint,
 * numeric → exact decimal string, date → 'YYYY-MM-DD' string, timestamptz → Date (an instant).
 */
import type { ColumnType, Generated } from 'kysely'

export const roles = ['admin', 'operator', 'risk_analyst', 'reviewer', 'borrower', 'investor', 'core_enterprise', 'auditor'] as const
export type Role = (typeof roles)[number]

/** A column that the database fills by default but that may also be given. */
type Defaulted<T> = ColumnType<T, T | undefined, T>

export type TenantsTable = {
  id: string
  slug: string
  name: string
  time_zone: Defaulted<string>
  business_date: string
  created_at: Date
}

export type UsersTable = {
  tenant_id: string
  id: string
  email: string
  display_name: string
  role: Role
  password_hash: string | null
  enterprise_id: string | null
  disabled_at: Date | null
  created_at: Date
}

export type EnterprisesTable = {
  tenant_id: string
  id: string
  name: string
  uscc: string | null
  sector: string | null
  region: string | null
  founded_on: string | null
  created_at: Date
}

export type ApiKeysTable = {
  tenant_id: string
  id: string
  prefix: string
  secret_hash: Buffer
  name: string
  role: Role
  enterprise_id: string | null
  created_by: string | null
  created_at: Date
  revoked_at: Date | null
}

export type SessionsTable = {
  tenant_id: string
  id: string
  user_id: string
  token_hash: Buffer
  csrf_token: string
  created_at: Date
  expires_at: Date
  revoked_at: Date | null
}

export type IdempotencyKeysTable = {
  tenant_id: string
  key: string
  principal_id: string
  method: string
  route: string
  request_hash: Buffer
  state: 'in_flight' | 'completed'
  lease_until: Date
  response_status: number | null
  response_body: ColumnType<unknown, string | null, string | null>
  created_at: Date
  completed_at: Date | null
}

export type AuditLogTable = {
  tenant_id: string
  id: string
  at: Date
  actor_kind: 'user' | 'api_key' | 'system'
  actor_id: string | null
  action: string
  target_kind: string | null
  target_id: string | null
  purpose: string | null
  request_id: string | null
  detail: ColumnType<Record<string, unknown>, string | undefined, never>
}

export type SchemaMigrationsTable = {
  id: string
  checksum: string
  applied_at: Generated<Date>
}

export type DB = {
  tenants: TenantsTable
  users: UsersTable
  enterprises: EnterprisesTable
  api_keys: ApiKeysTable
  sessions: SessionsTable
  idempotency_keys: IdempotencyKeysTable
  audit_log: AuditLogTable
  schema_migrations: SchemaMigrationsTable
}

/**
 * @module decisions/strategy-db
 * The governance state machine persisted: strategy versions in `strategies` (migration 0010). The pure
 * core decides (`createStrategyVersion`, `transitionStrategy`, `planActivation`); this shell loads the
 * rows with a lock, asks the core, and writes what it returns in the caller's transaction. A document is
 * validated and compiled when a draft is created, and compiled again (once per version, cached) when a
 * decision needs it: a stored version is immutable, so the cache never goes stale.
 *
 * The registry assigns version numbers: the document's `version` is overwritten with the stored one, so a
 * decision's `strategy.version` is the row's version.
 */
import { sql, type RawBuilder } from 'kysely'
import { assert } from '../core/assert.ts'
import type { IdSource } from '../core/ids.ts'
import type { Tx } from '../db/database.ts'
import { compileStrategy, type CompiledStrategy } from './compile.ts'
import {
  createStrategyVersion, planActivation, transitionStrategy, type StrategyAction, type StrategyEvent, type StrategyStatus, type StrategyVersion,
  type TransitionStatus,
} from './governance.ts'
import type { StrategyError } from './strategy.ts'

export type StrategyContext = { readonly tenantId: string; readonly ids: IdSource; readonly now: Date }

export type StoredStrategy = StrategyVersion & {
  readonly id: string
  readonly document: Record<string, unknown>
  readonly createdAt: Date
  readonly updatedAt: Date
}

type StrategyRow = {
  id: string; name: string; version: number; status: StrategyStatus; author_id: string; submitted_by: string | null; approved_by: string | null
  document: Record<string, unknown>; history: StrategyEvent[]; created_at: Date; updated_at: Date
}
const columns = sql.raw('id, name, version, status, author_id, submitted_by, approved_by, document, history, created_at, updated_at')

function toStored(row: StrategyRow): StoredStrategy {
  return {
    id: row.id, name: row.name, version: row.version, status: row.status, authorId: row.author_id, submittedBy: row.submitted_by, approvedBy: row.approved_by,
    history: row.history, document: row.document, createdAt: row.created_at, updatedAt: row.updated_at,
  }
}

export type CreateStrategyResult =
  | { readonly status: 'ok'; readonly strategy: StoredStrategy }
  | { readonly status: 'strategy_invalid'; readonly errors: readonly StrategyError[] }

/** A new draft version of the document's name (the next version number), validated and compiled first. */
export async function createStrategyDraft(trx: Tx, ctx: StrategyContext, input: { document: unknown; authorId: string }): Promise<CreateStrategyResult> {
  const compiled = compileStrategy(input.document)
  if (!compiled.ok) return { status: 'strategy_invalid', errors: compiled.errors }
  const name = compiled.strategy.definition.name
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(name)) return { status: 'strategy_invalid', errors: [{ path: '$.name', reason: 'a strategy name is lowercase letters, digits, - and _ (at most 63)' }] }
  // Serialise version numbering per name: a concurrent draft of the same name waits here.
  await sql`select pg_advisory_xact_lock(hashtext(${`strategy:${ctx.tenantId}:${name}`}))`.execute(trx)
  const last = await sql<{ version: number | null }>`select max(version) as version from strategies where tenant_id = ${ctx.tenantId} and name = ${name}`.execute(trx)
  const version = (last.rows[0]?.version ?? 0) + 1
  const draft = createStrategyVersion(name, version, { id: input.authorId })
  const document = { ...(input.document as Record<string, unknown>), version }
  const id = ctx.ids.next()
  await sql`
    insert into strategies (tenant_id, id, name, version, status, author_id, submitted_by, approved_by, document, history, created_at, updated_at)
    values (${ctx.tenantId}, ${id}, ${name}, ${version}, ${draft.status}, ${draft.authorId}, null, null, ${JSON.stringify(document)}::jsonb, '[]'::jsonb, ${ctx.now}, ${ctx.now})`.execute(trx)
  return { status: 'ok', strategy: { ...draft, id, document, createdAt: ctx.now, updatedAt: ctx.now } }
}

export async function findStrategy(trx: Tx, tenantId: string, id: string, options: { forUpdate: boolean } = { forUpdate: false }): Promise<StoredStrategy | undefined> {
  const lock = options.forUpdate ? sql` for update` : sql``
  const rows = await sql<StrategyRow>`select ${columns} from strategies where tenant_id = ${tenantId} and id = ${id}${lock}`.execute(trx)
  const row = rows.rows[0]
  return row === undefined ? undefined : toStored(row)
}

/** Versions, newest first within a name; optionally one name. */
export async function listStrategies(trx: Tx, tenantId: string, filter: { name: string | null; limit: number }): Promise<StoredStrategy[]> {
  const byName = filter.name === null ? sql`` : sql` and name = ${filter.name}`
  const rows = await sql<StrategyRow>`select ${columns} from strategies where tenant_id = ${tenantId}${byName} order by name, version desc limit ${filter.limit}`.execute(trx)
  return rows.rows.map(toStored)
}

/**
 * The active version of a name (its id and number), as a subquery: read on every application (activation
 * changes it), in the same statement as the application's other reads (`flows/apply.ts`).
 */
export function activeVersionSql(tenantId: string, name: string): RawBuilder<{ id: string; version: number }> {
  return sql<{ id: string; version: number }>`select id, version from strategies where tenant_id = ${tenantId} and name = ${name} and status = 'active'`
}

/**
 * A version read with `activeVersionSql`, compiled: its document is read only when the compiled cache does
 * not hold that version (a version's document never changes).
 */
export async function compiledStrategyOf(trx: Tx, tenantId: string, name: string, row: { id: string; version: number }): Promise<{ id: string; name: string; version: number; compiled: CompiledStrategy } | undefined> {
  const cached = compiledCache.get(`${tenantId}:${row.id}`)
  if (cached !== undefined) return { id: row.id, name, version: row.version, compiled: cached }
  const stored = await findStrategy(trx, tenantId, row.id)
  if (stored === undefined) return undefined
  return { id: stored.id, name: stored.name, version: stored.version, compiled: compileStoredStrategy(tenantId, stored) }
}

export type StrategyTransition =
  | { readonly status: 'ok'; readonly strategy: StoredStrategy; readonly retired: readonly StoredStrategy[] }
  | { readonly status: 'strategy_not_found' }
  | { readonly status: Exclude<TransitionStatus, 'ok'>; readonly detail: string }

async function saveVersion(trx: Tx, ctx: StrategyContext, before: StoredStrategy, after: StrategyVersion): Promise<StoredStrategy> {
  assert(before.name === after.name)
  assert(before.version === after.version)
  const updated = await sql`
    update strategies set status = ${after.status}, submitted_by = ${after.submittedBy}, approved_by = ${after.approvedBy},
      history = ${JSON.stringify(after.history)}::jsonb, updated_at = ${ctx.now}
    where tenant_id = ${ctx.tenantId} and id = ${before.id} and status = ${before.status}`.execute(trx)
  assert(updated.numAffectedRows === 1n, () => `strategy ${before.id} changed under us`)
  return { ...before, ...after, updatedAt: ctx.now }
}

/**
 * Applies a governance action to a stored version. `activate` retires the name's active version in the
 * same transaction (the versions of the name are locked first, so two activations serialise).
 */
export async function transitionStoredStrategy(trx: Tx, ctx: StrategyContext, id: string, action: StrategyAction, actorId: string): Promise<StrategyTransition> {
  const target = await findStrategy(trx, ctx.tenantId, id)
  if (target === undefined) return { status: 'strategy_not_found' }
  const at = ctx.now.toISOString()
  if (action.type !== 'activate') {
    const locked = await findStrategy(trx, ctx.tenantId, id, { forUpdate: true })
    assert(locked !== undefined)
    const result = transitionStrategy(locked, action, { id: actorId }, at)
    if (result.status !== 'ok') return result
    return { status: 'ok', strategy: await saveVersion(trx, ctx, locked, result.version), retired: [] }
  }
  const rows = await sql<StrategyRow>`select ${columns} from strategies where tenant_id = ${ctx.tenantId} and name = ${target.name} order by version for update`.execute(trx)
  const versions = rows.rows.map(toStored)
  const locked = versions.find((v) => v.id === id)
  assert(locked !== undefined)
  const plan = planActivation(versions, locked, { id: actorId }, at)
  if (plan.status !== 'ok') return plan
  // Retire first: the partial unique index admits one active version per name at every statement.
  const retired: StoredStrategy[] = []
  let activated: StoredStrategy | undefined
  for (const changed of [...plan.changed].sort((a, b) => (a.status === 'retired' ? -1 : 0) - (b.status === 'retired' ? -1 : 0))) {
    const before = versions.find((v) => v.version === changed.version)
    assert(before !== undefined)
    const saved = await saveVersion(trx, ctx, before, changed)
    if (saved.status === 'retired') retired.push(saved)
    else activated = saved
  }
  assert(activated !== undefined && activated.status === 'active', 'the target is active')
  return { status: 'ok', strategy: activated, retired }
}

const compiledCacheMax = 256
const compiledCache = new Map<string, CompiledStrategy>()

/** The compiled strategy of a stored version (cached by tenant and id: stored documents never change). */
export function compileStoredStrategy(tenantId: string, stored: StoredStrategy): CompiledStrategy {
  const key = `${tenantId}:${stored.id}`
  const cached = compiledCache.get(key)
  if (cached !== undefined) return cached
  const compiled = compileStrategy(stored.document)
  assert(compiled.ok, () => `stored strategy ${stored.id} compiles (it was validated when created)`)
  if (compiledCache.size >= compiledCacheMax) compiledCache.clear()
  compiledCache.set(key, compiled.strategy)
  return compiled.strategy
}

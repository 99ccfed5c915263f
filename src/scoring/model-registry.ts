/**
 * @module scoring/model-registry
 * The registry's shell (the caller's tenant transaction): register an artefact as the next version of
 * its name, change a version's status (champion / challenger / retired, one champion per name), score
 * rows with a version (keeping each score and its bins for monitoring), and report drift.
 */
import { sql, type RawBuilder } from 'kysely'
import { appendAudit, type Actor } from '../access/index.ts'
import type { Clock } from '../core/clock.ts'
import type { IdSource } from '../core/ids.ts'
import { fail, ok, type Result } from '../core/result.ts'
import type { Tx } from '../db/database.ts'
import { assignBins, monitorScorecard, type MonitoringReport } from './monitoring.ts'
import { compileScorecard, parseArtefact, scoreRow, type ScorecardArtefact, type ScoreResult } from './scorecard.ts'

export type RegistryDeps = { clock: Clock; ids: IdSource }
export const modelStatuses = ['registered', 'challenger', 'champion', 'retired'] as const
export type ModelStatus = (typeof modelStatuses)[number]
export type ModelSummary = {
  id: string
  name: string
  version: number
  status: ModelStatus
  fingerprint: string
  metrics: { auc: number | null; ks: number | null; gini: number | null; n: number | null; cvAuc: number | null }
  variables: string[]
  target: { column: string; bad: string }
  author: Actor
  createdAt: Date
}

type ModelRow = { id: string; name: string; version: number; status: ModelStatus; fingerprint: string; metrics: Record<string, unknown>; artefact: ScorecardArtefact; author: Actor; created_at: Date }
const numberOrNull = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null)

function toSummary(row: ModelRow): ModelSummary {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    status: row.status,
    fingerprint: row.fingerprint,
    metrics: { auc: numberOrNull(row.metrics.auc), ks: numberOrNull(row.metrics.ks), gini: numberOrNull(row.metrics.gini), n: numberOrNull(row.metrics.n), cvAuc: numberOrNull(row.metrics.cvAuc) },
    variables: row.artefact.card.variables.map((v) => v.name),
    target: row.artefact.target,
    author: row.author,
    createdAt: row.created_at,
  }
}

export async function registerModel(trx: Tx, deps: RegistryDeps, input: { tenantId: string; name: string; artefactJson: string; actor: Actor; requestId?: string }): Promise<Result<ModelSummary, 'model_artefact_invalid'>> {
  let artefact: ScorecardArtefact
  try {
    artefact = parseArtefact(input.artefactJson)
  } catch (error) {
    return fail('model_artefact_invalid', (error as Error).message)
  }
  const now = deps.clock.now()
  // Versions of one name are numbered in order; the lock keeps two registrations from taking the same.
  await sql`select pg_advisory_xact_lock(hashtext(${`models:${input.tenantId}:${input.name}`}))`.execute(trx)
  const latest = await sql<{ version: number | null }>`select max(version) as version from models where name = ${input.name}`.execute(trx)
  const row: ModelRow = { id: deps.ids.next(), name: input.name, version: (latest.rows[0]?.version ?? 0) + 1, status: 'registered', fingerprint: artefact.trainingData.sha256, metrics: artefact.metrics, artefact, author: input.actor, created_at: now }
  await sql`insert into models (tenant_id, id, name, version, status, artefact, fingerprint, metrics, author, created_at)
    values (${input.tenantId}, ${row.id}, ${row.name}, ${row.version}, 'registered', ${JSON.stringify(artefact)}::jsonb, ${row.fingerprint}, ${JSON.stringify(artefact.metrics)}::jsonb, ${JSON.stringify(input.actor)}::jsonb, ${now})`.execute(trx)
  await appendAudit(trx, { tenantId: input.tenantId, actor: input.actor, action: 'model.register', targetKind: 'model', targetId: row.id, at: now, ids: deps.ids, detail: { name: row.name, version: row.version, fingerprint: row.fingerprint }, ...(input.requestId === undefined ? {} : { requestId: input.requestId }) })
  return ok(toSummary(row))
}

/**
 * Artefacts by model id, with their compiled scorecards. A version's artefact never changes once registered
 * (only its status does), and it is large (bins, the training distribution for drift): rows are read without it
 * and it is fetched only on a miss. The row query runs under the tenant's row-level security, so a cached
 * artefact is only ever used for a model the caller can see. Bounded, least recently used first out.
 */
const artefactCache = new Map<string, { artefact: ScorecardArtefact; compiled: ReturnType<typeof compileScorecard> }>()
const artefactCacheMax = 256

async function withArtefacts(trx: Tx, rows: readonly Omit<ModelRow, 'artefact'>[]): Promise<ModelRow[]> {
  const missing = rows.filter((r) => !artefactCache.has(r.id)).map((r) => r.id)
  if (missing.length > 0) {
    const fetched = await sql<{ id: string; artefact: ScorecardArtefact }>`select id, artefact from models where id = any(${missing}::uuid[])`.execute(trx)
    for (const f of fetched.rows) {
      artefactCache.set(f.id, { artefact: f.artefact, compiled: compileScorecard(f.artefact.card) })
      if (artefactCache.size > artefactCacheMax) artefactCache.delete(artefactCache.keys().next().value as string)
    }
  }
  return rows.map((r) => {
    const cached = artefactCache.get(r.id)
    if (cached === undefined) throw new Error(`model ${r.id} has no artefact`)
    artefactCache.delete(r.id)
    artefactCache.set(r.id, cached)
    return { ...r, artefact: cached.artefact }
  })
}

const compiledOf = (row: ModelRow) => artefactCache.get(row.id)?.compiled ?? compileScorecard(row.artefact.card)
const rowColumns = sql.raw('id, name, version, status, fingerprint, metrics, author, created_at')

async function findModelRow(trx: Tx, id: string): Promise<ModelRow | undefined> {
  const rows = (await sql<Omit<ModelRow, 'artefact'>>`select ${rowColumns} from models where id = ${id}`.execute(trx)).rows
  return (await withArtefacts(trx, rows))[0]
}

export async function listModels(trx: Tx): Promise<ModelSummary[]> {
  const rows = await sql<Omit<ModelRow, 'artefact'>>`select ${rowColumns} from models order by name, version desc`.execute(trx)
  return (await withArtefacts(trx, rows.rows)).map(toSummary)
}

export async function findModel(trx: Tx, id: string): Promise<(ModelSummary & { artefact: ScorecardArtefact }) | undefined> {
  const row = await findModelRow(trx, id)
  return row === undefined ? undefined : { ...toSummary(row), artefact: row.artefact }
}

/** Sets a version's status; making one champion demotes the name's previous champion to challenger. */
export async function setModelStatus(trx: Tx, deps: RegistryDeps, input: { tenantId: string; id: string; status: ModelStatus; actor: Actor; requestId?: string }): Promise<Result<ModelSummary, 'model_not_found'>> {
  const row = await findModelRow(trx, input.id)
  if (row === undefined) return fail('model_not_found')
  if (input.status === 'champion') await sql`update models set status = 'challenger' where name = ${row.name} and status = 'champion' and id <> ${row.id}`.execute(trx)
  await sql`update models set status = ${input.status} where id = ${row.id}`.execute(trx)
  const now = deps.clock.now()
  await appendAudit(trx, { tenantId: input.tenantId, actor: input.actor, action: 'model.status', targetKind: 'model', targetId: row.id, at: now, ids: deps.ids, detail: { from: row.status, to: input.status, name: row.name, version: row.version }, ...(input.requestId === undefined ? {} : { requestId: input.requestId }) })
  return ok(toSummary({ ...row, status: input.status }))
}

/** A model version by id, or by name: its champion (`version` null) or a version that is not retired. */
export type ModelSelector = { readonly id: string } | { readonly name: string; readonly version: number | null }

async function findModelRowBy(trx: Tx, selector: ModelSelector): Promise<ModelRow | undefined> {
  if ('id' in selector) return findModelRow(trx, selector.id)
  const which = selector.version === null ? sql`status = 'champion'` : sql`version = ${selector.version} and status <> 'retired'`
  const rows = (await sql<Omit<ModelRow, 'artefact'>>`select ${rowColumns} from models where name = ${selector.name} and ${which}`.execute(trx)).rows
  return (await withArtefacts(trx, rows))[0]
}

/**
 * Scores rows with the selected version and keeps each score (with its bins and an optional subject) for
 * monitoring: one query for the version (its artefact is cached by id), one insert for the scores.
 */
export async function scoreWith(
  trx: Tx,
  deps: RegistryDeps,
  input: { tenantId: string; model: ModelSelector; rows: readonly { subject?: string; values: Record<string, string | number | null> }[] },
): Promise<Result<{ model: ModelSummary; scores: ScoreResult[] }, 'model_not_found' | 'model_retired'>> {
  const scored = await scoreWithDeferredStore(trx, deps, input)
  if (scored.status !== 'ok') return scored
  if (scored.value.store !== null) await scored.value.store.execute(trx)
  return ok({ model: scored.value.model, scores: scored.value.scores })
}

/**
 * `scoreWith` with the insert that keeps the scores handed back (`store`, null for no rows) instead of run:
 * the caller MUST run it in the same transaction, e.g. as part of a `WITH` of its own writes.
 */
export async function scoreWithDeferredStore(
  trx: Tx,
  deps: RegistryDeps,
  input: { tenantId: string; model: ModelSelector; rows: readonly { subject?: string; values: Record<string, string | number | null> }[] },
): Promise<Result<{ model: ModelSummary; scores: ScoreResult[]; store: RawBuilder<unknown> | null }, 'model_not_found' | 'model_retired'>> {
  const row = await findModelRowBy(trx, input.model)
  if (row === undefined) return fail('model_not_found')
  if (row.status === 'retired') return fail('model_retired')
  const compiled = compiledOf(row)
  const now = deps.clock.now()
  const results = input.rows.map((r) => ({ result: scoreRow(compiled, (name) => r.values[name]), bins: assignBins(compiled, (name) => r.values[name]), subject: r.subject ?? null }))
  const store = results.length === 0 ? null : sql`insert into model_scores (tenant_id, id, model_id, scored_at, subject, score, probability, bins)
      select ${input.tenantId}, r.id, ${row.id}, ${now}, r.subject, r.score, r.probability, string_to_array(r.bins, ',')::smallint[]
      from unnest(${results.map(() => deps.ids.next())}::uuid[], ${results.map((r) => r.subject)}::text[], ${results.map((r) => r.result.score)}::float8[],
        ${results.map((r) => r.result.probability)}::float8[], ${results.map((r) => r.bins.join(','))}::text[]) as r(id, subject, score, probability, bins)`
  return ok({ model: toSummary(row), scores: results.map((r) => r.result), store })
}

/** Scores rows with a version by id (see `scoreWith`). */
export async function scoreWithModel(
  trx: Tx,
  deps: RegistryDeps,
  input: { tenantId: string; id: string; rows: readonly { subject?: string; values: Record<string, string | number | null> }[] },
): Promise<Result<ScoreResult[], 'model_not_found' | 'model_retired'>> {
  const scored = await scoreWith(trx, deps, { tenantId: input.tenantId, model: { id: input.id }, rows: input.rows })
  return scored.status === 'ok' ? ok(scored.value.scores) : scored
}

/** Drift of a version's scores since `since` against its training distribution. */
export async function monitorModel(trx: Tx, input: { id: string; since: Date }): Promise<Result<MonitoringReport, 'model_not_found'>> {
  const row = await findModelRow(trx, input.id)
  if (row === undefined) return fail('model_not_found')
  const scores = await sql<{ score: number; bins: number[] }>`select score, bins from model_scores where model_id = ${row.id} and scored_at >= ${input.since}`.execute(trx)
  return ok(monitorScorecard(row.artefact, scores.rows))
}

/** The champion version of a model name, if one is set. */
export async function findChampion(trx: Tx, name: string): Promise<ModelSummary | undefined> {
  const rows = await sql<Omit<ModelRow, 'artefact'>>`select ${rowColumns} from models where name = ${name} and status = 'champion'`.execute(trx)
  const row = (await withArtefacts(trx, rows.rows))[0]
  return row === undefined ? undefined : toSummary(row)
}

/**
 * @module http/idempotency
 * `Idempotency-Key` on every mutating route, and the one way a route changes state: `mutate()`.
 *
 * Before the handler runs, the key is reserved in its own short transaction (state in_flight, with a
 * lease; one statement, `puhui_reserve_idempotency_key`, committed without waiting for the WAL flush: the
 * effect's durable commit flushes it too, and a reservation lost in a crash stands for an effect that never
 * committed). Then `mutate()` runs the effect and writes the response into the reservation in the SAME
 * transaction, so a stored response exists if and only if the effect committed. A retry of a completed
 * request gets the stored status and body (header `Idempotent-Replayed: true`); the same key with a
 * different method, path or body gets `idempotency_key_reused` (422); a duplicate while the first is
 * still running gets `idempotency_request_in_flight` (409). A request that crashed mid-way leaves a
 * reservation whose lease expires, after which a retry may run. A handler failing with a Problem
 * (4xx) rolls back its effect and stores that answer; an unexpected error (5xx) releases the key.
 */
import crypto from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import { idempotencyKeyLengthMax, requestTimeoutMs } from '../core/limits.ts'
import { inTenant, type Tx } from '../db/database.ts'
import type { App, AppDeps } from './app.ts'
import { mutatingMethods, principalOf } from './authenticate.ts'
import { Problem, problemBody } from './problem.ts'

export type Reservation = { tenantId: string; key: string }
/** What a state change answers. `replayBody`, when given, is stored for replays instead of `body`
 * (a response carrying a secret, such as a new API key, must not be kept at rest). */
export type Outcome = { statusCode: number; body: unknown; replayBody?: unknown }

const leaseMs = requestTimeoutMs * 2
const keyPattern = new RegExp(`^[\\x21-\\x7e]{1,${idempotencyKeyLengthMax}}$`)

/** JSON with object keys sorted, so that the same body hashes the same whatever its key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

function requestHash(request: FastifyRequest): Buffer {
  return crypto.createHash('sha256').update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`).digest()
}

export function registerIdempotency(app: App, deps: AppDeps): void {
  app.addHook('preHandler', async (request, reply) => {
    const access = request.routeOptions.config.access
    if (access === undefined || access === 'public' || !mutatingMethods.has(request.method)) return
    const header = request.headers['idempotency-key']
    if (header === undefined) return
    if (typeof header !== 'string' || !keyPattern.test(header)) throw new Problem('idempotency_key_invalid')
    const principal = principalOf(request)
    const hash = requestHash(request)
    const now = deps.clock.now()
    // The common case in one round trip (migration 0015): a new key, reserved with an asynchronous commit.
    const reserved = await sql<{ reserved: boolean | null }>`select puhui_reserve_idempotency_key(${principal.tenantId}, ${header}, ${principal.id}, ${request.method},
      ${request.url}, ${hash}, ${new Date(now.getTime() + leaseMs)}, ${now}) as reserved`.execute(deps.db)
    if (reserved.rows[0]?.reserved === true) {
      request.idempotency = { tenantId: principal.tenantId, key: header }
      return
    }
    // The key exists: replay, reuse with another request, still in flight, or a dead attempt to take over.
    // (The insert below is for the race where the holder released the key in between; then it reserves.)
    const decision = await inTenant(deps.db, principal.tenantId, async (trx) => {
      const inserted = await trx
        .insertInto('idempotency_keys')
        .values({
          tenant_id: principal.tenantId,
          key: header,
          principal_id: principal.id,
          method: request.method,
          route: request.url,
          request_hash: hash,
          state: 'in_flight',
          lease_until: new Date(now.getTime() + leaseMs),
          response_status: null,
          response_body: null,
          created_at: now,
          completed_at: null,
        })
        .onConflict((conflict) => conflict.columns(['tenant_id', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst()
      if (inserted !== undefined) return { kind: 'run' as const }
      const existing = await trx.selectFrom('idempotency_keys').selectAll().where('key', '=', header).forUpdate().executeTakeFirstOrThrow()
      if (!existing.request_hash.equals(hash)) return { kind: 'reused' as const }
      if (existing.state === 'completed') return { kind: 'replay' as const, status: existing.response_status ?? 200, body: existing.response_body }
      if (existing.lease_until.getTime() > now.getTime()) return { kind: 'in_flight' as const }
      // The first attempt died without finishing (its effect did not commit): this retry takes over.
      await trx.updateTable('idempotency_keys').set({ lease_until: new Date(now.getTime() + leaseMs), principal_id: principal.id }).where('key', '=', header).execute()
      return { kind: 'run' as const }
    }, { asyncCommit: true }) // a reservation lost in a crash had no effect committed after it (see inTenant)
    switch (decision.kind) {
      case 'run':
        request.idempotency = { tenantId: principal.tenantId, key: header }
        return
      case 'reused':
        throw new Problem('idempotency_key_reused')
      case 'in_flight':
        throw new Problem('idempotency_request_in_flight')
      case 'replay':
        reply.header('idempotent-replayed', 'true').code(decision.status)
        if (decision.status >= 400) reply.type('application/problem+json')
        return reply.send(decision.body)
    }
  })
  // A reservation that mutate() did not consume (the handler failed before reaching it) is released
  // before the answer goes out, so that a retry with the same key runs again.
  app.addHook('onSend', async (request, _reply, payload) => {
    const reservation = request.idempotency
    if (reservation !== null) {
      request.idempotency = null
      await releaseReservation(deps, reservation).catch((error: unknown) => request.log.error({ err: error }, 'could not release an idempotency reservation; it expires with its lease'))
    }
    return payload
  })
}

async function releaseReservation(deps: AppDeps, reservation: Reservation): Promise<void> {
  await inTenant(deps.db, reservation.tenantId, (trx) => trx.deleteFrom('idempotency_keys').where('key', '=', reservation.key).where('state', '=', 'in_flight').execute())
}

async function completeReservation(trx: Tx, reservation: Reservation, outcome: Outcome, now: Date): Promise<void> {
  const updated = await trx
    .updateTable('idempotency_keys')
    .set({ state: 'completed', response_status: outcome.statusCode, response_body: JSON.stringify(('replayBody' in outcome ? outcome.replayBody : outcome.body) ?? null), completed_at: now })
    .where('key', '=', reservation.key)
    .where('state', '=', 'in_flight')
    .executeTakeFirst()
  if (updated.numUpdatedRows !== 1n) throw new Error(`idempotency reservation ${reservation.key} vanished before completion`)
}

/**
 * Runs a state change for the request's tenant in one transaction and answers with its outcome.
 * `effect` returns the success outcome or throws a Problem (its writes are then rolled back).
 */
export async function mutate(request: FastifyRequest, reply: FastifyReply, deps: AppDeps, effect: (trx: Tx) => Promise<Outcome>): Promise<FastifyReply> {
  const principal = principalOf(request)
  const reservation = request.idempotency
  request.idempotency = null // consumed here: completed with the effect, stored as a failure, or released
  try {
    const outcome = await inTenant(deps.db, principal.tenantId, async (trx) => {
      const result = await effect(trx)
      if (reservation !== null) await completeReservation(trx, reservation, result, deps.clock.now())
      return result
    })
    return reply.code(outcome.statusCode).send(outcome.body)
  } catch (error) {
    if (reservation !== null) {
      if (error instanceof Problem) {
        const body = problemBody(error, request.url.split('?')[0] ?? request.url, request.id)
        await inTenant(deps.db, principal.tenantId, (trx) => completeReservation(trx, reservation, { statusCode: error.statusCode, body }, deps.clock.now()))
      } else {
        await releaseReservation(deps, reservation).catch((releaseError: unknown) => request.log.error({ err: releaseError }, 'could not release an idempotency reservation; it expires with its lease'))
      }
    }
    throw error
  }
}

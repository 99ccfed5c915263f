/**
 * @module flows/accept-offer
 * Accepting an offer: the loan is originated and its money sent through the payout rail with a two-phase
 * ledger transfer (DOMAIN.md, "payout through an external rail"; CONVENTIONS A: compensation for external
 * effects uses pending/post/void, not sagas):
 *
 *   1. one transaction: lock the offer, originate the loan (status approved), reserve the net advance with a
 *      PENDING transfer 1201 ← 1001 (no timeout: it must never expire on its own), record the payout
 *      `pending`, mark the offer accepted. Committed before the rail is called, so a crash after the call
 *      still leaves the reservation and the payout to reconcile.
 *   2. call the rail (outside any transaction), bounded by a timeout.
 *   3. one transaction, by the rail's answer:
 *      - succeeded → post the pending transfer, book the upfront fee 1201 ← 2401, activate the loan and write
 *        its `disbursement` servicing event; payout `succeeded`.
 *      - failed (definitely) → void the pending transfer; payout `failed`, offer `payout_failed`; the loan is
 *        never activated and has no posting.
 *      - unknown (timeout, dropped connection) → nothing is voided: the transfer stays pending and the
 *        payout `unknown` until `reconcilePayouts` asks the rail's status and settles it the same way.
 *
 * The ledger and loan side (reserve / post / void) is the loans module's (loans/two-phase-disbursement.ts);
 * this flow owns the offer, the payout record and the conversation with the rail.
 */
import { sql, type Kysely } from 'kysely'
import { assert } from '../core/assert.ts'
import type { Clock } from '../core/clock.ts'
import type { IdSource } from '../core/ids.ts'
import { inTenant, type Tx } from '../db/database.ts'
import type { DB } from '../db/schema.ts'
import {
  loadLoan, originateLoan, postDisbursement, reserveDisbursement, voidDisbursement, type LoanRecord, type Origination, type ServicingContext,
} from '../loans/index.ts'
import { offerColumns, toOfferView, type OfferView } from './apply.ts'
import { payoutTimeoutMsDefault, sendPayoutWithTimeout, type PayoutOutcome, type PayoutRail } from './payout-rail.ts'

export type PayoutDeps = { readonly db: Kysely<DB>; readonly ids: IdSource; readonly clock: Clock; readonly rail: PayoutRail; readonly payoutTimeoutMs?: number }

export const payoutStatuses = ['pending', 'succeeded', 'failed', 'unknown'] as const
export type PayoutState = (typeof payoutStatuses)[number]
export type PayoutView = {
  readonly id: string
  readonly loanId: string
  readonly offerId: string
  readonly amountMinor: bigint
  readonly currency: string
  readonly pendingTransferId: string
  readonly settleTransferId: string | null
  readonly rail: string
  readonly railReference: string | null
  readonly status: PayoutState
  readonly attempts: number
  readonly lastError: string | null
}

export type AcceptResult =
  | { readonly status: 'ok'; readonly offer: OfferView; readonly loan: { readonly id: string; readonly status: string }; readonly payout: PayoutView }
  | { readonly status: 'offer_not_found' | 'offer_not_open' | 'offer_expired' }
  | { readonly status: Exclude<Origination['status'], 'ok'>; readonly detail?: string }

/** A payout left `pending` longer than this (a crash between the reservation and the rail's answer) is reconciled. */
export const stalePendingPayoutMs = 60_000
export const reconcileBatchMax = 500

type PayoutRow = {
  id: string; loan_id: string; offer_id: string; amount_minor: string; currency: string; pending_transfer_id: string; settle_transfer_id: string | null; rail: string
  rail_reference: string | null; status: PayoutState; attempts: number; last_error: string | null
}
const payoutColumns = sql.raw('id, loan_id, offer_id, amount_minor::text as amount_minor, currency, pending_transfer_id, settle_transfer_id, rail, rail_reference, status, attempts, last_error')
function toPayoutView(row: PayoutRow): PayoutView {
  return {
    id: row.id, loanId: row.loan_id, offerId: row.offer_id, amountMinor: BigInt(row.amount_minor), currency: row.currency, pendingTransferId: row.pending_transfer_id,
    settleTransferId: row.settle_transfer_id, rail: row.rail, railReference: row.rail_reference, status: row.status, attempts: row.attempts, lastError: row.last_error,
  }
}

async function findPayoutByLoan(trx: Tx, loanId: string): Promise<PayoutView | undefined> {
  const row = (await sql<PayoutRow>`select ${payoutColumns} from payouts where loan_id = ${loanId}`.execute(trx)).rows[0]
  return row === undefined ? undefined : toPayoutView(row)
}

type Reserved = { readonly offer: OfferView; readonly loan: LoanRecord; readonly payout: PayoutView; readonly fresh: boolean }

/** Step 1: lock the offer, originate, reserve the money (pending), record the payout. */
async function reservePayout(trx: Tx, ctx: ServicingContext, rail: string, input: { offerId: string; enterpriseId: string | null }): Promise<Reserved | Exclude<AcceptResult, { status: 'ok' }>> {
  const offerRow = (await sql<Parameters<typeof toOfferView>[0] & { enterprise_id: string; product_id: string }>`
    select ${offerColumns}, (select enterprise_id from applications a where a.tenant_id = o.tenant_id and a.id = o.application_id) as enterprise_id,
      (select product_id from applications a where a.tenant_id = o.tenant_id and a.id = o.application_id) as product_id
    from offers o where id = ${input.offerId} for update`.execute(trx)).rows[0]
  if (offerRow === undefined || (input.enterpriseId !== null && input.enterpriseId !== offerRow.enterprise_id)) return { status: 'offer_not_found' }
  const offer = toOfferView(offerRow)
  if (offer.status === 'accepted') {
    assert(offer.loanId !== null, 'an accepted offer has its loan')
    const loan = await loadLoan(trx, ctx.tenantId, offer.loanId, { forUpdate: false })
    const payout = await findPayoutByLoan(trx, offer.loanId)
    assert(loan !== undefined && payout !== undefined, 'an accepted offer has its loan and payout')
    return { offer, loan, payout, fresh: false }
  }
  if (offer.status !== 'open') return { status: 'offer_not_open' }
  if (offer.expiresAt.getTime() <= ctx.now.getTime()) return { status: 'offer_expired' }
  const origination = await originateLoan(trx, ctx, {
    productId: offerRow.product_id, enterpriseId: offerRow.enterprise_id, principalMinor: offer.amountMinor, annualRatePct: offer.annualRatePct, installments: offer.termMonths,
    disbursedOn: null, firstRepaymentOn: null,
  })
  if (origination.status !== 'ok') return origination.status === 'invalid_schedule_spec' ? { status: origination.status, detail: `${origination.field}: ${origination.reason}` } : origination
  const loan = origination.loan
  assert(loan.upfrontFeeMinor === offer.upfrontFeeMinor, 'the loan charges the fee the offer disclosed')
  const reservation = await reserveDisbursement(trx, ctx, loan.id)
  assert(reservation.status === 'ok', 'a loan just originated can be reserved')
  const { pendingTransferId, netMinor } = reservation
  const payoutId = ctx.ids.next()
  await sql`
    insert into payouts (tenant_id, id, loan_id, offer_id, amount_minor, currency, pending_transfer_id, settle_transfer_id, rail, rail_reference, status, attempts, last_error, created_at, updated_at)
    values (${ctx.tenantId}, ${payoutId}, ${loan.id}, ${offer.id}, ${netMinor.toString()}, ${reservation.currency}, ${pendingTransferId}, null, ${rail}, null, 'pending', 0, null, ${ctx.now}, ${ctx.now})`.execute(trx)
  await sql`update offers set status = 'accepted', loan_id = ${loan.id}, updated_at = ${ctx.now} where id = ${offer.id}`.execute(trx)
  const payout = await findPayoutByLoan(trx, loan.id)
  assert(payout !== undefined)
  return { offer: { ...offer, status: 'accepted', loanId: loan.id }, loan, payout, fresh: true }
}

/**
 * Step 3: records the rail's answer. Succeeded → post, fee, activate; failed → void; unknown → leave the
 * transfer pending. A payout already settled is returned unchanged (a late or repeated answer).
 */
export async function settlePayout(trx: Tx, ctx: ServicingContext, payoutId: string, outcome: PayoutOutcome): Promise<PayoutView> {
  const row = (await sql<PayoutRow>`select ${payoutColumns} from payouts where id = ${payoutId} for update`.execute(trx)).rows[0]
  assert(row !== undefined, 'the payout exists')
  const payout = toPayoutView(row)
  if (payout.status === 'succeeded' || payout.status === 'failed') return payout
  switch (outcome.status) {
    case 'succeeded': {
      const posted = await postDisbursement(trx, ctx, payout.loanId, payout.pendingTransferId, { payoutId: payout.id, railReference: outcome.railReference })
      assert(posted.status === 'ok', () => `an unsettled payout's loan is approved (${posted.status})`)
      await sql`update payouts set status = 'succeeded', settle_transfer_id = ${posted.settleTransferId}, rail_reference = ${outcome.railReference}, last_error = null, updated_at = ${ctx.now} where id = ${payout.id}`.execute(trx)
      break
    }
    case 'failed': {
      const voided = await voidDisbursement(trx, ctx, payout.loanId, payout.pendingTransferId)
      assert(voided.status === 'ok', () => `an unsettled payout's loan is approved (${voided.status})`)
      await sql`update payouts set status = 'failed', settle_transfer_id = ${voided.settleTransferId}, rail_reference = ${outcome.railReference}, last_error = ${outcome.reason}, updated_at = ${ctx.now} where id = ${payout.id}`.execute(trx)
      await sql`update offers set status = 'payout_failed', updated_at = ${ctx.now} where id = ${payout.offerId}`.execute(trx)
      break
    }
    case 'unknown':
      // Never void an unknown: the money may have left. The transfer stays pending.
      await sql`update payouts set status = 'unknown', last_error = ${outcome.detail}, updated_at = ${ctx.now} where id = ${payout.id}`.execute(trx)
      break
  }
  const after = (await sql<PayoutRow>`select ${payoutColumns} from payouts where id = ${payout.id}`.execute(trx)).rows[0]
  assert(after !== undefined)
  return toPayoutView(after)
}

/** Records an attempt and calls the rail, bounded by the timeout (outside any transaction). */
export async function callRail(deps: PayoutDeps, tenantId: string, payout: PayoutView, beneficiaryId: string): Promise<PayoutOutcome> {
  await inTenant(deps.db, tenantId, (trx) => sql`update payouts set attempts = attempts + 1, updated_at = ${deps.clock.now()} where id = ${payout.id}`.execute(trx))
  return sendPayoutWithTimeout(deps.rail, { reference: payout.id, amountMinor: payout.amountMinor, currency: payout.currency, beneficiaryId }, deps.payoutTimeoutMs ?? payoutTimeoutMsDefault)
}

/**
 * Accepts an offer and disburses it. `enterpriseId` scopes a borrower to its own offers. Idempotent by
 * offer: accepting an accepted offer answers with its loan and payout as they stand (no second payout).
 */
export async function acceptOffer(deps: PayoutDeps, input: { tenantId: string; offerId: string; enterpriseId: string | null }): Promise<AcceptResult> {
  const ctx = (): ServicingContext => ({ tenantId: input.tenantId, ids: deps.ids, now: deps.clock.now() })
  const reserved = await inTenant(deps.db, input.tenantId, (trx) => reservePayout(trx, ctx(), deps.rail.name, input))
  if (!('fresh' in reserved)) return reserved
  if (!reserved.fresh) return { status: 'ok', offer: reserved.offer, loan: { id: reserved.loan.id, status: reserved.loan.state.status }, payout: reserved.payout }
  const outcome = await callRail(deps, input.tenantId, reserved.payout, reserved.loan.enterpriseId)
  const payout = await inTenant(deps.db, input.tenantId, (trx) => settlePayout(trx, ctx(), reserved.payout.id, outcome))
  const loanStatus = payout.status === 'succeeded' ? 'active' : 'approved'
  const offer = payout.status === 'failed' ? { ...reserved.offer, status: 'payout_failed' } : reserved.offer
  return { status: 'ok', offer, loan: { id: reserved.loan.id, status: loanStatus }, payout }
}

export type ReconcileReport = { readonly examined: number; readonly succeeded: number; readonly failed: number; readonly stillUnknown: number; readonly resent: number }

/**
 * Settles payouts whose outcome is not known: `unknown` ones, and `pending` ones older than
 * `stalePendingPayoutMs` (a crash between the reservation and the answer). Asks the rail's status:
 * succeeded / failed settle as in `acceptOffer`; `pending` stays; `not_found` (the rail never got it) is
 * sent again with the same reference. Nothing is ever voided without the rail saying it failed.
 */
export async function reconcilePayouts(deps: PayoutDeps, input: { tenantId: string }): Promise<ReconcileReport> {
  const ctx = (): ServicingContext => ({ tenantId: input.tenantId, ids: deps.ids, now: deps.clock.now() })
  const staleBefore = new Date(deps.clock.now().getTime() - stalePendingPayoutMs)
  const rows = await inTenant(deps.db, input.tenantId, async (trx) => (await sql<PayoutRow & { enterprise_id: string }>`
    select ${payoutColumns}, (select enterprise_id from loans l where l.tenant_id = p.tenant_id and l.id = p.loan_id) as enterprise_id
    from payouts p where status = 'unknown' or (status = 'pending' and updated_at < ${staleBefore})
    order by id limit ${reconcileBatchMax}`.execute(trx)).rows)
  let succeeded = 0
  let failed = 0
  let stillUnknown = 0
  let resent = 0
  for (const row of rows) {
    const payout = toPayoutView(row)
    const status = await deps.rail.queryStatus(payout.id)
    let outcome: PayoutOutcome
    if (status.status === 'succeeded' || status.status === 'failed') outcome = status
    else if (status.status === 'not_found') {
      resent += 1
      outcome = await callRail(deps, input.tenantId, payout, row.enterprise_id)
    } else outcome = { status: 'unknown', detail: 'the rail reports the payout still pending' }
    const settled = await inTenant(deps.db, input.tenantId, (trx) => settlePayout(trx, ctx(), payout.id, outcome))
    if (settled.status === 'succeeded') succeeded += 1
    else if (settled.status === 'failed') failed += 1
    else stillUnknown += 1
  }
  return { examined: rows.length, succeeded, failed, stillUnknown, resent }
}

/** The payout of a loan, for reads. */
export async function readPayout(trx: Tx, payoutId: string): Promise<PayoutView | undefined> {
  const row = (await sql<PayoutRow>`select ${payoutColumns} from payouts where id = ${payoutId}`.execute(trx)).rows[0]
  return row === undefined ? undefined : toPayoutView(row)
}

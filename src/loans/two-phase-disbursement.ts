/**
 * @module loans/two-phase-disbursement
 * Disbursement through an external payout rail (DOMAIN.md posting rules, "payout through an external
 * rail"), the two-phase counterpart of `disburseLoan`:
 *
 *   reserve  — a PENDING transfer 1201 ← 1001 of the net advance (principal − upfront fee), no timeout: it
 *              must never expire on its own while the rail's outcome is unknown. The loan stays approved.
 *   post     — the rail paid: post the pending transfer, book the fee 1201 ← 2401, approved → active, and
 *              the `disbursement` servicing event (the same postings and state `disburseLoan` produces).
 *   void     — the rail definitely refused: void the pending transfer. The loan stays approved with no
 *              posting at all.
 *
 * Each runs in the caller's transaction with origin 'servicing' (the loan's accounts refuse anyone else).
 */
import { assert } from '../core/assert.ts'
import type { Tx } from '../db/database.ts'
import { createAccountsInTransaction, createTransfersInTransaction, transferFlags, type TransferInput } from '../ledger/index.ts'
import { claimGlAccounts, findGlAccounts, insertLoanTransaction, loadLoan, saveLoan, type LoanRecord, type LoanTransaction } from './loan-db.ts'
import { postingCodes, type ServicingContext } from './loan-service.ts'
import { transitionLoan } from './loan-state.ts'

/** Cash (1001) and deferred fee income (2401) of a currency, tenant-level, created on first use. */
async function ensureDisbursementAccounts(trx: Tx, ctx: ServicingContext, currency: string, productId: string): Promise<{ cash: string; deferredFees: string }> {
  const wanted = [1001, 2401] as const
  let found = await findGlAccounts(trx, ctx.tenantId, currency, productId)
  const missing = wanted.filter((code) => !found.has(code))
  if (missing.length > 0) {
    const claims = missing.map((code) => ({ code, productId: null, accountId: ctx.ids.next() }))
    const won = await claimGlAccounts(trx, ctx.tenantId, currency, claims)
    const create = claims.filter((claim) => won.has(claim.code))
    const statuses = await createAccountsInTransaction(trx, ctx.tenantId, create.map((claim) => ({
      id: claim.accountId, currency, code: claim.code, flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false }, owner: null, userData: 0n,
    })), ctx.now)
    for (const status of statuses) assert(status === 'created', () => `general-ledger account: ${status}`)
    found = await findGlAccounts(trx, ctx.tenantId, currency, productId)
  }
  const cash = found.get(1001)
  const deferredFees = found.get(2401)
  assert(cash !== undefined, 'cash account 1001 exists')
  assert(deferredFees !== undefined, 'deferred fee income 2401 exists')
  return { cash, deferredFees }
}

async function postServicing(trx: Tx, ctx: ServicingContext, inputs: readonly TransferInput[]): Promise<void> {
  const outcome = await createTransfersInTransaction(trx, ctx.tenantId, inputs, { now: ctx.now, origin: 'servicing' })
  assert(outcome.results.length === inputs.length, 'one result per transfer')
  for (const result of outcome.results) assert(result.status === 'created', () => `disbursement transfer ${result.id} answered ${result.status}`)
}

const transfer = (id: string, partial: Partial<TransferInput> & Pick<TransferInput, 'code' | 'flags'>): TransferInput => ({
  id, debitAccountId: null, creditAccountId: null, amountMinor: null, currency: null, pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: null, ...partial,
})

async function loadApproved(trx: Tx, ctx: ServicingContext, loanId: string): Promise<LoanRecord | 'loan_not_found' | 'loan_not_approved'> {
  const loan = await loadLoan(trx, ctx.tenantId, loanId, { forUpdate: true })
  if (loan === undefined) return 'loan_not_found'
  if (loan.state.status !== 'approved') return 'loan_not_approved'
  return loan
}

export type DisbursementReservation =
  | { readonly status: 'ok'; readonly pendingTransferId: string; readonly netMinor: bigint; readonly currency: string }
  | { readonly status: 'loan_not_found' | 'loan_not_approved' }

/** Reserves the net advance of an approved loan: pending 1201 ← 1001 on its disbursement date. */
export async function reserveDisbursement(trx: Tx, ctx: ServicingContext, loanId: string): Promise<DisbursementReservation> {
  const loan = await loadApproved(trx, ctx, loanId)
  if (typeof loan === 'string') return { status: loan }
  const accounts = await ensureDisbursementAccounts(trx, ctx, loan.state.currency, loan.productId)
  const netMinor = loan.state.principalMinor - loan.upfrontFeeMinor
  assert(netMinor > 0n, 'the borrower receives something')
  const pendingTransferId = ctx.ids.next()
  await postServicing(trx, ctx, [transfer(pendingTransferId, {
    debitAccountId: loan.principalAccountId, creditAccountId: accounts.cash, amountMinor: netMinor, currency: loan.state.currency, code: postingCodes.disbursement,
    flags: transferFlags({ pending: true }), valueDate: loan.state.disbursedOn.toString(),
  })])
  return { status: 'ok', pendingTransferId, netMinor, currency: loan.state.currency }
}

export type DisbursementPosted =
  | { readonly status: 'ok'; readonly loan: LoanRecord; readonly transaction: LoanTransaction; readonly settleTransferId: string }
  | { readonly status: 'loan_not_found' | 'loan_not_approved' }

/** The rail paid: post the reservation, book the fee, activate the loan, record the servicing event. */
export async function postDisbursement(trx: Tx, ctx: ServicingContext, loanId: string, pendingTransferId: string, detail: Record<string, unknown>): Promise<DisbursementPosted> {
  const loan = await loadApproved(trx, ctx, loanId)
  if (typeof loan === 'string') return { status: loan }
  const accounts = await ensureDisbursementAccounts(trx, ctx, loan.state.currency, loan.productId)
  const valueDate = loan.state.disbursedOn.toString()
  const postId = ctx.ids.next()
  const transfers = [transfer(postId, { debitAccountId: loan.principalAccountId, creditAccountId: accounts.cash, code: postingCodes.disbursement, flags: transferFlags({ postPending: true }), pendingId: pendingTransferId, valueDate })]
  if (loan.upfrontFeeMinor > 0n) {
    transfers.push(transfer(ctx.ids.next(), {
      debitAccountId: loan.principalAccountId, creditAccountId: accounts.deferredFees, amountMinor: loan.upfrontFeeMinor, currency: loan.state.currency, code: postingCodes.disbursement_fee,
      flags: transferFlags(), valueDate,
    }))
  }
  await postServicing(trx, ctx, transfers)
  const transition = transitionLoan(loan.state, { type: 'disburse' })
  assert(transition.status === 'ok', 'an approved loan can be disbursed')
  const saved = await saveLoan(trx, ctx.tenantId, loan, { ...loan, state: { ...loan.state, status: transition.loanStatus } }, ctx.now)
  const transaction: LoanTransaction = {
    id: ctx.ids.next(), loanId: saved.id, kind: 'disbursement', valueDate, amountMinor: loan.state.principalMinor, currency: loan.state.currency,
    allocation: { netMinor: (loan.state.principalMinor - loan.upfrontFeeMinor).toString(), upfrontFeeMinor: loan.upfrontFeeMinor.toString(), ...detail },
    transferIds: [pendingTransferId, ...transfers.map((t) => t.id)], createdAt: ctx.now,
  }
  await insertLoanTransaction(trx, ctx.tenantId, transaction)
  return { status: 'ok', loan: saved, transaction, settleTransferId: postId }
}

export type DisbursementVoided = { readonly status: 'ok'; readonly settleTransferId: string } | { readonly status: 'loan_not_found' | 'loan_not_approved' }

/** The rail definitely refused: release the reservation. The loan stays approved, with nothing posted. */
export async function voidDisbursement(trx: Tx, ctx: ServicingContext, loanId: string, pendingTransferId: string): Promise<DisbursementVoided> {
  const loan = await loadApproved(trx, ctx, loanId)
  if (typeof loan === 'string') return { status: loan }
  const voidId = ctx.ids.next()
  await postServicing(trx, ctx, [transfer(voidId, { code: postingCodes.disbursement, flags: transferFlags({ voidPending: true }), pendingId: pendingTransferId, valueDate: loan.state.disbursedOn.toString() })])
  return { status: 'ok', settleTransferId: voidId }
}

/**
 * @module loans/loan-service
 * Servicing on the ledger: products, origination, disbursement, repayment, pay-off quotes, waivers, write-off,
 * recovery, refund, and the per-loan close of business. Every function runs in the caller's tenant transaction
 * (`inTenant`), loads the loan with a row lock, lets the pure core decide, then posts the money movements with
 * `createTransfersInTransaction` (origin 'servicing': the loan's own accounts refuse anyone else) and saves the
 * new state and a `loan_transactions` row — all in that one transaction, so the subledger and the ledger never
 * disagree at a commit.
 *
 * Posting rules (DOMAIN.md): disbursement 1201 ← 1001 (P − F), 1201 ← 2401 (F); accrual 1202 ← 4001; penalty
 * 1204 ← 4003; late fee 1203 ← 4002; repayment 1001 ← 1204 / 1203 / 1202 / 1201 (the allocated parts), rest
 * 1001 ← 2201; what was off-balance (non-accrual suspense) is income on cash: 1001 ← 4003 / 4002 / 4001;
 * non-accrual reserve 4001 ← 1202; waiver 4001 / 4002 / 4003 ← 1202 / 1203 / 1204; provision 5001 ← 1291
 * (release 1291 ← 5001); write-off 1291 ← 1201 and the receivables reversed; recovery 1001 ← 4004; refund
 * 2201 ← 1001. 1201 and 2201 are the loan's own accounts; 1202 / 1203 / 1204 are per product; the rest per
 * tenant and currency (`ledger_gl_accounts`, created on first use).
 *
 * Expected outcomes are status unions; a ledger batch answering anything but `created` is a bug or a lost
 * race and throws (assert).
 */
import { sql } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import type { IdSource } from '../core/ids.ts'
import { transfersPerBatchMax } from '../core/limits.ts'
import { formatMajor } from '../core/money.ts'
import { interestMinor, RateDecimal } from '../core/rate.ts'
import type { Tx } from '../db/database.ts'
import {
  createAccountsInTransaction, createTransfersInTransaction, transferFlags, type TransferInput,
} from '../ledger/index.ts'
import { worseTier } from './delinquency.ts'
import {
  addComponents, compareDates, components, isLoanRepaid, loanFromSchedule, maxBigint, measureInstallmentOutstanding, minBigint, recordRecovery,
  transitionLoan, waiveCharges, writeOffLoan, zeroComponents, type Component, type ComponentsMinor,
  type InstallmentState, type LoanState,
} from './loan-state.ts'
import {
  claimGlAccounts, findGlAccounts, findProduct, insertLoan, insertLoanTransaction, insertProduct, listLoanTransactions, loadLoan, productGlCodes,
  rulesOfProduct, saveLoan, specToJson, tenantGlCodes, type GlCode, type LoanProduct, type LoanRecord, type LoanTransaction, type LoanTransactionKind,
  type ScheduleTemplate,
} from './loan-db.ts'
import { applyPrepayment, quotePayoff, type PayoffQuote, type PrepaymentMode } from './payoff.ts'
import { buildSchedule } from './schedule.ts'
import { decideRepayment, splitPayment } from './payment.ts'
import { closeDays, replayBookKeys, replayLoan, type ReplayPayment } from './replay.ts'
import { rescheduleLoanState } from './reschedule.ts'
import { parseScheduleSpec } from './schedule-spec.ts'

export type ServicingContext = { readonly tenantId: string; readonly ids: IdSource; readonly now: Date }

/** Ledger `code` of each kind of servicing transfer (the account codes say where; this says why). */
export const postingCodes = {
  disbursement: 1, disbursement_fee: 2, repayment: 3, overpayment: 4, accrual: 5, penalty: 6, late_fee: 7, non_accrual_reserve: 8,
  income_from_suspense: 9, waiver: 10, write_off: 11, provision: 12, recovery: 13, refund: 14,
} as const
export type PostingCode = keyof typeof postingCodes

type Posting = { readonly debit: string; readonly credit: string; readonly amountMinor: bigint; readonly code: PostingCode; readonly valueDate: string }

/** One transfer debit ← credit; none for 0; the reverse direction for a negative amount (a true-up, a release). */
function post(debit: string, credit: string, amountMinor: bigint, code: PostingCode, valueDate: string): Posting[] {
  if (amountMinor === 0n) return []
  return amountMinor > 0n ? [{ debit, credit, amountMinor, code, valueDate }] : [{ debit: credit, credit: debit, amountMinor: -amountMinor, code, valueDate }]
}

/** Posts in batches of at most `transfersPerBatchMax`; every transfer must be `created`. Returns the ids. */
async function postTransfers(trx: Tx, ctx: ServicingContext, currency: string, postings: readonly Posting[]): Promise<string[]> {
  const ids: string[] = []
  for (let start = 0; start < postings.length; start += transfersPerBatchMax) {
    const inputs: TransferInput[] = postings.slice(start, start + transfersPerBatchMax).map((p) => ({
      id: ctx.ids.next(), debitAccountId: p.debit, creditAccountId: p.credit, amountMinor: p.amountMinor, currency, code: postingCodes[p.code],
      flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: p.valueDate,
    }))
    const outcome = await createTransfersInTransaction(trx, ctx.tenantId, inputs, { now: ctx.now, origin: 'servicing' })
    assert(outcome.results.length === inputs.length, 'one result per servicing transfer')
    for (const result of outcome.results) assert(result.status === 'created', () => `servicing transfer ${result.id} answered ${result.status}`)
    ids.push(...inputs.map((input) => input.id))
  }
  return ids
}

async function businessDateOf(trx: Tx, tenantId: string): Promise<Temporal.PlainDate> {
  const rows = await sql<{ business_date: string }>`select business_date from tenants where id = ${tenantId}`.execute(trx)
  const date = rows.rows[0]?.business_date
  assert(date !== undefined, 'tenant exists')
  return Temporal.PlainDate.from(date)
}

type Gl = ReadonlyMap<GlCode, string>
function glAccount(gl: Gl, code: GlCode): string {
  const id = gl.get(code)
  assert(id !== undefined, () => `general-ledger account ${code} exists`)
  return id
}

/** The general-ledger accounts of a currency and product, created on first use. */
async function ensureGlAccounts(trx: Tx, ctx: ServicingContext, currency: string, productId: string): Promise<Gl> {
  const found = await findGlAccounts(trx, ctx.tenantId, currency, productId)
  const wanted: GlCode[] = [...tenantGlCodes, ...productGlCodes]
  const missing = wanted.filter((code) => !found.has(code))
  if (missing.length === 0) return found
  const claims = missing.map((code) => ({ code, productId: (productGlCodes as readonly GlCode[]).includes(code) ? productId : null, accountId: ctx.ids.next() }))
  const won = await claimGlAccounts(trx, ctx.tenantId, currency, claims)
  const create = claims.filter((claim) => won.has(claim.code))
  const statuses = await createAccountsInTransaction(trx, ctx.tenantId, create.map((claim) => ({
    id: claim.accountId, currency, code: claim.code, flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
    // The receivables mirror the loan subledger: only servicing may move them.
    owner: claim.productId === null ? null : 'servicing', userData: 0n,
  })), ctx.now)
  for (const status of statuses) assert(status === 'created', () => `general-ledger account: ${status}`)
  const all = won.size === claims.length ? new Map([...found, ...create.map((c) => [c.code, c.accountId] as const)]) : await findGlAccounts(trx, ctx.tenantId, currency, productId)
  for (const code of wanted) assert(all.has(code), () => `general-ledger account ${code} mapped`)
  return all
}

const minor = (amount: bigint) => amount.toString()
function componentsJson(c: ComponentsMinor): Record<Component, string> {
  return { principal: minor(c.principal), interest: minor(c.interest), fees: minor(c.fees), penalties: minor(c.penalties) }
}

async function recordTransaction(
  trx: Tx, ctx: ServicingContext, loan: LoanRecord, kind: LoanTransactionKind, valueDate: string, amountMinor: bigint,
  allocation: Record<string, unknown>, transferIds: readonly string[],
): Promise<LoanTransaction> {
  const transaction: LoanTransaction = { id: ctx.ids.next(), loanId: loan.id, kind, valueDate, amountMinor, currency: loan.state.currency, allocation, transferIds, createdAt: ctx.now }
  await insertLoanTransaction(trx, ctx.tenantId, transaction)
  return transaction
}

// ---------------------------------------------------------------------------------------------------------------
// Subledger measures (what the ledger must show for a loan)
// ---------------------------------------------------------------------------------------------------------------

/** Interest of an installment recognised on the books (accrued or due) and not paid or waived. */
export function measureRecognisedInterestOf(state: LoanState, installment: InstallmentState): bigint {
  if (state.status !== 'active') return 0n
  const on = state.accruedThroughOn.add({ days: 1 })
  if (compareDates(installment.dueOn, on) <= 0) return measureInstallmentOutstanding(installment).interest
  if (compareDates(installment.startOn, on) > 0) return 0n
  const settled = installment.paidMinor.interest + installment.waivedMinor.interest
  return maxBigint(0n, state.accruedInterestMinor - settled)
}

export type SubledgerBalances = {
  /** The loan's 1201 (debits − credits). */
  readonly principalMinor: bigint
  /** The loan's 2201 (credits − debits). */
  readonly walletMinor: bigint
  /** The loan's share of its product's 1202 / 1203 / 1204 (debits − credits). */
  readonly interestReceivableMinor: bigint
  readonly feesReceivableMinor: bigint
  readonly penaltiesReceivableMinor: bigint
  /** The loan's share of 1291 (credits − debits). */
  readonly provisionMinor: bigint
}

/** What the ledger holds for this loan according to the subledger (reconciliation; asserted in tests). */
export function measureSubledgerBalances(loan: LoanRecord): SubledgerBalances {
  const s = loan.state
  // Nothing is on the books before disbursement.
  if (s.status === 'approved') return { principalMinor: 0n, walletMinor: 0n, interestReceivableMinor: 0n, feesReceivableMinor: 0n, penaltiesReceivableMinor: 0n, provisionMinor: loan.provisionMinor }
  const owed = s.installments.map(measureInstallmentOutstanding).reduce(addComponents, zeroComponents)
  const recognised = s.installments.reduce((sum, i) => sum + measureRecognisedInterestOf(s, i), 0n)
  return {
    principalMinor: owed.principal,
    walletMinor: s.overpaymentMinor,
    interestReceivableMinor: recognised - s.suspendedInterestMinor,
    feesReceivableMinor: owed.fees - loan.suspendedFeesMinor,
    penaltiesReceivableMinor: owed.penalties - loan.suspendedPenaltiesMinor,
    provisionMinor: loan.provisionMinor,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------------------------

export type ProductInput = Omit<LoanProduct, 'id' | 'createdAt' | 'updatedAt'>
export type CreateProductResult =
  | { readonly status: 'ok'; readonly product: LoanProduct }
  | { readonly status: 'invalid_product'; readonly field: string; readonly reason: string }

function templateJson(template: ScheduleTemplate): Record<string, unknown> {
  const { compat, ...rest } = template
  return compat === null ? rest : { ...rest, compat }
}

/** Creates a product after checking that its settings make a valid schedule at its smallest loan and term. */
export async function createProduct(trx: Tx, ctx: ServicingContext, input: ProductInput): Promise<CreateProductResult> {
  const invalid = (field: string, reason: string) => ({ status: 'invalid_product' as const, field, reason })
  if (input.principalMaxMinor < input.principalMinMinor) return invalid('principalMax', 'The largest principal is below the smallest.')
  if (input.installmentsMax < input.installmentsMin) return invalid('installmentsMax', 'The longest term is below the shortest.')
  const t = input.delinquency.thresholds
  if (!(t.specialMentionDpdMin >= 1 && t.specialMentionDpdMin < t.substandardDpdMin && t.substandardDpdMin < t.doubtfulDpdMin && t.doubtfulDpdMin < t.lossDpdMin)) {
    return invalid('tierThresholds', 'Tier thresholds start at 1 or later and increase strictly.')
  }
  const order = input.allocationOrder.components
  if (order.length !== components.length || components.some((c) => !order.includes(c))) return invalid('allocationOrder.components', 'Name each of penalties, fees, interest, principal once.')
  const sample = parseScheduleSpec({
    ...templateJson(input.scheduleTemplate), principal: formatMajor(input.principalMinMinor, input.currency), currency: input.currency,
    annualRatePct: input.annualRateCapPct.toFixed(), installments: input.installmentsMin, disbursedOn: '2000-01-01',
  })
  if (sample.status !== 'ok') return invalid(`schedule.${sample.field}`, sample.reason)
  const product: LoanProduct = { ...input, id: ctx.ids.next(), createdAt: ctx.now, updatedAt: ctx.now }
  await insertProduct(trx, ctx.tenantId, product)
  return { status: 'ok', product }
}

// ---------------------------------------------------------------------------------------------------------------
// Origination and disbursement
// ---------------------------------------------------------------------------------------------------------------

export type OriginationInput = {
  readonly productId: string
  readonly enterpriseId: string
  readonly principalMinor: bigint
  /** Decimal string in percent. */
  readonly annualRatePct: string
  readonly installments: number
  /** Defaults to the tenant's business date. */
  readonly disbursedOn: string | null
  readonly firstRepaymentOn: string | null
}

export type Origination =
  | { readonly status: 'ok'; readonly loan: LoanRecord }
  | { readonly status: 'product_not_found' | 'enterprise_not_found' | 'principal_out_of_range' | 'term_out_of_range' | 'rate_above_cap' }
  | { readonly status: 'invalid_schedule_spec'; readonly field: string; readonly reason: string }

/**
 * Creates an approved loan: checks it against the product, builds its schedule, opens its own ledger accounts
 * (1201 principal receivable, 2201 wallet; owner 'servicing'). Nothing is posted until disbursement.
 */
export async function originateLoan(trx: Tx, ctx: ServicingContext, input: OriginationInput): Promise<Origination> {
  const product = await findProduct(trx, ctx.tenantId, input.productId)
  if (product === undefined) return { status: 'product_not_found' }
  const enterprise = await sql`select 1 from enterprises where tenant_id = ${ctx.tenantId} and id = ${input.enterpriseId}`.execute(trx)
  if (enterprise.rows.length === 0) return { status: 'enterprise_not_found' }
  if (input.principalMinor < product.principalMinMinor || input.principalMinor > product.principalMaxMinor) return { status: 'principal_out_of_range' }
  if (input.installments < product.installmentsMin || input.installments > product.installmentsMax) return { status: 'term_out_of_range' }
  const disbursedOn = input.disbursedOn ?? (await businessDateOf(trx, ctx.tenantId)).toString()
  const parsed = parseScheduleSpec({
    ...templateJson(product.scheduleTemplate), principal: formatMajor(input.principalMinor, product.currency), currency: product.currency,
    annualRatePct: input.annualRatePct, installments: input.installments, disbursedOn, firstRepaymentOn: input.firstRepaymentOn,
  })
  if (parsed.status !== 'ok') return parsed
  const spec = parsed.value
  if (spec.annualRatePct.greaterThan(product.annualRateCapPct)) return { status: 'rate_above_cap' }
  const schedule = buildSchedule(spec)
  for (const row of schedule.rows) assert(row.feesMinor === 0n, 'installment fees are not part of a schedule in this version')
  const state = loanFromSchedule(schedule, spec)
  const last = state.installments.at(-1)
  assert(last !== undefined, 'a schedule has installments')
  const upfrontFeeMinor = interestMinor(input.principalMinor, product.upfrontFeePct.div(100), spec.rounding)
  assert(upfrontFeeMinor < input.principalMinor, 'the upfront fee is less than the principal')

  const principalAccountId = ctx.ids.next()
  const walletAccountId = ctx.ids.next()
  const statuses = await createAccountsInTransaction(trx, ctx.tenantId, [
    { id: principalAccountId, currency: spec.currency, code: 1201, flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: true }, owner: 'servicing', userData: 0n },
    { id: walletAccountId, currency: spec.currency, code: 2201, flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false }, owner: 'servicing', userData: 0n },
  ], ctx.now)
  assert(statuses.every((status) => status === 'created'), () => `loan accounts: ${statuses.join(', ')}`)
  const loan: LoanRecord = {
    id: ctx.ids.next(), productId: product.id, enterpriseId: input.enterpriseId, state, spec, upfrontFeeMinor, maturityOn: last.dueOn,
    suspendedFeesMinor: 0n, suspendedPenaltiesMinor: 0n, dpd: 0, bucket: 'current', tier: 'normal', provisionMinor: 0n,
    principalAccountId, walletAccountId, rescheduledOn: null, createdAt: ctx.now, updatedAt: ctx.now, version: 0,
  }
  await insertLoan(trx, ctx.tenantId, loan)
  return { status: 'ok', loan }
}

type Loaded = { readonly loan: LoanRecord; readonly product: LoanProduct; readonly gl: Gl }

async function loadForChange(trx: Tx, ctx: ServicingContext, loanId: string, enterpriseId: string | null = null): Promise<Loaded | undefined> {
  const loan = await loadLoan(trx, ctx.tenantId, loanId, { forUpdate: true, enterpriseId })
  if (loan === undefined) return undefined
  const product = await findProduct(trx, ctx.tenantId, loan.productId)
  assert(product !== undefined, 'a loan has its product')
  return { loan, product, gl: await ensureGlAccounts(trx, ctx, loan.state.currency, product.id) }
}

export type Event<S extends string> =
  | { readonly status: 'ok'; readonly loan: LoanRecord; readonly transaction: LoanTransaction }
  | { readonly status: 'loan_not_found' | S }

/** approved → active on its disbursement date: 1201 ← 1001 (P − F), 1201 ← 2401 (F). */
export async function disburseLoan(trx: Tx, ctx: ServicingContext, loanId: string): Promise<Event<'loan_not_approved' | 'value_date_in_future' | 'loan_disbursement_pending'>> {
  const loaded = await loadForChange(trx, ctx, loanId)
  if (loaded === undefined) return { status: 'loan_not_found' }
  const { loan, gl } = loaded
  const transition = transitionLoan(loan.state, { type: 'disburse' })
  if (transition.status !== 'ok') return { status: 'loan_not_approved' }
  // A payout through an external rail reserved the money as a pending transfer on the loan's principal
  // account: while it is unsettled (an unknown outcome included), paying out directly could pay twice.
  const pending = await sql<{ debits_pending: bigint }>`select debits_pending from ledger_accounts where tenant_id = ${ctx.tenantId} and id = ${loan.principalAccountId}`.execute(trx)
  if ((pending.rows[0]?.debits_pending ?? 0n) > 0n) return { status: 'loan_disbursement_pending' }
  const on = loan.state.disbursedOn
  if (compareDates(on, await businessDateOf(trx, ctx.tenantId)) > 0) return { status: 'value_date_in_future' }
  const valueDate = on.toString()
  const net = loan.state.principalMinor - loan.upfrontFeeMinor
  const ids = await postTransfers(trx, ctx, loan.state.currency, [
    ...post(loan.principalAccountId, glAccount(gl, 1001), net, 'disbursement', valueDate),
    ...post(loan.principalAccountId, glAccount(gl, 2401), loan.upfrontFeeMinor, 'disbursement_fee', valueDate),
  ])
  const saved = await saveLoan(trx, ctx.tenantId, loan, { ...loan, state: { ...loan.state, status: transition.loanStatus } }, ctx.now)
  const transaction = await recordTransaction(trx, ctx, saved, 'disbursement', valueDate, loan.state.principalMinor, { netMinor: minor(net), upfrontFeeMinor: minor(loan.upfrontFeeMinor) }, ids)
  return { status: 'ok', loan: saved, transaction }
}

// ---------------------------------------------------------------------------------------------------------------
// Close of business, one loan
// ---------------------------------------------------------------------------------------------------------------

type DayTotals = { accruedMinor: bigint; trueUpMinor: bigint; reservedMinor: bigint; penaltyMinor: bigint; lateFeeMinor: bigint; suspenseMinor: bigint }

/**
 * Runs close of business for one loan from the day after `accruedThroughOn` through `through` (catching up
 * missed days; a closed day is never run again), posts the day's amounts with their value dates and the
 * provision change, and saves. The set-based COB must produce the same state; it posts per product instead.
 */
async function closeLoanThrough(trx: Tx, ctx: ServicingContext, loaded: Loaded, through: Temporal.PlainDate): Promise<LoanRecord> {
  const { loan, product, gl } = loaded
  if (loan.state.status !== 'active' || compareDates(through, loan.state.accruedThroughOn) <= 0) return loan
  const rules = rulesOfProduct(product)
  const postings: Posting[] = []
  const totals: DayTotals = { accruedMinor: 0n, trueUpMinor: 0n, reservedMinor: 0n, penaltyMinor: 0n, lateFeeMinor: 0n, suspenseMinor: 0n }
  // A rescheduled loan is never classified better than the product's restructured floor.
  const closed = closeDays(loan, through, rules, loan.rescheduledOn === null ? null : rules.delinquency.restructuredTierMin)
  for (const d of closed.days) {
    postings.push(...post(glAccount(gl, 4001), glAccount(gl, 1202), d.reservedMinor, 'non_accrual_reserve', d.valueDate))
    postings.push(...post(glAccount(gl, 1202), glAccount(gl, 4001), d.accrualIncomeMinor, 'accrual', d.valueDate))
    postings.push(...post(glAccount(gl, 1204), glAccount(gl, 4003), d.penaltyIncomeMinor, 'penalty', d.valueDate))
    postings.push(...post(glAccount(gl, 1203), glAccount(gl, 4002), d.lateFeeIncomeMinor, 'late_fee', d.valueDate))
    totals.reservedMinor += d.reservedMinor
    totals.accruedMinor += d.accruedMinor
    totals.trueUpMinor += d.trueUpMinor
    totals.suspenseMinor += d.suspenseMinor
    totals.penaltyMinor += d.penaltyMinor
    totals.lateFeeMinor += d.lateFeeMinor
  }
  const { state, classification } = closed
  const suspendedFees = closed.suspendedFeesMinor
  const suspendedPenalties = closed.suspendedPenaltiesMinor
  assert(classification !== null, 'at least one day closed')
  postings.push(...post(glAccount(gl, 5001), glAccount(gl, 1291), classification.provisionMinor - loan.provisionMinor, 'provision', through.toString()))
  const next: LoanRecord = {
    ...loan, state, suspendedFeesMinor: suspendedFees, suspendedPenaltiesMinor: suspendedPenalties, dpd: classification.dpd,
    bucket: classification.bucket, tier: classification.tier, provisionMinor: classification.provisionMinor,
  }
  const ids = await postTransfers(trx, ctx, state.currency, postings)
  const saved = await saveLoan(trx, ctx.tenantId, loan, next, ctx.now)
  if (ids.length > 0) {
    await recordTransaction(trx, ctx, saved, 'close_of_business', through.toString(), 0n, {
      from: loan.state.accruedThroughOn.add({ days: 1 }).toString(), through: through.toString(),
      accruedMinor: minor(totals.accruedMinor), trueUpMinor: minor(totals.trueUpMinor), reservedMinor: minor(totals.reservedMinor),
      penaltyMinor: minor(totals.penaltyMinor), lateFeeMinor: minor(totals.lateFeeMinor), suspenseMinor: minor(totals.suspenseMinor),
      provisionMinor: minor(classification.provisionMinor), dpd: classification.dpd, tier: classification.tier,
    }, ids)
  }
  return saved
}

export type CloseLoanDay =
  | { readonly status: 'ok'; readonly loan: LoanRecord }
  | { readonly status: 'loan_not_found' | 'loan_not_active' }

/**
 * Close of business for one loan through `date` (inclusive), catching up missed days: the per-loan step that
 * tests use now and the COB baseline (a loop over loans) will use. Idempotent: closed days are skipped.
 */
export async function closeLoanDayForLoan(trx: Tx, ctx: ServicingContext, loanId: string, date: Temporal.PlainDate): Promise<CloseLoanDay> {
  const loaded = await loadForChange(trx, ctx, loanId)
  if (loaded === undefined) return { status: 'loan_not_found' }
  if (loaded.loan.state.status !== 'active') return { status: 'loan_not_active' }
  return { status: 'ok', loan: await closeLoanThrough(trx, ctx, loaded, date) }
}

type ValueDateStatus = 'value_date_in_future' | 'value_date_before_last_close'

/**
 * The value date of an event on an active loan: not after the business date, and after the last closed day
 * (a back-dated event that would re-run closed days is refused in this version). The days before it are
 * closed first, so the event sees the loan as of the start of its value date.
 */
async function prepareValueDate(trx: Tx, ctx: ServicingContext, loaded: Loaded, given: string | null): Promise<{ status: 'ok'; loaded: Loaded; on: Temporal.PlainDate } | { status: ValueDateStatus }> {
  const businessDate = await businessDateOf(trx, ctx.tenantId)
  const on = given === null ? businessDate : Temporal.PlainDate.from(given)
  if (compareDates(on, businessDate) > 0) return { status: 'value_date_in_future' }
  if (compareDates(on, loaded.loan.state.accruedThroughOn) <= 0) return { status: 'value_date_before_last_close' }
  const loan = await closeLoanThrough(trx, ctx, loaded, on.subtract({ days: 1 }))
  return { status: 'ok', loaded: { ...loaded, loan }, on }
}

// ---------------------------------------------------------------------------------------------------------------
// Repayment
// ---------------------------------------------------------------------------------------------------------------

export type RepaymentInput = { readonly amountMinor: bigint; readonly valueDate: string | null; readonly enterpriseId: string | null }

/**
 * A repayment received on its value date. Allocated with the product's order (principal first while
 * non-accrual); an amount that covers the pay-off quote settles the loan (interest not yet earned is
 * cancelled, the rest goes to the wallet) and closes it.
 */
export async function repayLoan(
  trx: Tx, ctx: ServicingContext, loanId: string, input: RepaymentInput,
): Promise<Event<'loan_not_active' | 'amount_must_be_positive' | ValueDateStatus | RerunStatus> | { readonly status: RerunStatus; readonly detail: string }> {
  const found = await loadForChange(trx, ctx, loanId, input.enterpriseId)
  if (found === undefined) return { status: 'loan_not_found' }
  if (found.loan.state.status !== 'active') return { status: 'loan_not_active' }
  if (input.amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  // A value date on a day already closed re-runs the loan from that date (DOMAIN.md, Time).
  if (input.valueDate !== null && compareDates(Temporal.PlainDate.from(input.valueDate), found.loan.state.accruedThroughOn) <= 0) {
    return repayBackdated(trx, ctx, found, input.amountMinor, Temporal.PlainDate.from(input.valueDate))
  }
  const prepared = await prepareValueDate(trx, ctx, found, input.valueDate)
  if (prepared.status !== 'ok') return prepared
  const { loaded: { loan, product }, on } = prepared
  const state = loan.state
  const rules = rulesOfProduct(product)

  const { next, overpaymentMinor, settled } = decideRepayment(state, input.amountMinor, on, loan.spec, rules, product.allocationOrder)
  return bookPayment(trx, ctx, prepared.loaded, { before: state, next, amountMinor: input.amountMinor, overpaymentMinor, on, kind: 'repayment', detail: { settled } })
}

/**
 * Books a payment whose allocation is decided (`before` → `next`): the postings by component (suspended
 * income recognised as it is paid), the wallet, the closure and provision release of a repaid loan, the
 * loan row and its servicing transaction. Shared by repayments and prepayments.
 */
async function bookPayment(
  trx: Tx, ctx: ServicingContext, loaded: Loaded,
  payment: { before: LoanState; next: LoanState; amountMinor: bigint; overpaymentMinor: bigint; on: Temporal.PlainDate; kind: 'repayment' | 'prepayment'; detail: Record<string, unknown> },
): Promise<{ status: 'ok'; loan: LoanRecord; transaction: LoanTransaction }> {
  const { loan, gl } = loaded
  const { before: state, next, overpaymentMinor } = payment
  const { allocations, totals, fromSuspense } = splitPayment(state, next, {
    amountMinor: payment.amountMinor, overpaymentMinor, suspendedFeesMinor: loan.suspendedFeesMinor, suspendedPenaltiesMinor: loan.suspendedPenaltiesMinor,
  })
  const valueDate = payment.on.toString()
  const cash = glAccount(gl, 1001)
  const postings = [
    ...post(cash, glAccount(gl, 1204), totals.penalties - fromSuspense.penalties, 'repayment', valueDate),
    ...post(cash, glAccount(gl, 4003), fromSuspense.penalties, 'income_from_suspense', valueDate),
    ...post(cash, glAccount(gl, 1203), totals.fees - fromSuspense.fees, 'repayment', valueDate),
    ...post(cash, glAccount(gl, 4002), fromSuspense.fees, 'income_from_suspense', valueDate),
    ...post(cash, glAccount(gl, 1202), totals.interest - fromSuspense.interest, 'repayment', valueDate),
    ...post(cash, glAccount(gl, 4001), fromSuspense.interest, 'income_from_suspense', valueDate),
    ...post(cash, loan.principalAccountId, totals.principal, 'repayment', valueDate),
    ...post(cash, loan.walletAccountId, overpaymentMinor, 'overpayment', valueDate),
  ]
  let record: LoanRecord = {
    ...loan, state: next, suspendedFeesMinor: loan.suspendedFeesMinor - fromSuspense.fees, suspendedPenaltiesMinor: loan.suspendedPenaltiesMinor - fromSuspense.penalties,
  }
  if (isLoanRepaid(next)) {
    const transition = transitionLoan(next, { type: 'repay_in_full' })
    assert(transition.status === 'ok', 'a repaid active loan closes')
    // A closed loan needs no allowance: release its provision.
    postings.push(...post(glAccount(gl, 1291), glAccount(gl, 5001), loan.provisionMinor, 'provision', valueDate))
    record = { ...record, state: { ...next, status: transition.loanStatus }, dpd: 0, bucket: 'current', tier: 'normal', provisionMinor: 0n }
  }
  const ids = await postTransfers(trx, ctx, state.currency, postings)
  const saved = await saveLoan(trx, ctx.tenantId, loan, record, ctx.now)
  const transaction = await recordTransaction(trx, ctx, saved, payment.kind, valueDate, payment.amountMinor, {
    totalsMinor: componentsJson(totals), overpaymentMinor: minor(overpaymentMinor), fromSuspenseMinor: componentsJson({ ...fromSuspense, principal: 0n }),
    installments: allocations.map((a) => ({ n: a.n, ...componentsJson(a.allocatedMinor) })), ...payment.detail, closed: saved.state.status === 'closed',
  }, ids)
  return { status: 'ok', loan: saved, transaction }
}

/** Kinds of servicing event a re-run can replay; a loan with any other (waiver, write-off, refund, reschedule…) is refused. */
const replayableKinds: readonly LoanTransactionKind[] = ['disbursement', 'repayment', 'prepayment', 'close_of_business']
const transactionsReplayedMax = 100_000

/** JSON of a loan state for equality (bigints, decimals and dates as text). */
const stateText = (state: LoanState) => JSON.stringify(state, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))

type RerunStatus = 'value_date_before_disbursement' | 'value_date_rerun_not_supported' | 'loan_history_not_replayable'

/**
 * A repayment valued on a day already closed: the loan is replayed from its disbursement with the payment on its
 * value date (replay.ts), after checking that the recorded history replays to the stored loan; the books are
 * corrected by the difference, category by category (accrual, reserve, penalties, late fees, what the payments
 * paid, the wallet, the provision), in this one transaction, valued on the payment's date. Later payments may be
 * allocated differently (a penalty that no longer arises, principal repaid earlier): that is the point.
 */
async function repayBackdated(
  trx: Tx, ctx: ServicingContext, loaded: Loaded, amountMinor: bigint, on: Temporal.PlainDate,
): Promise<Event<RerunStatus> | { readonly status: RerunStatus; readonly detail: string }> {
  const { loan, product, gl } = loaded
  if (compareDates(on, loan.state.disbursedOn) < 0) return { status: 'value_date_before_disbursement' }
  const history = await listLoanTransactions(trx, ctx.tenantId, loan.id, transactionsReplayedMax)
  const unsupported = history.find((t) => !replayableKinds.includes(t.kind))
  if (unsupported !== undefined) return { status: 'value_date_rerun_not_supported', detail: `the loan has a ${unsupported.kind} event; only repayments and prepayments are re-run` }
  const payments: ReplayPayment[] = history
    .filter((t) => t.kind === 'repayment' || t.kind === 'prepayment')
    .map((t): ReplayPayment => t.kind === 'prepayment'
      ? { kind: 'prepayment', on: Temporal.PlainDate.from(t.valueDate), amountMinor: t.amountMinor, mode: t.allocation.mode as PrepaymentMode }
      : { kind: 'repayment', on: Temporal.PlainDate.from(t.valueDate), amountMinor: t.amountMinor })
  // By value date; on one date, in the order recorded (the back-dated payment last).
  const byDate = (list: readonly ReplayPayment[]) => list.map((p, i) => ({ p, i })).sort((a, b) => compareDates(a.p.on, b.p.on) || a.i - b.i).map((x) => x.p)
  const start: LoanState = { ...loanFromSchedule(buildSchedule(loan.spec), loan.spec), status: 'active' }
  const context = { spec: loan.spec, rules: rulesOfProduct(product), order: product.allocationOrder }
  const through = loan.state.accruedThroughOn
  const recorded = replayLoan(start, byDate(payments), through, context)
  if (stateText(recorded.state) !== stateText(loan.state) || recorded.suspendedFeesMinor !== loan.suspendedFeesMinor || recorded.suspendedPenaltiesMinor !== loan.suspendedPenaltiesMinor) {
    return { status: 'loan_history_not_replayable', detail: 'the recorded history does not reproduce the stored loan; nothing was changed' }
  }
  const rerun = replayLoan(start, byDate([...payments, { kind: 'repayment', on, amountMinor }]), through, context)
  const delta = (key: (typeof replayBookKeys)[number]) => rerun.books[key] - recorded.books[key]
  const v = on.toString()
  const cash = glAccount(gl, 1001)
  const closedNow = rerun.closedOn !== null
  const classification = rerun.classification
  const provisionMinor = closedNow ? 0n : (classification?.provisionMinor ?? loan.provisionMinor)
  const postings = [
    ...post(glAccount(gl, 4001), glAccount(gl, 1202), delta('reservedMinor'), 'non_accrual_reserve', v),
    ...post(glAccount(gl, 1202), glAccount(gl, 4001), delta('accrualIncomeMinor'), 'accrual', v),
    ...post(glAccount(gl, 1204), glAccount(gl, 4003), delta('penaltyIncomeMinor'), 'penalty', v),
    ...post(glAccount(gl, 1203), glAccount(gl, 4002), delta('lateFeeIncomeMinor'), 'late_fee', v),
    ...post(cash, glAccount(gl, 1204), delta('paidPenaltiesMinor'), 'repayment', v),
    ...post(cash, glAccount(gl, 4003), delta('penaltiesFromSuspenseMinor'), 'income_from_suspense', v),
    ...post(cash, glAccount(gl, 1203), delta('paidFeesMinor'), 'repayment', v),
    ...post(cash, glAccount(gl, 4002), delta('feesFromSuspenseMinor'), 'income_from_suspense', v),
    ...post(cash, glAccount(gl, 1202), delta('paidInterestMinor'), 'repayment', v),
    ...post(cash, glAccount(gl, 4001), delta('interestFromSuspenseMinor'), 'income_from_suspense', v),
    ...post(cash, loan.principalAccountId, delta('paidPrincipalMinor'), 'repayment', v),
    ...post(cash, loan.walletAccountId, delta('overpaymentMinor'), 'overpayment', v),
    ...post(glAccount(gl, 5001), glAccount(gl, 1291), provisionMinor - loan.provisionMinor, 'provision', v),
  ]
  const cashKeys = ['paidPenaltiesMinor', 'penaltiesFromSuspenseMinor', 'paidFeesMinor', 'feesFromSuspenseMinor', 'paidInterestMinor', 'interestFromSuspenseMinor', 'paidPrincipalMinor', 'overpaymentMinor'] as const
  assert(cashKeys.reduce((sum, k) => sum + delta(k), 0n) === amountMinor, 'the re-run receives exactly the payment')
  const current = !closedNow && classification !== null
  const record: LoanRecord = {
    ...loan, state: rerun.state, suspendedFeesMinor: rerun.suspendedFeesMinor, suspendedPenaltiesMinor: rerun.suspendedPenaltiesMinor, provisionMinor,
    dpd: current ? classification.dpd : 0, bucket: current ? classification.bucket : 'current', tier: current ? classification.tier : 'normal',
  }
  const ids = await postTransfers(trx, ctx, loan.state.currency, postings)
  const saved = await saveLoan(trx, ctx.tenantId, loan, record, ctx.now)
  const transaction = await recordTransaction(trx, ctx, saved, 'repayment', v, amountMinor, {
    rerunFrom: v, rerunThrough: through.toString(), adjustmentsMinor: Object.fromEntries(replayBookKeys.map((k) => [k, minor(delta(k))])),
    provisionMinor: minor(provisionMinor), settled: closedNow, closed: saved.state.status === 'closed',
  }, ids)
  return { status: 'ok', loan: saved, transaction }
}

export type PrepaymentInput = RepaymentInput & { readonly mode: PrepaymentMode }

/**
 * A prepayment (提前还款) received on its value date: what is due and the interest accrued so far are paid
 * first, the rest prepays principal and the remaining schedule is re-amortised — `reduce_installment` keeps the
 * due dates and lowers the installment, `reduce_term` keeps the installment and drops the last dates
 * (`applyPrepayment`, the pure core). An amount covering everything settles and closes the loan. Booked like a
 * repayment (same postings); the servicing transaction records the new schedule.
 */
export async function prepayLoan(
  trx: Tx, ctx: ServicingContext, loanId: string, input: PrepaymentInput,
): Promise<Event<'loan_not_active' | 'amount_must_be_positive' | 'prepayment_does_not_exceed_amount_due' | 'prepayment_mode_not_supported' | ValueDateStatus>> {
  const found = await loadForChange(trx, ctx, loanId, input.enterpriseId)
  if (found === undefined) return { status: 'loan_not_found' }
  if (found.loan.state.status !== 'active') return { status: 'loan_not_active' }
  if (input.amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  const prepared = await prepareValueDate(trx, ctx, found, input.valueDate)
  if (prepared.status !== 'ok') return prepared
  const { loaded, on } = prepared
  const state = loaded.loan.state
  const prepayment = applyPrepayment(state, input.amountMinor, on, { mode: input.mode, spec: loaded.loan.spec, rules: rulesOfProduct(loaded.product) })
  if (prepayment.status === 'loan_not_active' || prepayment.status === 'amount_must_be_positive') return { status: prepayment.status }
  if (prepayment.status === 'quote_date_before_last_close') return { status: 'value_date_before_last_close' }
  if (prepayment.status !== 'ok') return { status: prepayment.status }
  return bookPayment(trx, ctx, loaded, {
    before: state, next: prepayment.state, amountMinor: input.amountMinor, overpaymentMinor: prepayment.overpaymentMinor, on, kind: 'prepayment',
    detail: {
      mode: input.mode, prepaidPrincipalMinor: minor(prepayment.prepaidPrincipalMinor), settled: prepayment.repaid,
      schedule: prepayment.rows.map((r) => ({ dueOn: r.dueOn.toString(), principalMinor: minor(r.principalMinor), interestMinor: minor(r.interestMinor) })),
    },
  })
}

export type RescheduleInput = {
  readonly installments: number
  readonly annualRatePct: string | null
  readonly firstRepaymentOn: string | null
  readonly graceOnPrincipalPeriods: number
  readonly valueDate: string | null
}

/**
 * Reschedules an active loan from its value date (loans/reschedule.ts: unpaid principal, overdue and future, over
 * a new schedule; overdue charges stay owed). Nothing is posted: the receivables do not change, only when they
 * fall due. The loan keeps at least the product's restructured tier from now on; the servicing transaction
 * records the previous and the new schedule.
 */
export async function rescheduleLoan(
  trx: Tx, ctx: ServicingContext, loanId: string, input: RescheduleInput,
): Promise<Event<'loan_not_active' | 'rate_above_cap' | 'nothing_to_reschedule' | 'reschedule_after_advance_charges' | 'invalid_reschedule_terms' | ValueDateStatus> | { status: 'invalid_reschedule_terms'; detail: string }> {
  const found = await loadForChange(trx, ctx, loanId)
  if (found === undefined) return { status: 'loan_not_found' }
  if (found.loan.state.status !== 'active') return { status: 'loan_not_active' }
  const prepared = await prepareValueDate(trx, ctx, found, input.valueDate)
  if (prepared.status !== 'ok') return prepared
  const { loaded: { loan, product }, on } = prepared
  const rate = input.annualRatePct === null ? null : new RateDecimal(input.annualRatePct)
  if (rate !== null && rate.greaterThan(product.annualRateCapPct)) return { status: 'rate_above_cap' }
  const rules = rulesOfProduct(product)
  const result = rescheduleLoanState(loan.state, loan.spec, on, {
    installments: input.installments, annualRatePct: rate, firstRepaymentOn: input.firstRepaymentOn === null ? null : Temporal.PlainDate.from(input.firstRepaymentOn),
    graceOnPrincipalPeriods: input.graceOnPrincipalPeriods,
  }, rules)
  if (result.status === 'quote_date_before_last_close') return { status: 'value_date_before_last_close' }
  if (result.status === 'invalid_reschedule_terms') return { status: 'invalid_reschedule_terms', detail: result.reason ?? 'invalid terms' }
  if (result.status !== 'ok') return { status: result.status }
  const tier = worseTier(loan.tier, rules.delinquency.restructuredTierMin)
  const record: LoanRecord = { ...loan, state: result.state, spec: { ...loan.spec, annualRatePct: result.spec.annualRatePct }, rescheduledOn: on, tier }
  const saved = await saveLoan(trx, ctx.tenantId, loan, record, ctx.now)
  const transaction = await recordTransaction(trx, ctx, saved, 'reschedule', on.toString(), 0n, {
    movedPrincipalMinor: minor(result.movedPrincipalMinor), installments: input.installments, annualRatePct: result.spec.annualRatePct.toFixed(),
    graceOnPrincipalPeriods: input.graceOnPrincipalPeriods, previousSpec: specToJson(loan.spec),
    previousSchedule: loan.state.installments.map((i) => ({ n: i.n, dueOn: i.dueOn.toString(), dueMinor: componentsJson(i.dueMinor) })),
    schedule: result.rows.map((r) => ({ dueOn: r.dueOn.toString(), principalMinor: minor(r.principalMinor), interestMinor: minor(r.interestMinor) })),
  }, [])
  return { status: 'ok', loan: saved, transaction }
}

// ---------------------------------------------------------------------------------------------------------------
// Pay-off quote (read only)
// ---------------------------------------------------------------------------------------------------------------

export type LoanPayoffQuote = { readonly status: 'loan_not_found' } | { readonly status: 'ok'; readonly on: string; readonly quote: Extract<PayoffQuote, { status: 'ok' }> } | { readonly status: 'loan_not_active' | 'quote_date_before_last_close' }

/** The amount that settles the loan on `on` (default: the business date), from the stored state projected in memory. */
export async function quoteLoanPayoff(trx: Tx, ctx: ServicingContext, loanId: string, options: { on: string | null; enterpriseId: string | null }): Promise<LoanPayoffQuote> {
  const loan = await loadLoan(trx, ctx.tenantId, loanId, { forUpdate: false, enterpriseId: options.enterpriseId })
  if (loan === undefined) return { status: 'loan_not_found' }
  const product = await findProduct(trx, ctx.tenantId, loan.productId)
  assert(product !== undefined, 'a loan has its product')
  const on = options.on ?? (await businessDateOf(trx, ctx.tenantId)).toString()
  const quote = quotePayoff(loan.state, Temporal.PlainDate.from(on), rulesOfProduct(product))
  if (quote.status !== 'ok') return quote
  return { status: 'ok', on, quote }
}

// ---------------------------------------------------------------------------------------------------------------
// Waiver, write-off, recovery, refund
// ---------------------------------------------------------------------------------------------------------------

export type WaiverInput = { readonly n: number; readonly component: Component; readonly amountMinor: bigint; readonly valueDate: string | null }

/**
 * Waives part of an installment's interest, fees or penalties, reversing the income booked for it. Interest can
 * be waived only as far as it has been recognised (accrued or due): interest not yet earned is not on the books.
 */
export async function waiveLoanCharges(trx: Tx, ctx: ServicingContext, loanId: string, input: WaiverInput): Promise<Event<'loan_not_active' | 'amount_must_be_positive' | 'principal_cannot_be_waived' | 'installment_not_found' | 'exceeds_outstanding' | ValueDateStatus>> {
  const found = await loadForChange(trx, ctx, loanId)
  if (found === undefined) return { status: 'loan_not_found' }
  const early = waiveCharges(found.loan.state, input)
  if (early.status !== 'ok' && early.status !== 'exceeds_outstanding') return { status: early.status }
  const prepared = await prepareValueDate(trx, ctx, found, input.valueDate)
  if (prepared.status !== 'ok') return prepared
  const { loaded: { loan, gl }, on } = prepared
  const waiver = waiveCharges(loan.state, input)
  if (waiver.status !== 'ok') return { status: waiver.status }
  const installment = loan.state.installments.find((i) => i.n === input.n)
  assert(installment !== undefined, 'the waived installment exists')
  if (input.component === 'interest' && input.amountMinor > measureRecognisedInterestOf(loan.state, installment)) return { status: 'exceeds_outstanding' }
  const valueDate = on.toString()
  let postings: Posting[]
  let record: LoanRecord = { ...loan, state: waiver.state }
  let fromSuspenseMinor = waiver.fromSuspenseMinor
  switch (input.component) {
    case 'interest':
      postings = post(glAccount(gl, 4001), glAccount(gl, 1202), input.amountMinor - waiver.fromSuspenseMinor, 'waiver', valueDate)
      break
    case 'fees':
      fromSuspenseMinor = minBigint(input.amountMinor, loan.suspendedFeesMinor)
      record = { ...record, suspendedFeesMinor: loan.suspendedFeesMinor - fromSuspenseMinor }
      postings = post(glAccount(gl, 4002), glAccount(gl, 1203), input.amountMinor - fromSuspenseMinor, 'waiver', valueDate)
      break
    case 'penalties':
      fromSuspenseMinor = minBigint(input.amountMinor, loan.suspendedPenaltiesMinor)
      record = { ...record, suspendedPenaltiesMinor: loan.suspendedPenaltiesMinor - fromSuspenseMinor }
      postings = post(glAccount(gl, 4003), glAccount(gl, 1204), input.amountMinor - fromSuspenseMinor, 'waiver', valueDate)
      break
    case 'principal':
      return { status: 'principal_cannot_be_waived' }
  }
  const ids = await postTransfers(trx, ctx, loan.state.currency, postings)
  const saved = await saveLoan(trx, ctx.tenantId, loan, record, ctx.now)
  const transaction = await recordTransaction(trx, ctx, saved, 'waiver', valueDate, input.amountMinor, { n: input.n, component: input.component, fromSuspenseMinor: minor(fromSuspenseMinor) }, ids)
  return { status: 'ok', loan: saved, transaction }
}

/**
 * Writes the loan off (核销): the provision is brought to the outstanding principal (5001 ← 1291), the principal
 * is charged to the allowance (1291 ← 1201), and the interest, fees and penalties on the books are reversed
 * (4001 / 4002 / 4003 ← 1202 / 1203 / 1204); what was off-balance needs no posting.
 */
export async function writeOffLoanBalance(trx: Tx, ctx: ServicingContext, loanId: string, input: { readonly valueDate: string | null }): Promise<Event<'loan_not_active' | ValueDateStatus>> {
  const found = await loadForChange(trx, ctx, loanId)
  if (found === undefined) return { status: 'loan_not_found' }
  if (found.loan.state.status !== 'active') return { status: 'loan_not_active' }
  const prepared = await prepareValueDate(trx, ctx, found, input.valueDate)
  if (prepared.status !== 'ok') return prepared
  const { loaded: { loan, gl }, on } = prepared
  const books = measureSubledgerBalances(loan)
  const writeOff = writeOffLoan(loan.state)
  if (writeOff.status !== 'ok') return writeOff
  assert(writeOff.writtenOffMinor.principal === books.principalMinor, 'the principal written off is the 1201 balance')
  const valueDate = on.toString()
  const postings = [
    ...post(glAccount(gl, 5001), glAccount(gl, 1291), books.principalMinor - loan.provisionMinor, 'provision', valueDate),
    ...post(glAccount(gl, 1291), loan.principalAccountId, books.principalMinor, 'write_off', valueDate),
    ...post(glAccount(gl, 4001), glAccount(gl, 1202), books.interestReceivableMinor, 'write_off', valueDate),
    ...post(glAccount(gl, 4002), glAccount(gl, 1203), books.feesReceivableMinor, 'write_off', valueDate),
    ...post(glAccount(gl, 4003), glAccount(gl, 1204), books.penaltiesReceivableMinor, 'write_off', valueDate),
  ]
  const record: LoanRecord = { ...loan, state: writeOff.state, suspendedFeesMinor: 0n, suspendedPenaltiesMinor: 0n, tier: 'loss', provisionMinor: 0n }
  const ids = await postTransfers(trx, ctx, loan.state.currency, postings)
  const saved = await saveLoan(trx, ctx.tenantId, loan, record, ctx.now)
  const transaction = await recordTransaction(trx, ctx, saved, 'write_off', valueDate, books.principalMinor, {
    writtenOffMinor: componentsJson(writeOff.writtenOffMinor),
    reversedMinor: { interest: minor(books.interestReceivableMinor), fees: minor(books.feesReceivableMinor), penalties: minor(books.penaltiesReceivableMinor) },
    provisionTopUpMinor: minor(books.principalMinor - loan.provisionMinor),
  }, ids)
  return { status: 'ok', loan: saved, transaction }
}

async function valueDateNotAfterBusinessDate(trx: Tx, ctx: ServicingContext, given: string | null): Promise<string | null> {
  const businessDate = await businessDateOf(trx, ctx.tenantId)
  const on = given === null ? businessDate : Temporal.PlainDate.from(given)
  return compareDates(on, businessDate) > 0 ? null : on.toString()
}

/** Cash received on a written-off loan: 1001 ← 4004. */
export async function recordLoanRecovery(trx: Tx, ctx: ServicingContext, loanId: string, input: { readonly amountMinor: bigint; readonly valueDate: string | null }): Promise<Event<'loan_not_written_off' | 'amount_must_be_positive' | 'value_date_in_future'>> {
  const found = await loadForChange(trx, ctx, loanId)
  if (found === undefined) return { status: 'loan_not_found' }
  const { loan, gl } = found
  const recovery = recordRecovery(loan.state, input.amountMinor)
  if (recovery.status !== 'ok') return recovery
  const valueDate = await valueDateNotAfterBusinessDate(trx, ctx, input.valueDate)
  if (valueDate === null) return { status: 'value_date_in_future' }
  const ids = await postTransfers(trx, ctx, loan.state.currency, post(glAccount(gl, 1001), glAccount(gl, 4004), input.amountMinor, 'recovery', valueDate))
  const saved = await saveLoan(trx, ctx.tenantId, loan, { ...loan, state: recovery.state }, ctx.now)
  const transaction = await recordTransaction(trx, ctx, saved, 'recovery', valueDate, input.amountMinor, { recoveredTotalMinor: minor(recovery.state.recoveredMinor) }, ids)
  return { status: 'ok', loan: saved, transaction }
}

/** Pays the borrower's wallet back (all of it unless an amount is given): 2201 ← 1001. */
export async function refundOverpayment(trx: Tx, ctx: ServicingContext, loanId: string, input: { readonly amountMinor: bigint | null; readonly valueDate: string | null }): Promise<Event<'amount_must_be_positive' | 'exceeds_overpayment' | 'value_date_in_future'>> {
  const found = await loadForChange(trx, ctx, loanId)
  if (found === undefined) return { status: 'loan_not_found' }
  const { loan, gl } = found
  const amountMinor = input.amountMinor ?? loan.state.overpaymentMinor
  if (amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  if (amountMinor > loan.state.overpaymentMinor) return { status: 'exceeds_overpayment' }
  const valueDate = await valueDateNotAfterBusinessDate(trx, ctx, input.valueDate)
  if (valueDate === null) return { status: 'value_date_in_future' }
  const ids = await postTransfers(trx, ctx, loan.state.currency, post(loan.walletAccountId, glAccount(gl, 1001), amountMinor, 'refund', valueDate))
  const saved = await saveLoan(trx, ctx.tenantId, loan, { ...loan, state: { ...loan.state, overpaymentMinor: loan.state.overpaymentMinor - amountMinor } }, ctx.now)
  const transaction = await recordTransaction(trx, ctx, saved, 'refund', valueDate, amountMinor, { walletAfterMinor: minor(saved.state.overpaymentMinor) }, ids)
  return { status: 'ok', loan: saved, transaction }
}

// ---------------------------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------------------------

export type LoanAccountBalance = { readonly id: string; readonly code: number; readonly debitsPostedMinor: bigint; readonly creditsPostedMinor: bigint }

/** A servicing transfer as the loan detail shows it. */
export type LoanPosting = {
  readonly id: string
  readonly debitAccountId: string
  readonly creditAccountId: string
  readonly amountMinor: bigint
  readonly code: number
  readonly valueDate: string
  readonly postedAt: Date
  readonly journalIndex: bigint
}
type PostingRow = { id: string; debit_account_id: string; credit_account_id: string; amount: bigint; code: number; value_date: string; posted_at: Date; journal_index: bigint }

export type LoanDetail = {
  readonly loan: LoanRecord
  readonly productName: string
  readonly transactions: readonly LoanTransaction[]
  /** The ledger transfers of the listed transactions, in journal order. */
  readonly postings: readonly LoanPosting[]
  /** The loan's own accounts (1201, 2201). */
  readonly accounts: readonly LoanAccountBalance[]
  /** Cursor for the next older page of transactions (`readLoanTransactions`), null when these are the oldest. */
  readonly transactionsBefore: string | null
}

export type LoanTransactionsPage = {
  readonly transactions: readonly LoanTransaction[]
  readonly postings: readonly LoanPosting[]
  readonly transactionsBefore: string | null
}

/**
 * A page of the loan's transactions, newest first by page (each page oldest first), with their ledger
 * postings: `limit` transactions older than `before` (the newest when null). Two queries.
 */
async function readTransactionsPage(trx: Tx, tenantId: string, loanId: string, limit: number, before: string | null): Promise<LoanTransactionsPage> {
  const fetched = await listLoanTransactions(trx, tenantId, loanId, limit + 1, before)
  const transactions = fetched.length > limit ? fetched.slice(1) : fetched
  const transferIds = transactions.flatMap((t) => t.transferIds)
  const transfers = transferIds.length === 0 ? [] : (await sql<PostingRow>`
    select id, debit_account_id, credit_account_id, amount, code, value_date, posted_at, journal_index from ledger_transfers
    where tenant_id = ${tenantId} and id = any(${`{${transferIds.join(',')}}`}::uuid[]) order by journal_index`.execute(trx)).rows
  return {
    transactions,
    postings: transfers.map((row) => ({
      id: row.id, debitAccountId: row.debit_account_id, creditAccountId: row.credit_account_id, amountMinor: row.amount, code: row.code,
      valueDate: row.value_date, postedAt: row.posted_at, journalIndex: row.journal_index,
    })),
    transactionsBefore: fetched.length > limit ? (transactions[0]?.id ?? null) : null,
  }
}

/**
 * Loan detail: the loan with its schedule, the newest `transactionsMax` transactions with their postings (older
 * ones page through `readLoanTransactions`), the loan's accounts and the product's name — six queries
 * whatever the loan's age (a loan closed daily for years has thousands of transactions).
 */
export async function readLoanDetail(trx: Tx, tenantId: string, loanId: string, options: { enterpriseId: string | null; transactionsMax: number }): Promise<LoanDetail | undefined> {
  const loan = await loadLoan(trx, tenantId, loanId, { forUpdate: false, enterpriseId: options.enterpriseId })
  if (loan === undefined) return undefined
  const [page, accounts, product] = await Promise.all([
    readTransactionsPage(trx, tenantId, loanId, options.transactionsMax, null),
    sql<{ id: string; code: number; debits_posted: bigint; credits_posted: bigint }>`
      select id, code, debits_posted, credits_posted from ledger_accounts where tenant_id = ${tenantId} and id in (${loan.principalAccountId}, ${loan.walletAccountId}) order by code`.execute(trx),
    sql<{ name: string }>`select name from loan_products where tenant_id = ${tenantId} and id = ${loan.productId}`.execute(trx),
  ])
  return {
    loan,
    productName: product.rows[0]?.name ?? '',
    ...page,
    accounts: accounts.rows.map((row) => ({ id: row.id, code: row.code, debitsPostedMinor: row.debits_posted, creditsPostedMinor: row.credits_posted })),
  }
}

/** A page of a loan's transactions older than `before` (see `readLoanDetail`); undefined when the loan is not visible. */
export async function readLoanTransactions(trx: Tx, tenantId: string, loanId: string, options: { enterpriseId: string | null; limit: number; before: string | null }): Promise<LoanTransactionsPage | undefined> {
  const scope = options.enterpriseId === null ? sql`` : sql` and enterprise_id = ${options.enterpriseId}`
  const visible = await sql`select 1 from loans where tenant_id = ${tenantId} and id = ${loanId}${scope}`.execute(trx)
  if (visible.rows.length === 0) return undefined
  return readTransactionsPage(trx, tenantId, loanId, options.limit, options.before)
}

/**
 * @module flows/credit-line
 * Credit lines (授信, issue 6 item 4): an approved limit per enterprise and product, drawn without a new full
 * decision, re-evaluated periodically from fresh data.
 *
 * - **Opening.** An application of kind `credit_line` goes through the same decision as a loan
 *   (flows/apply.ts: features as of the business date → champion score → active strategy, stored with its
 *   evidence). An approval opens a line in the same transaction: limit = the priced amount (the request, at
 *   most the strategy's limit), the nominal rate of the pricing grid, the strategy's allowed terms (those the
 *   product can book), open for `lineValidityMonths`. A referral waits for a reviewer (flows/review.ts), who
 *   may open it.
 * - **Drawing.** A draw checks the line alone, never the strategy: the line is active and not expired, the
 *   amount fits what is available (limit − principal outstanding of the line's loans: repayments restore it),
 *   the term is allowed, and the enterprise has nothing past due. Then, like accepting an offer, one
 *   transaction originates the loan (linked to the line) and reserves the money with a pending transfer, the
 *   payout rail is called outside any transaction, and a second transaction posts or voids it; an unknown
 *   outcome stays pending for `reconcilePayouts`. The line row is locked for the first transaction, so two
 *   concurrent draws cannot both spend the same availability.
 * - **Re-evaluation.** `reviewCreditLines` re-decides every open line last reviewed `reviewEveryDays` or more
 *   before the business date, with fresh features, as a stored decision of kind `credit_line_review` (amount
 *   asked: the current limit; term: the longest allowed). Approved → the new limit is what is drawn plus the
 *   headroom the strategy gives now (its limit formula already subtracts existing exposure and debt service),
 *   capped by the product's maximum: raised, lowered or unchanged, and renewed for `lineValidityMonths`; a frozen
 *   line is unfrozen. Declined → frozen (no new draws; the loans already drawn run on). Referred → unchanged,
 *   recorded. Every change is a `credit_line_events` row with the reasons.
 */
import { sql, type Kysely } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import type { Actor } from '../access/index.ts'
import { assert } from '../core/assert.ts'
import type { Clock } from '../core/clock.ts'
import type { IdSource } from '../core/ids.ts'
import { RateDecimal } from '../core/rate.ts'
import type { Currency } from '../core/money.ts'
import type { CreditDeps } from '../credit/index.ts'
import { inTenant, type Tx } from '../db/database.ts'
import type { DB } from '../db/schema.ts'
import { convertMajorToMinor, type DecisionReason } from '../decisions/index.ts'
import { findProduct, loadLoan, originateLoan, reserveDisbursement, type LoanProduct, type ServicingContext } from '../loans/index.ts'
import { callRail, readPayout, settlePayout, type PayoutDeps, type PayoutView } from './accept-offer.ts'
import { actorLabel, applyForLoan, priceOffer, type ApplicationView, type OfferView } from './apply.ts'

export const lineValidityMonths = 12
export const reviewEveryDays = 30
export const creditLineStatuses = ['active', 'frozen', 'closed'] as const
export type CreditLineStatus = (typeof creditLineStatuses)[number]

export type CreditLineEvent = {
  readonly id: string
  readonly action: string
  readonly businessDate: string
  readonly fromLimitMinor: bigint | null
  readonly toLimitMinor: bigint | null
  readonly applicationId: string | null
  readonly loanId: string | null
  readonly amountMinor: bigint | null
  readonly reasons: readonly unknown[]
  readonly actor: string
  readonly at: Date
}

export type CreditLineView = {
  readonly id: string
  readonly enterpriseId: string
  readonly productId: string
  readonly applicationId: string
  readonly currency: Currency
  readonly limitMinor: bigint
  readonly drawnMinor: bigint
  readonly availableMinor: bigint
  readonly annualRatePct: string
  readonly termsAllowed: readonly number[]
  readonly status: CreditLineStatus
  /** Past its expiry date (business date): no new draws until a review renews it. */
  readonly expired: boolean
  /** The tenant's business date when the line was read (what `expired` was judged against). */
  readonly businessDate: string
  readonly openedOn: string
  readonly expiresOn: string
  readonly lastReviewedOn: string
  readonly history: readonly CreditLineEvent[]
}

type LineRow = {
  id: string; enterprise_id: string; product_id: string; application_id: string; currency: Currency; limit_minor: string; annual_rate_pct: string; terms_allowed: number[]
  status: CreditLineStatus; opened_on: string; expires_on: string; last_reviewed_on: string; drawn: string; business_date: string
}
type EventRow = {
  id: string; action: string; business_date: string; from_limit_minor: string | null; to_limit_minor: string | null; application_id: string | null; loan_id: string | null
  amount_minor: string | null; reasons: unknown[]; actor: string; at: Date
}

// Drawn = principal outstanding of the line's active loans, plus approved ones whose payout is not known to
// have failed (their money is reserved or may have left); a draw whose payout failed holds nothing.
const lineColumns = sql.raw(`c.id, c.enterprise_id, c.product_id, c.application_id, c.currency, c.limit_minor::text as limit_minor, c.annual_rate_pct::text as annual_rate_pct,
  c.terms_allowed, c.status, c.opened_on::text as opened_on, c.expires_on::text as expires_on, c.last_reviewed_on::text as last_reviewed_on,
  (select business_date::text from tenants t where t.id = c.tenant_id) as business_date,
  (select coalesce(sum(case when l.status = 'approved' then
       (case when exists (select 1 from payouts p where p.tenant_id = l.tenant_id and p.loan_id = l.id and p.status = 'failed') then 0 else l.principal_minor end) else
     (select coalesce(sum(i.principal_due - i.principal_paid - i.principal_waived), 0) from loan_installments i where i.tenant_id = l.tenant_id and i.loan_id = l.id) end), 0)
   from loans l where l.tenant_id = c.tenant_id and l.credit_line_id = c.id and l.status in ('approved', 'active'))::text as drawn`)

const optionalBigint = (value: string | null): bigint | null => (value === null ? null : BigInt(value))

function toLineView(row: LineRow, history: readonly CreditLineEvent[]): CreditLineView {
  const limitMinor = BigInt(row.limit_minor)
  const drawnMinor = BigInt(row.drawn)
  const available = limitMinor - drawnMinor
  return {
    id: row.id, enterpriseId: row.enterprise_id, productId: row.product_id, applicationId: row.application_id, currency: row.currency, limitMinor, drawnMinor,
    availableMinor: row.status === 'active' && available > 0n ? available : 0n, annualRatePct: new RateDecimal(row.annual_rate_pct).toFixed(), termsAllowed: row.terms_allowed, status: row.status,
    expired: row.business_date > row.expires_on, businessDate: row.business_date, openedOn: row.opened_on, expiresOn: row.expires_on, lastReviewedOn: row.last_reviewed_on, history,
  }
}

async function readHistory(trx: Tx, lineId: string): Promise<CreditLineEvent[]> {
  const rows = await sql<EventRow>`
    select id, action, business_date::text as business_date, from_limit_minor::text as from_limit_minor, to_limit_minor::text as to_limit_minor, application_id, loan_id,
      amount_minor::text as amount_minor, reasons, actor, at
    from credit_line_events where credit_line_id = ${lineId} order by id`.execute(trx)
  return rows.rows.map((r) => ({
    id: r.id, action: r.action, businessDate: r.business_date, fromLimitMinor: optionalBigint(r.from_limit_minor), toLimitMinor: optionalBigint(r.to_limit_minor),
    applicationId: r.application_id, loanId: r.loan_id, amountMinor: optionalBigint(r.amount_minor), reasons: r.reasons, actor: r.actor, at: r.at,
  }))
}

/** A line with its history; `enterpriseId` scopes a borrower to its own (another's reads as missing). */
export async function readCreditLine(trx: Tx, id: string, scope: { enterpriseId: string | null }, options: { forUpdate?: boolean } = {}): Promise<CreditLineView | undefined> {
  const row = (await sql<LineRow>`select ${lineColumns} from credit_lines c where c.id = ${id} ${sql.raw(options.forUpdate === true ? 'for update' : '')}`.execute(trx)).rows[0]
  if (row === undefined || (scope.enterpriseId !== null && scope.enterpriseId !== row.enterprise_id)) return undefined
  return toLineView(row, await readHistory(trx, id))
}

export type CreditLinePage = { readonly items: readonly CreditLineView[]; readonly nextCursor: string | null }

/** Lines newest first, by enterprise and status; the history is left out of lists. */
export async function listCreditLines(trx: Tx, filter: { enterpriseId: string | null; status: CreditLineStatus | null; cursor: string | null; limit: number }): Promise<CreditLinePage> {
  const rows = await sql<LineRow>`
    select ${lineColumns} from credit_lines c
    where (${filter.enterpriseId}::uuid is null or c.enterprise_id = ${filter.enterpriseId}::uuid)
      and (${filter.status}::text is null or c.status = ${filter.status}::text)
      and (${filter.cursor}::uuid is null or c.id < ${filter.cursor}::uuid)
    order by c.id desc limit ${filter.limit + 1}`.execute(trx)
  const page = rows.rows.slice(0, filter.limit)
  return { items: page.map((r) => toLineView(r, [])), nextCursor: rows.rows.length > filter.limit ? (page.at(-1)?.id ?? null) : null }
}

type EventInput = Omit<CreditLineEvent, 'id' | 'at' | 'reasons'> & { readonly reasons?: readonly unknown[] }

async function appendEvent(trx: Tx, ctx: { tenantId: string; ids: IdSource; now: Date }, lineId: string, event: EventInput): Promise<void> {
  await sql`
    insert into credit_line_events (tenant_id, id, credit_line_id, action, business_date, from_limit_minor, to_limit_minor, application_id, loan_id, amount_minor, reasons, actor, at)
    values (${ctx.tenantId}, ${ctx.ids.next()}, ${lineId}, ${event.action}, ${event.businessDate}, ${event.fromLimitMinor?.toString() ?? null}, ${event.toLimitMinor?.toString() ?? null},
      ${event.applicationId}, ${event.loanId}, ${event.amountMinor?.toString() ?? null}, ${JSON.stringify(event.reasons ?? [])}::jsonb, ${event.actor}, ${ctx.now})`.execute(trx)
}

const plusMonths = (date: string, months: number) => Temporal.PlainDate.from(date).add({ months }).toString()

/** The terms the line allows: the strategy's allowed terms the product can book (never empty: the decided term is one). */
function allowedTerms(product: LoanProduct, strategyTerms: readonly number[], decidedTerm: number): number[] {
  const terms = strategyTerms.filter((m) => m >= product.installmentsMin && m <= product.installmentsMax)
  if (!terms.includes(decidedTerm)) terms.push(decidedTerm)
  return terms.sort((a, b) => a - b)
}

export type OpenLineInput = {
  readonly tenantId: string
  readonly application: ApplicationView
  readonly terms: OfferView
  readonly strategyTerms: readonly number[]
  readonly actor: Actor
  readonly reasons?: readonly unknown[]
}

export type OpenLineResult = { readonly status: 'ok'; readonly line: CreditLineView } | { readonly status: 'credit_line_exists'; readonly lineId: string }

/** Opens a line from approved, priced terms (an engine approval or a reviewer's), in the caller's transaction. */
export async function openCreditLine(trx: Tx, ctx: { ids: IdSource; now: Date }, input: OpenLineInput): Promise<OpenLineResult> {
  const product = await findProduct(trx, input.tenantId, input.application.productId)
  assert(product !== undefined, 'the application names a product')
  const existing = (await sql<{ id: string }>`
    select id from credit_lines where enterprise_id = ${input.application.enterpriseId} and product_id = ${product.id} and status <> 'closed'`.execute(trx)).rows[0]
  if (existing !== undefined) return { status: 'credit_line_exists', lineId: existing.id }
  const id = ctx.ids.next()
  const openedOn = input.application.businessDate
  const terms = allowedTerms(product, input.strategyTerms, input.terms.termMonths)
  await sql`
    insert into credit_lines (tenant_id, id, enterprise_id, product_id, application_id, currency, limit_minor, annual_rate_pct, terms_allowed, status, opened_on, expires_on,
      last_reviewed_on, created_at, updated_at)
    values (${input.tenantId}, ${id}, ${input.application.enterpriseId}, ${product.id}, ${input.application.id}, ${product.currency}, ${input.terms.amountMinor.toString()},
      ${input.terms.annualRatePct}::numeric, ${terms}::integer[], 'active', ${openedOn}, ${plusMonths(openedOn, lineValidityMonths)}, ${openedOn}, ${ctx.now}, ${ctx.now})`.execute(trx)
  await appendEvent(trx, { tenantId: input.tenantId, ...ctx }, id, {
    action: 'opened', businessDate: openedOn, fromLimitMinor: null, toLimitMinor: input.terms.amountMinor, applicationId: input.application.id, loanId: null, amountMinor: null,
    actor: actorLabel(input.actor), reasons: input.reasons ?? [],
  })
  const line = await readCreditLine(trx, id, { enterpriseId: null })
  assert(line !== undefined)
  return { status: 'ok', line }
}

export type CreditLineApplication =
  | { readonly status: 'ok'; readonly application: ApplicationView; readonly line: CreditLineView | null }
  | { readonly status: 'credit_line_exists'; readonly detail: string }
  | Exclude<Awaited<ReturnType<typeof applyForLoan>>, { status: 'ok' }>

/**
 * Applies for a credit line: the full decision (kind `credit_line`); an approval opens the line in the same
 * transaction. An enterprise with an open line on the product is answered `credit_line_exists` before any
 * decision is made (its line is reviewed periodically instead).
 */
export async function applyForCreditLine(trx: Tx, deps: CreditDeps, input: Omit<Parameters<typeof applyForLoan>[2], 'kind' | 'creditLineId'>): Promise<CreditLineApplication> {
  const existing = (await sql<{ id: string }>`
    select id from credit_lines where enterprise_id = ${input.enterpriseId} and product_id = ${input.productId} and status <> 'closed'`.execute(trx)).rows[0]
  if (existing !== undefined) return { status: 'credit_line_exists', detail: `the enterprise already has credit line ${existing.id} on this product` }
  const decided = await applyForLoan(trx, deps, { ...input, kind: 'credit_line' })
  if (decided.status !== 'ok') return decided
  if (decided.terms === null) return { status: 'ok', application: decided.application, line: null }
  const opened = await openCreditLine(trx, { ids: deps.ids, now: deps.clock.now() }, {
    tenantId: input.tenantId, application: decided.application, terms: decided.terms, strategyTerms: decided.strategyTerms, actor: input.actor,
  })
  assert(opened.status === 'ok', 'no open line was checked above, in this transaction')
  return { status: 'ok', application: decided.application, line: opened.line }
}

export type DrawInput = {
  readonly tenantId: string
  readonly creditLineId: string
  readonly amountMinor: bigint
  readonly termMonths: number
  /** A borrower's own enterprise (scope), or null for staff. */
  readonly enterpriseId: string | null
  readonly actor: Actor
}

export const drawRefusals = ['credit_line_not_found', 'credit_line_frozen', 'credit_line_closed', 'credit_line_expired', 'credit_line_insufficient', 'term_not_allowed', 'credit_line_past_due', 'draw_outside_product'] as const
export type DrawRefusal = (typeof drawRefusals)[number]

export type DrawResult =
  | { readonly status: 'ok'; readonly line: CreditLineView; readonly loan: { readonly id: string; readonly status: string }; readonly payout: PayoutView }
  | { readonly status: DrawRefusal; readonly detail: string }

type Reserved = { readonly lineId: string; readonly loanId: string; readonly enterpriseId: string; readonly payout: PayoutView }

async function reserveDraw(trx: Tx, ctx: ServicingContext, rail: string, input: DrawInput): Promise<Reserved | Exclude<DrawResult, { status: 'ok' }>> {
  const line = await readCreditLine(trx, input.creditLineId, { enterpriseId: input.enterpriseId }, { forUpdate: true })
  if (line === undefined) return { status: 'credit_line_not_found', detail: 'no such credit line' }
  if (line.status === 'closed') return { status: 'credit_line_closed', detail: 'the credit line is closed' }
  if (line.status === 'frozen') return { status: 'credit_line_frozen', detail: 'the credit line is frozen after its last review; no new draws until it is reviewed again' }
  if (line.expired) return { status: 'credit_line_expired', detail: `the credit line expired on ${line.expiresOn}` }
  if (!line.termsAllowed.includes(input.termMonths)) return { status: 'term_not_allowed', detail: `the line allows terms of ${line.termsAllowed.join(', ')} months` }
  if (input.amountMinor > line.availableMinor) return { status: 'credit_line_insufficient', detail: `${line.availableMinor} ${line.currency} minor units are available` }
  const pastDue = (await sql<{ n: number }>`select count(*)::int as n from loans where enterprise_id = ${line.enterpriseId} and status = 'active' and dpd > 0`.execute(trx)).rows[0]?.n ?? 0
  if (pastDue > 0) return { status: 'credit_line_past_due', detail: 'a loan of the enterprise is past due; repay it before drawing' }
  const product = await findProduct(trx, ctx.tenantId, line.productId)
  assert(product !== undefined)
  const businessDate = line.businessDate
  const priced = priceOffer(product, { amountMinor: input.amountMinor, annualRatePct: line.annualRatePct, termMonths: input.termMonths, disbursedOn: businessDate, capPct: product.annualRateCapPct })
  if (priced.status !== 'ok') return { status: 'draw_outside_product', detail: `the product cannot book this draw (${priced.status})` }
  const origination = await originateLoan(trx, ctx, {
    productId: line.productId, enterpriseId: line.enterpriseId, principalMinor: input.amountMinor, annualRatePct: line.annualRatePct, installments: input.termMonths,
    disbursedOn: null, firstRepaymentOn: null,
  })
  assert(origination.status === 'ok', () => `a priced draw originates (${origination.status})`)
  const loanId = origination.loan.id
  await sql`update loans set credit_line_id = ${line.id} where id = ${loanId}`.execute(trx)
  const reservation = await reserveDisbursement(trx, ctx, loanId)
  assert(reservation.status === 'ok', 'a loan just originated can be reserved')
  const payoutId = ctx.ids.next()
  await sql`
    insert into payouts (tenant_id, id, loan_id, offer_id, credit_line_id, amount_minor, currency, pending_transfer_id, settle_transfer_id, rail, rail_reference, status, attempts,
      last_error, created_at, updated_at)
    values (${ctx.tenantId}, ${payoutId}, ${loanId}, null, ${line.id}, ${reservation.netMinor.toString()}, ${reservation.currency}, ${reservation.pendingTransferId}, null, ${rail}, null,
      'pending', 0, null, ${ctx.now}, ${ctx.now})`.execute(trx)
  await sql`update credit_lines set version = version + 1, updated_at = ${ctx.now} where id = ${line.id}`.execute(trx)
  await appendEvent(trx, ctx, line.id, {
    action: 'drawn', businessDate, fromLimitMinor: null, toLimitMinor: null, applicationId: null, loanId, amountMinor: input.amountMinor, actor: actorLabel(input.actor),
  })
  const payout = await readPayout(trx, payoutId)
  assert(payout !== undefined)
  return { lineId: line.id, loanId, enterpriseId: line.enterpriseId, payout }
}

/** Draws on a line: originate, reserve, pay out through the rail, settle (see the module comment). */
export async function drawOnCreditLine(deps: PayoutDeps, input: DrawInput): Promise<DrawResult> {
  const ctx = (): ServicingContext => ({ tenantId: input.tenantId, ids: deps.ids, now: deps.clock.now() })
  const reserved = await inTenant(deps.db, input.tenantId, (trx) => reserveDraw(trx, ctx(), deps.rail.name, input))
  if (!('payout' in reserved)) return reserved
  const outcome = await callRail(deps, input.tenantId, reserved.payout, reserved.enterpriseId)
  return inTenant(deps.db, input.tenantId, async (trx) => {
    const payout = await settlePayout(trx, ctx(), reserved.payout.id, outcome)
    const loan = await loadLoan(trx, input.tenantId, reserved.loanId, { forUpdate: false })
    const line = await readCreditLine(trx, reserved.lineId, { enterpriseId: null })
    assert(loan !== undefined && line !== undefined)
    return { status: 'ok', line, loan: { id: loan.id, status: loan.state.status }, payout }
  })
}

export type ReviewLinesDeps = CreditDeps & { readonly db: Kysely<DB>; readonly clock: Clock }
export type LineReviewOutcome = { readonly lineId: string; readonly action: string; readonly fromLimitMinor: bigint; readonly toLimitMinor: bigint; readonly applicationId: string | null; readonly detail?: string }
export type LineReviewReport = { readonly businessDate: string; readonly examined: number; readonly raised: number; readonly lowered: number; readonly unchanged: number; readonly frozen: number; readonly unfrozen: number; readonly failed: number; readonly outcomes: readonly LineReviewOutcome[] }

export const reviewBatchMax = 1_000

/**
 * Re-evaluates the open lines due for review (last reviewed `reviewEveryDays` or more before the business
 * date; all open lines with `force`), each in its own transaction so one failure does not hold the others.
 */
export async function reviewCreditLines(deps: ReviewLinesDeps, input: { tenantId: string; strategyName: string; actor: Actor; force?: boolean }): Promise<LineReviewReport> {
  const { businessDate, due } = await inTenant(deps.db, input.tenantId, async (trx) => {
    const d = (await sql<{ d: string }>`select business_date::text as d from tenants where id = ${input.tenantId}`.execute(trx)).rows[0]?.d
    assert(d !== undefined, 'the tenant exists')
    // `force` reviews every open line now; otherwise those last reviewed `reviewEveryDays` or more ago.
    const dueBy = Temporal.PlainDate.from(d).subtract({ days: input.force === true ? 0 : reviewEveryDays }).toString()
    const rows = await sql<{ id: string }>`
      select id from credit_lines where status <> 'closed' and last_reviewed_on <= ${dueBy}::date order by last_reviewed_on, id limit ${reviewBatchMax}`.execute(trx)
    return { businessDate: d, due: rows.rows.map((r) => r.id) }
  })
  const counts = { raised: 0, lowered: 0, unchanged: 0, frozen: 0, unfrozen: 0, failed: 0 }
  const outcomes: LineReviewOutcome[] = []
  for (const lineId of due) {
    const outcome = await inTenant(deps.db, input.tenantId, (trx) => reviewOneLine(trx, deps, { tenantId: input.tenantId, lineId, strategyName: input.strategyName, actor: input.actor, businessDate }))
    outcomes.push(outcome)
    if (outcome.action in counts) counts[outcome.action as keyof typeof counts] += 1
  }
  return { businessDate, examined: due.length, ...counts, outcomes }
}

export async function reviewOneLine(trx: Tx, deps: ReviewLinesDeps, input: { tenantId: string; lineId: string; strategyName: string; actor: Actor; businessDate: string }): Promise<LineReviewOutcome> {
  const now = deps.clock.now()
  const ctx = { tenantId: input.tenantId, ids: deps.ids, now }
  const line = await readCreditLine(trx, input.lineId, { enterpriseId: null }, { forUpdate: true })
  assert(line !== undefined, 'a due line exists')
  const product = await findProduct(trx, input.tenantId, line.productId)
  assert(product !== undefined)
  const askMinor = line.limitMinor > 0n ? line.limitMinor : product.principalMinMinor
  const term = line.termsAllowed.at(-1) ?? product.installmentsMin
  const decided = await applyForLoan(trx, deps, {
    tenantId: input.tenantId, enterpriseId: line.enterpriseId, productId: line.productId, amountMinor: askMinor, termMonths: term, strategyName: input.strategyName,
    actor: input.actor, kind: 'credit_line_review', creditLineId: line.id,
  })
  const base = { lineId: line.id, fromLimitMinor: line.limitMinor }
  if (decided.status !== 'ok') return { ...base, action: 'failed', toLimitMinor: line.limitMinor, applicationId: null, detail: decided.detail }
  const application = decided.application
  const reasons = application.decision.reasons.map((r: DecisionReason) => ({ ...r }))
  const event = (action: string, toLimitMinor: bigint | null): EventInput => ({
    action, businessDate: input.businessDate, fromLimitMinor: line.limitMinor, toLimitMinor, applicationId: application.id, loanId: null, amountMinor: null, actor: actorLabel(input.actor), reasons,
  })
  if (application.status === 'declined') {
    await sql`update credit_lines set status = 'frozen', last_reviewed_on = ${input.businessDate}, version = version + 1, updated_at = ${now} where id = ${line.id}`.execute(trx)
    await appendEvent(trx, ctx, line.id, event('frozen', line.limitMinor))
    return { ...base, action: 'frozen', toLimitMinor: line.limitMinor, applicationId: application.id }
  }
  if (application.status === 'referred' || application.decision.limitMajor === undefined) {
    await sql`update credit_lines set last_reviewed_on = ${input.businessDate}, version = version + 1, updated_at = ${now} where id = ${line.id}`.execute(trx)
    await appendEvent(trx, ctx, line.id, event('unchanged', line.limitMinor))
    return { ...base, action: 'unchanged', toLimitMinor: line.limitMinor, applicationId: application.id }
  }
  // Headroom from the strategy (its formula already nets existing exposure), plus what this line has drawn.
  const headroom = convertMajorToMinor(application.decision.limitMajor, product.currency)
  const proposed = line.drawnMinor + headroom
  const newLimit = proposed > product.principalMaxMinor ? product.principalMaxMinor : proposed
  const rate = application.decision.annualRatePct !== undefined && !new RateDecimal(application.decision.annualRatePct).greaterThan(product.annualRateCapPct)
    ? application.decision.annualRatePct : line.annualRatePct
  const action = line.status === 'frozen' ? 'unfrozen' : newLimit > line.limitMinor ? 'raised' : newLimit < line.limitMinor ? 'lowered' : 'unchanged'
  await sql`
    update credit_lines set status = 'active', limit_minor = ${newLimit.toString()}, annual_rate_pct = ${rate}::numeric, last_reviewed_on = ${input.businessDate},
      expires_on = ${plusMonths(input.businessDate, lineValidityMonths)}, version = version + 1, updated_at = ${now}
    where id = ${line.id}`.execute(trx)
  await appendEvent(trx, ctx, line.id, event(action, newLimit))
  return { ...base, action, toLimitMinor: newLimit, applicationId: application.id }
}

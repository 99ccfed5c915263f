/**
 * @module flows/review
 * Applications as a list, and the review queue (issue 6 item 5): a referred application waits for a person
 * (reviewer, risk analyst or admin) who approves or declines it with a note.
 *
 * The application row is evidence and stays insert-only: the person's decision is a separate row
 * (`application_reviews`, one per application, its primary key making a second review impossible even under
 * a race). Approving prices the terms exactly as the engine's approvals are priced (`priceOffer`: the
 * product's bounds, the nominal and annualised (IRR, fees included) rates under the product's and the
 * strategy's cap) and then does what an engine approval would: a loan application gets an open offer, a credit
 * line application opens its line. The reviewer may set the amount and the rate; otherwise the decision's
 * proposal (a referral carries one when the strategy could compute it) is used, and when there is none the
 * reviewer must give them (`review_terms_required`).
 */
import { sql } from 'kysely'
import type { Actor } from '../access/index.ts'
import { assert } from '../core/assert.ts'
import type { IdSource } from '../core/ids.ts'
import { RateDecimal } from '../core/rate.ts'
import type { Tx } from '../db/database.ts'
import { convertMajorToMinor, findStrategy, type BacktestRow } from '../decisions/index.ts'
import { findProduct } from '../loans/index.ts'
import { actorLabel, insertOffer, offerValidityMs, priceOffer, readApplication, readApplications, type ApplicationKind, type ApplicationView, type OfferView } from './apply.ts'
import { openCreditLine, type CreditLineView } from './credit-line.ts'

export type ReviewDecision = 'approve' | 'decline'
export type ApplicationReview = {
  readonly decision: ReviewDecision
  readonly note: string
  readonly reviewerId: string
  readonly amountMinor: bigint | null
  readonly annualRatePct: string | null
  readonly reviewedAt: Date
}

type ReviewRow = { application_id: string; decision: ReviewDecision; note: string; reviewer_id: string; amount_minor: string | null; annual_rate_pct: string | null; reviewed_at: Date }
const reviewColumns = sql.raw('application_id, decision, note, reviewer_id, amount_minor::text as amount_minor, annual_rate_pct::text as annual_rate_pct, reviewed_at')
const toReview = (r: ReviewRow): ApplicationReview => ({
  decision: r.decision, note: r.note, reviewerId: r.reviewer_id, amountMinor: r.amount_minor === null ? null : BigInt(r.amount_minor), annualRatePct: r.annual_rate_pct, reviewedAt: r.reviewed_at,
})

export async function readReview(trx: Tx, applicationId: string): Promise<ApplicationReview | null> {
  const row = (await sql<ReviewRow>`select ${reviewColumns} from application_reviews where application_id = ${applicationId}`.execute(trx)).rows[0]
  return row === undefined ? null : toReview(row)
}

export type ApplicationListItem = { readonly application: ApplicationView; readonly offer: OfferView | null; readonly review: ApplicationReview | null }
export type ApplicationFilter = {
  readonly outcome: ApplicationView['status'] | null
  readonly enterpriseId: string | null
  /** true: reviewed only; false: not yet reviewed only (with outcome `referred`: the review queue). */
  readonly reviewed: boolean | null
  readonly kinds: readonly ApplicationKind[]
  readonly cursor: string | null
  readonly limit: number
}

/** Applications newest first (ids are time-ordered), each with its offer and review. */
export async function listApplications(trx: Tx, filter: ApplicationFilter): Promise<{ items: ApplicationListItem[]; nextCursor: string | null }> {
  const rows = await sql<{ id: string }>`
    select a.id from applications a
    where (${filter.outcome}::text is null or a.status = ${filter.outcome}::text)
      and (${filter.enterpriseId}::uuid is null or a.enterprise_id = ${filter.enterpriseId}::uuid)
      and a.kind = any(${[...filter.kinds]}::text[])
      and (${filter.reviewed}::boolean is null or
           exists (select 1 from application_reviews r where r.tenant_id = a.tenant_id and r.application_id = a.id) = ${filter.reviewed}::boolean)
      and (${filter.cursor}::uuid is null or a.id < ${filter.cursor}::uuid)
    order by a.id desc limit ${filter.limit + 1}`.execute(trx)
  const page = rows.rows.slice(0, filter.limit)
  // The page in three queries (applications, their offers, their reviews), not three per application.
  const ids = page.map((row) => row.id)
  const reads = await readApplications(trx, ids)
  const reviews = await sql<ReviewRow>`select ${reviewColumns} from application_reviews where application_id = any(${ids}::uuid[])`.execute(trx)
  const reviewOf = new Map(reviews.rows.map((row) => [row.application_id, toReview(row)]))
  const items: ApplicationListItem[] = ids.map((id) => {
    const read = reads.get(id)
    assert(read !== undefined)
    return { ...read, review: reviewOf.get(id) ?? null }
  })
  return { items, nextCursor: rows.rows.length > filter.limit ? (page.at(-1)?.id ?? null) : null }
}

export type ReviewInput = {
  readonly tenantId: string
  readonly applicationId: string
  readonly decision: ReviewDecision
  readonly note: string
  readonly amountMinor: bigint | null
  readonly annualRatePct: string | null
  readonly actor: Actor
}

export type ReviewResult =
  | { readonly status: 'ok'; readonly item: ApplicationListItem; readonly line: CreditLineView | null }
  | { readonly status: 'application_not_found' | 'application_not_referred' | 'application_already_reviewed' | 'review_terms_required' | 'review_terms_invalid' | 'credit_line_exists'; readonly detail: string }

/** A person's decision on a referred application, in the caller's transaction. */
export async function reviewApplication(trx: Tx, deps: { ids: IdSource; now: Date }, input: ReviewInput): Promise<ReviewResult> {
  const read = await readApplication(trx, input.applicationId, { enterpriseId: null })
  if (read === undefined) return { status: 'application_not_found', detail: 'no such application' }
  const { application } = read
  if (application.status !== 'referred' || application.kind === 'credit_line_review') {
    return { status: 'application_not_referred', detail: `the application was ${application.status} by the engine; only referred applications are reviewed` }
  }
  if ((await readReview(trx, application.id)) !== null) return { status: 'application_already_reviewed', detail: 'the application has been reviewed already' }

  let terms: OfferView | null = null
  let strategyTerms: readonly number[] = []
  if (input.decision === 'approve') {
    const product = await findProduct(trx, input.tenantId, application.productId)
    assert(product !== undefined, 'an application names a product')
    const stored = await findStrategy(trx, input.tenantId, application.strategy.id)
    assert(stored !== undefined, 'an application names its strategy version')
    const cap = (stored.document as { pricing?: { capAnnualRatePct?: string } }).pricing?.capAnnualRatePct
    strategyTerms = (stored.document as { terms?: { allowedMonths?: number[] } }).terms?.allowedMonths ?? []
    const proposedLimit = application.decision.limitMajor === undefined ? null : convertMajorToMinor(application.decision.limitMajor, product.currency)
    const amountMinor = input.amountMinor ?? (proposedLimit === null ? null : proposedLimit < application.amountMinor ? proposedLimit : application.amountMinor)
    const rate = input.annualRatePct ?? application.decision.annualRatePct ?? null
    if (amountMinor === null || rate === null) return { status: 'review_terms_required', detail: 'the decision proposes no amount or rate: give amountMinor and annualRatePct' }
    const termMonths = application.decision.termMonths ?? application.termMonths
    const businessDate = (await sql<{ d: string }>`select business_date::text as d from tenants where id = ${input.tenantId}`.execute(trx)).rows[0]?.d
    assert(businessDate !== undefined)
    const priced = priceOffer(product, { amountMinor, annualRatePct: rate, termMonths, disbursedOn: businessDate, capPct: cap === undefined ? product.annualRateCapPct : new RateDecimal(cap) })
    if (priced.status !== 'ok') return { status: 'review_terms_invalid', detail: `the terms cannot be offered: ${priced.status}` }
    terms = {
      id: deps.ids.next(), applicationId: application.id, limitMinor: amountMinor, amountMinor, currency: product.currency, annualRatePct: new RateDecimal(rate).toFixed(),
      aprPct: priced.aprPct.toFixed(), upfrontFeeMinor: priced.feeMinor, termMonths, schedulePreview: priced.preview, expiresAt: new Date(deps.now.getTime() + offerValidityMs),
      status: 'open', loanId: null,
    }
  }
  const inserted = await sql<{ application_id: string }>`
    insert into application_reviews (tenant_id, application_id, decision, note, reviewer_id, amount_minor, annual_rate_pct, reviewed_at)
    values (${input.tenantId}, ${application.id}, ${input.decision}, ${input.note}, ${actorLabel(input.actor)}, ${terms?.amountMinor.toString() ?? null},
      ${terms?.annualRatePct ?? null}::numeric, ${deps.now})
    on conflict do nothing returning application_id`.execute(trx)
  if (inserted.rows.length === 0) return { status: 'application_already_reviewed', detail: 'the application has been reviewed already' }

  let offer: OfferView | null = null
  let line: CreditLineView | null = null
  if (terms !== null && application.kind === 'loan') {
    await insertOffer(trx, input.tenantId, terms, deps.now)
    offer = terms
  } else if (terms !== null) {
    const opened = await openCreditLine(trx, deps, { tenantId: input.tenantId, application, terms, strategyTerms, actor: input.actor, reasons: [{ code: 'reviewer_approved', note: input.note }] })
    if (opened.status !== 'ok') return { status: 'credit_line_exists', detail: `the enterprise already has credit line ${opened.lineId} on this product` }
    line = opened.line
  }
  const review = await readReview(trx, application.id)
  return { status: 'ok', item: { application, offer, review }, line }
}

export type StoredBacktestFilter = { readonly from: string | null; readonly to: string | null; readonly segmentBy: 'industry' | 'product' | 'none'; readonly limit: number }

/**
 * Backtest rows from stored applications (loan and credit-line kinds, by business date): the inputs each
 * decision read, the segment, and the observed outcome of the loan that followed, if any — bad when the loan
 * was written off or is classified substandard or worse (DOMAIN.md: non-performing), good when it is closed or
 * performing. Applications whose loan does not exist have no observed outcome.
 */
export async function readStoredBacktestRows(trx: Tx, filter: StoredBacktestFilter): Promise<BacktestRow[]> {
  const rows = await sql<{ inputs: BacktestRow['input']; sector: string | null; product: string; bad: boolean | null }>`
    select a.inputs, e.sector, p.name as product,
      (select bool_or(l.status = 'written_off' or l.tier in ('substandard', 'doubtful', 'loss'))
       from loans l where l.tenant_id = a.tenant_id and l.status in ('active', 'closed', 'written_off') and
         (l.id = (select o.loan_id from offers o where o.tenant_id = a.tenant_id and o.application_id = a.id)
          or l.credit_line_id = (select c.id from credit_lines c where c.tenant_id = a.tenant_id and c.application_id = a.id))) as bad
    from applications a
    join enterprises e on e.tenant_id = a.tenant_id and e.id = a.enterprise_id
    join loan_products p on p.tenant_id = a.tenant_id and p.id = a.product_id
    where a.kind in ('loan', 'credit_line')
      and (${filter.from}::date is null or a.business_date >= ${filter.from}::date)
      and (${filter.to}::date is null or a.business_date <= ${filter.to}::date)
    order by a.id limit ${filter.limit}`.execute(trx)
  return rows.rows.map((r) => {
    const segment = filter.segmentBy === 'industry' ? (r.sector ?? undefined) : filter.segmentBy === 'product' ? r.product : undefined
    return { input: r.inputs, ...(r.bad === null ? {} : { outcome: { bad: r.bad } }), ...(segment === undefined ? {} : { segment }) }
  })
}

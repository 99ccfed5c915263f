/**
 * @module flows/apply
 * A loan application decided in one transaction: the enterprise's features as of the business date
 * (credit: consented sources only, known-by now, the read audited) → the champion of each model the
 * strategy names (scoring) → the active strategy decides (decisions) → the decision is stored with the
 * strategy version, the model version, every input and the rule trace → an approval becomes an offer:
 * the amount (the request, at most the limit), the nominal rate, the annualised rate by IRR with the
 * upfront fee included, the term, a schedule preview and an expiry.
 *
 * The offer never prices above the product's cap: a nominal rate above the product's cap, or an
 * annualised rate (fees included) above the cap, turns the approval into a referral with the reason
 * `apr_above_cap` / `rate_above_product_cap` (a person prices it). So does an amount or a term the product
 * cannot book. These checks are the flow's, after the engine's decision; they are listed in `offerChecks`.
 *
 * Inputs the flow provides to a strategy (by declared name; undeclared ones are not passed):
 * `application.amount` (major units), `application.termMonths`, `application.businessDate`,
 * `enterprise.registeredOn` (founded_on, null when unknown), `enterprise.industry` (sector),
 * `consent.creditQuery` (an active credit-assessment consent), `flags.fraud` (a high-severity
 * cross-check flag of the data hub), `flags.blacklisted` (no restricted list exists yet: false),
 * `loans.currentDpd`, `loans.exposureMajor` (principal outstanding of active loans plus approved ones
 * not yet disbursed), `loans.monthlyDebtServiceMajor` (the average installment of active loans),
 * `features.<name>` for each required feature, and each model's `output` (its score: the pinned
 * `models[].version` when the document gives one, else the champion). The application row keeps the
 * first model's id and version (one model per strategy is what the 310 example uses).
 */
import { sql, type RawBuilder } from 'kysely'
import { auditInsert, type Actor, type AuditEntry } from '../access/index.ts'
import { assert } from '../core/assert.ts'
import { formatMajor, type Currency } from '../core/money.ts'
import { interestMinor, RateDecimal } from '../core/rate.ts'
import { consentedItemsSql, readEnterpriseFeatures, type CreditDeps } from '../credit/index.ts'
import type { Tx } from '../db/database.ts'
import { activeVersionSql, compiledStrategyOf, convertMajorToMinor, convertMinorToMajor, decide, type Decision, type DecisionReason } from '../decisions/index.ts'
import { buildSchedule, measureApr, parseScheduleSpec, scheduleToJson, toProduct, type LoanProduct, type ProductRow, type ScheduleTemplate } from '../loans/index.ts'
import { scoreWithDeferredStore } from '../scoring/index.ts'

/** An offer stands for three days. */
export const offerValidityMs = 3 * 24 * 3_600_000
export const defaultStrategyName = 'sme-310'

export type ApplyInput = {
  readonly tenantId: string
  readonly enterpriseId: string
  readonly productId: string
  readonly amountMinor: bigint
  readonly termMonths: number
  readonly strategyName: string
  readonly actor: Actor
  readonly requestId?: string
  /**
   * `loan` (default): an approval stores an offer. `credit_line`: an approval stores no offer; the caller opens
   * a line from `terms` (flows/credit-line.ts). `credit_line_review`: the periodic re-evaluation of line
   * `creditLineId`, stored as evidence like any decision.
   */
  readonly kind?: ApplicationKind
  readonly creditLineId?: string
  /** Also audit `application.decide` (what the API does), written with the application in one statement. */
  readonly auditDecision?: boolean
}

export const applicationKinds = ['loan', 'credit_line', 'credit_line_review'] as const
export type ApplicationKind = (typeof applicationKinds)[number]

export type OfferView = {
  readonly id: string
  readonly applicationId: string
  readonly limitMinor: bigint
  readonly amountMinor: bigint
  readonly currency: Currency
  readonly annualRatePct: string
  readonly aprPct: string
  readonly upfrontFeeMinor: bigint
  readonly termMonths: number
  readonly schedulePreview: unknown
  readonly expiresAt: Date
  readonly status: string
  readonly loanId: string | null
}

export type ApplicationView = {
  readonly id: string
  readonly enterpriseId: string
  readonly productId: string
  readonly amountMinor: bigint
  readonly currency: string
  readonly termMonths: number
  readonly businessDate: string
  readonly status: Decision['outcome']
  readonly decision: StoredDecision
  readonly strategy: { readonly id: string; readonly name: string; readonly version: number }
  readonly model: { readonly id: string; readonly name: string; readonly version: number } | null
  readonly inputs: Record<string, unknown>
  readonly createdAt: Date
  readonly kind: ApplicationKind
  readonly creditLineId: string | null
}

/** The engine's decision as stored, plus the flow's offer checks when they changed the outcome. */
export type StoredDecision = Decision & { readonly engineOutcome: Decision['outcome']; readonly offerChecks: readonly DecisionReason[] }

export type ApplyResult =
  | {
      readonly status: 'ok'
      readonly application: ApplicationView
      /** The stored offer (loan applications only). */
      readonly offer: OfferView | null
      /** The approved, priced terms whatever the kind (the offer's, or a credit line's); null unless approved. */
      readonly terms: OfferView | null
      /** The terms (months) the strategy allows: a credit line's draws may use any of them. */
      readonly strategyTerms: readonly number[]
    }
  | { readonly status: 'product_not_found' | 'enterprise_not_found' | 'no_active_strategy' | 'no_champion_model'; readonly detail: string }

export const offerCheckReasons = {
  rate_above_product_cap: { en: "The price exceeds the product's rate cap; a credit officer will price the loan", zh: '定价超过产品利率上限，需信贷员定价' },
  apr_above_cap: { en: "The annualised rate including fees would exceed the product's cap; a credit officer will price the loan", zh: '含费用的年化利率将超过产品上限，需信贷员定价' },
  amount_outside_product: { en: 'The amount is outside what the product can lend', zh: '申请金额超出产品可贷范围' },
  term_outside_product: { en: 'The term is outside what the product offers', zh: '申请期限超出产品范围' },
} as const satisfies Record<string, { en: string; zh: string }>

type EnterpriseRow = { founded_on: string | null; sector: string | null }

/**
 * The enterprise's loans as the strategy sees them (a lateral subquery on `e`, the enterprises row): the
 * worst current DPD of active loans, principal outstanding of active loans plus approved ones not yet
 * disbursed, and the average installment of active loans.
 */
const exposureSql = sql`lateral (
    select max(dpd) filter (where status = 'active') as dpd,
      sum(case when status = 'active' then outstanding else principal_minor end)::text as exposure,
      floor(sum(installment) filter (where status = 'active'))::text as service
    from (select l.status, l.dpd, l.principal_minor,
        (select coalesce(sum(i.principal_due - i.principal_paid - i.principal_waived), 0) from loan_installments i where i.tenant_id = l.tenant_id and i.loan_id = l.id) as outstanding,
        (select coalesce(sum(i.principal_due + i.interest_due) / nullif(count(*), 0), 0) from loan_installments i where i.tenant_id = l.tenant_id and i.loan_id = l.id) as installment
      from loans l where l.enterprise_id = e.id and l.status in ('approved', 'active')) as per_loan
  ) as x`

function templateFields(template: ScheduleTemplate): Record<string, unknown> {
  const { compat, ...rest } = template
  return compat === null ? rest : { ...rest, compat }
}

function periodsPerYearOf(template: ScheduleTemplate): number {
  const perUnit = { days: 365, weeks: 52, months: 12 } as const
  return Math.max(1, Math.round(perUnit[template.repaymentUnit] / template.repaymentEvery))
}

type Priced = { status: 'ok'; feeMinor: bigint; aprPct: RateDecimal; preview: unknown } | { status: keyof typeof offerCheckReasons }

/** The offer's price check and schedule preview: fee, APR by IRR, and the product's bounds. */
export function priceOffer(product: LoanProduct, input: { amountMinor: bigint; annualRatePct: string; termMonths: number; disbursedOn: string; capPct: RateDecimal }): Priced {
  if (input.amountMinor < product.principalMinMinor || input.amountMinor > product.principalMaxMinor) return { status: 'amount_outside_product' }
  if (input.termMonths < product.installmentsMin || input.termMonths > product.installmentsMax) return { status: 'term_outside_product' }
  const rate = new RateDecimal(input.annualRatePct)
  if (rate.greaterThan(product.annualRateCapPct) || rate.greaterThan(input.capPct)) return { status: 'rate_above_product_cap' }
  const parsed = parseScheduleSpec({
    ...templateFields(product.scheduleTemplate), principal: formatMajor(input.amountMinor, product.currency), currency: product.currency,
    annualRatePct: input.annualRatePct, installments: input.termMonths, disbursedOn: input.disbursedOn,
  })
  assert(parsed.status === 'ok', () => `the product's template makes a schedule: ${parsed.status === 'ok' ? '' : parsed.reason}`)
  const schedule = buildSchedule(parsed.value)
  // The same fee originateLoan will charge.
  const feeMinor = interestMinor(input.amountMinor, product.upfrontFeePct.div(100), parsed.value.rounding)
  assert(feeMinor < input.amountMinor, 'the fee is less than the principal')
  const apr = measureApr({
    disbursedOn: parsed.value.disbursedOn, netAdvanceMinor: input.amountMinor - feeMinor, periodsPerYear: periodsPerYearOf(product.scheduleTemplate),
    payments: schedule.rows.map((row) => ({ dueOn: row.dueOn, amountMinor: row.totalMinor })),
  })
  assert(apr !== null, 'payments return at least the advance')
  if (apr.greaterThan(product.annualRateCapPct) || apr.greaterThan(input.capPct)) return { status: 'apr_above_cap' }
  return { status: 'ok', feeMinor, aprPct: apr, preview: scheduleToJson(schedule) }
}

/** Decides an application and stores it (and its offer) in the caller's transaction. */
export async function applyForLoan(trx: Tx, deps: CreditDeps, input: ApplyInput): Promise<ApplyResult> {
  assert(input.amountMinor > 0n)
  const now = deps.clock.now()
  // The product, the enterprise, the business date, its consents and its loans, and the strategy's active
  // version in one round trip (each round trip costs both processes a socket write and a wake-up).
  type Row = ProductRow & EnterpriseRow & { found: boolean | null; business_date: string; consented: string[]; dpd: number | null; exposure: string | null; service: string | null; strategy_id: string | null; strategy_version: number | null }
  const row = (await sql<Row>`
    select p.*, en.*, s.id as strategy_id, s.version as strategy_version
    from (values (1)) as one (x)
    left join loan_products p on p.tenant_id = ${input.tenantId} and p.id = ${input.productId}
    left join lateral (
      select true as found, e.founded_on::text as founded_on, e.sector, (select business_date::text from tenants where id = ${input.tenantId}) as business_date,
        ${consentedItemsSql(sql`e.id`, 'credit_assessment', now)} as consented, x.dpd, x.exposure, x.service
      from enterprises e cross join ${exposureSql} where e.id = ${input.enterpriseId}) as en on true
    left join lateral (${activeVersionSql(input.tenantId, input.strategyName)}) as s on true`.execute(trx)).rows[0]
  assert(row !== undefined, 'one row, whatever was found')
  if (row.id === null) return { status: 'product_not_found', detail: 'no such loan product' }
  const product = toProduct(row)
  const enterprise = row
  if (enterprise.found !== true) return { status: 'enterprise_not_found', detail: 'no such enterprise' }
  const exposure = { currentDpd: enterprise.dpd ?? 0, exposureMinor: BigInt(enterprise.exposure ?? '0'), monthlyDebtServiceMinor: BigInt(enterprise.service ?? '0') }
  const stored = row.strategy_id === null || row.strategy_version === null ? undefined : await compiledStrategyOf(trx, input.tenantId, input.strategyName, { id: row.strategy_id, version: row.strategy_version })
  if (stored === undefined) return { status: 'no_active_strategy', detail: `strategy ${input.strategyName} has no active version` }
  const compiled = stored.compiled
  const definition = compiled.definition
  const businessDate = enterprise.business_date

  const { report: features, audit: featuresAudit } = await readEnterpriseFeatures(trx, deps, {
    tenantId: input.tenantId, enterpriseId: input.enterpriseId, purpose: 'credit_assessment', asOf: businessDate, knownBy: now, actor: input.actor, consented: new Set(enterprise.consented),
    ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
  })
  const values: Record<string, unknown> = {}
  let model: ApplicationView['model'] = null
  const scoreStores: RawBuilder<unknown>[] = [] // written with the application
  for (const m of definition.models) {
    // A document that pins a model version scores with that version; otherwise with the champion.
    const scored = await scoreWithDeferredStore(trx, deps, { tenantId: input.tenantId, model: { name: m.name, version: m.version }, rows: [{ subject: input.enterpriseId, values: features.features }] })
    if (scored.status !== 'ok') return { status: 'no_champion_model', detail: m.version === null ? `model ${m.name} has no champion` : `model ${m.name} version ${m.version} is not registered, or retired` }
    const champion = scored.value.model
    if (scored.value.store !== null) scoreStores.push(scored.value.store)
    values[m.output] = (scored.value.scores[0] as { score: number }).score
    model ??= { id: champion.id, name: champion.name, version: champion.version }
  }
  const available: Record<string, unknown> = {
    'application.amount': convertMinorToMajor(input.amountMinor, product.currency),
    'application.termMonths': input.termMonths,
    'application.businessDate': businessDate,
    'enterprise.registeredOn': enterprise.founded_on,
    'enterprise.industry': enterprise.sector,
    'consent.creditQuery': enterprise.consented.length > 0, // a consent's scope is never empty (migration 0004)
    'flags.fraud': features.flags.some((flag) => flag.severity === 'high'),
    'flags.blacklisted': false,
    'loans.currentDpd': exposure.currentDpd,
    'loans.exposureMajor': convertMinorToMajor(exposure.exposureMinor, product.currency),
    'loans.monthlyDebtServiceMajor': convertMinorToMajor(exposure.monthlyDebtServiceMinor, product.currency),
    ...Object.fromEntries(Object.entries(features.features).map(([name, value]) => [`features.${name}`, value])),
    ...values,
  }
  // Store exactly what the strategy reads: the inputs it declares.
  const inputs: Record<string, unknown> = {}
  for (const declared of compiled.inputs) if (declared.name in available) inputs[declared.name] = available[declared.name]
  const engine = decide(compiled, inputs)

  const kind = input.kind ?? 'loan'
  let outcome = engine.outcome
  const offerChecks: DecisionReason[] = []
  let offer: OfferView | null = null
  const applicationId = deps.ids.next()
  if (engine.outcome === 'approved') {
    assert(engine.limitMajor !== undefined && engine.annualRatePct !== undefined && engine.termMonths !== undefined, 'an approval carries an offer')
    const limitMinor = convertMajorToMinor(engine.limitMajor, product.currency)
    const amountMinor = input.amountMinor < limitMinor ? input.amountMinor : limitMinor
    const priced = priceOffer(product, { amountMinor, annualRatePct: engine.annualRatePct, termMonths: engine.termMonths, disbursedOn: businessDate, capPct: new RateDecimal(definition.pricing.capAnnualRatePct) })
    if (priced.status !== 'ok') {
      outcome = 'referred'
      offerChecks.push({ code: priced.status, ...offerCheckReasons[priced.status] })
    } else {
      offer = {
        id: deps.ids.next(), applicationId, limitMinor, amountMinor, currency: product.currency, annualRatePct: engine.annualRatePct, aprPct: priced.aprPct.toFixed(),
        upfrontFeeMinor: priced.feeMinor, termMonths: engine.termMonths, schedulePreview: priced.preview, expiresAt: new Date(now.getTime() + offerValidityMs), status: 'open', loanId: null,
      }
    }
  }
  const decision: StoredDecision = { ...engine, outcome, reasons: outcome === engine.outcome ? engine.reasons : [...engine.reasons, ...offerChecks], engineOutcome: engine.outcome, offerChecks }
  const application: ApplicationView = {
    id: applicationId, enterpriseId: input.enterpriseId, productId: product.id, amountMinor: input.amountMinor, currency: product.currency, termMonths: input.termMonths,
    businessDate, status: outcome, decision, strategy: { id: stored.id, name: stored.name, version: stored.version }, model, inputs, createdAt: now, kind,
    creditLineId: input.creditLineId ?? null,
  }
  // The application, its offer, the scores and the audit entries (the features read, the decision) in one statement.
  const audits: AuditEntry[] = [featuresAudit]
  if (input.auditDecision === true) {
    audits.push({ tenantId: input.tenantId, actor: input.actor, action: 'application.decide', targetKind: 'application', targetId: applicationId, at: now, ids: deps.ids, detail: { outcome }, ...(input.requestId === undefined ? {} : { requestId: input.requestId }) })
  }
  await sql`
    with application as (
      insert into applications (tenant_id, id, enterprise_id, product_id, amount_minor, currency, term_months, business_date, status, decision, strategy_id, strategy_name,
        strategy_version, model_id, model_name, model_version, inputs, created_by, created_at, kind, credit_line_id)
      values (${input.tenantId}, ${applicationId}, ${input.enterpriseId}, ${product.id}, ${input.amountMinor.toString()}, ${product.currency}, ${input.termMonths}, ${businessDate},
        ${outcome}, ${JSON.stringify(decision)}::jsonb, ${stored.id}, ${stored.name}, ${stored.version}, ${model?.id ?? null}, ${model?.name ?? null}, ${model?.version ?? null},
        ${JSON.stringify(inputs)}::jsonb, ${actorLabel(input.actor)}, ${now}, ${kind}, ${input.creditLineId ?? null}))
    ${offer !== null && kind === 'loan' ? sql`, offer as (${offerInsert(input.tenantId, offer, now)})` : sql``}
    ${sql.join(scoreStores.map((store, k) => sql`, ${sql.ref(`score_${k}`)} as (${store})`), sql``)}
    ${auditInsert(audits)}`.execute(trx)
  return { status: 'ok', application, offer: kind === 'loan' ? offer : null, terms: offer, strategyTerms: definition.terms.allowedMonths }
}

/** How an actor is recorded in `created_by` / `actor` columns. */
export const actorLabel = (actor: Actor): string => `${actor.kind}:${actor.id ?? 'system'}`

/** Stores an open offer (an approval by the engine, or by a reviewer). */
export async function insertOffer(trx: Tx, tenantId: string, offer: OfferView, now: Date): Promise<void> {
  await offerInsert(tenantId, offer, now).execute(trx)
}

function offerInsert(tenantId: string, offer: OfferView, now: Date): RawBuilder<unknown> {
  return sql`
    insert into offers (tenant_id, id, application_id, limit_minor, amount_minor, currency, annual_rate_pct, apr_pct, upfront_fee_minor, term_months, schedule_preview,
      expires_at, status, loan_id, created_at, updated_at)
    values (${tenantId}, ${offer.id}, ${offer.applicationId}, ${offer.limitMinor.toString()}, ${offer.amountMinor.toString()}, ${offer.currency}, ${offer.annualRatePct}::numeric,
      ${offer.aprPct}::numeric, ${offer.upfrontFeeMinor.toString()}, ${offer.termMonths}, ${JSON.stringify(offer.schedulePreview)}::jsonb, ${offer.expiresAt}, 'open', null, ${now}, ${now})`
}

type ApplicationRow = {
  id: string; enterprise_id: string; product_id: string; amount_minor: string; currency: string; term_months: number; business_date: string; status: Decision['outcome']
  decision: StoredDecision; strategy_id: string; strategy_name: string; strategy_version: number; model_id: string | null; model_name: string | null; model_version: number | null
  inputs: Record<string, unknown>; created_at: Date; kind: ApplicationKind; credit_line_id: string | null
}
type OfferRow = {
  id: string; application_id: string; limit_minor: string; amount_minor: string; currency: Currency; annual_rate_pct: string; apr_pct: string; upfront_fee_minor: string
  term_months: number; schedule_preview: unknown; expires_at: Date; status: string; loan_id: string | null
}

export function toOfferView(row: OfferRow): OfferView {
  return {
    id: row.id, applicationId: row.application_id, limitMinor: BigInt(row.limit_minor), amountMinor: BigInt(row.amount_minor), currency: row.currency,
    annualRatePct: row.annual_rate_pct, aprPct: row.apr_pct, upfrontFeeMinor: BigInt(row.upfront_fee_minor), termMonths: row.term_months, schedulePreview: row.schedule_preview,
    expiresAt: row.expires_at, status: row.status, loanId: row.loan_id,
  }
}

export const offerColumns = sql.raw(`id, application_id, limit_minor::text as limit_minor, amount_minor::text as amount_minor, currency, annual_rate_pct::text as annual_rate_pct,
  apr_pct::text as apr_pct, upfront_fee_minor::text as upfront_fee_minor, term_months, schedule_preview, expires_at, status, loan_id`)

/** An application with its decision, trace and offer; `enterpriseId` scopes a borrower to its own. */
export async function readApplication(trx: Tx, id: string, scope: { enterpriseId: string | null }): Promise<{ application: ApplicationView; offer: OfferView | null } | undefined> {
  const read = (await readApplications(trx, [id])).get(id)
  if (read === undefined || (scope.enterpriseId !== null && scope.enterpriseId !== read.application.enterpriseId)) return undefined
  return read
}

/** Applications by id with their offers, in two queries whatever their number (absent ids are absent). */
export async function readApplications(trx: Tx, ids: readonly string[]): Promise<Map<string, { application: ApplicationView; offer: OfferView | null }>> {
  const found = new Map<string, { application: ApplicationView; offer: OfferView | null }>()
  if (ids.length === 0) return found
  const rows = await sql<ApplicationRow>`
    select id, enterprise_id, product_id, amount_minor::text as amount_minor, currency, term_months, business_date::text as business_date, status, decision, strategy_id,
      strategy_name, strategy_version, model_id, model_name, model_version, inputs, created_at, kind, credit_line_id
    from applications where id = any(${[...ids]}::uuid[])`.execute(trx)
  if (rows.rows.length === 0) return found
  const offers = await sql<OfferRow>`select ${offerColumns} from offers where application_id = any(${rows.rows.map((row) => row.id)}::uuid[])`.execute(trx)
  const offerOf = new Map(offers.rows.map((row) => [row.application_id, row]))
  for (const row of rows.rows) {
    const offerRow = offerOf.get(row.id)
    found.set(row.id, {
      application: {
        id: row.id, enterpriseId: row.enterprise_id, productId: row.product_id, amountMinor: BigInt(row.amount_minor), currency: row.currency, termMonths: row.term_months,
        businessDate: row.business_date, status: row.status, decision: row.decision, strategy: { id: row.strategy_id, name: row.strategy_name, version: row.strategy_version },
        model: row.model_id === null ? null : { id: row.model_id, name: row.model_name ?? '', version: row.model_version ?? 0 }, inputs: row.inputs, createdAt: row.created_at,
        kind: row.kind, creditLineId: row.credit_line_id,
      },
      offer: offerRow === undefined ? null : toOfferView(offerRow),
    })
  }
  return found
}

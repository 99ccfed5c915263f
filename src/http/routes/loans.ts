/**
 * @module http/routes/loans
 * Loan products, loans and servicing over HTTP. Products are made by admins; loans are originated and
 * serviced by operators and admins; a borrower sees only its own enterprise's loans (another's answers 404
 * like a missing one), may ask for a pay-off quote and may repay. Every state change goes through `mutate()`
 * (one transaction with its Idempotency-Key): the loan state, its ledger postings and the stored answer
 * commit together. Amounts are decimal strings of minor units plus the currency.
 */
import { Type, type Static } from 'typebox'
import { actorOf, appendAudit, type Principal } from '../../access/index.ts'
import { pageSizeMax } from '../../core/limits.ts'
import { currencies, parseMajor, type Currency } from '../../core/money.ts'
import { RateDecimal, roundings } from '../../core/rate.ts'
import { inTenant, type Tx } from '../../db/database.ts'
import {
  addComponents, components, createProduct, defaultAllocationOrder, defaultDelinquencyRules, defaultPenaltyRules,
  defaultProvisionRatesPct, defaultTierThresholds, delinquencyBuckets, disburseLoan, findProduct, installmentOrders, listLoans, listProducts, loanStatuses,
  measureInstallmentOutstanding, originateLoan, prepayLoan, rescheduleLoan, penaltyRulesToJson, provisionRatesToJson, quoteLoanPayoff, readLoanDetail, readLoanTransactions, recordLoanRecovery,
  refundOverpayment, repayLoan, tiers, waiveLoanCharges, writeOffLoanBalance, zeroComponents, type ComponentsMinor, type LoanProduct,
  type LoanPosting, type LoanRecord, type LoanTransaction, type ProductInput, type ServicingContext,
} from '../../loans/index.ts'
import type { App, AppDeps } from '../app.ts'
import { principalOf, staffRoles } from '../authenticate.ts'
import { mutate } from '../idempotency.ts'
import { Problem, type ProblemCode } from '../problem.ts'
import { IdParams, Strict, Uuid, problemResponses } from './schemas.ts'

const MinorUnits = Type.String({ pattern: '^(0|[1-9][0-9]{0,17})$', description: 'an amount in minor units, as a decimal string' })
const SignedMinor = Type.String({ pattern: '^-?(0|[1-9][0-9]{0,17})$' })
const Pct = Type.String({ pattern: '^[0-9]{1,6}(\\.[0-9]{1,12})?$', description: 'a percentage as a decimal string, e.g. "12" or "9.99"' })
const Day = Type.String({ format: 'date' })
const Timestamp = Type.String({ format: 'date-time' })
const Literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)))
const CurrencySchema = Literals(currencies)
const RoundingSchema = Literals(roundings)
const TierSchema = Literals(tiers)
const ComponentsSchema = Type.Object({ principal: MinorUnits, interest: MinorUnits, fees: MinorUnits, penalties: MinorUnits })
const Count = (max: number) => Type.Integer({ minimum: 0, maximum: max })

const ScheduleTemplateSchema = Type.Object(
  {
    repaymentEvery: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
    repaymentUnit: Type.Optional(Literals(['days', 'weeks', 'months'])),
    interestMethod: Type.Optional(Literals(['declining_balance', 'flat'])),
    amortization: Type.Optional(Literals(['equal_installments', 'equal_principal', 'interest_only', 'bullet'])),
    interestPeriod: Type.Optional(Literals(['daily', 'same_as_repayment'])),
    daysInYear: Type.Optional(Literals(['actual', '360', '364', '365'])),
    daysInMonth: Type.Optional(Literals(['actual', '30'])),
    graceOnPrincipalPeriods: Type.Optional(Count(600)),
    graceOnInterestPaymentPeriods: Type.Optional(Count(600)),
    interestFreePeriods: Type.Optional(Count(600)),
    installmentMultipleOf: Type.Optional(Type.Union([Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' }), Type.Null()])),
    rounding: Type.Optional(RoundingSchema),
    compat: Type.Optional(Type.Union([Literals(['fineract-cumulative', 'fineract-progressive']), Type.Null()])),
  },
  Strict,
)
const PenaltyRulesSchema = Type.Object(
  {
    penaltyRateMultiplier: Type.Optional(Pct),
    penaltyRounding: Type.Optional(RoundingSchema),
    lateFeeFixedMinor: Type.Optional(MinorUnits),
    lateFeePct: Type.Optional(Pct),
    lateFeeRounding: Type.Optional(RoundingSchema),
    lateFeeGraceDays: Type.Optional(Count(3650)),
  },
  Strict,
)
const AllocationOrderSchema = Type.Object(
  {
    components: Type.Optional(Type.Array(Literals(components), { minItems: 4, maxItems: 4, uniqueItems: true })),
    installments: Type.Optional(Literals(installmentOrders)),
    inAdvance: Type.Optional(Type.Boolean()),
  },
  Strict,
)
const ThresholdsSchema = Type.Object(
  { specialMentionDpdMin: Type.Integer({ minimum: 1, maximum: 10_000 }), substandardDpdMin: Type.Integer({ minimum: 1, maximum: 10_000 }), doubtfulDpdMin: Type.Integer({ minimum: 1, maximum: 10_000 }), lossDpdMin: Type.Integer({ minimum: 1, maximum: 10_000 }) },
  Strict,
)
const ProvisionRatesSchema = Type.Object({ normal: Pct, special_mention: Pct, substandard: Pct, doubtful: Pct, loss: Pct }, Strict)

const ProductBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    currency: CurrencySchema,
    principalMinMinor: MinorUnits,
    principalMaxMinor: MinorUnits,
    installmentsMin: Type.Integer({ minimum: 1, maximum: 600 }),
    installmentsMax: Type.Integer({ minimum: 1, maximum: 600 }),
    schedule: Type.Optional(ScheduleTemplateSchema),
    annualRateCapPct: Pct,
    upfrontFeePct: Type.Optional(Pct),
    penaltyRules: Type.Optional(PenaltyRulesSchema),
    allocationOrder: Type.Optional(AllocationOrderSchema),
    tierThresholds: Type.Optional(ThresholdsSchema),
    provisionRatesPct: Type.Optional(ProvisionRatesSchema),
    provisionRounding: Type.Optional(RoundingSchema),
    toleranceMinor: Type.Optional(MinorUnits),
    nonAccrualDpdMin: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    restructuredTierMin: Type.Optional(TierSchema),
  },
  Strict,
)
const ProductSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  currency: Type.String(),
  principalMinMinor: MinorUnits,
  principalMaxMinor: MinorUnits,
  installmentsMin: Type.Integer(),
  installmentsMax: Type.Integer(),
  schedule: Type.Object({
    repaymentEvery: Type.Integer(), repaymentUnit: Type.String(), interestMethod: Type.String(), amortization: Type.String(), interestPeriod: Type.String(),
    daysInYear: Type.String(), daysInMonth: Type.String(), graceOnPrincipalPeriods: Type.Integer(), graceOnInterestPaymentPeriods: Type.Integer(),
    interestFreePeriods: Type.Integer(), installmentMultipleOf: Type.Union([Type.String(), Type.Null()]), rounding: Type.String(), compat: Type.Union([Type.String(), Type.Null()]),
  }),
  annualRateCapPct: Type.String(),
  upfrontFeePct: Type.String(),
  penaltyRules: Type.Object({ penaltyRateMultiplier: Type.String(), penaltyRounding: Type.String(), lateFeeFixedMinor: MinorUnits, lateFeePct: Type.String(), lateFeeRounding: Type.String(), lateFeeGraceDays: Type.Integer() }),
  allocationOrder: Type.Object({ components: Type.Array(Type.String()), installments: Type.String(), inAdvance: Type.Boolean() }),
  tierThresholds: Type.Object({ specialMentionDpdMin: Type.Integer(), substandardDpdMin: Type.Integer(), doubtfulDpdMin: Type.Integer(), lossDpdMin: Type.Integer() }),
  provisionRatesPct: Type.Object({ normal: Type.String(), special_mention: Type.String(), substandard: Type.String(), doubtful: Type.String(), loss: Type.String() }),
  provisionRounding: Type.String(),
  toleranceMinor: MinorUnits,
  nonAccrualDpdMin: Type.Integer(),
  restructuredTierMin: Type.String(),
  createdAt: Timestamp,
})

const LoanSchema = Type.Object({
  id: Uuid,
  productId: Uuid,
  enterpriseId: Uuid,
  status: Type.String({ description: loanStatuses.join(' | ') }),
  currency: Type.String(),
  principalMinor: MinorUnits,
  annualRatePct: Type.String(),
  upfrontFeeMinor: MinorUnits,
  disbursedOn: Day,
  maturityOn: Day,
  accruedThroughOn: Day,
  accruedInterestMinor: MinorUnits,
  overpaymentMinor: MinorUnits,
  nonAccrual: Type.Boolean(),
  suspendedInterestMinor: MinorUnits,
  writtenOffMinor: MinorUnits,
  recoveredMinor: MinorUnits,
  dpd: Type.Integer(),
  bucket: Type.String({ description: delinquencyBuckets.join(' | ') }),
  tier: Type.String({ description: tiers.join(' | ') }),
  provisionMinor: MinorUnits,
  outstandingMinor: ComponentsSchema,
  principalAccountId: Uuid,
  walletAccountId: Uuid,
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
const TransactionSchema = Type.Object({
  id: Uuid,
  kind: Type.String(),
  valueDate: Day,
  amountMinor: MinorUnits,
  currency: Type.String(),
  allocation: Type.Record(Type.String(), Type.Unknown()),
  transferIds: Type.Array(Uuid),
  createdAt: Timestamp,
})
const EventSchema = Type.Object({ loan: LoanSchema, transaction: TransactionSchema })
const InstallmentSchema = Type.Object({ n: Type.Integer(), startOn: Day, dueOn: Day, dueMinor: ComponentsSchema, paidMinor: ComponentsSchema, waivedMinor: ComponentsSchema, outstandingMinor: ComponentsSchema, lateFeeChargedOn: Type.Union([Day, Type.Null()]), penaltyThroughOn: Type.Union([Day, Type.Null()]) })
const PostingSchema = Type.Object({ id: Uuid, debitAccountId: Uuid, creditAccountId: Uuid, amountMinor: MinorUnits, code: Type.Integer(), valueDate: Day, postedAt: Timestamp, journalIndex: Type.String() })
const AccountSchema = Type.Object({ id: Uuid, code: Type.Integer(), debitsPostedMinor: MinorUnits, creditsPostedMinor: MinorUnits })

const componentsView = (c: ComponentsMinor) => ({ principal: c.principal.toString(), interest: c.interest.toString(), fees: c.fees.toString(), penalties: c.penalties.toString() })

function productView(p: LoanProduct): Static<typeof ProductSchema> {
  const d = p.delinquency
  return {
    id: p.id, name: p.name, currency: p.currency, principalMinMinor: p.principalMinMinor.toString(), principalMaxMinor: p.principalMaxMinor.toString(),
    installmentsMin: p.installmentsMin, installmentsMax: p.installmentsMax, schedule: p.scheduleTemplate, annualRateCapPct: p.annualRateCapPct.toFixed(),
    upfrontFeePct: p.upfrontFeePct.toFixed(), penaltyRules: penaltyRulesToJson(p.penalty), allocationOrder: { ...p.allocationOrder, components: [...p.allocationOrder.components] },
    tierThresholds: d.thresholds, provisionRatesPct: provisionRatesToJson(d.provisionRatesPct), provisionRounding: d.provisionRounding,
    toleranceMinor: d.toleranceMinor.toString(), nonAccrualDpdMin: p.accrual.nonAccrualDpdMin, restructuredTierMin: d.restructuredTierMin, createdAt: p.createdAt.toISOString(),
  }
}

function loanView(loan: LoanRecord): Static<typeof LoanSchema> {
  const s = loan.state
  return {
    id: loan.id, productId: loan.productId, enterpriseId: loan.enterpriseId, status: s.status, currency: s.currency, principalMinor: s.principalMinor.toString(),
    annualRatePct: s.annualRatePct.toFixed(), upfrontFeeMinor: loan.upfrontFeeMinor.toString(), disbursedOn: s.disbursedOn.toString(), maturityOn: loan.maturityOn.toString(),
    accruedThroughOn: s.accruedThroughOn.toString(), accruedInterestMinor: s.accruedInterestMinor.toString(), overpaymentMinor: s.overpaymentMinor.toString(),
    nonAccrual: s.nonAccrual, suspendedInterestMinor: s.suspendedInterestMinor.toString(), writtenOffMinor: s.writtenOffMinor.toString(), recoveredMinor: s.recoveredMinor.toString(),
    dpd: loan.dpd, bucket: loan.bucket, tier: loan.tier, provisionMinor: loan.provisionMinor.toString(),
    outstandingMinor: componentsView(s.installments.map(measureInstallmentOutstanding).reduce(addComponents, zeroComponents)),
    principalAccountId: loan.principalAccountId, walletAccountId: loan.walletAccountId, version: loan.version, createdAt: loan.createdAt.toISOString(), updatedAt: loan.updatedAt.toISOString(),
  }
}

/** Transactions in a loan's detail; older ones page through GET /v1/loans/:id/transactions. */
const loanDetailTransactionsMax = 100

const postingView = (t: LoanPosting) => ({
  id: t.id, debitAccountId: t.debitAccountId, creditAccountId: t.creditAccountId, amountMinor: t.amountMinor.toString(), code: t.code, valueDate: t.valueDate,
  postedAt: t.postedAt.toISOString(), journalIndex: t.journalIndex.toString(),
})

const transactionView = (t: LoanTransaction) => ({ id: t.id, kind: t.kind, valueDate: t.valueDate, amountMinor: t.amountMinor.toString(), currency: t.currency, allocation: t.allocation, transferIds: [...t.transferIds], createdAt: t.createdAt.toISOString() })

/** A borrower's enterprise (its scope), or null for staff. A borrower without one sees nothing. */
function scopeOf(principal: Principal): string | null {
  if (staffRoles.includes(principal.role)) return null
  return principal.enterpriseId ?? '00000000-0000-0000-0000-000000000000'
}

/** Answers a failed servicing status: loan_not_found is 404; the rest are catalogued codes. */
function fail(status: string, detail?: string): never {
  if (status === 'loan_not_found') throw new Problem('not_found', 'no such loan')
  throw new Problem(status as ProblemCode, detail)
}

function productInput(body: Static<typeof ProductBody>): ProductInput {
  const s = body.schedule ?? {}
  const p = body.penaltyRules ?? {}
  const rates = body.provisionRatesPct
  return {
    name: body.name,
    currency: body.currency as Currency,
    principalMinMinor: BigInt(body.principalMinMinor),
    principalMaxMinor: BigInt(body.principalMaxMinor),
    installmentsMin: body.installmentsMin,
    installmentsMax: body.installmentsMax,
    scheduleTemplate: {
      repaymentEvery: s.repaymentEvery ?? 1, repaymentUnit: s.repaymentUnit ?? 'months', interestMethod: s.interestMethod ?? 'declining_balance',
      amortization: s.amortization ?? 'equal_installments', interestPeriod: s.interestPeriod ?? 'same_as_repayment', daysInYear: s.daysInYear ?? 'actual',
      daysInMonth: s.daysInMonth ?? 'actual', graceOnPrincipalPeriods: s.graceOnPrincipalPeriods ?? 0, graceOnInterestPaymentPeriods: s.graceOnInterestPaymentPeriods ?? 0,
      interestFreePeriods: s.interestFreePeriods ?? 0, installmentMultipleOf: s.installmentMultipleOf ?? null, rounding: s.rounding ?? 'half_even', compat: s.compat ?? null,
    },
    annualRateCapPct: new RateDecimal(body.annualRateCapPct),
    upfrontFeePct: new RateDecimal(body.upfrontFeePct ?? '0'),
    penalty: {
      penaltyRateMultiplier: p.penaltyRateMultiplier === undefined ? defaultPenaltyRules.penaltyRateMultiplier : new RateDecimal(p.penaltyRateMultiplier),
      penaltyRounding: p.penaltyRounding ?? defaultPenaltyRules.penaltyRounding,
      lateFeeFixedMinor: p.lateFeeFixedMinor === undefined ? defaultPenaltyRules.lateFeeFixedMinor : BigInt(p.lateFeeFixedMinor),
      lateFeePct: p.lateFeePct === undefined ? defaultPenaltyRules.lateFeePct : new RateDecimal(p.lateFeePct),
      lateFeeRounding: p.lateFeeRounding ?? defaultPenaltyRules.lateFeeRounding,
      lateFeeGraceDays: p.lateFeeGraceDays ?? defaultPenaltyRules.lateFeeGraceDays,
    },
    allocationOrder: {
      components: body.allocationOrder?.components ?? defaultAllocationOrder.components,
      installments: body.allocationOrder?.installments ?? defaultAllocationOrder.installments,
      inAdvance: body.allocationOrder?.inAdvance ?? defaultAllocationOrder.inAdvance,
    },
    delinquency: {
      thresholds: body.tierThresholds ?? defaultTierThresholds,
      provisionRatesPct: rates === undefined ? defaultProvisionRatesPct : { normal: new RateDecimal(rates.normal), special_mention: new RateDecimal(rates.special_mention), substandard: new RateDecimal(rates.substandard), doubtful: new RateDecimal(rates.doubtful), loss: new RateDecimal(rates.loss) },
      provisionRounding: body.provisionRounding ?? defaultDelinquencyRules.provisionRounding,
      toleranceMinor: body.toleranceMinor === undefined ? defaultDelinquencyRules.toleranceMinor : BigInt(body.toleranceMinor),
      restructuredTierMin: body.restructuredTierMin ?? defaultDelinquencyRules.restructuredTierMin,
    },
    accrual: { nonAccrualDpdMin: body.nonAccrualDpdMin ?? 91 },
  }
}

const servicingStaff = ['admin', 'operator'] as const
const loanReaders = [...staffRoles, 'borrower'] as const
const ValueDateBody = { valueDate: Type.Optional(Day) }

export function registerLoanRoutes(app: App, deps: AppDeps): void {
  const contextOf = (principal: Principal): ServicingContext => ({ tenantId: principal.tenantId, ids: deps.ids, now: deps.clock.now() })
  const audit = (trx: Tx, principal: Principal, action: string, targetId: string, requestId: string, detail: Record<string, unknown> = {}) =>
    appendAudit(trx, { tenantId: principal.tenantId, actor: actorOf(principal), action, targetKind: 'loan', targetId, at: deps.clock.now(), ids: deps.ids, requestId, detail })

  app.post(
    '/v1/loan-products',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['loans'],
        summary: 'Create a loan product',
        description: 'Limits (principal in minor units, installments), schedule settings (the product fields of a schedule spec, docs/schedules.md), rate cap, upfront fee, penalty rules, allocation order, classification thresholds, provision rates and tolerance. Omitted rules take the defaults of docs/servicing.md.',
        body: ProductBody,
        response: { 201: ProductSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const input = productInput(request.body)
      return mutate(request, reply, deps, async (trx) => {
        const result = await createProduct(trx, contextOf(principal), input)
        if (result.status !== 'ok') throw new Problem('invalid_product', `${result.field}: ${result.reason}`)
        await appendAudit(trx, { tenantId: principal.tenantId, actor: actorOf(principal), action: 'loan_product.create', targetKind: 'loan_product', targetId: result.product.id, at: deps.clock.now(), ids: deps.ids, requestId: request.id })
        return { statusCode: 201, body: productView(result.product) }
      })
    },
  )

  app.get(
    '/v1/loan-products',
    {
      config: { access: { roles: loanReaders } },
      schema: {
        tags: ['loans'],
        summary: 'List loan products',
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 50 })), after: Type.Optional(Uuid) }, Strict),
        response: { 200: Type.Object({ items: Type.Array(ProductSchema), nextCursor: Type.Union([Uuid, Type.Null()]) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const limit = request.query.limit ?? 50
      const items = await inTenant(deps.db, principal.tenantId, (trx) => listProducts(trx, principal.tenantId, { after: request.query.after ?? null, limit: limit + 1 }))
      return { items: items.slice(0, limit).map(productView), nextCursor: items.length > limit ? (items[limit - 1]?.id ?? null) : null }
    },
  )

  app.post(
    '/v1/loans',
    {
      config: { access: { roles: servicingStaff } },
      schema: {
        tags: ['loans'],
        summary: 'Originate a loan (status approved)',
        description: 'Checked against the product (principal and term bounds, rate cap); the schedule is built with the product settings. Give `principal` (decimal string, major units) or `principalMinor`. `disbursedOn` defaults to the business date.',
        body: Type.Object(
          {
            productId: Uuid,
            enterpriseId: Uuid,
            principal: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}(\\.[0-9]{1,2})?$' })),
            principalMinor: Type.Optional(MinorUnits),
            annualRatePct: Pct,
            installments: Type.Integer({ minimum: 1, maximum: 600 }),
            disbursedOn: Type.Optional(Day),
            firstRepaymentOn: Type.Optional(Day),
          },
          Strict,
        ),
        response: { 201: LoanSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const body = request.body
      if ((body.principal === undefined) === (body.principalMinor === undefined)) {
        throw new Problem('invalid_field', 'give exactly one of principal and principalMinor', [{ path: '/principal', code: 'invalid_field', message: 'give exactly one of principal (major units) and principalMinor' }])
      }
      return mutate(request, reply, deps, async (trx) => {
        let principalMinor: bigint
        if (body.principalMinor !== undefined) {
          principalMinor = BigInt(body.principalMinor)
        } else {
          const product = await productCurrency(trx, principal.tenantId, body.productId)
          if (product === undefined) throw new Problem('product_not_found')
          const parsed = parseMajor(body.principal ?? '', product)
          if (parsed === undefined) throw new Problem('invalid_field', 'principal has more fraction digits than the currency', [{ path: '/principal', code: 'invalid_field', message: 'too many fraction digits' }])
          principalMinor = parsed
        }
        const result = await originateLoan(trx, contextOf(principal), {
          productId: body.productId, enterpriseId: body.enterpriseId, principalMinor, annualRatePct: body.annualRatePct, installments: body.installments,
          disbursedOn: body.disbursedOn ?? null, firstRepaymentOn: body.firstRepaymentOn ?? null,
        })
        if (result.status === 'invalid_schedule_spec') throw new Problem('invalid_schedule_spec', `${result.field}: ${result.reason}`, [{ path: `/${result.field}`, code: 'invalid_schedule_spec', message: result.reason }])
        if (result.status !== 'ok') fail(result.status)
        await audit(trx, principal, 'loan.originate', result.loan.id, request.id)
        return { statusCode: 201, body: loanView(result.loan) }
      })
    },
  )

  app.get(
    '/v1/loans',
    {
      config: { access: { roles: loanReaders } },
      schema: {
        tags: ['loans'],
        summary: 'List loans (a borrower sees its own enterprise’s)',
        querystring: Type.Object(
          { enterpriseId: Type.Optional(Uuid), status: Type.Optional(Literals(loanStatuses)), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 50 })), after: Type.Optional(Uuid) },
          Strict,
        ),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ id: Uuid, productId: Uuid, enterpriseId: Uuid, status: Type.String(), currency: Type.String(), principalMinor: MinorUnits, annualRatePct: Type.String(), disbursedOn: Day, maturityOn: Day, dpd: Type.Integer(), tier: Type.String(), principalOutstandingMinor: MinorUnits, createdAt: Timestamp })),
            nextCursor: Type.Union([Uuid, Type.Null()]),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const scope = scopeOf(principal)
      const query = request.query
      if (scope !== null && query.enterpriseId !== undefined && query.enterpriseId !== scope) return { items: [], nextCursor: null }
      const limit = query.limit ?? 50
      const rows = await inTenant(deps.db, principal.tenantId, (trx) =>
        listLoans(trx, principal.tenantId, { enterpriseId: scope ?? query.enterpriseId ?? null, status: query.status ?? null, after: query.after ?? null, limit: limit + 1 }))
      return {
        items: rows.slice(0, limit).map((r) => ({ ...r, principalMinor: r.principalMinor.toString(), principalOutstandingMinor: r.principalOutstandingMinor.toString(), createdAt: r.createdAt.toISOString() })),
        nextCursor: rows.length > limit ? (rows[limit - 1]?.id ?? null) : null,
      }
    },
  )

  app.get(
    '/v1/loans/:id',
    {
      config: { access: { roles: loanReaders } },
      schema: {
        tags: ['loans'],
        summary: 'A loan with its schedule (due, paid, waived, outstanding per component), its newest transactions and their ledger postings',
        description: `The newest ${loanDetailTransactionsMax} transactions (oldest first) with their postings; \`transactionsBefore\` is the cursor for older ones (\`GET /v1/loans/{id}/transactions?before=\`), null when there are none.`,
        params: IdParams,
        response: {
          200: Type.Object({
            loan: LoanSchema, productName: Type.String(), schedule: Type.Array(InstallmentSchema), transactions: Type.Array(TransactionSchema), postings: Type.Array(PostingSchema),
            accounts: Type.Array(AccountSchema), transactionsBefore: Type.Union([Uuid, Type.Null()]),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const detail = await inTenant(deps.db, principal.tenantId, (trx) => readLoanDetail(trx, principal.tenantId, request.params.id, { enterpriseId: scopeOf(principal), transactionsMax: loanDetailTransactionsMax }))
      if (detail === undefined) throw new Problem('not_found', 'no such loan')
      return {
        loan: loanView(detail.loan),
        productName: detail.productName,
        schedule: detail.loan.state.installments.map((i) => ({
          n: i.n, startOn: i.startOn.toString(), dueOn: i.dueOn.toString(), dueMinor: componentsView(i.dueMinor), paidMinor: componentsView(i.paidMinor),
          waivedMinor: componentsView(i.waivedMinor), outstandingMinor: componentsView(measureInstallmentOutstanding(i)),
          lateFeeChargedOn: i.lateFeeChargedOn?.toString() ?? null, penaltyThroughOn: i.penaltyThroughOn?.toString() ?? null,
        })),
        transactions: detail.transactions.map(transactionView),
        postings: detail.postings.map(postingView),
        accounts: detail.accounts.map((a) => ({ id: a.id, code: a.code, debitsPostedMinor: a.debitsPostedMinor.toString(), creditsPostedMinor: a.creditsPostedMinor.toString() })),
        transactionsBefore: detail.transactionsBefore,
      }
    },
  )

  app.get(
    '/v1/loans/:id/transactions',
    {
      config: { access: { roles: loanReaders } },
      schema: {
        tags: ['loans'],
        summary: 'A page of the loan’s transactions with their ledger postings, older than `before` (the newest without it)',
        description: 'Each page lists its transactions oldest first; `transactionsBefore` is the cursor of the next older page, null at the first transaction.',
        params: IdParams,
        querystring: Type.Object({ before: Type.Optional(Uuid), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: loanDetailTransactionsMax })) }, Strict),
        response: {
          200: Type.Object({ transactions: Type.Array(TransactionSchema), postings: Type.Array(PostingSchema), transactionsBefore: Type.Union([Uuid, Type.Null()]) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const page = await inTenant(deps.db, principal.tenantId, (trx) => readLoanTransactions(trx, principal.tenantId, request.params.id, {
        enterpriseId: scopeOf(principal), limit: request.query.limit ?? loanDetailTransactionsMax, before: request.query.before ?? null,
      }))
      if (page === undefined) throw new Problem('not_found', 'no such loan')
      return { transactions: page.transactions.map(transactionView), postings: page.postings.map(postingView), transactionsBefore: page.transactionsBefore }
    },
  )

  app.post(
    '/v1/loans/:id/disburse',
    { config: { access: { roles: servicingStaff } }, schema: { tags: ['loans'], summary: 'Disburse an approved loan on its disbursement date (1201 ← 1001 net of the upfront fee, 1201 ← 2401 the fee)', params: IdParams, body: Type.Optional(Type.Object({}, Strict)), response: { 200: EventSchema, ...problemResponses } } },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await disburseLoan(trx, contextOf(principal), request.params.id)
        if (result.status !== 'ok') fail(result.status)
        await audit(trx, principal, 'loan.disburse', result.loan.id, request.id)
        return { statusCode: 200, body: { loan: loanView(result.loan), transaction: transactionView(result.transaction) } }
      })
    },
  )

  app.post(
    '/v1/loans/:id/repayments',
    {
      config: { access: { roles: [...servicingStaff, 'borrower'] } },
      schema: {
        tags: ['loans'],
        summary: 'Repay (allocated by the product order; an amount covering the pay-off quote settles and closes the loan)',
        description: 'Value date: default the business date. After the loan’s last closed day, the days before it are closed first. On a day already closed (back-dated), the loan is re-run from that date: accrual, penalties, classification and the allocation of later payments are recomputed and the books corrected by the difference, in the same transaction (loans with waivers, write-off, refunds or rescheduling are refused: `value_date_rerun_not_supported`). The rest after allocation goes to the borrower’s wallet (2201).',
        params: IdParams,
        body: Type.Object({ amountMinor: MinorUnits, ...ValueDateBody }, Strict),
        response: { 201: EventSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await repayLoan(trx, contextOf(principal), request.params.id, { amountMinor: BigInt(request.body.amountMinor), valueDate: request.body.valueDate ?? null, enterpriseId: scopeOf(principal) })
        if (result.status !== 'ok') fail(result.status, 'detail' in result ? result.detail : undefined)
        await audit(trx, principal, 'loan.repay', result.loan.id, request.id, { amountMinor: request.body.amountMinor })
        return { statusCode: 201, body: { loan: loanView(result.loan), transaction: transactionView(result.transaction) } }
      })
    },
  )

  app.post(
    '/v1/loans/:id/prepayments',
    {
      config: { access: { roles: [...servicingStaff, 'borrower'] } },
      schema: {
        tags: ['loans'],
        summary: 'Prepay (提前还款): what is due and the interest accrued so far first, the rest prepays principal and re-amortises',
        description: '`reduce_installment` keeps the due dates and lowers the installments; `reduce_term` keeps the installment and drops the last due dates (equal installments or equal principal only). Booked like a repayment; the transaction carries the new schedule. An amount covering everything settles and closes the loan.',
        params: IdParams,
        body: Type.Object({ amountMinor: MinorUnits, mode: Literals(['reduce_installment', 'reduce_term']), ...ValueDateBody }, Strict),
        response: { 201: EventSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await prepayLoan(trx, contextOf(principal), request.params.id, {
          amountMinor: BigInt(request.body.amountMinor), mode: request.body.mode, valueDate: request.body.valueDate ?? null, enterpriseId: scopeOf(principal),
        })
        if (result.status !== 'ok') fail(result.status)
        await audit(trx, principal, 'loan.prepay', result.loan.id, request.id, { amountMinor: request.body.amountMinor, mode: request.body.mode })
        return { statusCode: 201, body: { loan: loanView(result.loan), transaction: transactionView(result.transaction) } }
      })
    },
  )

  app.post(
    '/v1/loans/:id/reschedule',
    {
      config: { access: { roles: [...servicingStaff, 'risk_analyst'] } },
      schema: {
        tags: ['loans'],
        summary: 'Reschedule (展期): the unpaid principal over a new schedule from the value date; overdue charges stay owed',
        description: 'Nothing is posted: the receivables are unchanged, only when they fall due. The loan keeps the same accounts and from now on is classified at least at the product’s restructured tier (special mention by default). The transaction records the previous and the new schedule.',
        params: IdParams,
        body: Type.Object({
          installments: Type.Integer({ minimum: 1, maximum: 600 }), annualRatePct: Type.Optional(Pct), firstRepaymentOn: Type.Optional(Day),
          graceOnPrincipalPeriods: Type.Optional(Type.Integer({ minimum: 0, maximum: 599 })), ...ValueDateBody,
        }, Strict),
        response: { 200: EventSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await rescheduleLoan(trx, contextOf(principal), request.params.id, {
          installments: request.body.installments, annualRatePct: request.body.annualRatePct ?? null, firstRepaymentOn: request.body.firstRepaymentOn ?? null,
          graceOnPrincipalPeriods: request.body.graceOnPrincipalPeriods ?? 0, valueDate: request.body.valueDate ?? null,
        })
        if (result.status !== 'ok') fail(result.status, 'detail' in result ? result.detail : undefined)
        await audit(trx, principal, 'loan.reschedule', result.loan.id, request.id, { ...request.body })
        return { statusCode: 200, body: { loan: loanView(result.loan), transaction: transactionView(result.transaction) } }
      })
    },
  )

  app.get(
    '/v1/loans/:id/payoff',
    {
      config: { access: { roles: loanReaders } },
      schema: {
        tags: ['loans'],
        summary: 'Pay-off quote as of a date (default: the business date)',
        params: IdParams,
        querystring: Type.Object({ on: Type.Optional(Day) }, Strict),
        response: { 200: Type.Object({ on: Day, currency: Type.String(), owedMinor: ComponentsSchema, overpaymentMinor: MinorUnits, totalMinor: SignedMinor }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const result = await inTenant(deps.db, principal.tenantId, (trx) => quoteLoanPayoff(trx, contextOf(principal), request.params.id, { on: request.query.on ?? null, enterpriseId: scopeOf(principal) }))
      if (result.status !== 'ok') fail(result.status)
      return { on: result.on, currency: result.quote.state.currency, owedMinor: componentsView(result.quote.owedMinor), overpaymentMinor: result.quote.overpaymentMinor.toString(), totalMinor: result.quote.totalMinor.toString() }
    },
  )

  app.post(
    '/v1/loans/:id/waivers',
    {
      config: { access: { roles: servicingStaff } },
      schema: {
        tags: ['loans'],
        summary: 'Waive interest, fees or penalties of an installment (reverses the income)',
        params: IdParams,
        body: Type.Object({ n: Type.Integer({ minimum: 1, maximum: 600 }), component: Literals(['interest', 'fees', 'penalties', 'principal']), amountMinor: MinorUnits, ...ValueDateBody }, Strict),
        response: { 201: EventSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const body = request.body
      return mutate(request, reply, deps, async (trx) => {
        const result = await waiveLoanCharges(trx, contextOf(principal), request.params.id, { n: body.n, component: body.component as 'interest', amountMinor: BigInt(body.amountMinor), valueDate: body.valueDate ?? null })
        if (result.status !== 'ok') fail(result.status)
        await audit(trx, principal, 'loan.waive', result.loan.id, request.id, { n: body.n, component: body.component, amountMinor: body.amountMinor })
        return { statusCode: 201, body: { loan: loanView(result.loan), transaction: transactionView(result.transaction) } }
      })
    },
  )

  app.post(
    '/v1/loans/:id/write-off',
    { config: { access: { roles: servicingStaff } }, schema: { tags: ['loans'], summary: 'Write the loan off (核销): principal to the allowance, receivables reversed', params: IdParams, body: Type.Optional(Type.Object(ValueDateBody, Strict)), response: { 200: EventSchema, ...problemResponses } } },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await writeOffLoanBalance(trx, contextOf(principal), request.params.id, { valueDate: request.body?.valueDate ?? null })
        if (result.status !== 'ok') fail(result.status)
        await audit(trx, principal, 'loan.write_off', result.loan.id, request.id)
        return { statusCode: 200, body: { loan: loanView(result.loan), transaction: transactionView(result.transaction) } }
      })
    },
  )

  app.post(
    '/v1/loans/:id/recoveries',
    { config: { access: { roles: servicingStaff } }, schema: { tags: ['loans'], summary: 'Record cash recovered on a written-off loan (1001 ← 4004)', params: IdParams, body: Type.Object({ amountMinor: MinorUnits, ...ValueDateBody }, Strict), response: { 201: EventSchema, ...problemResponses } } },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await recordLoanRecovery(trx, contextOf(principal), request.params.id, { amountMinor: BigInt(request.body.amountMinor), valueDate: request.body.valueDate ?? null })
        if (result.status !== 'ok') fail(result.status)
        await audit(trx, principal, 'loan.recover', result.loan.id, request.id, { amountMinor: request.body.amountMinor })
        return { statusCode: 201, body: { loan: loanView(result.loan), transaction: transactionView(result.transaction) } }
      })
    },
  )

  app.post(
    '/v1/loans/:id/refund',
    { config: { access: { roles: servicingStaff } }, schema: { tags: ['loans'], summary: 'Refund the borrower’s overpayment (2201 ← 1001); all of it unless an amount is given', params: IdParams, body: Type.Optional(Type.Object({ amountMinor: Type.Optional(MinorUnits), ...ValueDateBody }, Strict)), response: { 201: EventSchema, ...problemResponses } } },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const amount = request.body?.amountMinor
        const result = await refundOverpayment(trx, contextOf(principal), request.params.id, { amountMinor: amount === undefined ? null : BigInt(amount), valueDate: request.body?.valueDate ?? null })
        if (result.status !== 'ok') fail(result.status)
        await audit(trx, principal, 'loan.refund', result.loan.id, request.id, { amountMinor: result.transaction.amountMinor.toString() })
        return { statusCode: 201, body: { loan: loanView(result.loan), transaction: transactionView(result.transaction) } }
      })
    },
  )
}

/** The currency of a product (to read a principal given in major units), or undefined. */
async function productCurrency(trx: Tx, tenantId: string, productId: string): Promise<Currency | undefined> {
  return (await findProduct(trx, tenantId, productId))?.currency
}

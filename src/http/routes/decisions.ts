/**
 * @module http/routes/decisions
 * Strategies under maker-checker governance, applications decided in the same request, offers accepted
 * and disbursed through the payout rail, and payout reconciliation.
 *
 * Roles: strategies are written, submitted, approved and activated by admins and risk analysts (the
 * approver must be neither the author nor the submitter: 403 `approver_must_differ_from_author` /
 * `…_submitter`). Applications and offers: operators and admins, and a borrower for its own enterprise
 * (another's answers 404 like a missing one); staff may read applications. Reconciliation: admins.
 *
 * State changes of one transaction go through `mutate()`. Accepting an offer and reconciling do not: they
 * call an external rail between two transactions (flows/accept-offer.ts), and are idempotent by the offer
 * and the payout themselves.
 */
import { Type } from 'typebox'
import { actorOf, appendAudit, type Principal } from '../../access/index.ts'
import { pageSizeMax } from '../../core/limits.ts'
import { inTenant, type Tx } from '../../db/database.ts'
import { createStrategyDraft, findStrategy, listStrategies, transitionStoredStrategy, type StoredStrategy, type StrategyAction } from '../../decisions/index.ts'
import { backtestStrategy, compileStoredStrategy, readBacktestCsv, type BacktestRow } from '../../decisions/index.ts'
import { parseCsv } from '../../scoring/index.ts'
import {
  acceptOffer, applyForCreditLine, applyForLoan, createSimulatedBank, defaultStrategyName, listApplications, readApplication, readReview, readStoredBacktestRows, reconcilePayouts, reviewApplication,
  type ApplicationReview, type ApplicationView, type CreditLineView, type OfferView, type PayoutRail,
} from '../../flows/index.ts'
import { creditLineView, CreditLineSchema, PayoutSchema, payoutView, registerCreditLineRoutes } from './credit-lines.ts'
import type { App, AppDeps } from '../app.ts'
import { principalOf, staffRoles } from '../authenticate.ts'
import { mutate } from '../idempotency.ts'
import { Problem, type ProblemCode } from '../problem.ts'
import { IdParams, Strict, Uuid, problemResponses } from './schemas.ts'

const MinorUnits = Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'an amount in minor units, as a decimal string' })
const Loose = { additionalProperties: true } as const
const StrategySchema = Type.Object({
  id: Uuid, name: Type.String(), version: Type.Integer(), status: Type.String(), authorId: Type.String(), submittedBy: Type.Union([Type.String(), Type.Null()]),
  approvedBy: Type.Union([Type.String(), Type.Null()]), history: Type.Array(Type.Object({}, Loose)), document: Type.Object({}, Loose), createdAt: Type.String(), updatedAt: Type.String(),
})
const OfferSchema = Type.Object({
  id: Uuid, applicationId: Uuid, limitMinor: Type.String(), amountMinor: Type.String(), currency: Type.String(), annualRatePct: Type.String(), aprPct: Type.String(),
  upfrontFeeMinor: Type.String(), termMonths: Type.Integer(), schedulePreview: Type.Object({}, Loose), expiresAt: Type.String(), status: Type.String(), loanId: Type.Union([Uuid, Type.Null()]),
})
const ReasonSchema = Type.Object({ code: Type.String(), en: Type.String(), zh: Type.String(), rule: Type.Optional(Type.String()) })
const ApplicationSchema = Type.Object({
  id: Uuid, enterpriseId: Uuid, productId: Uuid, amountMinor: Type.String(), currency: Type.String(), termMonths: Type.Integer(), businessDate: Type.String(),
  outcome: Type.String(), reasons: Type.Array(ReasonSchema), score: Type.Union([Type.Number(), Type.Null()]),
  strategy: Type.Object({ id: Uuid, name: Type.String(), version: Type.Integer() }),
  model: Type.Union([Type.Object({ id: Uuid, name: Type.String(), version: Type.Integer() }), Type.Null()]),
  offer: Type.Union([OfferSchema, Type.Null()]),
  kind: Type.Union([Type.Literal('loan'), Type.Literal('credit_line'), Type.Literal('credit_line_review')]),
  creditLineId: Type.Union([Uuid, Type.Null()]),
  review: Type.Union([
    Type.Object({ decision: Type.Union([Type.Literal('approve'), Type.Literal('decline')]), note: Type.String(), reviewerId: Type.String(), amountMinor: Type.Union([Type.String(), Type.Null()]), annualRatePct: Type.Union([Type.String(), Type.Null()]), reviewedAt: Type.String() }),
    Type.Null(),
  ]),
  creditLine: Type.Optional(Type.Union([CreditLineSchema, Type.Null()])),
  createdAt: Type.String(),
  decision: Type.Optional(Type.Object({}, Loose)),
  inputs: Type.Optional(Type.Object({}, Loose)),
})
const strategyView = (s: StoredStrategy) => ({
  id: s.id, name: s.name, version: s.version, status: s.status, authorId: s.authorId, submittedBy: s.submittedBy, approvedBy: s.approvedBy, history: [...s.history],
  document: s.document, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString(),
})
const offerView = (o: OfferView) => ({
  id: o.id, applicationId: o.applicationId, limitMinor: o.limitMinor.toString(), amountMinor: o.amountMinor.toString(), currency: o.currency, annualRatePct: o.annualRatePct,
  aprPct: o.aprPct, upfrontFeeMinor: o.upfrontFeeMinor.toString(), termMonths: o.termMonths, schedulePreview: o.schedulePreview as Record<string, unknown>,
  expiresAt: o.expiresAt.toISOString(), status: o.status, loanId: o.loanId,
})
const reviewView = (r: ApplicationReview) => ({
  decision: r.decision, note: r.note, reviewerId: r.reviewerId, amountMinor: r.amountMinor?.toString() ?? null, annualRatePct: r.annualRatePct, reviewedAt: r.reviewedAt.toISOString(),
})
function applicationView(a: ApplicationView, offer: OfferView | null, detail: boolean, extra: { review?: ApplicationReview | null; line?: CreditLineView | null } = {}) {
  return {
    id: a.id, enterpriseId: a.enterpriseId, productId: a.productId, amountMinor: a.amountMinor.toString(), currency: a.currency, termMonths: a.termMonths, businessDate: a.businessDate,
    outcome: a.status, reasons: a.decision.reasons.map((r) => ({ ...r })), score: a.decision.score, strategy: a.strategy, model: a.model,
    offer: offer === null ? null : offerView(offer), kind: a.kind, creditLineId: a.creditLineId, review: extra.review == null ? null : reviewView(extra.review),
    ...(extra.line === undefined ? {} : { creditLine: extra.line === null ? null : creditLineView(extra.line) }),
    createdAt: a.createdAt.toISOString(),
    ...(detail ? { decision: a.decision as unknown as Record<string, unknown>, inputs: a.inputs } : {}),
  }
}
/** A borrower's enterprise (its scope), or null for staff. */
function scopeOf(principal: Principal): string | null {
  if (staffRoles.includes(principal.role)) return null
  return principal.enterpriseId ?? '00000000-0000-0000-0000-000000000000'
}

const strategyStaff = ['admin', 'risk_analyst'] as const
/** Stored applications one backtest reads at most (newest business dates first would bias; the oldest first by id). */
const backtestRowsMax = 200_000
const applicants = ['admin', 'operator', 'borrower'] as const

export type DecisionRouteOptions = {
  /** The payout rail; defaults to the in-process simulated bank (always succeeds). */
  readonly rail?: PayoutRail
  readonly payoutTimeoutMs?: number
}

export function registerDecisionRoutes(app: App, deps: AppDeps, options: DecisionRouteOptions = {}): void {
  const rail = options.rail ?? createSimulatedBank()
  const payoutDeps = { db: deps.db, ids: deps.ids, clock: deps.clock, rail, ...(options.payoutTimeoutMs === undefined ? {} : { payoutTimeoutMs: options.payoutTimeoutMs }) }
  registerCreditLineRoutes(app, deps, payoutDeps)
  const ctxOf = (principal: Principal) => ({ tenantId: principal.tenantId, ids: deps.ids, now: deps.clock.now() })
  const audit = (trx: Tx, principal: Principal, action: string, targetKind: string, targetId: string, requestId: string, detail: Record<string, unknown> = {}) =>
    appendAudit(trx, { tenantId: principal.tenantId, actor: actorOf(principal), action, targetKind, targetId, at: deps.clock.now(), ids: deps.ids, requestId, detail })

  app.post(
    '/v1/strategies',
    {
      config: { access: { roles: strategyStaff } },
      schema: {
        tags: ['decisions'], summary: 'Create a draft version of a strategy (the next version of its name)',
        description: 'The document (docs/strategies.md) is validated and compiled; every error is listed with its JSON path and reason (422 `strategy_invalid`).',
        body: Type.Object({ document: Type.Object({}, Loose) }, Strict), response: { 201: StrategySchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await createStrategyDraft(trx, ctxOf(principal), { document: request.body.document, authorId: principal.id })
        if (result.status !== 'ok') throw new Problem('strategy_invalid', `${result.errors.length} error(s)`, result.errors.map((e) => ({ path: e.path, code: 'strategy_invalid', message: e.reason })))
        await audit(trx, principal, 'strategy.create', 'strategy', result.strategy.id, request.id, { name: result.strategy.name, version: result.strategy.version })
        return { statusCode: 201, body: strategyView(result.strategy) }
      })
    },
  )

  app.get(
    '/v1/strategies',
    {
      config: { access: { roles: [...strategyStaff, 'auditor', 'reviewer'] } },
      schema: {
        tags: ['decisions'], summary: 'List strategy versions (newest first within a name)',
        querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 63 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 50 })) }, Strict),
        response: { 200: Type.Object({ items: Type.Array(StrategySchema) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const items = await inTenant(deps.db, principal.tenantId, (trx) => listStrategies(trx, principal.tenantId, { name: request.query.name ?? null, limit: request.query.limit ?? 50 }))
      return { items: items.map(strategyView) }
    },
  )

  app.get(
    '/v1/strategies/:id',
    { config: { access: { roles: [...strategyStaff, 'auditor', 'reviewer'] } }, schema: { tags: ['decisions'], summary: 'One strategy version with its document and history', params: IdParams, response: { 200: StrategySchema, ...problemResponses } } },
    async (request) => {
      const principal = principalOf(request)
      const found = await inTenant(deps.db, principal.tenantId, (trx) => findStrategy(trx, principal.tenantId, request.params.id))
      if (found === undefined) throw new Problem('not_found', 'no such strategy')
      return strategyView(found)
    },
  )

  app.post(
    '/v1/strategies/:id/backtest',
    {
      config: { access: { roles: strategyStaff } },
      schema: {
        tags: ['decisions'], summary: 'Backtest a strategy version (a draft, typically) before it goes live',
        description: 'Runs the version over stored applications (their stored inputs; business dates `from`–`to`; observed outcome: the loan that followed went non-performing or was written off) or over `csv` (columns named like the inputs; `badColumn`/`badValue`, `segmentColumn`). Reports approval, referral and decline rates and the expected and observed bad rates, overall and by segment. Changes nothing.',
        params: IdParams,
        body: Type.Object({
          from: Type.Optional(Type.String({ format: 'date' })), to: Type.Optional(Type.String({ format: 'date' })),
          segmentBy: Type.Optional(Type.Union([Type.Literal('industry'), Type.Literal('product'), Type.Literal('none')])),
          csv: Type.Optional(Type.String({ maxLength: 900_000 })), segmentColumn: Type.Optional(Type.String({ maxLength: 100 })), badColumn: Type.Optional(Type.String({ maxLength: 100 })), badValue: Type.Optional(Type.String({ maxLength: 100 })),
        }, Strict),
        response: { 200: Type.Object({ applications: Type.Integer(), source: Type.String(), overall: Type.Object({}, Loose), segments: Type.Array(Type.Object({}, Loose)), topDeclineReasons: Type.Array(Type.Object({}, Loose)), topReferralReasons: Type.Array(Type.Object({}, Loose)) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const body = request.body
      return inTenant(deps.db, principal.tenantId, async (trx) => {
        const stored = await findStrategy(trx, principal.tenantId, request.params.id)
        if (stored === undefined) throw new Problem('not_found', 'no such strategy')
        const compiled = compileStoredStrategy(principal.tenantId, stored)
        let rows: readonly BacktestRow[]
        if (body.csv !== undefined) {
          const read = readBacktestCsv(compiled, parseCsv(body.csv), { ...(body.segmentColumn === undefined ? {} : { segmentColumn: body.segmentColumn }), ...(body.badColumn === undefined ? {} : { badColumn: body.badColumn }), ...(body.badValue === undefined ? {} : { badValue: body.badValue }) })
          if (!read.ok) throw new Problem('backtest_csv_invalid', `${read.errors.length} CSV error(s)`, read.errors.map((e) => ({ path: `row ${e.row}, ${e.column}`, code: 'backtest_csv_invalid', message: e.reason })))
          rows = read.rows
        } else {
          rows = await readStoredBacktestRows(trx, { from: body.from ?? null, to: body.to ?? null, segmentBy: body.segmentBy ?? 'industry', limit: backtestRowsMax })
        }
        const report = backtestStrategy(compiled, rows)
        return { applications: rows.length, source: body.csv === undefined ? 'applications' : 'csv', ...report } as never
      })
    },
  )

  for (const type of ['submit', 'approve', 'reject', 'activate', 'retire'] as const) {
    app.post(
      `/v1/strategies/:id/${type}`,
      {
        config: { access: { roles: strategyStaff } },
        schema: {
          tags: ['decisions'], summary: `${type[0]?.toUpperCase()}${type.slice(1)} a strategy version`,
          description: 'draft → submit → approve (by someone who neither wrote nor submitted it) → activate (retires the active version of the name); reject (with a note) returns it to draft.',
          params: IdParams, body: Type.Optional(Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, Strict)), response: { 200: StrategySchema, ...problemResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request)
        const note = request.body?.note
        const action: StrategyAction = type === 'reject' ? { type, note: note ?? '' } : type === 'submit' || type === 'activate' ? { type } : { type, ...(note === undefined ? {} : { note }) }
        return mutate(request, reply, deps, async (trx) => {
          const result = await transitionStoredStrategy(trx, ctxOf(principal), request.params.id, action, principal.id)
          if (result.status === 'strategy_not_found') throw new Problem('not_found', 'no such strategy')
          if (result.status !== 'ok') throw new Problem(result.status satisfies ProblemCode, result.detail)
          await audit(trx, principal, `strategy.${type}`, 'strategy', result.strategy.id, request.id, { retired: result.retired.map((r) => r.id) })
          return { statusCode: 200, body: strategyView(result.strategy) }
        })
      },
    )
  }

  app.post(
    '/v1/applications',
    {
      config: { access: { roles: applicants } },
      schema: {
        tags: ['decisions'], summary: 'Apply for a loan: decided in the same response',
        description: 'Features as of the business date → the champion score → the active strategy. Approved: the offer (limit, amount, nominal rate, APR by IRR with fees, term, schedule preview, expiry). Declined: reasons in English and Chinese. Referred: queued for a person, with reasons.',
        body: Type.Object({
          enterpriseId: Uuid, productId: Uuid, amountMinor: MinorUnits, termMonths: Type.Integer({ minimum: 1, maximum: 600 }), strategy: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' })),
          kind: Type.Optional(Type.Union([Type.Literal('loan'), Type.Literal('credit_line')], { description: '`credit_line`: an approval opens a credit line (授信) for `amountMinor` at most, drawn later without a new decision; the response carries `creditLine` instead of `offer`.' })),
        }, Strict),
        response: { 201: ApplicationSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const scope = scopeOf(principal)
      if (scope !== null && scope !== request.body.enterpriseId) throw new Problem('forbidden', 'a borrower applies for its own enterprise')
      return mutate(request, reply, deps, async (trx) => {
        const input = {
          tenantId: principal.tenantId, enterpriseId: request.body.enterpriseId, productId: request.body.productId, amountMinor: BigInt(request.body.amountMinor),
          termMonths: request.body.termMonths, strategyName: request.body.strategy ?? defaultStrategyName, actor: actorOf(principal), requestId: request.id,
        }
        if (request.body.kind === 'credit_line') {
          const result = await applyForCreditLine(trx, deps, input)
          if (result.status !== 'ok') throw new Problem(result.status, result.detail)
          await audit(trx, principal, 'application.decide', 'application', result.application.id, request.id, { outcome: result.application.status, kind: 'credit_line', creditLineId: result.line?.id ?? null })
          return { statusCode: 201, body: applicationView(result.application, null, false, { line: result.line }) }
        }
        const result = await applyForLoan(trx, deps, { ...input, auditDecision: true }) // audited with the application, in one statement
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        return { statusCode: 201, body: applicationView(result.application, result.offer, false) }
      })
    },
  )

  app.get(
    '/v1/applications/:id',
    { config: { access: { roles: [...staffRoles, 'borrower'] } }, schema: { tags: ['decisions'], summary: 'An application with its decision, rule trace, inputs and offer', params: IdParams, response: { 200: ApplicationSchema, ...problemResponses } } },
    async (request) => {
      const principal = principalOf(request)
      const found = await inTenant(deps.db, principal.tenantId, async (trx) => {
        const read = await readApplication(trx, request.params.id, { enterpriseId: scopeOf(principal) })
        return read === undefined ? undefined : { ...read, review: await readReview(trx, read.application.id) }
      })
      if (found === undefined) throw new Problem('not_found', 'no such application')
      return applicationView(found.application, found.offer, true, { review: found.review })
    },
  )

  app.get(
    '/v1/applications',
    {
      config: { access: { roles: [...staffRoles, 'borrower'] } },
      schema: {
        tags: ['decisions'], summary: 'Applications, newest first: the review queue is `outcome=referred&reviewed=false`',
        description: 'Loan and credit-line applications (credit-line re-evaluations with `kind=credit_line_review`). A borrower sees its own enterprise only.',
        querystring: Type.Object({
          outcome: Type.Optional(Type.Union([Type.Literal('approved'), Type.Literal('declined'), Type.Literal('referred')])),
          enterpriseId: Type.Optional(Uuid),
          reviewed: Type.Optional(Type.Boolean()),
          kind: Type.Optional(Type.Union([Type.Literal('loan'), Type.Literal('credit_line'), Type.Literal('credit_line_review')])),
          cursor: Type.Optional(Uuid),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 50 })),
        }, Strict),
        response: { 200: Type.Object({ items: Type.Array(ApplicationSchema), nextCursor: Type.Union([Uuid, Type.Null()]) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const scope = scopeOf(principal)
      const q = request.query
      const page = await inTenant(deps.db, principal.tenantId, (trx) => listApplications(trx, {
        outcome: q.outcome ?? null, enterpriseId: scope ?? q.enterpriseId ?? null, reviewed: q.reviewed ?? null,
        kinds: q.kind === undefined ? ['loan', 'credit_line'] : [q.kind], cursor: q.cursor ?? null, limit: q.limit ?? 50,
      }))
      return { items: page.items.map((item) => applicationView(item.application, item.offer, false, { review: item.review })), nextCursor: page.nextCursor }
    },
  )

  app.post(
    '/v1/applications/:id/review',
    {
      config: { access: { roles: ['admin', 'risk_analyst', 'reviewer'] } },
      schema: {
        tags: ['decisions'], summary: 'Approve or decline a referred application, with a note',
        description: "Approving prices the terms like an engine approval (product bounds, nominal rate and APR with fees under the cap): a loan application gets an open offer, a credit-line application opens its line. `amountMinor` and `annualRatePct` override the decision's proposal (required when it has none). A review is final.",
        params: IdParams,
        body: Type.Object({
          decision: Type.Union([Type.Literal('approve'), Type.Literal('decline')]), note: Type.String({ minLength: 1, maxLength: 2000 }),
          amountMinor: Type.Optional(MinorUnits), annualRatePct: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,2})(\\.[0-9]{1,6})?$' })),
        }, Strict),
        response: { 200: ApplicationSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await reviewApplication(trx, { ids: deps.ids, now: deps.clock.now() }, {
          tenantId: principal.tenantId, applicationId: request.params.id, decision: request.body.decision, note: request.body.note,
          amountMinor: request.body.amountMinor === undefined ? null : BigInt(request.body.amountMinor), annualRatePct: request.body.annualRatePct ?? null, actor: actorOf(principal),
        })
        if (result.status === 'application_not_found') throw new Problem('not_found', result.detail)
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        const { application, offer, review } = result.item
        await audit(trx, principal, `application.review.${request.body.decision}`, 'application', application.id, request.id, { note: request.body.note, offerId: offer?.id ?? null, creditLineId: result.line?.id ?? null })
        return { statusCode: 200, body: applicationView(application, offer, true, { review, ...(application.kind === 'credit_line' ? { line: result.line } : {}) }) }
      })
    },
  )

  app.post(
    '/v1/offers/:id/accept',
    {
      config: { access: { roles: applicants } },
      schema: {
        tags: ['decisions'], summary: 'Accept an offer: the loan is originated and disbursed through the payout rail',
        description: 'Answers with the loan and the payout: `succeeded` (loan active), `failed` (transfer voided, no active loan) or `unknown` (transfer pending until POST /v1/payouts/reconcile settles it). Accepting again answers with the same loan and payout.',
        params: IdParams, body: Type.Optional(Type.Object({}, Strict)),
        response: { 200: Type.Object({ offer: OfferSchema, loan: Type.Object({ id: Uuid, status: Type.String() }), payout: PayoutSchema }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const result = await acceptOffer(payoutDeps, { tenantId: principal.tenantId, offerId: request.params.id, enterpriseId: scopeOf(principal) })
      if (result.status === 'offer_not_found') throw new Problem('not_found', 'no such offer')
      if (result.status !== 'ok') throw new Problem(result.status, 'detail' in result ? result.detail : undefined)
      await inTenant(deps.db, principal.tenantId, (trx) => audit(trx, principal, 'offer.accept', 'offer', result.offer.id, request.id, { loanId: result.loan.id, payout: result.payout.status }))
      return { offer: offerView(result.offer), loan: result.loan, payout: payoutView(result.payout) }
    },
  )

  app.post(
    '/v1/payouts/reconcile',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['decisions'], summary: 'Settle payouts whose outcome is unknown by asking the rail',
        body: Type.Optional(Type.Object({}, Strict)),
        response: { 200: Type.Object({ examined: Type.Integer(), succeeded: Type.Integer(), failed: Type.Integer(), stillUnknown: Type.Integer(), resent: Type.Integer() }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const report = await reconcilePayouts(payoutDeps, { tenantId: principal.tenantId })
      await inTenant(deps.db, principal.tenantId, (trx) => audit(trx, principal, 'payouts.reconcile', 'payout', principal.tenantId, request.id, { ...report }))
      return report
    },
  )
}

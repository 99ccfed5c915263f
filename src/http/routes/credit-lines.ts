/**
 * @module http/routes/credit-lines
 * Credit lines (授信): read them, draw on them, and run their periodic re-evaluation now.
 *
 * Roles: staff read every line, a borrower its own enterprise's (another's answers 404). Draws: operators,
 * admins and the borrower itself. The re-evaluation: admins and risk analysts (it also runs periodically in
 * the server, see src/jobs.ts). Lines are opened by POST /v1/applications with `kind: credit_line`.
 *
 * A draw calls the payout rail between two transactions (flows/credit-line.ts), like accepting an offer; it
 * is idempotent by key: the key is reserved before the draw, and the answer stored under it once the draw has
 * settled.
 */
import { Type } from 'typebox'
import { actorOf, appendAudit, type Principal } from '../../access/index.ts'
import { pageSizeMax } from '../../core/limits.ts'
import { inTenant } from '../../db/database.ts'
import { defaultStrategyName, drawOnCreditLine, listCreditLines, readCreditLine, reviewCreditLines, type CreditLineView, type PayoutDeps, type PayoutView } from '../../flows/index.ts'
import type { App, AppDeps } from '../app.ts'
import { principalOf, staffRoles } from '../authenticate.ts'
import { mutate } from '../idempotency.ts'
import { Problem } from '../problem.ts'
import { IdParams, Strict, Uuid, problemResponses } from './schemas.ts'

const MinorUnits = Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'an amount in minor units, as a decimal string' })
const EventSchema = Type.Object({
  id: Uuid, action: Type.String(), businessDate: Type.String(), fromLimitMinor: Type.Union([Type.String(), Type.Null()]), toLimitMinor: Type.Union([Type.String(), Type.Null()]),
  applicationId: Type.Union([Uuid, Type.Null()]), loanId: Type.Union([Uuid, Type.Null()]), amountMinor: Type.Union([Type.String(), Type.Null()]),
  reasons: Type.Array(Type.Object({}, { additionalProperties: true })), actor: Type.String(), at: Type.String(),
})
export const CreditLineSchema = Type.Object({
  id: Uuid, enterpriseId: Uuid, productId: Uuid, applicationId: Uuid, currency: Type.String(), limitMinor: Type.String(), drawnMinor: Type.String(), availableMinor: Type.String(),
  annualRatePct: Type.String(), termsAllowed: Type.Array(Type.Integer()), status: Type.Union([Type.Literal('active'), Type.Literal('frozen'), Type.Literal('closed')]),
  expired: Type.Boolean(), openedOn: Type.String(), expiresOn: Type.String(), lastReviewedOn: Type.String(), history: Type.Array(EventSchema),
})
/** A payout through the rail (offers' acceptances and draws). */
export const PayoutSchema = Type.Object({
  id: Uuid, loanId: Uuid, amountMinor: Type.String(), currency: Type.String(), pendingTransferId: Uuid, settleTransferId: Type.Union([Uuid, Type.Null()]), rail: Type.String(),
  railReference: Type.Union([Type.String(), Type.Null()]), status: Type.String(), attempts: Type.Integer(), lastError: Type.Union([Type.String(), Type.Null()]),
})

export const creditLineView = (l: CreditLineView) => ({
  id: l.id, enterpriseId: l.enterpriseId, productId: l.productId, applicationId: l.applicationId, currency: l.currency, limitMinor: l.limitMinor.toString(),
  drawnMinor: l.drawnMinor.toString(), availableMinor: l.availableMinor.toString(), annualRatePct: l.annualRatePct, termsAllowed: [...l.termsAllowed], status: l.status,
  expired: l.expired, openedOn: l.openedOn, expiresOn: l.expiresOn, lastReviewedOn: l.lastReviewedOn,
  history: l.history.map((e) => ({
    id: e.id, action: e.action, businessDate: e.businessDate, fromLimitMinor: e.fromLimitMinor?.toString() ?? null, toLimitMinor: e.toLimitMinor?.toString() ?? null,
    applicationId: e.applicationId, loanId: e.loanId, amountMinor: e.amountMinor?.toString() ?? null, reasons: e.reasons as Record<string, unknown>[], actor: e.actor, at: e.at.toISOString(),
  })),
})
export const payoutView = (p: PayoutView) => ({
  id: p.id, loanId: p.loanId, amountMinor: p.amountMinor.toString(), currency: p.currency, pendingTransferId: p.pendingTransferId, settleTransferId: p.settleTransferId,
  rail: p.rail, railReference: p.railReference, status: p.status, attempts: p.attempts, lastError: p.lastError,
})

function scopeOf(principal: Principal): string | null {
  if (staffRoles.includes(principal.role)) return null
  return principal.enterpriseId ?? '00000000-0000-0000-0000-000000000000'
}

export function registerCreditLineRoutes(app: App, deps: AppDeps, payoutDeps: PayoutDeps): void {
  app.get(
    '/v1/credit-lines',
    {
      config: { access: { roles: [...staffRoles, 'borrower'] } },
      schema: {
        tags: ['credit-lines'], summary: 'Credit lines, newest first',
        querystring: Type.Object({
          enterpriseId: Type.Optional(Uuid), status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('frozen'), Type.Literal('closed')])),
          cursor: Type.Optional(Uuid), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 50 })),
        }, Strict),
        response: { 200: Type.Object({ items: Type.Array(CreditLineSchema), nextCursor: Type.Union([Uuid, Type.Null()]) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const q = request.query
      const page = await inTenant(deps.db, principal.tenantId, (trx) =>
        listCreditLines(trx, { enterpriseId: scopeOf(principal) ?? q.enterpriseId ?? null, status: q.status ?? null, cursor: q.cursor ?? null, limit: q.limit ?? 50 }))
      return { items: page.items.map(creditLineView), nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/v1/credit-lines/:id',
    { config: { access: { roles: [...staffRoles, 'borrower'] } }, schema: { tags: ['credit-lines'], summary: 'A credit line with what is drawn, what is available and its history', params: IdParams, response: { 200: CreditLineSchema, ...problemResponses } } },
    async (request) => {
      const principal = principalOf(request)
      const line = await inTenant(deps.db, principal.tenantId, (trx) => readCreditLine(trx, request.params.id, { enterpriseId: scopeOf(principal) }))
      if (line === undefined) throw new Problem('not_found', 'no such credit line')
      return creditLineView(line)
    },
  )

  app.post(
    '/v1/credit-lines/:id/draws',
    {
      config: { access: { roles: ['admin', 'operator', 'borrower'] } },
      schema: {
        tags: ['credit-lines'], summary: 'Draw on a credit line: a loan originated and paid out without a new decision',
        description: 'Checks the line only (active, not expired, amount ≤ available, term allowed, nothing past due), then originates a loan at the line’s rate and pays it out through the rail with a two-phase transfer (as accepting an offer).',
        params: IdParams, body: Type.Object({ amountMinor: MinorUnits, termMonths: Type.Integer({ minimum: 1, maximum: 600 }) }, Strict),
        response: { 201: Type.Object({ creditLine: CreditLineSchema, loan: Type.Object({ id: Uuid, status: Type.String() }), payout: PayoutSchema }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      // The key is reserved before the handler runs: a retry while the draw is in flight answers 409, and a
      // retry afterwards replays the answer stored below. The draw (two transactions around the rail call)
      // runs outside the transaction that stores the answer, so no connection idles while the rail answers.
      const result = await drawOnCreditLine(payoutDeps, {
        tenantId: principal.tenantId, creditLineId: request.params.id, amountMinor: BigInt(request.body.amountMinor), termMonths: request.body.termMonths,
        enterpriseId: scopeOf(principal), actor: actorOf(principal),
      })
      return mutate(request, reply, deps, async (trx) => {
        if (result.status === 'credit_line_not_found') throw new Problem('not_found', result.detail)
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        await appendAudit(trx, { tenantId: principal.tenantId, actor: actorOf(principal), action: 'credit_line.draw', targetKind: 'credit_line', targetId: result.line.id, at: deps.clock.now(), ids: deps.ids, requestId: request.id, detail: { loanId: result.loan.id, payout: result.payout.status } })
        return { statusCode: 201, body: { creditLine: creditLineView(result.line), loan: result.loan, payout: payoutView(result.payout) } }
      })
    },
  )

  app.post(
    '/v1/credit-lines/review',
    {
      config: { access: { roles: ['admin', 'risk_analyst'] } },
      schema: {
        tags: ['credit-lines'], summary: 'Re-evaluate the credit lines due for review now (raise, lower, freeze or unfreeze)',
        description: 'Each due line (last reviewed 30 days or more before the business date; every open line with `force`) is re-decided from fresh data by the active strategy, stored as an application of kind `credit_line_review`.',
        body: Type.Optional(Type.Object({ force: Type.Optional(Type.Boolean()), strategy: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' })) }, Strict)),
        response: {
          200: Type.Object({
            businessDate: Type.String(), examined: Type.Integer(), raised: Type.Integer(), lowered: Type.Integer(), unchanged: Type.Integer(), frozen: Type.Integer(), unfrozen: Type.Integer(), failed: Type.Integer(),
            outcomes: Type.Array(Type.Object({ lineId: Uuid, action: Type.String(), fromLimitMinor: Type.String(), toLimitMinor: Type.String(), applicationId: Type.Union([Uuid, Type.Null()]), detail: Type.Optional(Type.String()) })),
          }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const report = await reviewCreditLines(deps, { tenantId: principal.tenantId, strategyName: request.body?.strategy ?? defaultStrategyName, actor: actorOf(principal), force: request.body?.force === true })
      const body = { ...report, outcomes: report.outcomes.map((o) => ({ ...o, fromLimitMinor: o.fromLimitMinor.toString(), toLimitMinor: o.toLimitMinor.toString() })) }
      return mutate(request, reply, deps, async (trx) => {
        await appendAudit(trx, { tenantId: principal.tenantId, actor: actorOf(principal), action: 'credit_lines.review', targetKind: 'credit_line', targetId: principal.tenantId, at: deps.clock.now(), ids: deps.ids, requestId: request.id, detail: { examined: report.examined, frozen: report.frozen, raised: report.raised, lowered: report.lowered } })
        return { statusCode: 200, body }
      })
    },
  )
}

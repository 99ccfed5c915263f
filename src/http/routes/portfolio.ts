/**
 * @module http/routes/portfolio
 * The operator dashboard's portfolio figures (GET /v1/portfolio/summary): principal outstanding, disbursed,
 * approval rate, NPL ratio, PAR30, loans by five-tier class and delinquency bucket, vintage curves. Staff
 * only: it describes the whole book. Definitions in loans/portfolio.ts (DOMAIN.md). Amounts are decimal
 * strings of minor units; ratios are fractions 0–1 as decimal strings (exact, like the API's rates).
 */
import { Type } from 'typebox'
import { currencies, type Currency } from '../../core/money.ts'
import { inTenant } from '../../db/database.ts'
import { readPortfolioSummary, type PortfolioGroup } from '../../loans/index.ts'
import type { App, AppDeps } from '../app.ts'
import { principalOf, staffRoles } from '../authenticate.ts'
import { Strict, problemResponses } from './schemas.ts'

const MinorUnits = Type.String({ pattern: '^(0|[1-9][0-9]*)$', description: 'an amount in minor units, as a decimal string' })
const Ratio = Type.String({ pattern: '^[01]\\.[0-9]+$', description: 'a fraction 0–1 as a decimal string' })
const Month = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}$' })
const CurrencySchema = Type.Union(currencies.map((c) => Type.Literal(c)))
const Group = Type.Object({ key: Type.String(), loans: Type.Integer(), outstandingMinor: MinorUnits })

const SummarySchema = Type.Object({
  currency: Type.String(),
  currencies: Type.Array(Type.String()),
  businessDate: Type.String({ format: 'date' }),
  activeLoans: Type.Integer({ description: 'loans on the book (active or restructured)' }),
  outstandingPrincipalMinor: MinorUnits,
  disbursed: Type.Object({ month: Month, monthLoans: Type.Integer(), monthMinor: MinorUnits, totalLoans: Type.Integer(), totalMinor: MinorUnits }),
  applications: Type.Object({ decided: Type.Integer(), approved: Type.Integer(), declined: Type.Integer(), referred: Type.Integer(), approvalRate: Type.Union([Ratio, Type.Null()]) }),
  applicationsByMonth: Type.Array(Type.Object({ month: Month, approved: Type.Integer(), declined: Type.Integer(), referred: Type.Integer() })),
  nplMinor: MinorUnits,
  nplRatio: Ratio,
  par30Minor: MinorUnits,
  par30: Ratio,
  tiers: Type.Array(Group, { description: 'normal, special_mention, substandard, doubtful, loss (always all five)' }),
  buckets: Type.Array(Group, { description: 'current, 1-30, 31-60, 61-90, 91+ (always all five)' }),
  vintages: Type.Array(Type.Object({
    cohort: Month,
    loans: Type.Integer(),
    principalMinor: MinorUnits,
    points: Type.Array(Type.Object({ monthsOnBook: Type.Integer(), ever30Loans: Type.Integer(), share: Ratio })),
  })),
})

const groupView = (g: PortfolioGroup<string>) => ({ key: g.key, loans: g.loans, outstandingMinor: g.outstandingMinor.toString() })

export function registerPortfolioRoutes(app: App, deps: AppDeps): void {
  app.get(
    '/v1/portfolio/summary',
    {
      config: { access: { roles: staffRoles } },
      schema: {
        tags: ['loans'],
        summary: 'Portfolio figures for the operator dashboard, as of the business date',
        description: 'Outstanding principal, disbursed (this month and in total), approval rate, NPL ratio and PAR30 (DOMAIN.md definitions), loans by five-tier class and delinquency bucket, and vintage curves (the cumulative share of each origination month’s loans ever more than 30 days past due, by months on book). One currency: `currency`, default the one with the most loans.',
        querystring: Type.Object({ currency: Type.Optional(CurrencySchema) }, Strict),
        response: { 200: SummarySchema, ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const s = await inTenant(deps.db, principal.tenantId, (trx) => readPortfolioSummary(trx, principal.tenantId, { currency: (request.query.currency as Currency | undefined) ?? null }))
      return {
        ...s,
        currencies: [...s.currencies],
        outstandingPrincipalMinor: s.outstandingPrincipalMinor.toString(),
        disbursed: { ...s.disbursed, monthMinor: s.disbursed.monthMinor.toString(), totalMinor: s.disbursed.totalMinor.toString() },
        applicationsByMonth: [...s.applicationsByMonth],
        nplMinor: s.nplMinor.toString(),
        par30Minor: s.par30Minor.toString(),
        tiers: s.tiers.map(groupView),
        buckets: s.buckets.map(groupView),
        vintages: s.vintages.map((v) => ({ cohort: v.cohort, loans: v.loans, principalMinor: v.principalMinor.toString(), points: [...v.points] })),
      }
    },
  )
}

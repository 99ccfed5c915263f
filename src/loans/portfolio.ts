/**
 * @module loans/portfolio
 * The operator's view of the book in one currency, as of the tenant's business date: principal outstanding,
 * disbursed (this business month and in total), applications and the approval rate, NPL ratio and PAR30,
 * loans by five-tier class and by delinquency bucket, and vintage curves. Set-based SQL: every figure is an
 * aggregate over the tenant's rows, never a loop over loans, so it answers for a simulated book of 100,000
 * loans as it does for ten.
 *
 * Definitions (DOMAIN.md): the book is the loans that are `active` or `restructured`; principal outstanding
 * is Σ(principal due − paid − waived) of their installments. NPL ratio = outstanding principal of
 * substandard + doubtful + loss ÷ total outstanding principal; PAR30 = outstanding principal of loans with
 * DPD > 30 ÷ total (both 0 for an empty book, as `measurePortfolio`, whose arithmetic is reused). Disbursed
 * = principal of every loan that left `approved` (a loan still waiting for its payout is not disbursed).
 * Approval rate = approved ÷ decided applications.
 *
 * Vintage curves: loans grouped by the month they were disbursed (cohort); the point at months-on-book m is
 * the share of the cohort's loans that had been more than 30 days past due at any time up to the end of
 * month cohort + m (or the business date, for the current month). A loan was first 30+ DPD on due_on + 31 of
 * its earliest installment that was not covered (principal and interest) by then: one still owing principal
 * or interest today (on a loan still on the books or written off), or one that received principal or
 * interest after due_on + 30 (allocation never pays what is already covered, so it was owed then).
 */
import { sql } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { isCurrency, type Currency } from '../core/money.ts'
import { RateDecimal } from '../core/rate.ts'
import type { Tx } from '../db/database.ts'
import { delinquencyBuckets, isNonPerforming, measurePortfolio, tiers, type DelinquencyBucket, type Tier } from './delinquency.ts'

/** Cohorts shown on the vintage chart: the last twelve months of originations. */
export const vintageCohortsMax = 12
/** Digits of a ratio in the summary (a fraction 0–1 as a decimal string). */
export const portfolioRatioDecimals = 6

export type PortfolioGroup<K extends string> = { readonly key: K; readonly loans: number; readonly outstandingMinor: bigint }
export type VintagePoint = { readonly monthsOnBook: number; readonly ever30Loans: number; readonly share: string }
export type Vintage = { readonly cohort: string; readonly loans: number; readonly principalMinor: bigint; readonly points: readonly VintagePoint[] }
export type ApplicationMonth = { readonly month: string; readonly approved: number; readonly declined: number; readonly referred: number }

export type PortfolioSummary = {
  readonly currency: Currency
  /** Currencies the tenant has loans in (the summary covers one). */
  readonly currencies: readonly Currency[]
  readonly businessDate: string
  readonly activeLoans: number
  readonly outstandingPrincipalMinor: bigint
  readonly disbursed: { readonly month: string; readonly monthLoans: number; readonly monthMinor: bigint; readonly totalLoans: number; readonly totalMinor: bigint }
  readonly applications: { readonly decided: number; readonly approved: number; readonly declined: number; readonly referred: number; readonly approvalRate: string | null }
  readonly applicationsByMonth: readonly ApplicationMonth[]
  readonly nplMinor: bigint
  readonly nplRatio: string
  readonly par30Minor: bigint
  readonly par30: string
  readonly tiers: readonly PortfolioGroup<Tier>[]
  readonly buckets: readonly PortfolioGroup<DelinquencyBucket>[]
  readonly vintages: readonly Vintage[]
}

const onBook = sql.raw(`('active', 'restructured')`)
const ratioText = (value: RateDecimal) => value.toDecimalPlaces(portfolioRatioDecimals, RateDecimal.ROUND_HALF_EVEN).toFixed(portfolioRatioDecimals)
const shareOf = (part: number, whole: number) => ratioText(whole === 0 ? new RateDecimal(0) : new RateDecimal(part).div(whole))

/** Months from `from` (YYYY-MM) to `to` (YYYY-MM). */
function monthsBetween(from: string, to: string): number {
  return Temporal.PlainYearMonth.from(from).until(Temporal.PlainYearMonth.from(to), { largestUnit: 'months' }).months
}

/**
 * The summary in `currency` (default: the currency the tenant has most loans in, else CNY), in the caller's
 * tenant transaction.
 */
export async function readPortfolioSummary(trx: Tx, tenantId: string, options: { currency: Currency | null }): Promise<PortfolioSummary> {
  const businessDate = (await sql<{ d: string }>`select business_date::text as d from tenants where id = ${tenantId}`.execute(trx)).rows[0]?.d
  if (businessDate === undefined) throw new Error('tenant not found')
  const currencies = (await sql<{ currency: string }>`
    select currency from loans where tenant_id = ${tenantId} group by currency order by count(*) desc, currency`.execute(trx)).rows.map((r) => r.currency).filter(isCurrency)
  const currency = options.currency ?? currencies[0] ?? 'CNY'
  const month = businessDate.slice(0, 7)
  const monthStart = `${month}-01`

  const totals = (await sql<{ total_loans: number; total_minor: bigint; month_loans: number; month_minor: bigint }>`
    select count(*)::int as total_loans, coalesce(sum(principal_minor), 0)::bigint as total_minor,
      (count(*) filter (where disbursed_on between ${monthStart}::date and ${businessDate}::date))::int as month_loans,
      coalesce(sum(principal_minor) filter (where disbursed_on between ${monthStart}::date and ${businessDate}::date), 0)::bigint as month_minor
    from loans where tenant_id = ${tenantId} and currency = ${currency} and status <> 'approved'`.execute(trx)).rows[0]

  // The book, grouped by tier, bucket and whether DPD > 30: few rows, whatever the number of loans.
  const groups = (await sql<{ tier: Tier; bucket: DelinquencyBucket; over30: boolean; loans: number; outstanding: bigint }>`
    select l.tier, l.bucket, l.dpd > 30 as over30, count(*)::int as loans, coalesce(sum(o.outstanding), 0)::bigint as outstanding
    from loans l
    left join (
      select loan_id, sum(principal_due - principal_paid - principal_waived) as outstanding
      from loan_installments where tenant_id = ${tenantId} group by loan_id
    ) o on o.loan_id = l.id
    where l.tenant_id = ${tenantId} and l.currency = ${currency} and l.status in ${onBook}
    group by l.tier, l.bucket, l.dpd > 30`.execute(trx)).rows
  const ratios = measurePortfolio(groups.map((g) => ({
    dpd: g.over30 ? 31 : 0, bucket: g.bucket, tier: g.tier, nonPerforming: isNonPerforming(g.tier), principalOutstandingMinor: g.outstanding, provisionMinor: 0n,
  })))
  const par30Minor = groups.filter((g) => g.over30).reduce((sum, g) => sum + g.outstanding, 0n)
  const groupBy = <K extends string>(keys: readonly K[], keyOf: (g: (typeof groups)[number]) => K): PortfolioGroup<K>[] =>
    keys.map((key) => {
      const rows = groups.filter((g) => keyOf(g) === key)
      return { key, loans: rows.reduce((n, g) => n + g.loans, 0), outstandingMinor: rows.reduce((sum, g) => sum + g.outstanding, 0n) }
    })

  const decided = (await sql<{ status: 'approved' | 'declined' | 'referred'; month: string; n: number }>`
    select status, to_char(business_date, 'YYYY-MM') as month, count(*)::int as n from applications where tenant_id = ${tenantId} group by 1, 2`.execute(trx)).rows
  const count = (status: string) => decided.filter((r) => r.status === status).reduce((n, r) => n + r.n, 0)
  const applications = { decided: count('approved') + count('declined') + count('referred'), approved: count('approved'), declined: count('declined'), referred: count('referred') }
  const recentMonths = Array.from({ length: 12 }, (_, i) => Temporal.PlainYearMonth.from(month).subtract({ months: 11 - i }).toString())
  const applicationsByMonth = recentMonths.map((m) => {
    const of = (status: string) => decided.find((r) => r.month === m && r.status === status)?.n ?? 0
    return { month: m, approved: of('approved'), declined: of('declined'), referred: of('referred') }
  })

  return {
    currency, currencies, businessDate,
    activeLoans: groups.reduce((n, g) => n + g.loans, 0),
    outstandingPrincipalMinor: ratios.principalOutstandingMinor,
    disbursed: { month, monthLoans: totals?.month_loans ?? 0, monthMinor: totals?.month_minor ?? 0n, totalLoans: totals?.total_loans ?? 0, totalMinor: totals?.total_minor ?? 0n },
    applications: { ...applications, approvalRate: applications.decided === 0 ? null : shareOf(applications.approved, applications.decided) },
    applicationsByMonth,
    nplMinor: ratios.nonPerformingMinor,
    nplRatio: ratioText(ratios.nplRatio),
    par30Minor,
    par30: ratioText(ratios.parRatio),
    tiers: groupBy(tiers, (g) => g.tier),
    buckets: groupBy(delinquencyBuckets, (g) => g.bucket),
    vintages: await readVintages(trx, tenantId, currency, businessDate),
  }
}

/** Vintage curves of the last `vintageCohortsMax` cohorts (see the module comment). */
async function readVintages(trx: Tx, tenantId: string, currency: Currency, businessDate: string): Promise<Vintage[]> {
  const month = businessDate.slice(0, 7)
  const since = `${Temporal.PlainYearMonth.from(month).subtract({ months: vintageCohortsMax - 1 }).toString()}-01`
  const rows = (await sql<{ cohort: string; ever30_month: string | null; loans: number; principal: bigint }>`
    with book as (
      select id, status, to_char(disbursed_on, 'YYYY-MM') as cohort, principal_minor from loans
      where tenant_id = ${tenantId} and currency = ${currency} and status <> 'approved' and disbursed_on >= ${since}::date
    ),
    late as (
      select i.loan_id, i.due_on from loan_installments i join book b on b.id = i.loan_id
      where i.tenant_id = ${tenantId} and b.status in ('active', 'restructured', 'written_off')
        and i.principal_due - i.principal_paid - i.principal_waived + i.interest_due - i.interest_paid - i.interest_waived > 0
      union all
      select t.loan_id, i.due_on
      from loan_transactions t
      join book b on b.id = t.loan_id
      cross join lateral jsonb_array_elements(case when jsonb_typeof(t.allocation -> 'installments') = 'array' then t.allocation -> 'installments' else '[]'::jsonb end) x
      join loan_installments i on i.tenant_id = t.tenant_id and i.loan_id = t.loan_id and i.n = (x ->> 'n')::int
      where t.tenant_id = ${tenantId} and t.kind = 'repayment' and t.value_date > i.due_on + 30
        and coalesce((x ->> 'principal')::bigint, 0) + coalesce((x ->> 'interest')::bigint, 0) > 0
    ),
    first_late as (select loan_id, min(due_on) + 31 as ever30_on from late group by loan_id)
    select b.cohort, case when f.ever30_on <= ${businessDate}::date then to_char(f.ever30_on, 'YYYY-MM') end as ever30_month,
      count(*)::int as loans, sum(b.principal_minor)::bigint as principal
    from book b left join first_late f on f.loan_id = b.id
    group by 1, 2 order by 1`.execute(trx)).rows
  const cohorts = [...new Set(rows.map((r) => r.cohort))]
  return cohorts.map((cohort) => {
    const of = rows.filter((r) => r.cohort === cohort)
    const loans = of.reduce((n, r) => n + r.loans, 0)
    const points: VintagePoint[] = []
    for (let m = 0; m <= monthsBetween(cohort, month); m++) {
      const ever30Loans = of.filter((r) => r.ever30_month !== null && monthsBetween(cohort, r.ever30_month) <= m).reduce((n, r) => n + r.loans, 0)
      points.push({ monthsOnBook: m, ever30Loans, share: shareOf(ever30Loans, loans) })
    }
    return { cohort, loans, principalMinor: of.reduce((sum, r) => sum + r.principal, 0n), points }
  })
}

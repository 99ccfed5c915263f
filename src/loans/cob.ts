/**
 * @module loans/cob
 * The set-based close of business (issue 4, item 5). COB for business date D first opens D + 1 (advances the
 * tenant's business date), then closes D for every active loan whose last closed day is D − 1, in a handful of
 * SQL statements per day (no loop over loans):
 *
 * 1. one INSERT … SELECT builds `cob_day`, one row per loan: the day's accrual with its carry (cumulative
 *    rounding, the same arithmetic as `accrueLoanInterest`: decimal.js at 34 significant digits, reproduced by
 *    `puhui_sig34` / `puhui_div34` / `puhui_round_minor` of migration 0009), the period true-up, the move to
 *    non-accrual and its reserve, DPD (with the product's tolerance), bucket, tier (product thresholds) and
 *    provision (product rates and rounding);
 * 2. one UPDATE of the overdue installments charges penalty interest (with its per-installment carry) and late
 *    fees (`chargePenalties`), returning the per-loan sums into `cob_pen`;
 * 3. one UPDATE of `loans` writes the new scalars;
 * 4. one GROUP BY gives the general-ledger postings per product × currency × tier × date (accrual 1202 ← 4001,
 *    non-accrual reserve 4001 ← 1202, penalty 1204 ← 4003, late fee 1203 ← 4002, provision 5001 ← 1291 or the
 *    release 1291 ← 5001), posted with `createTransfersInTransaction` (origin 'servicing') in the same
 *    transaction; Σ of the groups is asserted equal to Σ of the per-loan amounts.
 *
 * Each day runs in one transaction that first locks the day's loans (a concurrent servicing event either finishes
 * first and leaves its loan closed for D, or waits); D + 1 is opened (committed) before D is closed.
 *
 * The per-loan amounts stay in the subledger (the loan and installment rows); no per-loan `loan_transactions`
 * row is written. Missed days are caught up one day (one transaction) at a time, from the oldest loan lagging.
 * Idempotent twice over: a loan is closed for D only when `accrued_through_on = D − 1`, and a date recorded in
 * `cob_runs` is answered `already_closed` without touching anything. The per-loan `closeLoanDayForLoan` is the
 * oracle (test/cob.test.ts compares both, loan by loan and installment by installment).
 */
import { safeIntegerOf } from '../core/integers.ts'
import { sql, type Kysely } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import type { IdSource } from '../core/ids.ts'
import { transfersPerBatchMax } from '../core/limits.ts'
import { inTenant, type Tx } from '../db/database.ts'
import type { DB } from '../db/schema.ts'
import { createAccountsInTransaction, createTransfersInTransaction, transferFlags, type TransferInput } from '../ledger/index.ts'
import { claimGlAccounts, findGlAccounts, productGlCodes, tenantGlCodes, type GlCode } from './loan-db.ts'
import { postingCodes, type PostingCode } from './loan-service.ts'

export type CobDeps = {
  readonly ids: IdSource
  readonly now: () => Date
  /** Called after each step of a day with its duration (benchmarks, tracing). */
  readonly onStep?: (date: string, step: string, ms: number) => void
}

export type CobDay = {
  readonly date: string
  readonly loans: number
  readonly transfers: number
  readonly accruedMinor: bigint
  readonly provisionChangeMinor: bigint
}

export type CobResult =
  | { readonly status: 'ok'; readonly date: string; readonly businessDate: string; readonly days: readonly CobDay[] }
  | { readonly status: 'already_closed'; readonly date: string; readonly businessDate: string }
  | { readonly status: 'tenant_not_found' }

const day = (text: string) => Temporal.PlainDate.from(text)

/**
 * Close of business for `date` (an ISO date) over all active loans of the tenant, catching up missed days.
 * @example await runCloseOfBusiness(db, { ids: uuidv7Source, now: () => new Date() }, tenantId, '2024-03-31')
 */
export async function runCloseOfBusiness(db: Kysely<DB>, deps: CobDeps, tenantId: string, date: string): Promise<CobResult> {
  const target = day(date)
  const start = await inTenant(db, tenantId, async (trx) => {
    const tenant = await sql<{ business_date: string }>`select business_date from tenants where id = ${tenantId}`.execute(trx)
    const businessDate = tenant.rows[0]?.business_date
    if (businessDate === undefined) return { status: 'tenant_not_found' as const }
    const run = await sql`select 1 from cob_runs where tenant_id = ${tenantId} and business_date = ${date}`.execute(trx)
    if (run.rows.length > 0) return { status: 'already_closed' as const, businessDate }
    const lagging = await sql<{ first: string | null }>`
      select (min(accrued_through_on) + 1)::text as first from loans
      where tenant_id = ${tenantId} and status = 'active' and accrued_through_on < ${date}`.execute(trx)
    return { status: 'ok' as const, first: lagging.rows[0]?.first ?? null }
  })
  if (start.status === 'tenant_not_found') return start
  if (start.status === 'already_closed') return { status: 'already_closed', date, businessDate: start.businessDate }
  const days: CobDay[] = []
  let from = start.first === null ? target : day(start.first)
  if (Temporal.PlainDate.compare(from, target) > 0) from = target
  for (let d = from; Temporal.PlainDate.compare(d, target) <= 0; d = d.add({ days: 1 })) {
    // Open D + 1 first, committed: a repayment arriving while D closes books on D + 1 (DOMAIN.md, Time).
    await openBusinessDate(db, tenantId, d.add({ days: 1 }))
    days.push(await inTenant(db, tenantId, (trx) => closeBusinessDay(trx, deps, tenantId, d)))
  }
  const businessDate = await inTenant(db, tenantId, async (trx) => (await sql<{ business_date: string }>`select business_date from tenants where id = ${tenantId}`.execute(trx)).rows[0]?.business_date)
  assert(businessDate !== undefined, 'tenant exists')
  return { status: 'ok', date, businessDate, days }
}

/** Moves the tenant's business date forward to `date` (never back). */
async function openBusinessDate(db: Kysely<DB>, tenantId: string, date: Temporal.PlainDate): Promise<void> {
  await inTenant(db, tenantId, (trx) => sql`update tenants set business_date = greatest(business_date, ${date.toString()}::date) where id = ${tenantId}`.execute(trx))
}

type Gl = ReadonlyMap<GlCode, string>

/** The general-ledger accounts of a currency and product, created on first use (as servicing does). */
async function ensureGlAccounts(trx: Tx, deps: CobDeps, tenantId: string, currency: string, productId: string): Promise<Gl> {
  const found = await findGlAccounts(trx, tenantId, currency, productId)
  const wanted: GlCode[] = [...tenantGlCodes, ...productGlCodes]
  const missing = wanted.filter((code) => !found.has(code))
  if (missing.length === 0) return found
  const claims = missing.map((code) => ({ code, productId: (productGlCodes as readonly GlCode[]).includes(code) ? productId : null, accountId: deps.ids.next() }))
  const won = await claimGlAccounts(trx, tenantId, currency, claims)
  const create = claims.filter((claim) => won.has(claim.code))
  const statuses = await createAccountsInTransaction(trx, tenantId, create.map((claim) => ({
    id: claim.accountId, currency, code: claim.code, flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
    owner: claim.productId === null ? null : 'servicing', userData: 0n,
  })), deps.now())
  for (const status of statuses) assert(status === 'created', `general-ledger account: ${status}`)
  const all = await findGlAccounts(trx, tenantId, currency, productId)
  for (const code of wanted) assert(all.has(code), `general-ledger account ${code} mapped`)
  return all
}

function glAccount(gl: Gl, code: GlCode): string {
  const id = gl.get(code)
  assert(id !== undefined, `general-ledger account ${code} exists`)
  return id
}

type GroupRow = {
  product_id: string
  currency: string
  tier: string
  loans: bigint
  income: bigint
  reserved: bigint
  penalty: bigint
  late_fee: bigint
  provision: bigint
}
const amountColumns = ['income', 'reserved', 'penalty', 'late_fee', 'provision'] as const

type Posting = { debit: string; credit: string; amountMinor: bigint; code: PostingCode }
function post(debit: string, credit: string, amountMinor: bigint, code: PostingCode): Posting[] {
  if (amountMinor === 0n) return []
  return amountMinor > 0n ? [{ debit, credit, amountMinor, code }] : [{ debit: credit, credit: debit, amountMinor: -amountMinor, code }]
}

/** Closes day `on` for the loans whose last closed day is `on − 1`; opens `on + 1`. One transaction. */
async function closeBusinessDay(trx: Tx, deps: CobDeps, tenantId: string, on: Temporal.PlainDate): Promise<CobDay> {
  const d = on.toString()
  const previous = on.subtract({ days: 1 }).toString()
  const now = deps.now()
  await sql`drop table if exists cob_base, cob_day, cob_pen`.execute(trx)
  // Lock the day's loans: a servicing event (repayment on D + 1) running now either finishes first — then it has
  // closed D for its loan, which no longer qualifies — or waits for this commit and sees D closed.
  await sql`select count(*) from (select 1 from loans where tenant_id = ${tenantId} and status = 'active' and accrued_through_on = ${previous}::date for update) locked`.execute(trx)
  const trace = (step: string, started: number) => deps.onStep?.(d, step, performance.now() - started)
  let t0 = performance.now()
  await buildDayTable(trx, tenantId, on)
  trace('day table', t0)
  t0 = performance.now()
  await chargeDayPenalties(trx, tenantId, on)
  trace('penalties', t0)
  t0 = performance.now()
  const count = (await sql<{ n: bigint }>`select count(*) as n from cob_day`.execute(trx)).rows[0]?.n ?? 0n
  const updated = await sql`
    update loans l set accrued_through_on = ${d}::date, accrued_interest_minor = c.acc_new, accrual_carry_minor = c.carry_new, non_accrual = c.na1,
      suspended_interest_minor = c.si_new,
      suspended_fees_minor = l.suspended_fees_minor + case when c.na1 then coalesce(p.late_fee, 0) else 0 end,
      suspended_penalties_minor = l.suspended_penalties_minor + case when c.na1 then coalesce(p.penalty, 0) else 0 end,
      dpd = c.dpd, bucket = c.bucket, tier = c.tier, provision_minor = c.provision, updated_at = ${now}, version = l.version + 1
    from cob_day c left join cob_pen p on p.loan_id = c.id
    where l.tenant_id = ${tenantId} and l.id = c.id and l.accrued_through_on = ${previous}::date`.execute(trx)
  trace('loans updated', t0)
  assert(updated.numAffectedRows === count, `every loan of the day is closed once (${String(updated.numAffectedRows)} of ${count})`)

  const groups = (await sql<GroupRow>`
    select c.product_id, c.currency, c.tier, count(*) as loans, sum(c.income)::bigint as income, sum(c.reserved)::bigint as reserved,
      sum(case when c.na1 then 0 else coalesce(p.penalty, 0) end)::bigint as penalty, sum(case when c.na1 then 0 else coalesce(p.late_fee, 0) end)::bigint as late_fee,
      sum(c.provision - c.prov0)::bigint as provision
    from cob_day c left join cob_pen p on p.loan_id = c.id group by c.product_id, c.currency, c.tier order by c.product_id, c.currency, c.tier`.execute(trx)).rows
  await assertGroupsSumToLoans(trx, groups, count)

  const postings: { currency: string; posting: Posting }[] = []
  const glByKey = new Map<string, Gl>()
  for (const g of groups) {
    const key = `${g.currency}/${g.product_id}`
    let gl = glByKey.get(key)
    if (gl === undefined) {
      gl = await ensureGlAccounts(trx, deps, tenantId, g.currency, g.product_id)
      glByKey.set(key, gl)
    }
    const add = (list: Posting[]) => postings.push(...list.map((posting) => ({ currency: g.currency, posting })))
    add(post(glAccount(gl, 4001), glAccount(gl, 1202), g.reserved, 'non_accrual_reserve'))
    add(post(glAccount(gl, 1202), glAccount(gl, 4001), g.income, 'accrual'))
    add(post(glAccount(gl, 1204), glAccount(gl, 4003), g.penalty, 'penalty'))
    add(post(glAccount(gl, 1203), glAccount(gl, 4002), g.late_fee, 'late_fee'))
    add(post(glAccount(gl, 5001), glAccount(gl, 1291), g.provision, 'provision'))
  }
  const transferIds: string[] = []
  for (let start = 0; start < postings.length; start += transfersPerBatchMax) {
    const inputs: TransferInput[] = postings.slice(start, start + transfersPerBatchMax).map(({ currency, posting: p }) => ({
      id: deps.ids.next(), debitAccountId: p.debit, creditAccountId: p.credit, amountMinor: p.amountMinor, currency, code: postingCodes[p.code],
      flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: d,
    }))
    const outcome = await createTransfersInTransaction(trx, tenantId, inputs, { now, origin: 'servicing' })
    assert(outcome.results.length === inputs.length, 'one result per COB transfer')
    for (const result of outcome.results) assert(result.status === 'created', `COB transfer ${result.id} answered ${result.status}`)
    transferIds.push(...inputs.map((input) => input.id))
  }
  await sql`
    insert into cob_runs (tenant_id, business_date, loans, transfer_ids, started_at, finished_at)
    values (${tenantId}, ${d}, ${count.toString()}, ${`{${transferIds.join(',')}}`}::uuid[], ${now}, ${deps.now()})
    on conflict do nothing`.execute(trx)
  await sql`drop table if exists cob_base, cob_day, cob_pen`.execute(trx)
  const total = (column: 'income' | 'provision') => groups.reduce((sum, g) => sum + g[column], 0n)
  return { date: d, loans: safeIntegerOf(count), transfers: transferIds.length, accruedMinor: total('income'), provisionChangeMinor: total('provision') }
}

/** Σ of the aggregate groups equals Σ of the per-loan amounts (computed separately, without grouping). */
async function assertGroupsSumToLoans(trx: Tx, groups: readonly GroupRow[], count: bigint): Promise<void> {
  const totals = (await sql<Omit<GroupRow, 'product_id' | 'currency' | 'tier'>>`
    select count(*) as loans, coalesce(sum(c.income), 0)::bigint as income, coalesce(sum(c.reserved), 0)::bigint as reserved,
      coalesce(sum(c.provision - c.prov0), 0)::bigint as provision,
      coalesce((select sum(p.penalty) from cob_pen p join cob_day x on x.id = p.loan_id where not x.na1), 0)::bigint as penalty,
      coalesce((select sum(p.late_fee) from cob_pen p join cob_day x on x.id = p.loan_id where not x.na1), 0)::bigint as late_fee
    from cob_day c`.execute(trx)).rows[0]
  assert(totals !== undefined, 'totals row')
  assert(totals.loans === count, 'every loan counted once')
  assert(groups.reduce((sum, g) => sum + g.loans, 0n) === count, 'the groups cover every loan once')
  for (const column of amountColumns) {
    const grouped = groups.reduce((sum, g) => sum + g[column], 0n)
    assert(grouped === totals[column], `Σ ${column} of the postings (${grouped}) = Σ of the loans (${totals[column]})`)
  }
}

/** One row per loan closed on `on`: accrual, non-accrual, classification, provision (all before penalties). */
async function buildDayTable(trx: Tx, tenantId: string, on: Temporal.PlainDate): Promise<void> {
  const d = on.toString()
  const next = on.add({ days: 1 }).toString()
  const previous = on.subtract({ days: 1 }).toString()
  // Stage 1: the day's loans with their product's rules (one row per loan), analysed so the joins hash.
  await sql`
    create temp table cob_base on commit drop as
    with prod as materialized (
      select id as pid, non_accrual_dpd_min, tolerance_minor, provision_rounding,
        (tier_thresholds->>'specialMentionDpdMin')::int as sm, (tier_thresholds->>'substandardDpdMin')::int as ss,
        (tier_thresholds->>'doubtfulDpdMin')::int as dbt, (tier_thresholds->>'lossDpdMin')::int as loss,
        puhui_sig34((provision_rates_pct->>'normal')::numeric * 0.01) as r_normal,
        puhui_sig34((provision_rates_pct->>'special_mention')::numeric * 0.01) as r_sm,
        puhui_sig34((provision_rates_pct->>'substandard')::numeric * 0.01) as r_ss,
        puhui_sig34((provision_rates_pct->>'doubtful')::numeric * 0.01) as r_dbt,
        puhui_sig34((provision_rates_pct->>'loss')::numeric * 0.01) as r_loss,
        puhui_sig34((penalty_rules->>'penaltyRateMultiplier')::numeric) as pen_mult, penalty_rules->>'penaltyRounding' as pen_rounding,
        (penalty_rules->>'lateFeeFixedMinor')::bigint as fee_fixed, puhui_sig34((penalty_rules->>'lateFeePct')::numeric * 0.01) as fee_rate,
        penalty_rules->>'lateFeeRounding' as fee_rounding, (penalty_rules->>'lateFeeGraceDays')::int as fee_grace
      from loan_products where tenant_id = ${tenantId}
    )
    select l.id, l.product_id, l.currency, l.annual_rate_pct, l.rounding, l.disbursed_on, l.accrued_interest_minor as acc0, l.accrual_carry_minor as carry0,
      l.non_accrual as na0, l.suspended_interest_minor as si0, l.provision_minor as prov0, p.*,
      case l.days_in_year when 'actual' then ${on.daysInYear} else l.days_in_year::int end as ydays
    from loans l join prod p on p.pid = l.product_id
    where l.tenant_id = ${tenantId} and l.status = 'active' and l.accrued_through_on = ${previous}::date`.execute(trx)
  await sql`create unique index on cob_base (id)`.execute(trx)
  await sql`analyze cob_base`.execute(trx)
  // Stage 2: per loan, what its installments say as of the start of the day; then the day's arithmetic.
  await sql`
    create temp table cob_day on commit drop as
    with inst as (
      select i.loan_id,
        sum(i.principal_due - i.principal_paid - i.principal_waived) filter (where i.due_on > ${d}::date) as balance,
        sum(i.principal_due - i.principal_paid - i.principal_waived) as po,
        min(i.due_on) filter (where i.due_on < ${d}::date
          and (i.principal_due - i.principal_paid - i.principal_waived) + (i.interest_due - i.interest_paid - i.interest_waived) > 0) as oldest0,
        min(i.due_on) filter (where i.due_on < ${d}::date
          and (i.principal_due - i.principal_paid - i.principal_waived) + (i.interest_due - i.interest_paid - i.interest_waived) > b.tolerance_minor) as oldest,
        max(i.n) filter (where i.start_on <= ${d}::date and ${d}::date < i.due_on) as cur_n,
        max(i.interest_due) filter (where i.start_on <= ${d}::date and ${d}::date < i.due_on) as cur_interest,
        max(i.interest_paid + i.interest_waived) filter (where i.start_on <= ${d}::date and ${d}::date < i.due_on) as cur_settled,
        max(i.due_on) filter (where i.start_on <= ${d}::date and ${d}::date < i.due_on) as cur_due,
        sum(i.interest_due - i.interest_paid - i.interest_waived) filter (where i.due_on <= ${d}::date) as rd
      from cob_base b join loan_installments i on i.tenant_id = ${tenantId} and i.loan_id = b.id
      group by i.loan_id
    ),
    s1 as (
      select b.*,
        coalesce(x.balance, 0) as balance, coalesce(x.po, 0) as po, coalesce(x.rd, 0) as rd, x.cur_n, x.cur_interest, x.cur_settled, x.cur_due,
        coalesce(${d}::date - x.oldest0, 0) as dpd0, coalesce(${d}::date - x.oldest, 0) as dpd,
        (x.cur_n is not null and x.cur_interest > 0 and ${d}::date >= b.disbursed_on) as accrues
      from cob_base b join inst x on x.loan_id = b.id
    ),
    s2 as (
      select s1.*, (dpd0 >= non_accrual_dpd_min) as na1,
        case when accrues then puhui_sig34(puhui_sig34(acc0 + carry0)
          + puhui_div34(puhui_sig34(puhui_sig34(balance * annual_rate_pct) * 0.01), ydays)) end as cum,
        case when dpd >= loss then 'loss' when dpd >= dbt then 'doubtful' when dpd >= ss then 'substandard' when dpd >= sm then 'special_mention' else 'normal' end as tier
      from s1
    ),
    s3 as (
      select s2.*, puhui_round_minor(cum, rounding)::bigint as rounded,
        puhui_round_minor(puhui_sig34(po * case tier when 'normal' then r_normal when 'special_mention' then r_sm when 'substandard' then r_ss
          when 'doubtful' then r_dbt else r_loss end), provision_rounding)::bigint as provision
      from s2
    ),
    s4 as (
      select s3.*,
        case when accrues then rounded - acc0 else 0 end as accrued,
        case when accrues then rounded else acc0 end as acc1,
        case when accrues then puhui_sig34(cum - rounded) else carry0 end as carry1,
        coalesce(cur_due = ${next}::date, false) as closes
      from s3
    ),
    s5 as (
      select s4.*,
        case when closes then cur_interest - acc1 else 0 end as true_up,
        case when na1 and not na0 then rd + case when cur_n is not null then greatest(0, acc0 - cur_settled) else 0 end - si0 else 0 end as reserved
      from s4
    )
    select id, product_id, currency, annual_rate_pct, ydays, na1, accrued, true_up, reserved, prov0, provision, dpd, tier,
      pen_mult, pen_rounding, fee_fixed, fee_rate, fee_rounding, fee_grace,
      case when closes then 0 else acc1 end::bigint as acc_new,
      case when closes then 0 else carry1 end as carry_new,
      case when na1 then 0 else accrued + true_up end::bigint as income,
      greatest(0, si0 + reserved + case when na1 then accrued + true_up else 0 end)::bigint as si_new,
      case when dpd = 0 then 'current' when dpd <= 30 then '1-30' when dpd <= 60 then '31-60' when dpd <= 90 then '61-90' else '91+' end as bucket
    from s5`.execute(trx)
  const bad = await sql<{ id: string }>`select id from cob_day where reserved < 0 or accrued < 0 limit 1`.execute(trx)
  assert(bad.rows.length === 0, 'reserved and accrued amounts are not negative')
  await sql`create unique index on cob_day (id)`.execute(trx)
  await sql`analyze cob_day`.execute(trx)
}

/** Penalty interest and late fees for `on` on the overdue installments of the day's loans; per-loan sums into `cob_pen`. */
async function chargeDayPenalties(trx: Tx, tenantId: string, on: Temporal.PlainDate): Promise<void> {
  const d = on.toString()
  await sql`
    create temp table cob_pen on commit drop as
    with base as (
      select i.loan_id, i.n, c.pen_rounding, c.fee_fixed, c.fee_rate, c.fee_rounding, i.penalties_due, i.penalty_carry_minor,
        i.principal_due - i.principal_paid - i.principal_waived as op, i.interest_due - i.interest_paid - i.interest_waived as oi,
        ((i.penalty_through_on is null or i.penalty_through_on < ${d}::date) and i.principal_due - i.principal_paid - i.principal_waived > 0) as charges_penalty,
        (i.late_fee_charged_on is null and ${d}::date - i.due_on > c.fee_grace
          and (i.principal_due - i.principal_paid - i.principal_waived) + (i.interest_due - i.interest_paid - i.interest_waived) > 0) as charges_fee,
        puhui_sig34(c.annual_rate_pct * c.pen_mult) as pen_rate, c.ydays
      from loan_installments i join cob_day c on c.id = i.loan_id
      where i.tenant_id = ${tenantId} and i.due_on < ${d}::date
    ),
    cum as (
      select base.*,
        case when charges_penalty then puhui_sig34(puhui_sig34(penalties_due + penalty_carry_minor)
          + puhui_div34(puhui_sig34(puhui_sig34(op * pen_rate) * 0.01), ydays)) end as cum
      from base where charges_penalty or charges_fee
    ),
    calc as (
      select cum.*, puhui_round_minor(cum, pen_rounding)::bigint as rounded,
        case when charges_fee then fee_fixed + puhui_round_minor(puhui_sig34((op + oi) * fee_rate), fee_rounding)::bigint else 0 end as fee
      from cum
    ),
    changed as (
      update loan_installments i set
        penalties_due = case when calc.charges_penalty then calc.rounded else i.penalties_due end,
        penalty_carry_minor = case when calc.charges_penalty then puhui_sig34(calc.cum - calc.rounded) else i.penalty_carry_minor end,
        penalty_through_on = case when calc.charges_penalty then ${d}::date else i.penalty_through_on end,
        fees_due = i.fees_due + calc.fee,
        late_fee_charged_on = case when calc.charges_fee then ${d}::date else i.late_fee_charged_on end
      from calc where i.tenant_id = ${tenantId} and i.loan_id = calc.loan_id and i.n = calc.n
      returning i.loan_id, case when calc.charges_penalty then calc.rounded - calc.penalties_due else 0 end as penalty, calc.fee as late_fee
    )
    select loan_id, sum(penalty)::bigint as penalty, sum(late_fee)::bigint as late_fee from changed group by loan_id`.execute(trx)
  const negative = await sql`select 1 from cob_pen where penalty < 0 or late_fee < 0 limit 1`.execute(trx)
  assert(negative.rows.length === 0, 'penalties and late fees are not negative')
  await sql`create unique index on cob_pen (loan_id)`.execute(trx)
}

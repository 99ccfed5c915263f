/**
 * @module loans/cob
 * The set-based close of business (issue 4, item 5). COB for business date D first opens D + 1 (advances the
 * tenant's business date), then closes D for every active loan whose last closed day is D − 1, in a handful of
 * SQL statements per day (no loop over loans):
 *
 * 1. `cob_base`: the day's loans, locked by the statement that reads them, with their product's rules, their row
 *    address and the per-loan constants of the exact-decimal kernel (cob-kernel.ts);
 * 2. penalty interest (with its per-installment carry) and late fees (`chargePenalties`) on the overdue
 *    installments, staged in `cob_pen_rows`, then one UPDATE by row address; per-loan sums into `cob_pen`;
 * 3. `cob_day`, one row per loan: the day's accrual with its carry (`accrueLoanInterest`: decimal.js at 34
 *    significant digits, reproduced by the plain-SQL kernel, with the PL/pgSQL helpers of migration 0009 as its
 *    exact fallback), the period true-up, the move to non-accrual and its reserve, DPD (with the product's
 *    tolerance), bucket, tier (product thresholds) and provision (product rates and rounding);
 * 4. one UPDATE of `loans` by row address writes the new scalars;
 * 5. one GROUP BY gives the general-ledger postings per product × currency × tier × date (accrual 1202 ← 4001,
 *    non-accrual reserve 4001 ← 1202, penalty 1204 ← 4003, late fee 1203 ← 4002, provision 5001 ← 1291 or the
 *    release 1291 ← 5001), posted with `createTransfersInTransaction` (origin 'servicing') in the same
 *    transaction; Σ of the groups is asserted equal to Σ of the per-loan amounts.
 *
 * The statements that scan installments read the regular tables (not the temporary ones) so that PostgreSQL may
 * run them in parallel workers; migration 0011 leaves room on each page for HOT updates. Each day runs in one
 * transaction; D + 1 is opened (committed) before D is closed.
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
import { roundings } from '../core/rate.ts'
import type { IdSource } from '../core/ids.ts'
import { transfersPerBatchMax } from '../core/limits.ts'
import { inTenant, type Tx } from '../db/database.ts'
import type { DB } from '../db/schema.ts'
import { createAccountsInTransaction, createTransfersInTransaction, transferFlags, type TransferInput } from '../ledger/index.ts'
import { claimGlAccounts, findGlAccounts, productGlCodes, tenantGlCodes, type GlCode } from './loan-db.ts'
import { postingCodes, type PostingCode } from './loan-service.ts'
import { dailyStepSql, rateSplitSql, roundMinorSql } from './cob-kernel.ts'

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
  for (const status of statuses) assert(status === 'created', () => `general-ledger account: ${status}`)
  const all = await findGlAccounts(trx, tenantId, currency, productId)
  for (const code of wanted) assert(all.has(code), () => `general-ledger account ${code} mapped`)
  return all
}

function glAccount(gl: Gl, code: GlCode): string {
  const id = gl.get(code)
  assert(id !== undefined, () => `general-ledger account ${code} exists`)
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
  await sql`drop table if exists cob_base, cob_day, cob_pen, cob_pen_rows`.execute(trx)
  // Hash tables and sorts over a million loans stay in memory (this transaction only).
  await sql`select set_config('work_mem', '256MB', true)`.execute(trx)
  const trace = (step: string, started: number) => deps.onStep?.(d, step, performance.now() - started)
  let t0 = performance.now()
  await buildBaseTable(trx, tenantId, on)
  trace('loans locked', t0)
  t0 = performance.now()
  await chargeDayPenalties(trx, tenantId, on, (step) => {
    trace(step, t0)
    t0 = performance.now()
  })
  t0 = performance.now()
  await buildDayTable(trx, tenantId, on)
  trace('day table', t0)
  t0 = performance.now()
  const count = (await sql<{ n: bigint }>`select count(*) as n from cob_day`.execute(trx)).rows[0]?.n ?? 0n
  await preferTidJoins(trx, true)
  const updated = await sql`
    update loans l set accrued_through_on = ${d}::date, accrued_interest_minor = c.acc_new, accrual_carry_minor = c.carry_new, non_accrual = c.na1,
      suspended_interest_minor = c.si_new,
      suspended_fees_minor = l.suspended_fees_minor + case when c.na1 then c.late_fee else 0 end,
      suspended_penalties_minor = l.suspended_penalties_minor + case when c.na1 then c.penalty else 0 end,
      dpd = c.dpd, bucket = c.bucket, tier = c.tier, provision_minor = c.provision, updated_at = ${now}, version = l.version + 1
    from cob_day c
    where l.ctid = c.tid and l.tenant_id = ${tenantId} and l.id = c.id and l.accrued_through_on = ${previous}::date`.execute(trx)
  await preferTidJoins(trx, false)
  trace('loans updated', t0)
  assert(updated.numAffectedRows === count, () => `every loan of the day is closed once (${String(updated.numAffectedRows)} of ${count})`)

  const groups = (await sql<GroupRow>`
    select c.product_id, c.currency, c.tier, count(*) as loans, sum(c.income)::bigint as income, sum(c.reserved)::bigint as reserved,
      sum(case when c.na1 then 0 else c.penalty end)::bigint as penalty, sum(case when c.na1 then 0 else c.late_fee end)::bigint as late_fee,
      sum(c.provision - c.prov0)::bigint as provision
    from cob_day c group by c.product_id, c.currency, c.tier order by c.product_id, c.currency, c.tier`.execute(trx)).rows
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
    for (const result of outcome.results) assert(result.status === 'created', () => `COB transfer ${result.id} answered ${result.status}`)
    transferIds.push(...inputs.map((input) => input.id))
  }
  await sql`
    insert into cob_runs (tenant_id, business_date, loans, transfer_ids, started_at, finished_at)
    values (${tenantId}, ${d}, ${count.toString()}, ${`{${transferIds.join(',')}}`}::uuid[], ${now}, ${deps.now()})
    on conflict do nothing`.execute(trx)
  await sql`drop table if exists cob_base, cob_day, cob_pen, cob_pen_rows`.execute(trx)
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
    assert(grouped === totals[column], () => `Σ ${column} of the postings (${grouped}) = Σ of the loans (${totals[column]})`)
  }
}

/** Each product's rules as columns (tiers, provision rates, penalty and late-fee rules, at 34 digits). */
function productRulesSql(tenantId: string): string {
  assert(/^[0-9a-f-]{36}$/i.test(tenantId), 'the tenant id is a uuid (written into the statement)')
  return `
      select id as pid, non_accrual_dpd_min, tolerance_minor, provision_rounding,
        case restructured_tier_min when 'normal' then 0 when 'special_mention' then 1 when 'substandard' then 2 when 'doubtful' then 3 else 4 end as rtm,
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
      from loan_products where tenant_id = '${tenantId}'
`
}

/**
 * The penalty rules of the tenant's products as a VALUES list (pid, pen_mult, pen_rounding, fee_fixed, fee_rate,
 * fee_rounding, fee_grace), computed once by the exact helpers. A literal list rather than a join on a subquery: it
 * keeps the statements that scan installments parallel-safe, and the per-product arithmetic out of the per-row path.
 */
async function penaltyRulesValues(trx: Tx, tenantId: string): Promise<string> {
  const rows = (await sql<{ pid: string; pen_mult: string; pen_rounding: string; fee_fixed: string; fee_rate: string; fee_rounding: string; fee_grace: number }>`
    select pid::text, pen_mult::text, pen_rounding, fee_fixed::text, fee_rate::text, fee_rounding, fee_grace
    from (${sql.raw(productRulesSql(tenantId))}) p`.execute(trx)).rows
  const decimal = /^-?\d+(\.\d+)?$/
  const literal = rows.map((r) => {
    assert(/^[0-9a-f-]{36}$/i.test(r.pid) && decimal.test(r.pen_mult) && decimal.test(r.fee_fixed) && decimal.test(r.fee_rate) && Number.isInteger(r.fee_grace), 'product rules are plain values')
    assert((roundings as readonly string[]).includes(r.pen_rounding) && (roundings as readonly string[]).includes(r.fee_rounding), 'rounding modes are known')
    return `('${r.pid}'::uuid, ${r.pen_mult}::numeric, '${r.pen_rounding}', ${r.fee_fixed}::bigint, ${r.fee_rate}::numeric, '${r.fee_rounding}', ${r.fee_grace})`
  })
  // A tenant without products has no loans; one impossible row keeps the list well-formed.
  if (literal.length === 0) literal.push(`(null::uuid, 0::numeric, 'half_even', 0::bigint, 0::numeric, 'half_even', 0)`)
  return `(values ${literal.join(', ')}) as p(pid, pen_mult, pen_rounding, fee_fixed, fee_rate, fee_rounding, fee_grace)`
}

/**
 * The day's loans, locked, with their product's rules and the per-loan constants of the kernel (cob-kernel.ts): the
 * contract rate split for accrual (`a_`).
 * Locking here, in the statement that reads them: a servicing event (repayment on D + 1) running now either finishes
 * first — then it has closed D for its loan, which no longer qualifies — or waits for this commit and sees D closed.
 * `tid` is the locked row's address, stable until commit (the row is ours), for the update at the end.
 */
async function buildBaseTable(trx: Tx, tenantId: string, on: Temporal.PlainDate): Promise<void> {
  const previous = on.subtract({ days: 1 }).toString()
  await sql`
    create temp table cob_base on commit drop as
    with prod as materialized (${sql.raw(productRulesSql(tenantId))}    ),
    rates as (
      select l.ctid as tid, l.id, l.product_id, l.currency, l.annual_rate_pct, l.rounding, l.disbursed_on, l.accrued_interest_minor as acc0,
        l.accrual_carry_minor as carry0, l.non_accrual as na0, l.suspended_interest_minor as si0, l.provision_minor as prov0, p.*,
        (l.rescheduled_on is not null) as rescheduled,
        case l.days_in_year when 'actual' then ${on.daysInYear} else l.days_in_year::int end as ydays
      from loans l join prod p on p.pid = l.product_id
      where l.tenant_id = ${tenantId} and l.status = 'active' and l.accrued_through_on = ${previous}::date
      for update of l
    )
    select rates.*, ${sql.raw(rateSplitSql('annual_rate_pct', 'ydays', 'a_'))}
    from rates`.execute(trx)
  await sql`analyze cob_base`.execute(trx)
}

/**
 * Joins on a row address run as a TID scan per staged row: never a hash or a scan of the whole table, nor an index
 * probe per row (planner settings for the next statement of this transaction; `false` restores them). The staged
 * table is still scanned sequentially (the one plan left with the fewest disabled nodes).
 */
async function preferTidJoins(trx: Tx, on: boolean): Promise<void> {
  const value = on ? 'off' : 'on'
  // Sequential scans too: with the target table's row estimate off (no statistics yet, say), a plan scanning it in
  // full for every staged row would otherwise look cheap — measured at 132 s for 20,000 loans.
  await sql`select set_config('enable_hashjoin', ${value}, true), set_config('enable_mergejoin', ${value}, true),
    set_config('enable_indexscan', ${value}, true), set_config('enable_bitmapscan', ${value}, true), set_config('enable_seqscan', ${value}, true)`.execute(trx)
}

/** One row per loan closed on `on`: accrual, non-accrual, classification, provision (before penalties, which it does not read). */
async function buildDayTable(trx: Tx, tenantId: string, on: Temporal.PlainDate): Promise<void> {
  const d = on.toString()
  const previous = on.subtract({ days: 1 }).toString()
  const next = on.add({ days: 1 }).toString()
  // Per loan, what its installments say as of the start of the day (read from the regular tables — the day's loans are
  // exactly those cob_base locked — so PostgreSQL may scan and aggregate in parallel workers), then the day's arithmetic.
  const s1 = `
      select b.*,
        coalesce(x.balance, 0) as balance, coalesce(x.po, 0) as po, coalesce(x.rd, 0) as rd, x.cur_n, x.cur_interest, x.cur_settled, x.cur_due,
        coalesce(date '${d}' - x.oldest0, 0) as dpd0, coalesce(date '${d}' - x.oldest, 0) as dpd,
        (x.cur_n is not null and x.cur_interest > 0 and date '${d}' >= b.disbursed_on) as accrues,
        coalesce(p.penalty, 0) as penalty, coalesce(p.late_fee, 0) as late_fee
      from cob_base b join inst x on x.loan_id = b.id left join cob_pen p on p.loan_id = b.id`
  const accrualKeep = ['tid', 'id', 'product_id', 'currency', 'acc0', 'carry0', 'na0', 'si0', 'prov0', 'non_accrual_dpd_min', 'provision_rounding', 'sm', 'ss', 'dbt', 'loss', 'rtm', 'rescheduled',
    'r_normal', 'r_sm', 'r_ss', 'r_dbt', 'r_loss', 'po', 'rd', 'cur_n', 'cur_interest', 'cur_settled', 'cur_due', 'dpd0', 'dpd', 'accrues', 'penalty', 'late_fee']
  const accrual = dailyStepSql(s1, {
    prefix: 'k_', keep: accrualKeep, active: 'accrues', acc: 'acc0', carry: 'carry0', base: 'balance', rate: 'annual_rate_pct', rn: 'a_rn', rk: 'a_rk', rf: 'a_rf', ydays: 'ydays', mode: 'rounding',
  })
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
      from loan_installments i
      join loans l on l.tenant_id = ${tenantId} and l.id = i.loan_id
      join loan_products b on b.tenant_id = ${tenantId} and b.id = l.product_id
      where i.tenant_id = ${tenantId} and l.status = 'active' and l.accrued_through_on = ${previous}::date
      group by i.loan_id
    ),
    s2 as (
      select s.*, (dpd0 >= non_accrual_dpd_min) as na1, k_rounded as rounded, k_carry as carry1,
        -- The DPD tier, never better than the product's restructured floor for a rescheduled loan (delinquency.ts classifyTier).
        case greatest(case when dpd >= loss then 4 when dpd >= dbt then 3 when dpd >= ss then 2 when dpd >= sm then 1 else 0 end, case when rescheduled then rtm else 0 end)
          when 4 then 'loss' when 3 then 'doubtful' when 2 then 'substandard' when 1 then 'special_mention' else 'normal' end as tier
      from (${sql.raw(accrual)}) s
    ),
    s3 as (
      select s2.*, case tier when 'normal' then r_normal when 'special_mention' then r_sm when 'substandard' then r_ss when 'doubtful' then r_dbt else r_loss end as prov_rate
      from s2
    ),
    s4 as (
      select s3.*,
        -- po × rate is exact within 34 digits (po < 10^15: 15 digits; rate < 10 with ≤ 18 decimals: 19); otherwise the exact helpers.
        case when po < 1e15 and prov_rate < 10 and min_scale(prov_rate) <= 18 then (${sql.raw(roundMinorSql('(po * prov_rate)', 'provision_rounding'))})
          else puhui_round_minor(puhui_sig34(po * prov_rate), provision_rounding) end::bigint as provision,
        case when accrues then rounded - acc0 else 0 end as accrued,
        case when accrues then rounded else acc0 end as acc1,
        case when accrues then carry1 else carry0 end as carry2,
        coalesce(cur_due = ${next}::date, false) as closes
      from s3
    ),
    s5 as (
      select s4.*,
        case when closes then cur_interest - acc1 else 0 end as true_up,
        case when na1 and not na0 then rd + case when cur_n is not null then greatest(0, acc0 - cur_settled) else 0 end - si0 else 0 end as reserved
      from s4
    )
    select tid, id, product_id, currency, na1, accrued, true_up, reserved, prov0, provision, dpd, tier, penalty, late_fee,
      case when closes then 0 else acc1 end::bigint as acc_new,
      case when closes then 0 else carry2 end as carry_new,
      case when na1 then 0 else accrued + true_up end::bigint as income,
      greatest(0, si0 + reserved + case when na1 then accrued + true_up else 0 end)::bigint as si_new,
      case when dpd = 0 then 'current' when dpd <= 30 then '1-30' when dpd <= 60 then '31-60' when dpd <= 90 then '61-90' else '91+' end as bucket
    from s5`.execute(trx)
  const bad = await sql<{ id: string }>`select id from cob_day where reserved < 0 or accrued < 0 limit 1`.execute(trx)
  assert(bad.rows.length === 0, 'reserved and accrued amounts are not negative')
  await sql`analyze cob_day`.execute(trx)
}

/** Penalty interest and late fees for `on` on the overdue installments of the day's loans; per-loan sums into `cob_pen`. */
async function chargeDayPenalties(trx: Tx, tenantId: string, on: Temporal.PlainDate, trace: (step: string) => void): Promise<void> {
  const d = on.toString()
  const previous = on.subtract({ days: 1 }).toString()
  assert(/^[0-9a-f-]{36}$/i.test(tenantId), 'the tenant id is a uuid (written into the statement)')
  const owed = '(i.principal_due - i.principal_paid - i.principal_waived)'
  const owedInterest = '(i.interest_due - i.interest_paid - i.interest_waived)'
  const chargesPenalty = `((i.penalty_through_on is null or i.penalty_through_on < date '${d}') and ${owed} > 0)`
  const chargesFee = `(i.late_fee_charged_on is null and date '${d}' - i.due_on > p.fee_grace and ${owed} + ${owedInterest} > 0)`
  // Read from the regular tables (the day's loans are exactly those cob_base locked), not the temporary one, so that
  // PostgreSQL may run this scan and the kernel in parallel workers. Per loan (once, on the hash side of the join): the
  // penalty rate (decimal.js: rate × multiplier, 34 digits; exact below 34 digits: < 10^13, ≤ 20 decimals; otherwise
  // the exact helper) and its split for the kernel.
  const rows = `
    select i.ctid as tid, i.loan_id, i.penalties_due, i.penalty_carry_minor, puhui_fence(${owed}) as op,
      ${chargesPenalty} as charges_penalty, ${chargesFee} as charges_fee, p.p_rate, p.p_rn, p.p_rk, p.p_rf, p.ydays, p.pen_rounding,
      case when ${chargesFee} then p.fee_fixed + puhui_round_minor(puhui_sig34((${owed} + ${owedInterest}) * p.fee_rate), p.fee_rounding)::bigint else 0 end as late_fee
    from loan_installments i
    join (
      select q.*, ${rateSplitSql('p_rate', 'ydays', 'p_')} from (
        select l.id, p.*, case l.days_in_year when 'actual' then ${on.daysInYear} else l.days_in_year::int end as ydays,
          puhui_fence(case when l.annual_rate_pct * p.pen_mult < 1e13 and min_scale(l.annual_rate_pct * p.pen_mult) <= 20 then l.annual_rate_pct * p.pen_mult
            else puhui_sig34(l.annual_rate_pct * p.pen_mult) end) as p_rate
        from loans l join ${await penaltyRulesValues(trx, tenantId)} on p.pid = l.product_id
        where l.tenant_id = '${tenantId}' and l.status = 'active' and l.accrued_through_on = date '${previous}'
      ) q
    ) p on p.id = i.loan_id
    where i.tenant_id = '${tenantId}' and i.due_on < date '${d}' and (${chargesPenalty} or ${chargesFee})`
  const penalty = dailyStepSql(rows, {
    prefix: 'k_', keep: ['tid', 'loan_id', 'charges_penalty', 'charges_fee', 'penalties_due', 'penalty_carry_minor', 'late_fee'], active: 'charges_penalty', acc: 'penalties_due', carry: 'penalty_carry_minor', base: 'op', rate: 'p_rate', rn: 'p_rn', rk: 'p_rk', rf: 'p_rf', ydays: 'ydays', mode: 'pen_rounding',
  })
  // Staged in the installments' physical order; then one in-place update per row by its address.
  await sql`
    create temp table cob_pen_rows on commit drop as
    select tid, loan_id, charges_penalty, charges_fee,
      case when charges_penalty then k_rounded else penalties_due end as pen_new,
      case when charges_penalty then k_carry else penalty_carry_minor end as carry_new,
      case when charges_penalty then k_rounded - penalties_due else 0 end as penalty, late_fee
    from (${sql.raw(penalty)}) s`.execute(trx)
  trace('penalties computed')
  const staged = (await sql<{ n: bigint; bad: bigint }>`select count(*) as n, count(*) filter (where penalty < 0 or late_fee < 0) as bad from cob_pen_rows`.execute(trx)).rows[0]
  assert(staged !== undefined && staged.bad === 0n, 'penalties and late fees are not negative')
  await preferTidJoins(trx, true)
  const updated = await sql`
    update loan_installments i set penalties_due = s.pen_new, penalty_carry_minor = s.carry_new,
      penalty_through_on = case when s.charges_penalty then ${d}::date else i.penalty_through_on end,
      fees_due = i.fees_due + s.late_fee,
      late_fee_charged_on = case when s.charges_fee then ${d}::date else i.late_fee_charged_on end
    from cob_pen_rows s where i.ctid = s.tid and i.tenant_id = ${tenantId}`.execute(trx)
  await preferTidJoins(trx, false)
  assert(updated.numAffectedRows === staged.n, () => `every charged installment is updated once (${String(updated.numAffectedRows)} of ${staged.n})`)
  trace('installments updated')
  await sql`create temp table cob_pen on commit drop as
    select loan_id, sum(penalty)::bigint as penalty, sum(late_fee)::bigint as late_fee from cob_pen_rows group by loan_id`.execute(trx)
  await sql`analyze cob_pen`.execute(trx)
}

/**
 * `npm run bench -- cob`: one close-of-business day over N active loans (full: 1,000,000; quick: 20,000), set-based
 * (`runCloseOfBusiness`), on a real PostgreSQL with durable commits. Baseline, same run: the per-loan loop
 * (`closeLoanDayForLoan`, one transaction per loan) over 10,000 other loans (quick: 500) for the same day.
 *
 * Setup (not timed; the bench measures COB, not origination): a few template loans are originated, disbursed
 * and closed per loan up to D − 1 through the service (so their state is realistic: some current, some late,
 * some non-accrual), then cloned with set-based SQL (loans and installments; the clones share the templates'
 * own ledger accounts, which COB never posts to). Also a loan with a long daily history (full: 3 years of daily
 * accruals, each day its own per-loan COB transaction; quick: 60 days) for the loan-detail read p99.
 */
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { Temporal } from 'temporal-polyfill'
import { createTenant } from '../src/access/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { RateDecimal } from '../src/core/rate.ts'
import { inTenant } from '../src/db/database.ts'
import type { DB } from '../src/db/schema.ts'
import {
  closeLoanDayForLoan, createProduct, defaultAllocationOrder, defaultDelinquencyRules, defaultPenaltyRules, disburseLoan, originateLoan, readLoanDetail,
  type ProductInput, type ServicingContext,
} from '../src/loans/index.ts'
import { runCloseOfBusiness } from '../src/loans/cob.ts'
import { openBenchDatabase, percentile, round } from './support.ts'

const businessDate = Temporal.PlainDate.from('2025-06-30')

function productInput(name: string, schedule: Partial<ProductInput['scheduleTemplate']>, installmentsMin: number): ProductInput {
  return {
    name, currency: 'CNY', principalMinMinor: 100_000n, principalMaxMinor: 100_000_000n, installmentsMin, installmentsMax: 36,
    scheduleTemplate: {
      repaymentEvery: 1, repaymentUnit: 'months', interestMethod: 'declining_balance', amortization: 'equal_installments', interestPeriod: 'daily',
      daysInYear: '365', daysInMonth: 'actual', graceOnPrincipalPeriods: 0, graceOnInterestPaymentPeriods: 0, interestFreePeriods: 0,
      installmentMultipleOf: null, rounding: 'half_even', compat: null, ...schedule,
    },
    annualRateCapPct: new RateDecimal('24'), upfrontFeePct: new RateDecimal('0'), penalty: defaultPenaltyRules, allocationOrder: defaultAllocationOrder,
    delinquency: defaultDelinquencyRules, accrual: { nonAccrualDpdMin: 91 },
  }
}

export type CobBenchSetup = {
  readonly tenantId: string
  readonly templates: readonly string[]
  readonly bulletProductId: string
  readonly openLoan: (productId: string, disbursedOn: Temporal.PlainDate, principalMinor: bigint, rate: string, installments: number) => Promise<string>
}

/** Creates the tenant, products, template loans and `loansTotal` clones (all closed through D − 1). Not timed. */
export async function setupCobBench(db: Kysely<DB>, loansTotal: number, log: (text: string) => void): Promise<CobBenchSetup> {
  const tenant = await createTenant({ db, clock: systemClock, ids: uuidv7Source }, { slug: 'bench', name: 'Bench', businessDate: businessDate.toString() })
  if (tenant.status !== 'ok') throw new Error(tenant.status)
  const tenantId = tenant.value.id
  const ctx = (): ServicingContext => ({ tenantId, ids: uuidv7Source, now: new Date() })
  const tx = <T>(fn: (trx: Parameters<Parameters<typeof inTenant>[2]>[0]) => Promise<T>) => inTenant(db, tenantId, fn)
  const enterpriseId = uuidv7Source.next()
  await tx((trx) => trx.insertInto('enterprises').values({ tenant_id: tenantId, id: enterpriseId, name: 'Bench Ltd', uscc: null, sector: null, region: null, founded_on: null, created_at: new Date() }).execute())
  const product = await tx((trx) => createProduct(trx, ctx(), productInput('Term', {}, 3)))
  const bullet = await tx((trx) => createProduct(trx, ctx(), productInput('Bullet', { amortization: 'bullet', repaymentEvery: 36 }, 1)))
  if (product.status !== 'ok' || bullet.status !== 'ok') throw new Error('product')

  async function openLoan(productId: string, disbursedOn: Temporal.PlainDate, principalMinor: bigint, rate: string, installments: number): Promise<string> {
    return tx(async (trx) => {
      const loan = await originateLoan(trx, ctx(), { productId, enterpriseId, principalMinor, annualRatePct: rate, installments, disbursedOn: disbursedOn.toString(), firstRepaymentOn: null })
      if (loan.status !== 'ok') throw new Error(loan.status)
      const disbursed = await disburseLoan(trx, ctx(), loan.loan.id)
      if (disbursed.status !== 'ok') throw new Error(disbursed.status)
      return loan.loan.id
    })
  }
  const dayBefore = businessDate.subtract({ days: 1 })
  const templates: string[] = []
  const ages = [10, 20, 25, 40, 55, 70, 100, 130, 160, 200, 250, 330]
  for (const [k, age] of ages.entries()) {
    const id = await openLoan(product.product.id, businessDate.subtract({ days: age }), BigInt(500_000 + k * 731_117), (8 + k * 0.77).toFixed(2), 6 + (k % 4) * 6)
    await tx((trx) => closeLoanDayForLoan(trx, ctx(), id, dayBefore))
    templates.push(id)
  }

  // Clone the templates, set-based, in chunks.
  const setupStarted = performance.now()
  const chunk = 50_000
  // Clones copy consistent rows, so a superuser skips the per-row foreign-key triggers while copying (setup time only).
  const superuser = (await sql<{ s: boolean }>`select rolsuper as s from pg_roles where rolname = current_user`.execute(db)).rows[0]?.s === true
  for (let made = 0; made < loansTotal; made += chunk) {
    const count = Math.min(chunk, loansTotal - made)
    await tx(async (trx) => {
      if (superuser) await sql`set local session_replication_role = replica`.execute(trx)
      await sql`create temp table clone_map on commit drop as
        select gen_random_uuid() as id, (${`{${templates.join(',')}}`}::uuid[])[1 + g % ${templates.length}] as tid from generate_series(1, ${count}) g`.execute(trx)
      await sql`insert into loans (tenant_id, id, product_id, enterprise_id, status, currency, principal_minor, annual_rate_pct, days_in_year, rounding,
          upfront_fee_minor, schedule_spec, disbursed_on, maturity_on, accrued_through_on, accrued_interest_minor, accrual_carry_minor, overpayment_minor,
          non_accrual, suspended_interest_minor, suspended_fees_minor, suspended_penalties_minor, written_off_minor, recovered_minor, dpd, bucket, tier,
          provision_minor, principal_account_id, wallet_account_id, created_at, updated_at, version)
        select l.tenant_id, m.id, l.product_id, l.enterprise_id, l.status, l.currency, l.principal_minor, l.annual_rate_pct, l.days_in_year, l.rounding,
          l.upfront_fee_minor, l.schedule_spec, l.disbursed_on, l.maturity_on, l.accrued_through_on, l.accrued_interest_minor, l.accrual_carry_minor,
          l.overpayment_minor, l.non_accrual, l.suspended_interest_minor, l.suspended_fees_minor, l.suspended_penalties_minor, l.written_off_minor,
          l.recovered_minor, l.dpd, l.bucket, l.tier, l.provision_minor, l.principal_account_id, l.wallet_account_id, l.created_at, l.updated_at, 0
        from clone_map m join loans l on l.tenant_id = ${tenantId} and l.id = m.tid`.execute(trx)
      await sql`insert into loan_installments
        select i.tenant_id, m.id, i.n, i.start_on, i.due_on, i.principal_due, i.interest_due, i.fees_due, i.penalties_due, i.principal_paid, i.interest_paid,
          i.fees_paid, i.penalties_paid, i.principal_waived, i.interest_waived, i.fees_waived, i.penalties_waived, i.late_fee_charged_on, i.penalty_through_on,
          i.penalty_carry_minor
        from clone_map m join loan_installments i on i.tenant_id = ${tenantId} and i.loan_id = m.tid`.execute(trx)
    })
  }
  await sql`vacuum analyze loans`.execute(db)
  await sql`vacuum analyze loan_installments`.execute(db)
  log(`setup: ${loansTotal} cloned loans in ${round((performance.now() - setupStarted) / 1000, 1)} s`)
  return { tenantId, templates, bulletProductId: bullet.product.id, openLoan }
}

/** CHECKPOINT as the owner (needs superuser or pg_checkpoint; skipped with a note otherwise). */
async function settle(url: string, log: (text: string) => void, when: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const started = performance.now()
    await client.query('checkpoint')
    log(`checkpoint ${when}: ${round((performance.now() - started) / 1000, 1)} s`)
  } catch (error) {
    log(`no checkpoint ${when} (${String(error)})`)
  } finally {
    await client.end()
  }
}

export async function benchCob(quick: boolean): Promise<Record<string, number>> {
  const database = await openBenchDatabase()
  const db = database.db
  const log = (text: string) => process.stderr.write(`${text}\n`)
  try {
    // N for the set-based COB plus the baseline's loans. PUHUI_BENCH_COB_LOANS overrides N (to see how COB scales).
    const loansTotal = Number(process.env.PUHUI_BENCH_COB_LOANS ?? (quick ? 20_000 : 1_000_000))
    const baselineLoans = quick ? 500 : 10_000
    const { tenantId, templates, bulletProductId, openLoan } = await setupCobBench(db, loansTotal + baselineLoans, log)
    // The day starts from a settled database, as a nightly COB does: the setup's writes checkpointed (not timed).
    await settle(database.url, log, 'after setup')
    const ctx = (): ServicingContext => ({ tenantId, ids: uuidv7Source, now: new Date() })
    const tx = <T>(fn: (trx: Parameters<Parameters<typeof inTenant>[2]>[0]) => Promise<T>) => inTenant(db, tenantId, fn)
    const dayBefore = businessDate.subtract({ days: 1 })

    // Baseline: the per-loan loop over `baselineLoans` clones, one transaction each.
    const baselineIds = (await tx((trx) => sql<{ id: string }>`
      select id from loans where tenant_id = ${tenantId} and status = 'active' and accrued_through_on = ${dayBefore.toString()} and id <> all(${`{${templates.join(',')}}`}::uuid[])
      order by id limit ${baselineLoans}`.execute(trx))).rows.map((r) => r.id)
    const baselineStarted = performance.now()
    for (const id of baselineIds) {
      const closed = await tx((trx) => closeLoanDayForLoan(trx, ctx(), id, businessDate))
      if (closed.status !== 'ok') throw new Error(closed.status)
    }
    const baselinePerS = baselineIds.length / ((performance.now() - baselineStarted) / 1000)
    log(`baseline (per-loan loop): ${round(baselinePerS, 0)} loans/s over ${baselineIds.length} loans`)

    // The set-based COB for the business date: every other active loan.
    const started = performance.now()
    const onStep = (date: string, step: string, ms: number) => log(`  cob ${date} ${step}: ${round(ms, 0)} ms`)
    const result = await runCloseOfBusiness(db, { ids: uuidv7Source, now: () => new Date(), onStep }, tenantId, businessDate.toString())
    const seconds = (performance.now() - started) / 1000
    if (result.status !== 'ok') throw new Error(result.status)
    const closedLoans = result.days.reduce((sum, d) => sum + d.loans, 0)
    log(`set-based COB: ${closedLoans} loans in ${round(seconds, 2)} s = ${round(closedLoans / seconds, 0)} loans/s (${result.days.length} day(s), ${result.days[0]?.transfers ?? 0} transfers)`)

    // Loan detail of a loan with a long daily history.
    const historyDays = quick ? 60 : 3 * 365
    const heavyFrom = businessDate.subtract({ days: historyDays + 1 })
    const heavy = await openLoan(bulletProductId, heavyFrom, 5_000_000n, '12', 1)
    for (let d = heavyFrom; Temporal.PlainDate.compare(d, businessDate) < 0; d = d.add({ days: 1 })) {
      const day = d
      await tx((trx) => closeLoanDayForLoan(trx, ctx(), heavy, day))
    }
    const readDetails = async (label: string) => {
      const reads: number[] = []
      for (let k = 0; k < (quick ? 50 : 300); k++) {
        const t0 = performance.now()
        const detail = await tx((trx) => readLoanDetail(trx, tenantId, heavy, { enterpriseId: null, transactionsMax: 100 }))
        reads.push(performance.now() - t0)
        if (detail === undefined) throw new Error('detail')
      }
      reads.sort((x, y) => x - y)
      log(`loan detail (${historyDays} days of accruals, ${label}): p50 ${round(percentile(reads, 50), 2)} ms, p99 ${round(percentile(reads, 99), 2)} ms`)
      return percentile(reads, 99)
    }
    // Right after the day, while the server writes out what the day dirtied; then in service, the day's
    // writes checkpointed (the figure reported: a detail read is a daytime read, the COB runs at night).
    await readDetails('right after the day')
    await settle(database.url, log, 'after the day')
    const detailP99 = await readDetails('after a checkpoint')
    return {
      loans: closedLoans,
      seconds: round(seconds, 2),
      loans_per_s: round(closedLoans / seconds, 0),
      baseline_loans_per_s: round(baselinePerS, 0),
      peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
      loan_detail_p99_ms: round(detailP99, 2),
    }
  } finally {
    await database.close()
  }
}

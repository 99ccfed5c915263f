/**
 * @module loans/loan-db
 * The loan subledger in PostgreSQL (migration 0007-loans): rows ↔ the pure `LoanState`, products, servicing
 * events, and the map of general-ledger accounts. Everything runs inside the caller's tenant transaction.
 *
 * One loan row holds the scalar servicing state (accrual counter and carry, wallet, suspense, write-off,
 * classification, version); one row per installment holds due / paid / waived per component and the penalty
 * counter. Saving writes only what changed, with set-based SQL (one UPDATE of the loan, one UPDATE … FROM
 * unnest(…) for the changed installments): the same shape the set-based close of business will use.
 *
 * Conversions: int8 → bigint and numeric → exact string happen in db/database.ts; here numeric strings become
 * `RateDecimal` and dates become `Temporal.PlainDate`. Carries are written with `toFixed()` (no exponent) to
 * unconstrained `numeric` columns, so a stored carry reads back exactly (a round-trip test checks it).
 */
import { sql } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import { formatMajor, isCurrency, type Currency } from '../core/money.ts'
import { RateDecimal, roundings, type Rounding } from '../core/rate.ts'
import type { Tx } from '../db/database.ts'
import type { AccrualOptions } from './accrual.ts'
import { delinquencyBuckets, tiers, type DelinquencyBucket, type DelinquencyRules, type ProvisionRatesPct, type Tier, type TierThresholds } from './delinquency.ts'
import { components, loanStatuses, type ComponentsMinor, type InstallmentState, type LoanState, type LoanStatus } from './loan-state.ts'
import type { PenaltyRules } from './penalty.ts'
import type { ServicingRules } from './payoff.ts'
import { parseScheduleSpec, type Amortization, type Compat, type DaysInMonth, type DaysInYear, type InterestMethod, type InterestPeriod, type RepaymentUnit, type ScheduleSpec } from './schedule-spec.ts'
import type { AllocationOrder } from './waterfall.ts'

// ---------------------------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------------------------

/** The ScheduleSpec fields that are product settings, in the JSON shape of `puhui schedule --spec`. */
export type ScheduleTemplate = {
  readonly repaymentEvery: number
  readonly repaymentUnit: RepaymentUnit
  readonly interestMethod: InterestMethod
  readonly amortization: Amortization
  readonly interestPeriod: InterestPeriod
  readonly daysInYear: DaysInYear
  readonly daysInMonth: DaysInMonth
  readonly graceOnPrincipalPeriods: number
  readonly graceOnInterestPaymentPeriods: number
  readonly interestFreePeriods: number
  /** Decimal string in major units, or null. */
  readonly installmentMultipleOf: string | null
  readonly rounding: Rounding
  /** null: Puhui's own convention. */
  readonly compat: Exclude<Compat, 'puhui'> | null
}

export type LoanProduct = {
  readonly id: string
  readonly name: string
  readonly currency: Currency
  readonly principalMinMinor: bigint
  readonly principalMaxMinor: bigint
  readonly installmentsMin: number
  readonly installmentsMax: number
  readonly scheduleTemplate: ScheduleTemplate
  readonly annualRateCapPct: RateDecimal
  /** Upfront fee in percent of the principal, deducted at disbursement (1201 ← 2401). */
  readonly upfrontFeePct: RateDecimal
  readonly penalty: PenaltyRules
  readonly allocationOrder: AllocationOrder
  readonly delinquency: DelinquencyRules
  readonly accrual: AccrualOptions
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** The servicing rules of a product, as the pure core takes them. */
export function rulesOfProduct(product: LoanProduct): ServicingRules {
  return { accrual: product.accrual, penalty: product.penalty, delinquency: product.delinquency }
}

export type ProductRow = {
  id: string
  name: string
  currency: string
  principal_min_minor: bigint
  principal_max_minor: bigint
  installments_min: number
  installments_max: number
  schedule_template: ScheduleTemplate
  annual_rate_cap_pct: string
  upfront_fee_pct: string
  penalty_rules: PenaltyRulesJson
  allocation_order: AllocationOrder
  tier_thresholds: TierThresholds
  provision_rates_pct: Record<Tier, string>
  provision_rounding: Rounding
  tolerance_minor: bigint
  non_accrual_dpd_min: number
  restructured_tier_min: Tier
  created_at: Date
  updated_at: Date
}

type PenaltyRulesJson = {
  penaltyRateMultiplier: string
  penaltyRounding: Rounding
  lateFeeFixedMinor: string
  lateFeePct: string
  lateFeeRounding: Rounding
  lateFeeGraceDays: number
}

export function penaltyRulesToJson(rules: PenaltyRules): PenaltyRulesJson {
  return {
    penaltyRateMultiplier: rules.penaltyRateMultiplier.toFixed(),
    penaltyRounding: rules.penaltyRounding,
    lateFeeFixedMinor: rules.lateFeeFixedMinor.toString(),
    lateFeePct: rules.lateFeePct.toFixed(),
    lateFeeRounding: rules.lateFeeRounding,
    lateFeeGraceDays: rules.lateFeeGraceDays,
  }
}

function penaltyRulesFromJson(json: PenaltyRulesJson): PenaltyRules {
  assert(roundings.includes(json.penaltyRounding) && roundings.includes(json.lateFeeRounding), 'stored roundings are known')
  return {
    penaltyRateMultiplier: new RateDecimal(json.penaltyRateMultiplier),
    penaltyRounding: json.penaltyRounding,
    lateFeeFixedMinor: BigInt(json.lateFeeFixedMinor),
    lateFeePct: new RateDecimal(json.lateFeePct),
    lateFeeRounding: json.lateFeeRounding,
    lateFeeGraceDays: json.lateFeeGraceDays,
  }
}

export function provisionRatesToJson(rates: ProvisionRatesPct): Record<Tier, string> {
  return { normal: rates.normal.toFixed(), special_mention: rates.special_mention.toFixed(), substandard: rates.substandard.toFixed(), doubtful: rates.doubtful.toFixed(), loss: rates.loss.toFixed() }
}

export function toProduct(row: ProductRow): LoanProduct {
  assert(isCurrency(row.currency), 'stored product currency is known')
  const rates = row.provision_rates_pct
  return {
    id: row.id,
    name: row.name,
    currency: row.currency,
    principalMinMinor: row.principal_min_minor,
    principalMaxMinor: row.principal_max_minor,
    installmentsMin: row.installments_min,
    installmentsMax: row.installments_max,
    scheduleTemplate: row.schedule_template,
    annualRateCapPct: new RateDecimal(row.annual_rate_cap_pct),
    upfrontFeePct: new RateDecimal(row.upfront_fee_pct),
    penalty: penaltyRulesFromJson(row.penalty_rules),
    allocationOrder: row.allocation_order,
    delinquency: {
      thresholds: row.tier_thresholds,
      provisionRatesPct: { normal: new RateDecimal(rates.normal), special_mention: new RateDecimal(rates.special_mention), substandard: new RateDecimal(rates.substandard), doubtful: new RateDecimal(rates.doubtful), loss: new RateDecimal(rates.loss) },
      provisionRounding: row.provision_rounding,
      toleranceMinor: row.tolerance_minor,
      restructuredTierMin: row.restructured_tier_min,
    },
    accrual: { nonAccrualDpdMin: row.non_accrual_dpd_min },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

export async function insertProduct(trx: Tx, tenantId: string, product: LoanProduct): Promise<void> {
  const d = product.delinquency
  await sql`
    insert into loan_products (tenant_id, id, name, currency, principal_min_minor, principal_max_minor, installments_min, installments_max,
      schedule_template, annual_rate_cap_pct, upfront_fee_pct, penalty_rules, allocation_order, tier_thresholds, provision_rates_pct,
      provision_rounding, tolerance_minor, non_accrual_dpd_min, restructured_tier_min, created_at, updated_at)
    values (${tenantId}, ${product.id}, ${product.name}, ${product.currency}, ${product.principalMinMinor.toString()}, ${product.principalMaxMinor.toString()},
      ${product.installmentsMin}, ${product.installmentsMax}, ${JSON.stringify(product.scheduleTemplate)}::jsonb, ${product.annualRateCapPct.toFixed()}::numeric,
      ${product.upfrontFeePct.toFixed()}::numeric, ${JSON.stringify(penaltyRulesToJson(product.penalty))}::jsonb, ${JSON.stringify(product.allocationOrder)}::jsonb,
      ${JSON.stringify(d.thresholds)}::jsonb, ${JSON.stringify(provisionRatesToJson(d.provisionRatesPct))}::jsonb, ${d.provisionRounding},
      ${d.toleranceMinor.toString()}, ${product.accrual.nonAccrualDpdMin}, ${d.restructuredTierMin}, ${product.createdAt}, ${product.updatedAt})`.execute(trx)
}

export async function findProduct(trx: Tx, tenantId: string, id: string): Promise<LoanProduct | undefined> {
  const rows = await sql<ProductRow>`select * from loan_products where tenant_id = ${tenantId} and id = ${id}`.execute(trx)
  const row = rows.rows[0]
  return row === undefined ? undefined : toProduct(row)
}

/** Products by id, after a cursor. */
export async function listProducts(trx: Tx, tenantId: string, page: { after: string | null; limit: number }): Promise<LoanProduct[]> {
  const after = page.after ?? '00000000-0000-0000-0000-000000000000'
  const rows = await sql<ProductRow>`select * from loan_products where tenant_id = ${tenantId} and id > ${after} order by id limit ${page.limit}`.execute(trx)
  return rows.rows.map(toProduct)
}

// ---------------------------------------------------------------------------------------------------------------
// Schedule spec ↔ JSON (stored with the loan; the shape `parseScheduleSpec` reads, so it round-trips)
// ---------------------------------------------------------------------------------------------------------------

export function specToJson(spec: ScheduleSpec): Record<string, unknown> {
  return {
    principal: formatMajor(spec.principalMinor, spec.currency),
    currency: spec.currency,
    annualRatePct: spec.annualRatePct.toFixed(),
    installments: spec.installments,
    repaymentEvery: spec.repaymentEvery,
    repaymentUnit: spec.repaymentUnit,
    interestMethod: spec.interestMethod,
    amortization: spec.amortization,
    interestPeriod: spec.interestPeriod,
    daysInYear: spec.daysInYear,
    daysInMonth: spec.daysInMonth,
    disbursedOn: spec.disbursedOn.toString(),
    firstRepaymentOn: spec.firstRepaymentOn?.toString() ?? null,
    periodStartOn: spec.periodStartOn?.toString() ?? null,
    repaymentDates: spec.repaymentDates?.map((d) => d.toString()) ?? null,
    graceOnPrincipalPeriods: spec.graceOnPrincipalPeriods,
    graceOnInterestPaymentPeriods: spec.graceOnInterestPaymentPeriods,
    interestFreePeriods: spec.interestFreePeriods,
    installmentMultipleOf: spec.installmentMultipleOfMinor === null ? null : formatMajor(spec.installmentMultipleOfMinor, spec.currency),
    rounding: spec.rounding,
    ...(spec.compat === 'puhui' ? {} : { compat: spec.compat }),
  }
}

export function specFromJson(json: unknown): ScheduleSpec {
  const parsed = parseScheduleSpec(json)
  assert(parsed.status === 'ok', 'a stored schedule spec parses')
  return parsed.value
}

// ---------------------------------------------------------------------------------------------------------------
// Loans
// ---------------------------------------------------------------------------------------------------------------

/** A loan as stored: the pure state plus what servicing keeps beside it. */
export type LoanRecord = {
  readonly id: string
  readonly productId: string
  readonly enterpriseId: string
  readonly state: LoanState
  readonly spec: ScheduleSpec
  readonly upfrontFeeMinor: bigint
  readonly maturityOn: Temporal.PlainDate
  /** Late fees and penalties charged while non-accrual: owed by the borrower, not on the balance sheet. */
  readonly suspendedFeesMinor: bigint
  readonly suspendedPenaltiesMinor: bigint
  readonly dpd: number
  readonly bucket: DelinquencyBucket
  readonly tier: Tier
  /** Provision booked for this loan (its share of 1291). */
  readonly provisionMinor: bigint
  readonly principalAccountId: string
  readonly walletAccountId: string
  /** The value date of the last rescheduling, or null: a rescheduled loan keeps the restructured tier floor. */
  readonly rescheduledOn: Temporal.PlainDate | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly version: number
}

type LoanRow = {
  id: string
  product_id: string
  enterprise_id: string
  status: LoanStatus
  currency: string
  principal_minor: bigint
  annual_rate_pct: string
  days_in_year: DaysInYear
  rounding: Rounding
  upfront_fee_minor: bigint
  schedule_spec: unknown
  disbursed_on: string
  maturity_on: string
  accrued_through_on: string
  accrued_interest_minor: bigint
  accrual_carry_minor: string
  overpayment_minor: bigint
  non_accrual: boolean
  suspended_interest_minor: bigint
  suspended_fees_minor: bigint
  suspended_penalties_minor: bigint
  written_off_minor: bigint
  recovered_minor: bigint
  dpd: number
  bucket: DelinquencyBucket
  tier: Tier
  provision_minor: bigint
  principal_account_id: string
  wallet_account_id: string
  rescheduled_on: string | null
  created_at: Date
  updated_at: Date
  version: number
}

type InstallmentRow = {
  n: number
  start_on: string
  due_on: string
  principal_due: bigint
  interest_due: bigint
  fees_due: bigint
  penalties_due: bigint
  principal_paid: bigint
  interest_paid: bigint
  fees_paid: bigint
  penalties_paid: bigint
  principal_waived: bigint
  interest_waived: bigint
  fees_waived: bigint
  penalties_waived: bigint
  late_fee_charged_on: string | null
  penalty_through_on: string | null
  penalty_carry_minor: string
}

const date = (text: string) => Temporal.PlainDate.from(text)
const dateOrNull = (text: string | null) => (text === null ? null : Temporal.PlainDate.from(text))

function toInstallment(row: InstallmentRow): InstallmentState {
  return {
    n: row.n,
    startOn: date(row.start_on),
    dueOn: date(row.due_on),
    dueMinor: { principal: row.principal_due, interest: row.interest_due, fees: row.fees_due, penalties: row.penalties_due },
    paidMinor: { principal: row.principal_paid, interest: row.interest_paid, fees: row.fees_paid, penalties: row.penalties_paid },
    waivedMinor: { principal: row.principal_waived, interest: row.interest_waived, fees: row.fees_waived, penalties: row.penalties_waived },
    lateFeeChargedOn: dateOrNull(row.late_fee_charged_on),
    penaltyThroughOn: dateOrNull(row.penalty_through_on),
    penaltyCarryMinor: new RateDecimal(row.penalty_carry_minor),
  }
}

export function toLoanRecord(row: LoanRow, installments: readonly InstallmentRow[]): LoanRecord {
  assert(isCurrency(row.currency), 'stored loan currency is known')
  assert(loanStatuses.includes(row.status), 'stored loan status is known')
  const state: LoanState = {
    status: row.status,
    currency: row.currency,
    principalMinor: row.principal_minor,
    annualRatePct: new RateDecimal(row.annual_rate_pct),
    daysInYear: row.days_in_year,
    rounding: row.rounding,
    disbursedOn: date(row.disbursed_on),
    installments: installments.map(toInstallment),
    accruedThroughOn: date(row.accrued_through_on),
    accruedInterestMinor: row.accrued_interest_minor,
    accrualCarryMinor: new RateDecimal(row.accrual_carry_minor),
    overpaymentMinor: row.overpayment_minor,
    nonAccrual: row.non_accrual,
    suspendedInterestMinor: row.suspended_interest_minor,
    writtenOffMinor: row.written_off_minor,
    recoveredMinor: row.recovered_minor,
  }
  assert(delinquencyBuckets.includes(row.bucket) && tiers.includes(row.tier), 'stored classification is known')
  return {
    id: row.id,
    productId: row.product_id,
    enterpriseId: row.enterprise_id,
    state,
    spec: specFromJson(row.schedule_spec),
    upfrontFeeMinor: row.upfront_fee_minor,
    maturityOn: date(row.maturity_on),
    suspendedFeesMinor: row.suspended_fees_minor,
    suspendedPenaltiesMinor: row.suspended_penalties_minor,
    dpd: row.dpd,
    bucket: row.bucket,
    tier: row.tier,
    provisionMinor: row.provision_minor,
    principalAccountId: row.principal_account_id,
    walletAccountId: row.wallet_account_id,
    rescheduledOn: row.rescheduled_on === null ? null : date(row.rescheduled_on),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  }
}

/** An array literal for values that need no quoting (uuids, integers, dates, plain decimals, enum words). */
function arrayLiteral(values: readonly (string | number | bigint | null)[]): string {
  return `{${values.map((value) => (value === null ? 'NULL' : String(value))).join(',')}}`
}

export async function insertLoan(trx: Tx, tenantId: string, loan: LoanRecord): Promise<void> {
  const s = loan.state
  await sql`
    insert into loans (tenant_id, id, product_id, enterprise_id, status, currency, principal_minor, annual_rate_pct, days_in_year, rounding,
      upfront_fee_minor, schedule_spec, disbursed_on, maturity_on, accrued_through_on, accrued_interest_minor, accrual_carry_minor,
      overpayment_minor, non_accrual, suspended_interest_minor, suspended_fees_minor, suspended_penalties_minor, written_off_minor,
      recovered_minor, dpd, bucket, tier, provision_minor, principal_account_id, wallet_account_id, created_at, updated_at, version)
    values (${tenantId}, ${loan.id}, ${loan.productId}, ${loan.enterpriseId}, ${s.status}, ${s.currency}, ${s.principalMinor.toString()},
      ${s.annualRatePct.toFixed()}::numeric, ${s.daysInYear}, ${s.rounding}, ${loan.upfrontFeeMinor.toString()}, ${JSON.stringify(specToJson(loan.spec))}::jsonb,
      ${s.disbursedOn.toString()}, ${loan.maturityOn.toString()}, ${s.accruedThroughOn.toString()}, ${s.accruedInterestMinor.toString()},
      ${s.accrualCarryMinor.toFixed()}::numeric, ${s.overpaymentMinor.toString()}, ${s.nonAccrual}, ${s.suspendedInterestMinor.toString()},
      ${loan.suspendedFeesMinor.toString()}, ${loan.suspendedPenaltiesMinor.toString()}, ${s.writtenOffMinor.toString()}, ${s.recoveredMinor.toString()},
      ${loan.dpd}, ${loan.bucket}, ${loan.tier}, ${loan.provisionMinor.toString()}, ${loan.principalAccountId}, ${loan.walletAccountId},
      ${loan.createdAt}, ${loan.updatedAt}, ${loan.version})`.execute(trx)
  for (const installment of s.installments) for (const c of components) assert(installment.paidMinor[c] === 0n && installment.waivedMinor[c] === 0n, 'a new loan has nothing paid')
  await insertInstallments(trx, tenantId, loan.id, s.installments)
}

/** Inserts installments as they stand (all columns), set-based. */
async function insertInstallments(trx: Tx, tenantId: string, loanId: string, i: readonly InstallmentState[]): Promise<void> {
  const column = (pick: (x: InstallmentState) => string | number | bigint | null) => arrayLiteral(i.map(pick))
  await sql`
    insert into loan_installments (tenant_id, loan_id, n, start_on, due_on, principal_due, interest_due, fees_due, penalties_due,
      principal_paid, interest_paid, fees_paid, penalties_paid, principal_waived, interest_waived, fees_waived, penalties_waived,
      late_fee_charged_on, penalty_through_on, penalty_carry_minor)
    select ${tenantId}, ${loanId}, * from unnest(${column((x) => x.n)}::int[], ${column((x) => x.startOn.toString())}::date[], ${column((x) => x.dueOn.toString())}::date[],
      ${column((x) => x.dueMinor.principal)}::bigint[], ${column((x) => x.dueMinor.interest)}::bigint[], ${column((x) => x.dueMinor.fees)}::bigint[],
      ${column((x) => x.dueMinor.penalties)}::bigint[],
      ${column((x) => x.paidMinor.principal)}::bigint[], ${column((x) => x.paidMinor.interest)}::bigint[], ${column((x) => x.paidMinor.fees)}::bigint[], ${column((x) => x.paidMinor.penalties)}::bigint[],
      ${column((x) => x.waivedMinor.principal)}::bigint[], ${column((x) => x.waivedMinor.interest)}::bigint[], ${column((x) => x.waivedMinor.fees)}::bigint[], ${column((x) => x.waivedMinor.penalties)}::bigint[],
      ${column((x) => x.lateFeeChargedOn?.toString() ?? null)}::date[], ${column((x) => x.penaltyThroughOn?.toString() ?? null)}::date[], ${column((x) => x.penaltyCarryMinor.toFixed())}::numeric[])`.execute(trx)
}

/**
 * Loads a loan with its installments (two queries). `forUpdate` locks the loan row: every state change holds
 * the lock until commit, so two changes to one loan serialize (the version check then asserts it).
 * `enterpriseId` (a borrower's scope) hides other enterprises' loans.
 */
export async function loadLoan(trx: Tx, tenantId: string, id: string, options: { forUpdate: boolean; enterpriseId?: string | null }): Promise<LoanRecord | undefined> {
  const scope = options.enterpriseId === undefined || options.enterpriseId === null ? sql`` : sql` and enterprise_id = ${options.enterpriseId}`
  const lock = options.forUpdate ? sql` for update` : sql``
  const loans = await sql<LoanRow>`select * from loans where tenant_id = ${tenantId} and id = ${id}${scope}${lock}`.execute(trx)
  const row = loans.rows[0]
  if (row === undefined) return undefined
  const installments = await sql<InstallmentRow>`select * from loan_installments where tenant_id = ${tenantId} and loan_id = ${id} order by n`.execute(trx)
  return toLoanRecord(row, installments.rows)
}

function sameComponents(a: ComponentsMinor, b: ComponentsMinor): boolean {
  return components.every((c) => a[c] === b[c])
}

function sameDate(a: Temporal.PlainDate | null, b: Temporal.PlainDate | null): boolean {
  return a === null || b === null ? a === b : a.equals(b)
}

function sameInstallment(a: InstallmentState, b: InstallmentState): boolean {
  return a.n === b.n && a.startOn.equals(b.startOn) && a.dueOn.equals(b.dueOn) && sameComponents(a.dueMinor, b.dueMinor) &&
    sameComponents(a.paidMinor, b.paidMinor) && sameComponents(a.waivedMinor, b.waivedMinor) && sameDate(a.lateFeeChargedOn, b.lateFeeChargedOn) &&
    sameDate(a.penaltyThroughOn, b.penaltyThroughOn) && a.penaltyCarryMinor.equals(b.penaltyCarryMinor)
}

/**
 * Writes a changed loan: the loan's scalars (version + 1, checked against `before.version`) and the
 * installments that differ from `before`, in one set-based UPDATE. Installments keep their numbers (a change
 * in their count — re-amortisation with fewer periods — is not supported by this step).
 */
export async function saveLoan(trx: Tx, tenantId: string, before: LoanRecord, after: LoanRecord, now: Date): Promise<LoanRecord> {
  assert(before.id === after.id, 'the same loan')
  const s = after.state
  // A prepayment with reduce_term or a rescheduling may change the count: only unpaid future installments are
  // dropped (the servicing transaction keeps the schedule that replaced them); new ones are inserted.
  const common = Math.min(s.installments.length, before.state.installments.length)
  const dropped = before.state.installments.slice(common)
  const added = s.installments.slice(common)
  for (const installment of dropped) {
    for (const c of components) assert(installment.paidMinor[c] === 0n && installment.waivedMinor[c] === 0n, () => `installment ${installment.n} dropped unpaid`)
  }
  const last = s.installments.at(-1)
  assert(last !== undefined, 'a loan has installments')
  const updated = await sql`
    update loans set status = ${s.status}, accrued_through_on = ${s.accruedThroughOn.toString()}, accrued_interest_minor = ${s.accruedInterestMinor.toString()},
      accrual_carry_minor = ${s.accrualCarryMinor.toFixed()}::numeric, overpayment_minor = ${s.overpaymentMinor.toString()}, non_accrual = ${s.nonAccrual},
      suspended_interest_minor = ${s.suspendedInterestMinor.toString()}, suspended_fees_minor = ${after.suspendedFeesMinor.toString()},
      suspended_penalties_minor = ${after.suspendedPenaltiesMinor.toString()}, written_off_minor = ${s.writtenOffMinor.toString()},
      recovered_minor = ${s.recoveredMinor.toString()}, dpd = ${after.dpd}, bucket = ${after.bucket}, tier = ${after.tier},
      provision_minor = ${after.provisionMinor.toString()}, maturity_on = ${last.dueOn.toString()}, annual_rate_pct = ${s.annualRatePct.toFixed()}::numeric,
      schedule_spec = ${JSON.stringify(specToJson(after.spec))}::jsonb, rescheduled_on = ${after.rescheduledOn?.toString() ?? null}, updated_at = ${now}, version = version + 1
    where tenant_id = ${tenantId} and id = ${after.id} and version = ${before.version}`.execute(trx)
  assert(updated.numAffectedRows === 1n, () => `loan ${after.id} changed under us (version ${before.version})`)
  if (dropped.length > 0) {
    const deleted = await sql`delete from loan_installments where tenant_id = ${tenantId} and loan_id = ${after.id} and n > ${common}`.execute(trx)
    assert(deleted.numAffectedRows === BigInt(dropped.length), 'every dropped installment is deleted')
  }
  if (added.length > 0) await insertInstallments(trx, tenantId, after.id, added)
  const changed = s.installments.slice(0, common).filter((installment, index) => {
    const old = before.state.installments[index]
    assert(old !== undefined && old.n === installment.n, 'installments keep their numbers')
    return !sameInstallment(old, installment)
  })
  if (changed.length > 0) {
    const column = (pick: (x: InstallmentState) => string | number | bigint | null) => arrayLiteral(changed.map(pick))
    const result = await sql`
      update loan_installments i set start_on = v.start_on, due_on = v.due_on,
        principal_due = v.pd, interest_due = v.itd, fees_due = v.fd, penalties_due = v.ped,
        principal_paid = v.pp, interest_paid = v.ip, fees_paid = v.fp, penalties_paid = v.pep,
        principal_waived = v.pw, interest_waived = v.iw, fees_waived = v.fw, penalties_waived = v.pew,
        late_fee_charged_on = v.lf, penalty_through_on = v.pt, penalty_carry_minor = v.pc
      from unnest(${column((x) => x.n)}::int[], ${column((x) => x.startOn.toString())}::date[], ${column((x) => x.dueOn.toString())}::date[],
        ${column((x) => x.dueMinor.principal)}::bigint[], ${column((x) => x.dueMinor.interest)}::bigint[], ${column((x) => x.dueMinor.fees)}::bigint[], ${column((x) => x.dueMinor.penalties)}::bigint[],
        ${column((x) => x.paidMinor.principal)}::bigint[], ${column((x) => x.paidMinor.interest)}::bigint[], ${column((x) => x.paidMinor.fees)}::bigint[], ${column((x) => x.paidMinor.penalties)}::bigint[],
        ${column((x) => x.waivedMinor.principal)}::bigint[], ${column((x) => x.waivedMinor.interest)}::bigint[], ${column((x) => x.waivedMinor.fees)}::bigint[], ${column((x) => x.waivedMinor.penalties)}::bigint[],
        ${column((x) => x.lateFeeChargedOn?.toString() ?? null)}::date[], ${column((x) => x.penaltyThroughOn?.toString() ?? null)}::date[], ${column((x) => x.penaltyCarryMinor.toFixed())}::numeric[])
        as v(n, start_on, due_on, pd, itd, fd, ped, pp, ip, fp, pep, pw, iw, fw, pew, lf, pt, pc)
      where i.tenant_id = ${tenantId} and i.loan_id = ${after.id} and i.n = v.n`.execute(trx)
    assert(result.numAffectedRows === BigInt(changed.length), 'every changed installment is written')
  }
  return { ...after, version: before.version + 1, updatedAt: now }
}

export type LoanListItem = {
  readonly id: string
  readonly productId: string
  readonly enterpriseId: string
  readonly status: LoanStatus
  readonly currency: Currency
  readonly principalMinor: bigint
  readonly annualRatePct: string
  readonly disbursedOn: string
  readonly maturityOn: string
  readonly dpd: number
  readonly tier: Tier
  readonly principalOutstandingMinor: bigint
  readonly createdAt: Date
}

/** Loans by id after a cursor, optionally of one enterprise and / or one status (one query). */
export async function listLoans(trx: Tx, tenantId: string, filter: { enterpriseId: string | null; status: LoanStatus | null; after: string | null; limit: number }): Promise<LoanListItem[]> {
  const after = filter.after ?? '00000000-0000-0000-0000-000000000000'
  const enterprise = filter.enterpriseId === null ? sql`` : sql` and l.enterprise_id = ${filter.enterpriseId}`
  const status = filter.status === null ? sql`` : sql` and l.status = ${filter.status}`
  const rows = await sql<{ id: string; product_id: string; enterprise_id: string; status: LoanStatus; currency: string; principal_minor: bigint; annual_rate_pct: string; disbursed_on: string; maturity_on: string; dpd: number; tier: Tier; outstanding: bigint; created_at: Date }>`
    select l.id, l.product_id, l.enterprise_id, l.status, l.currency, l.principal_minor, l.annual_rate_pct, l.disbursed_on, l.maturity_on, l.dpd, l.tier, l.created_at,
      (select coalesce(sum(i.principal_due - i.principal_paid - i.principal_waived), 0) from loan_installments i where i.tenant_id = l.tenant_id and i.loan_id = l.id)::bigint as outstanding
    from loans l where l.tenant_id = ${tenantId} and l.id > ${after}${enterprise}${status} order by l.id limit ${filter.limit}`.execute(trx)
  return rows.rows.map((row) => {
    assert(isCurrency(row.currency), 'stored loan currency is known')
    return {
      id: row.id, productId: row.product_id, enterpriseId: row.enterprise_id, status: row.status, currency: row.currency, principalMinor: row.principal_minor,
      annualRatePct: row.annual_rate_pct, disbursedOn: row.disbursed_on, maturityOn: row.maturity_on, dpd: row.dpd, tier: row.tier,
      principalOutstandingMinor: row.outstanding, createdAt: row.created_at,
    }
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Servicing events
// ---------------------------------------------------------------------------------------------------------------

export const loanTransactionKinds = ['disbursement', 'repayment', 'prepayment', 'reschedule', 'waiver', 'write_off', 'recovery', 'refund', 'close_of_business'] as const
export type LoanTransactionKind = (typeof loanTransactionKinds)[number]

export type LoanTransaction = {
  readonly id: string
  readonly loanId: string
  readonly kind: LoanTransactionKind
  readonly valueDate: string
  readonly amountMinor: bigint
  readonly currency: Currency
  /** What the event did, per component and installment (JSON-safe: amounts as decimal strings). */
  readonly allocation: Record<string, unknown>
  readonly transferIds: readonly string[]
  readonly createdAt: Date
}

export async function insertLoanTransaction(trx: Tx, tenantId: string, t: LoanTransaction): Promise<void> {
  await sql`
    insert into loan_transactions (tenant_id, id, loan_id, kind, value_date, amount_minor, currency, allocation, transfer_ids, created_at)
    values (${tenantId}, ${t.id}, ${t.loanId}, ${t.kind}, ${t.valueDate}, ${t.amountMinor.toString()}, ${t.currency}, ${JSON.stringify(t.allocation)}::jsonb,
      ${arrayLiteral(t.transferIds)}::uuid[], ${t.createdAt})`.execute(trx)
}

type TransactionRow = { id: string; loan_id: string; kind: LoanTransactionKind; value_date: string; amount_minor: bigint; currency: string; allocation: Record<string, unknown>; transfer_ids: string[]; created_at: Date }

export function toLoanTransaction(row: TransactionRow): LoanTransaction {
  assert(isCurrency(row.currency), 'stored currency is known')
  return { id: row.id, loanId: row.loan_id, kind: row.kind, valueDate: row.value_date, amountMinor: row.amount_minor, currency: row.currency, allocation: row.allocation, transferIds: row.transfer_ids, createdAt: row.created_at }
}

/** The loan's events, oldest first (at most `limit`, the newest ones; with `before`, the newest older than that event). */
export async function listLoanTransactions(trx: Tx, tenantId: string, loanId: string, limit: number, before: string | null = null): Promise<LoanTransaction[]> {
  const older = before === null ? sql`` : sql` and id < ${before}`
  const rows = await sql<TransactionRow>`
    select * from (select * from loan_transactions where tenant_id = ${tenantId} and loan_id = ${loanId}${older} order by id desc limit ${limit}) t order by id`.execute(trx)
  return rows.rows.map(toLoanTransaction)
}

// ---------------------------------------------------------------------------------------------------------------
// General-ledger accounts
// ---------------------------------------------------------------------------------------------------------------

/** Tenant-level general-ledger accounts servicing posts to (per currency). */
export const tenantGlCodes = [1001, 1291, 2401, 4001, 4002, 4003, 4004, 5001] as const
/** Receivables aggregated per product (DOMAIN.md, ledger granularity). */
export const productGlCodes = [1202, 1203, 1204] as const
export type GlCode = (typeof tenantGlCodes)[number] | (typeof productGlCodes)[number]

/** The mapped accounts of a currency (tenant level) and a product; missing ones are absent. */
export async function findGlAccounts(trx: Tx, tenantId: string, currency: string, productId: string): Promise<Map<GlCode, string>> {
  const rows = await sql<{ code: GlCode; account_id: string }>`
    select code, account_id from ledger_gl_accounts where tenant_id = ${tenantId} and currency = ${currency} and (product_id is null or product_id = ${productId})`.execute(trx)
  return new Map(rows.rows.map((row) => [row.code, row.account_id]))
}

/**
 * Claims the mapping rows for accounts to create; returns the codes this transaction won (the caller creates
 * their ledger accounts before commit: the foreign key is deferred). A concurrent claim of the same code
 * waits on the unique index and, once the winner commits, is skipped.
 */
export async function claimGlAccounts(trx: Tx, tenantId: string, currency: string, claims: readonly { code: GlCode; productId: string | null; accountId: string }[]): Promise<Set<GlCode>> {
  if (claims.length === 0) return new Set()
  const rows = await sql<{ code: GlCode }>`
    insert into ledger_gl_accounts (tenant_id, currency, code, product_id, account_id)
    select ${tenantId}, ${currency}, * from unnest(${arrayLiteral(claims.map((c) => c.code))}::int[], ${arrayLiteral(claims.map((c) => c.productId))}::uuid[], ${arrayLiteral(claims.map((c) => c.accountId))}::uuid[])
    on conflict do nothing returning code`.execute(trx)
  return new Set(rows.rows.map((row) => row.code))
}

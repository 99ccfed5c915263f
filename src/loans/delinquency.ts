/**
 * @module loans/delinquency
 * Days past due, delinquency buckets, the five-tier classification (五级分类) and the provision it requires.
 * Pure: everything is "as of" a business date passed in.
 *
 * Rules (defaults per DOMAIN.md, all configurable):
 * - DPD as of D = days from the due date of the oldest installment still owing principal or interest (more
 *   than the tolerance) to D; 0 when nothing is past due. On its due date an installment is due, not overdue.
 * - Buckets: current (0), 1-30, 31-60, 61-90, 91+.
 * - Tier by DPD: ≥ 1 special mention, ≥ 91 substandard, ≥ 271 doubtful, ≥ 361 loss. Judgement (restructured,
 *   fraud) can make it worse, never better; a written-off loan is loss.
 * - Provision = outstanding principal × the tier's rate, rounded with a named mode (default `up`: never
 *   under-provide). NPL = substandard, doubtful, loss.
 */
import { assert, assertNever } from '../core/assert.ts'
import { RateDecimal, interestMinor, type Rounding } from '../core/rate.ts'
import type { Temporal } from 'temporal-polyfill'
import { compareDates, daysFrom, measureInstallmentOutstanding, type InstallmentState, type LoanState } from './loan-state.ts'

export const delinquencyBuckets = ['current', '1-30', '31-60', '61-90', '91+'] as const
export type DelinquencyBucket = (typeof delinquencyBuckets)[number]

/** Best to worst. */
export const tiers = ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'] as const
/** 正常 normal, 关注 special_mention, 次级 substandard, 可疑 doubtful, 损失 loss. */
export type Tier = (typeof tiers)[number]

/** The first DPD of each tier worse than normal. Must increase strictly. */
export type TierThresholds = {
  readonly specialMentionDpdMin: number
  readonly substandardDpdMin: number
  readonly doubtfulDpdMin: number
  readonly lossDpdMin: number
}
export const defaultTierThresholds: TierThresholds = {
  specialMentionDpdMin: 1, substandardDpdMin: 91, doubtfulDpdMin: 271, lossDpdMin: 361,
}

/** Provision rates in percent of outstanding principal. */
export type ProvisionRatesPct = Readonly<Record<Tier, RateDecimal>>
export const defaultProvisionRatesPct: ProvisionRatesPct = {
  normal: new RateDecimal('1'),
  special_mention: new RateDecimal('2'),
  substandard: new RateDecimal('25'),
  doubtful: new RateDecimal('50'),
  loss: new RateDecimal('100'),
}

export type DelinquencyRules = {
  readonly thresholds: TierThresholds
  readonly provisionRatesPct: ProvisionRatesPct
  readonly provisionRounding: Rounding
  /** An installment owing no more than this (principal + interest) does not count as unpaid for DPD. */
  readonly toleranceMinor: bigint
  /** Tier floor for a restructured loan (configurable; the 2023 rules require at least special mention). */
  readonly restructuredTierMin: Tier
}
export const defaultDelinquencyRules: DelinquencyRules = {
  thresholds: defaultTierThresholds,
  provisionRatesPct: defaultProvisionRatesPct,
  provisionRounding: 'up',
  toleranceMinor: 0n,
  restructuredTierMin: 'special_mention',
}

/** Days past due of one installment as of `on` (0 when paid within tolerance or not yet past due). */
export function measureInstallmentDpd(installment: InstallmentState, on: Temporal.PlainDate, toleranceMinor = 0n): number {
  const owed = measureInstallmentOutstanding(installment)
  if (owed.principal + owed.interest <= toleranceMinor) return 0
  const days = daysFrom(installment.dueOn, on)
  return days > 0 ? days : 0
}

/**
 * Days past due of the loan as of `on`: the age of the oldest installment still owing principal or interest.
 * @example measureDpd(loan, Temporal.PlainDate.from('2024-03-16')) // 1 when the 15 March installment is unpaid
 */
export function measureDpd(state: LoanState, on: Temporal.PlainDate, toleranceMinor = 0n): number {
  for (const installment of state.installments) {
    if (compareDates(installment.dueOn, on) >= 0) return 0
    const dpd = measureInstallmentDpd(installment, on, toleranceMinor)
    if (dpd > 0) return dpd
  }
  return 0
}

/** @example bucketOfDpd(45) // '31-60' */
export function bucketOfDpd(dpd: number): DelinquencyBucket {
  assert(Number.isSafeInteger(dpd) && dpd >= 0, 'DPD is a non-negative whole number')
  if (dpd === 0) return 'current'
  if (dpd <= 30) return '1-30'
  if (dpd <= 60) return '31-60'
  if (dpd <= 90) return '61-90'
  return '91+'
}

/** The tier DPD alone allows. */
export function tierOfDpd(dpd: number, thresholds: TierThresholds = defaultTierThresholds): Tier {
  assertThresholds(thresholds)
  assert(Number.isSafeInteger(dpd) && dpd >= 0, 'DPD is a non-negative whole number')
  if (dpd >= thresholds.lossDpdMin) return 'loss'
  if (dpd >= thresholds.doubtfulDpdMin) return 'doubtful'
  if (dpd >= thresholds.substandardDpdMin) return 'substandard'
  if (dpd >= thresholds.specialMentionDpdMin) return 'special_mention'
  return 'normal'
}

function assertThresholds(t: TierThresholds): void {
  assert(t.specialMentionDpdMin >= 1, 'special mention starts at 1 DPD or later')
  assert(t.specialMentionDpdMin < t.substandardDpdMin, 'thresholds increase: special mention < substandard')
  assert(t.substandardDpdMin < t.doubtfulDpdMin, 'thresholds increase: substandard < doubtful')
  assert(t.doubtfulDpdMin < t.lossDpdMin, 'thresholds increase: doubtful < loss')
}

/** The worse of two tiers. */
export function worseTier(a: Tier, b: Tier): Tier {
  return tiers.indexOf(a) >= tiers.indexOf(b) ? a : b
}

/** True for non-performing tiers (substandard, doubtful, loss). */
export function isNonPerforming(tier: Tier): boolean {
  switch (tier) {
    case 'normal':
    case 'special_mention':
      return false
    case 'substandard':
    case 'doubtful':
    case 'loss':
      return true
    default:
      return assertNever(tier)
  }
}

/**
 * Final tier: the DPD tier, made worse (never better) by judgement, by restructuring, and loss once written off.
 * @example classifyTier({ dpd: 10, judgement: 'doubtful', status: 'active' }) // 'doubtful'
 * @example classifyTier({ dpd: 200, judgement: 'normal', status: 'active' })  // 'substandard' (judgement cannot improve it)
 */
export function classifyTier(
  input: { readonly dpd: number; readonly judgement: Tier | null; readonly status: LoanState['status'] },
  rules: DelinquencyRules = defaultDelinquencyRules,
): Tier {
  let tier = tierOfDpd(input.dpd, rules.thresholds)
  if (input.judgement !== null) tier = worseTier(tier, input.judgement)
  if (input.status === 'restructured') tier = worseTier(tier, rules.restructuredTierMin)
  if (input.status === 'written_off') tier = 'loss'
  return tier
}

/** Required provision on outstanding principal for a tier: principal × rate ÷ 100, rounded with the named mode. */
export function measureProvision(principalOutstandingMinor: bigint, tier: Tier, rules: DelinquencyRules = defaultDelinquencyRules): bigint {
  assert(principalOutstandingMinor >= 0n, 'outstanding principal is not negative')
  const ratePct = rules.provisionRatesPct[tier]
  assert(ratePct.greaterThanOrEqualTo(0) && ratePct.lessThanOrEqualTo(100), 'a provision rate is between 0% and 100%')
  const provision = interestMinor(principalOutstandingMinor, ratePct.div(100), rules.provisionRounding)
  assert(provision <= principalOutstandingMinor, 'provision never exceeds the principal')
  return provision
}

export type Delinquency = {
  readonly dpd: number
  readonly bucket: DelinquencyBucket
  readonly tier: Tier
  readonly nonPerforming: boolean
  readonly principalOutstandingMinor: bigint
  readonly provisionMinor: bigint
}

/**
 * Everything close of business sets on a loan as of `on`. For a written-off loan the exposure is the written-off
 * principal (provisioned 100% at the default loss rate) until the write-off posting removes it from the books.
 */
export function classifyLoan(
  state: LoanState, on: Temporal.PlainDate, judgement: Tier | null = null, rules: DelinquencyRules = defaultDelinquencyRules,
): Delinquency {
  const dpd = measureDpd(state, on, rules.toleranceMinor)
  const tier = classifyTier({ dpd, judgement, status: state.status }, rules)
  const principalOutstandingMinor = state.status === 'written_off'
    ? state.writtenOffMinor
    : state.installments.reduce((sum, i) => sum + measureInstallmentOutstanding(i).principal, 0n)
  return {
    dpd, bucket: bucketOfDpd(dpd), tier, nonPerforming: isNonPerforming(tier), principalOutstandingMinor,
    provisionMinor: measureProvision(principalOutstandingMinor, tier, rules),
  }
}

export type PortfolioRatios = {
  readonly principalOutstandingMinor: bigint
  readonly nonPerformingMinor: bigint
  /** NPL ratio = NPL principal ÷ total principal (0 for an empty book). */
  readonly nplRatio: RateDecimal
  /** PARn = principal of loans with DPD > n ÷ total principal. */
  readonly parRatio: RateDecimal
}

/** NPL ratio and PAR(n) over loans already classified. */
export function measurePortfolio(loans: readonly Delinquency[], parDays = 30): PortfolioRatios {
  let total = 0n
  let npl = 0n
  let par = 0n
  for (const loan of loans) {
    total += loan.principalOutstandingMinor
    if (loan.nonPerforming) npl += loan.principalOutstandingMinor
    if (loan.dpd > parDays) par += loan.principalOutstandingMinor
  }
  const ratio = (part: bigint) => total === 0n ? new RateDecimal(0) : new RateDecimal(part.toString()).div(total.toString())
  return { principalOutstandingMinor: total, nonPerformingMinor: npl, nplRatio: ratio(npl), parRatio: ratio(par) }
}

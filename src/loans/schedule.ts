/**
 * @module loans/schedule
 * The loan schedule engine: `buildSchedule(spec)` turns a validated `ScheduleSpec` into installments. Pure: no
 * I/O, no clock. Money is bigint minor units, rates are `RateDecimal`, dates are `Temporal.PlainDate`.
 *
 * Three conventions (`spec.compat`), documented in docs/schedules.md:
 * - `fineract-cumulative` follows Apache Fineract's older cumulative generator (LoanApplicationTerms +
 *   Cumulative*LoanScheduleGenerator): EMI by the PMT formula on the nominal periodic rate, interest rounded per
 *   period, 12-significant-digit intermediate arithmetic (Fineract's MathContext(12)), daily interest on 365
 *   days even in leap years.
 * - `fineract-progressive` follows Fineract's ProgressiveEMICalculator: rate factors per period (scale 12),
 *   EMI = P·Π(1+rᵢ)/fn, actual/actual years split at the year end, 12-significant-digit arithmetic.
 * - `puhui` (the default) uses the progressive algorithm with exact (34-digit) arithmetic and our own day
 *   counts: periods split at 1 January, same-as-repayment pro-rated for broken periods.
 *
 * Invariants asserted on every schedule: principal parts sum exactly to the principal, the balance ends at 0,
 * no part is negative, and each row's total is the sum of its parts.
 */
import { Temporal } from 'temporal-polyfill'
import { daysBetweenDates, daysInYearOf, epochDay, epochDayOf } from '../core/calendar.ts'
import { assert, assertNever } from '../core/assert.ts'
import type { Currency } from '../core/money.ts'
import { RateDecimal, decimalRounding, type Rounding } from '../core/rate.ts'
import type { ScheduleSpec } from './schedule-spec.ts'

/** Fineract's MoneyHelper MathContext precision: every intermediate BigDecimal operation keeps 12 digits. */
const fineractPrecisionDigits = 12
/** Significant digits kept when emulating a Java `double` ratio (BigDecimal.valueOf(double)). */
const javaDoubleDigits = 17

export type ScheduleRow = {
  readonly n: number
  readonly startOn: Temporal.PlainDate
  readonly dueOn: Temporal.PlainDate
  readonly principalMinor: bigint
  readonly interestMinor: bigint
  readonly feesMinor: bigint
  readonly totalMinor: bigint
  /** Principal outstanding after this installment. */
  readonly balanceMinor: bigint
}

export type ScheduleTotals = {
  readonly principalMinor: bigint
  readonly interestMinor: bigint
  readonly feesMinor: bigint
  readonly totalMinor: bigint
}

export type Schedule = {
  readonly currency: Currency
  readonly principalMinor: bigint
  readonly rows: readonly ScheduleRow[]
  readonly totals: ScheduleTotals
}

/** One repayment period: interest accrues over [startOn, dueOn). */
export type Period = { readonly n: number; readonly startOn: Temporal.PlainDate; readonly dueOn: Temporal.PlainDate }

type Parts = { principal: bigint; interest: bigint }

/** Grace settings after folding `interest_only` and `bullet` into them. */
type Plan = {
  readonly principalGrace: number
  readonly interestPaymentGrace: number
  readonly interestFree: number
  readonly amortization: 'equal_installments' | 'equal_principal'
}

/** Arithmetic context: `sig` significant digits after each operation (null = exact at RateDecimal precision). */
type Ctx = { readonly sig: number | null; readonly rounding: Rounding }

/** A slice of a period with one balance: before the disbursement (`funded` false) or after it. */
type Slice = { readonly from: Temporal.PlainDate; readonly to: Temporal.PlainDate; readonly funded: boolean }

/**
 * Builds the installment schedule for a validated spec.
 * @example buildSchedule(spec).rows[0] // { n: 1, dueOn: 2022-12-01, principalMinor: 25491n, interestMinor: 5000n, … }
 */
export function buildSchedule(spec: ScheduleSpec): Schedule {
  const periods = buildPeriods(spec)
  assert(periods.length === spec.installments, 'one period per installment')
  const plan = planAmortization(spec)
  const parts = computeParts(spec, periods, plan)
  return assembleSchedule(spec, periods, parts)
}

function computeParts(spec: ScheduleSpec, periods: readonly Period[], plan: Plan): Parts[] {
  switch (spec.compat) {
    case 'fineract-cumulative':
      return spec.interestMethod === 'flat'
        ? computeCumulativeFlat(spec, periods, plan)
        : computeCumulativeDeclining(spec, periods, plan)
    case 'fineract-progressive':
    case 'puhui':
      return spec.interestMethod === 'flat'
        ? computeRateFactorFlat(spec, periods, plan)
        : computeRateFactorDeclining(spec, periods, plan)
    default:
      return assertNever(spec.compat)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dates and periods
// ---------------------------------------------------------------------------------------------------------------

/** Due dates: explicit `repaymentDates`, else every N units from `firstRepaymentOn` or from the disbursement. */
export function buildPeriods(spec: ScheduleSpec): Period[] {
  const dueDates: Temporal.PlainDate[] = []
  if (spec.repaymentDates !== null) {
    dueDates.push(...spec.repaymentDates)
  } else {
    for (let k = 0; k < spec.installments; k++) {
      dueDates.push(
        spec.firstRepaymentOn === null
          ? addUnits(spec.disbursedOn, spec.repaymentUnit, (k + 1) * spec.repaymentEvery)
          : addUnits(spec.firstRepaymentOn, spec.repaymentUnit, k * spec.repaymentEvery),
      )
    }
  }
  let startOn = spec.periodStartOn ?? spec.disbursedOn
  return dueDates.map((dueOn, index) => {
    assert(Temporal.PlainDate.compare(startOn, dueOn) < 0, 'periods have positive length')
    const period = { n: index + 1, startOn, dueOn }
    startOn = dueOn
    return period
  })
}

function addUnits(date: Temporal.PlainDate, unit: ScheduleSpec['repaymentUnit'], count: number): Temporal.PlainDate {
  switch (unit) {
    case 'days':
      return date.add({ days: count })
    case 'weeks':
      return date.add({ weeks: count })
    case 'months':
      return date.add({ months: count }) // constrains 31 Jan + 1 month to 28/29 Feb, like Java plusMonths
    default:
      return assertNever(unit)
  }
}

function daysBetween(from: Temporal.PlainDate, to: Temporal.PlainDate): number {
  return daysBetweenDates(from, to)
}

/** Whole units from `from` to `to` (Java ChronoUnit.between semantics: a partial unit does not count). */
function unitsBetween(from: Temporal.PlainDate, to: Temporal.PlainDate, unit: ScheduleSpec['repaymentUnit']): number {
  switch (unit) {
    case 'days':
      return daysBetween(from, to)
    case 'weeks':
      return Math.trunc(daysBetween(from, to) / 7)
    case 'months': {
      const difference = from.until(to, { largestUnit: 'months' })
      return difference.months
    }
    default:
      return assertNever(unit)
  }
}

/** The slices of a period: the first period is split at the disbursement when it starts earlier. */
function slicesOf(spec: ScheduleSpec, period: Period): Slice[] {
  if (period.n === 1 && Temporal.PlainDate.compare(period.startOn, spec.disbursedOn) < 0) {
    return [
      { from: period.startOn, to: spec.disbursedOn, funded: false },
      { from: spec.disbursedOn, to: period.dueOn, funded: true },
    ]
  }
  return [{ from: period.startOn, to: period.dueOn, funded: true }]
}

// ---------------------------------------------------------------------------------------------------------------
// Decimal helpers (Java MathContext emulation)
// ---------------------------------------------------------------------------------------------------------------

function dec(value: bigint | number | string): RateDecimal {
  return new RateDecimal(typeof value === 'bigint' ? value.toString() : value)
}

function fit(x: RateDecimal, ctx: Ctx): RateDecimal {
  return ctx.sig === null ? x : x.toSignificantDigits(ctx.sig, decimalRounding[ctx.rounding])
}

function mul(a: RateDecimal, b: RateDecimal, ctx: Ctx): RateDecimal {
  return fit(a.times(b), ctx)
}

function div(a: RateDecimal, b: RateDecimal, ctx: Ctx): RateDecimal {
  assert(!b.isZero(), 'division by zero')
  return fit(a.div(b), ctx)
}

function add(a: RateDecimal, b: RateDecimal, ctx: Ctx): RateDecimal {
  return fit(a.plus(b), ctx)
}

/** Rounds a decimal count of minor units to a whole minor unit with the given mode. */
function roundMinor(x: RateDecimal, rounding: Rounding): bigint {
  const text = x.toDecimalPlaces(0, decimalRounding[rounding]).toString()
  assert(/^-?\d+$/.test(text), () => `minor units must print as an integer: ${text}`)
  return BigInt(text)
}

/** Rounds to a multiple of `multipleMinor` (Fineract Money.roundToMultiplesOf: divide to scale 0, multiply). */
function roundToMultiple(x: RateDecimal, multipleMinor: bigint, rounding: Rounding): bigint {
  assert(multipleMinor > 0n, 'multiple must be positive')
  return roundMinor(x.div(dec(multipleMinor)), rounding) * multipleMinor
}

function sumMinor(values: readonly bigint[]): bigint {
  return values.reduce((total, value) => total + value, 0n)
}

function contextFor(spec: ScheduleSpec): Ctx {
  return { sig: spec.compat === 'puhui' ? null : fineractPrecisionDigits, rounding: spec.rounding }
}

const fixedDaysInYear = { '360': 360, '364': 364, '365': 365 } as const

// ---------------------------------------------------------------------------------------------------------------
// Amortization plan (grace; interest_only and bullet expressed as grace)
// ---------------------------------------------------------------------------------------------------------------

function planAmortization(spec: ScheduleSpec): Plan {
  const allButLast = spec.installments - 1
  const base = {
    principalGrace: spec.graceOnPrincipalPeriods,
    interestPaymentGrace: spec.graceOnInterestPaymentPeriods,
    interestFree: spec.interestFreePeriods,
  }
  switch (spec.amortization) {
    case 'equal_installments':
    case 'equal_principal':
      return { ...base, amortization: spec.amortization }
    case 'interest_only':
      return { ...base, principalGrace: allButLast, amortization: 'equal_installments' }
    case 'bullet':
      return { ...base, principalGrace: allButLast, interestPaymentGrace: allButLast, amortization: 'equal_installments' }
    default:
      return assertNever(spec.amortization)
  }
}

/** Principal per installment after the principal-grace periods, rounded like Fineract's Money.dividedBy. */
function equalPrincipalMinor(spec: ScheduleSpec, plan: Plan, ctx: Ctx): bigint {
  const paying = spec.installments - plan.principalGrace
  assert(paying >= 1, 'at least one installment repays principal')
  return roundMinor(div(dec(spec.principalMinor), dec(paying), ctx), spec.rounding)
}

/** Caps a period's principal so cumulative principal never exceeds the loan, and makes the last one absorb the rest. */
function settlePrincipal(principal: bigint, balance: bigint, isLast: boolean): bigint {
  const nonNegative = principal < 0n ? 0n : principal
  if (isLast) return balance
  return nonNegative > balance ? balance : nonNegative
}

// ---------------------------------------------------------------------------------------------------------------
// fineract-cumulative
// ---------------------------------------------------------------------------------------------------------------

/** LoanApplicationTerms.calculatePeriodsInOneYear with DefaultPaymentPeriodsInOneYearCalculator. */
function cumulativePeriodsPerYear(spec: ScheduleSpec): number {
  if (spec.interestPeriod === 'daily') return spec.daysInYear === 'actual' ? 365 : fixedDaysInYear[spec.daysInYear]
  if (spec.repaymentUnit === 'days' && spec.daysInYear !== 'actual') return fixedDaysInYear[spec.daysInYear]
  return { days: 365, weeks: 52, months: 12 }[spec.repaymentUnit]
}

/** LoanApplicationTerms.calculatePeriodsBetweenDates for months: whole months plus a day ratio (a Java double). */
function cumulativeMonthsBetween(from: Temporal.PlainDate, to: Temporal.PlainDate): RateDecimal {
  const months = unitsBetween(from, to, 'months')
  const afterMonths = from.add({ months })
  const nextMonth = from.add({ months: months + 1 })
  const ratio = dec(daysBetween(afterMonths, to)).div(daysBetween(afterMonths, nextMonth)).toSignificantDigits(javaDoubleDigits)
  return dec(months).plus(ratio)
}

/** LoanApplicationTerms.periodicInterestRate: the fraction of the balance charged for one period. */
function cumulativePeriodRate(spec: ScheduleSpec, ctx: Ctx, period: Period | 'pmt'): RateDecimal {
  const perYear = dec(cumulativePeriodsPerYear(spec))
  const perPeriod = div(div(spec.annualRatePct, perYear, ctx), dec(100), ctx)
  if (spec.interestPeriod === 'same_as_repayment') return perPeriod.times(spec.repaymentEvery) // exact, as in Java
  let days: RateDecimal
  if (period === 'pmt') {
    // pmtForInstallment: 30-day months; day and week periods measured from the 1st of the disbursement month.
    const first = spec.disbursedOn.with({ day: 1 })
    days = spec.repaymentUnit === 'months'
      ? mul(dec(spec.repaymentEvery), dec(30), ctx)
      : dec(daysBetween(first, addUnits(first, spec.repaymentUnit, spec.repaymentEvery)))
  } else if (spec.repaymentUnit === 'months' && spec.daysInMonth === '30') {
    days = mul(cumulativeMonthsBetween(period.startOn, period.dueOn), dec(30), ctx)
  } else {
    days = dec(daysBetween(period.startOn, period.dueOn))
  }
  return mul(perPeriod, days, ctx)
}

/** FinanicalFunctions.pmt on the remaining (non-grace) periods; then rounded to cents or to the multiple. */
function cumulativeEmiMinor(spec: ScheduleSpec, plan: Plan, ctx: Ctx): bigint {
  const rate = cumulativePeriodRate(spec, ctx, 'pmt')
  const count = spec.installments - plan.principalGrace
  const principal = dec(spec.principalMinor)
  let payment: RateDecimal
  if (rate.isZero()) {
    payment = principal.div(count)
  } else {
    const growth = rate.plus(1).pow(count)
    payment = principal.times(rate).times(growth).div(growth.minus(1))
  }
  return spec.installmentMultipleOfMinor === null
    ? roundMinor(payment, spec.rounding)
    : roundToMultiple(payment, spec.installmentMultipleOfMinor, spec.rounding)
}

/** CumulativeDecliningBalanceInterestLoanScheduleGenerator + LoanApplicationTerms grace handling. */
function computeCumulativeDeclining(spec: ScheduleSpec, periods: readonly Period[], plan: Plan): Parts[] {
  const ctx = contextFor(spec)
  const emi = plan.amortization === 'equal_installments' ? cumulativeEmiMinor(spec, plan, ctx) : null
  const fixedPrincipal = plan.amortization === 'equal_principal' ? equalPrincipalMinor(spec, plan, ctx) : null
  const parts: Parts[] = []
  let balance = spec.principalMinor
  let deferred = 0n
  for (const period of periods) {
    const rate = cumulativePeriodRate(spec, ctx, period)
    const accrued = roundMinor(mul(dec(balance), rate, ctx), spec.rounding) // Money.multiplyRetainScale
    const free = period.n <= plan.interestFree
    const inPaymentGrace = period.n <= plan.interestPaymentGrace
    let interest = 0n
    let own = 0n
    if (!free && !inPaymentGrace && accrued > 0n) {
      interest = deferred + accrued
      own = accrued
      deferred = 0n
    } else if (!free) {
      deferred += accrued
    }
    const isLast = period.n === periods.length
    let principal = period.n <= plan.principalGrace ? 0n : emi !== null ? emi - own : (fixedPrincipal ?? 0n)
    principal = settlePrincipal(principal, balance, isLast)
    if (isLast) {
      interest += deferred
      deferred = 0n
    }
    balance -= principal
    parts.push({ principal, interest })
    if (balance === 0n) break
  }
  const last = parts[parts.length - 1]
  assert(last !== undefined, 'a schedule has at least one installment')
  last.interest += deferred
  return parts
}

/** Total flat interest for the term (LoanApplicationTerms.calculateTotalFlatInterestDueWithoutGrace). */
function cumulativeFlatInterestMinor(spec: ScheduleSpec, periods: readonly Period[], ctx: Ctx): bigint {
  const perYear = dec(cumulativePeriodsPerYear(spec))
  const lastPeriod = periods[periods.length - 1]
  assert(lastPeriod !== undefined, 'a schedule has at least one installment')
  const periodsInTerm = spec.interestPeriod === 'daily'
    ? dec(daysBetween(spec.disbursedOn, lastPeriod.dueOn))
    : dec(spec.installments * spec.repaymentEvery)
  const rateForTerm = div(div(spec.annualRatePct, perYear, ctx), dec(100), ctx).times(periodsInTerm)
  return roundMinor(mul(dec(spec.principalMinor), rateForTerm, ctx), spec.rounding)
}

/** CumulativeFlatInterestLoanScheduleGenerator: flat interest spread over the paying periods. */
function computeCumulativeFlat(spec: ScheduleSpec, periods: readonly Period[], plan: Plan): Parts[] {
  const ctx = contextFor(spec)
  const n = spec.installments
  const totalForTerm = cumulativeFlatInterestMinor(spec, periods, ctx)
  const perInstallment = roundMinor(div(dec(totalForTerm), dec(n), ctx), spec.rounding)
  const totalCharged = totalForTerm - perInstallment * BigInt(plan.interestFree)
  const interestPeriods = n - plan.interestPaymentGrace - plan.interestFree
  const averaged = interestPeriods > 0 ? roundMinor(div(dec(totalCharged), dec(interestPeriods), ctx), spec.rounding) : 0n
  const principalPerPeriod = equalPrincipalMinor(spec, plan, ctx)
  const parts: Parts[] = []
  let balance = spec.principalMinor
  let interestSoFar = 0n
  let deferred = 0n
  for (const period of periods) {
    const isLast = period.n === n
    const free = period.n <= plan.interestFree
    const inPaymentGrace = period.n <= plan.interestPaymentGrace
    let interest: bigint
    if (plan.amortization === 'equal_installments') {
      interest = free || inPaymentGrace ? 0n : averaged
    } else if (inPaymentGrace) {
      deferred += perInstallment
      interest = 0n
    } else if (free) {
      interest = 0n
    } else {
      interest = deferred + perInstallment
      deferred = 0n
    }
    let principal = period.n <= plan.principalGrace ? 0n : principalPerPeriod
    if (spec.installmentMultipleOfMinor !== null) {
      const multiple = spec.installmentMultipleOfMinor
      principal = roundToMultiple(dec(principal), multiple, spec.rounding)
        + roundToMultiple(dec(interest), multiple, spec.rounding) - interest
    }
    interest = settleFlatInterest(interest, interestSoFar, totalCharged, isLast)
    principal = settlePrincipal(principal, balance, isLast)
    balance -= principal
    interestSoFar += interest
    parts.push({ principal, interest })
    if (balance === 0n) break
  }
  return parts
}

/** LoanApplicationTerms.adjustInterestIfLastRepaymentPeriod: never exceed the total, the last takes the rest. */
function settleFlatInterest(interest: bigint, soFar: bigint, total: bigint, isLast: boolean): bigint {
  const remaining = total - (soFar + interest)
  let adjusted = interest
  if (remaining < 0n) adjusted = interest + remaining
  else if (isLast) adjusted = interest + remaining
  return adjusted < 0n ? 0n : adjusted
}

// ---------------------------------------------------------------------------------------------------------------
// fineract-progressive and puhui (rate factors)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Units of the repayment frequency in a period (ProgressiveEMICalculator.calculatePeriodRatio): a regular period
 * on the schedule's grid counts `repaymentEvery`; an irregular one counts whole units from its start plus the
 * remaining days over the length of the next unit.
 */
function periodRatio(spec: ScheduleSpec, period: Period, ctx: Ctx): RateDecimal {
  // Asked for every slice of every pass (EMI, interest); the answer depends on the spec and the period only.
  const known = periodRatios.get(period)
  if (known !== undefined && known.spec === spec && known.sig === ctx.sig && known.rounding === ctx.rounding) return known.ratio
  const ratio = computePeriodRatio(spec, period, ctx)
  periodRatios.set(period, { spec, sig: ctx.sig, rounding: ctx.rounding, ratio })
  return ratio
}

const periodRatios = new WeakMap<Period, { spec: ScheduleSpec; sig: number | null; rounding: Rounding; ratio: RateDecimal }>()

function computePeriodRatio(spec: ScheduleSpec, period: Period, ctx: Ctx): RateDecimal {
  const unit = spec.repaymentUnit
  const seed = spec.periodStartOn ?? spec.disbursedOn
  // Is the due date on the seed's grid (seed + k units, k ≥ 1) with the period one interval long? Month-end
  // constraining means seed + k months can land on the due date one month "early", so try k and k + 1.
  const onGrid = unitsBetween(seed, period.dueOn, unit)
  for (const k of [onGrid, onGrid + 1]) {
    if (k < 1 || !addUnits(seed, unit, k).equals(period.dueOn)) continue
    if (addUnits(period.dueOn, unit, -spec.repaymentEvery).equals(period.startOn)) return dec(spec.repaymentEvery)
    break
  }
  let whole = 0
  while (Temporal.PlainDate.compare(addUnits(period.startOn, unit, whole + 1), period.dueOn) <= 0) whole++
  const wholeEnd = addUnits(period.startOn, unit, whole)
  const remaining = daysBetween(wholeEnd, period.dueOn)
  if (remaining === 0) return dec(whole)
  const unitLength = daysBetween(wholeEnd, addUnits(period.startOn, unit, whole + 1))
  return div(dec(remaining), dec(unitLength), ctx).plus(whole)
}

/** rateFactorByRepaymentPeriod: rate × (unitDays × multiplier / daysInYear) × actual / calculated, scale 12. */
function rateFactorByPeriod(
  rate: RateDecimal, unitDays: RateDecimal, multiplier: RateDecimal, daysInYear: RateDecimal,
  actualDays: number, calculatedDays: number, ctx: Ctx,
): RateDecimal {
  if (calculatedDays === 0) return dec(0)
  const fraction = div(mul(unitDays, multiplier, ctx), daysInYear, ctx)
  const factor = div(mul(mul(rate, fraction, ctx), dec(actualDays), ctx), dec(calculatedDays), ctx)
  return ctx.sig === null ? factor : factor.toDecimalPlaces(ctx.sig, decimalRounding[ctx.rounding])
}

/** ProgressiveEMICalculator.calculatePeriodFractions: Σ days/year length, years cut at 31 December. */
function progressiveYearFractions(from: Temporal.PlainDate, to: Temporal.PlainDate, ctx: Ctx): RateDecimal {
  let total = dec(0)
  let cursor = from
  for (let year = from.year; year <= to.year; year++) {
    const end = year === to.year ? to : Temporal.PlainDate.from({ year, month: 12, day: 31 })
    total = add(total, div(dec(daysBetween(cursor, end)), dec(daysInYearOf(year)), ctx), ctx)
    cursor = end
  }
  return total
}

/**
 * ProgressiveEMICalculator.calculateRateFactorPerPeriod (forEmi) and …PerPeriodForInterest (not forEmi) for the
 * span [from, to) inside `period`.
 */
function progressiveRateFactor(
  spec: ScheduleSpec, ctx: Ctx, from: Temporal.PlainDate, to: Temporal.PlainDate, period: Period, forEmi: boolean,
): RateDecimal {
  const rate = div(spec.annualRatePct, dec(100), ctx)
  const daysInYear = dec(spec.daysInYear === 'actual' ? daysInYearOf(from.year) : fixedDaysInYear[spec.daysInYear])
  const actual = daysBetween(from, to)
  const calculated = daysBetween(period.startOn, period.dueOn)
  const every = dec(spec.repaymentEvery)
  if (spec.interestPeriod === 'same_as_repayment' && spec.repaymentUnit !== 'days') {
    const perYear = dec(spec.repaymentUnit === 'months' ? 12 : 52)
    return rateFactorByPeriod(rate, dec(1), every, perYear, actual, calculated, ctx)
  }
  if (spec.daysInYear === 'actual' && to.year > from.year) {
    const fractions = progressiveYearFractions(from, to, ctx)
    return rateFactorByPeriod(rate, dec(1), fractions, dec(1), 1, 1, ctx)
  }
  if (spec.daysInMonth === 'actual') return rateFactorByPeriod(rate, dec(actual), dec(1), daysInYear, 1, 1, ctx)
  const multiplier = forEmi ? every : periodRatio(spec, period, ctx)
  const unitDays = dec({ days: 1, weeks: 7, months: 30 }[spec.repaymentUnit])
  return rateFactorByPeriod(rate, unitDays, multiplier, daysInYear, actual, calculated, ctx)
}

/** Our own year fraction for [from, to) inside `period` (documented in docs/schedules.md). */
function puhuiYearFraction(spec: ScheduleSpec, from: Temporal.PlainDate, to: Temporal.PlainDate, period: Period): RateDecimal {
  const ctx: Ctx = { sig: null, rounding: spec.rounding }
  const share = dec(daysBetween(from, to)).div(daysBetween(period.startOn, period.dueOn))
  const fixedYear = spec.daysInYear === 'actual' ? null : dec(fixedDaysInYear[spec.daysInYear])
  if (spec.interestPeriod === 'same_as_repayment') {
    const unitsPerYear = { days: fixedYear ?? dec(365), weeks: dec(52), months: dec(12) }[spec.repaymentUnit]
    return periodRatio(spec, period, ctx).div(unitsPerYear).times(share)
  }
  if (spec.daysInMonth === '30' && spec.repaymentUnit === 'months') {
    return periodRatio(spec, period, ctx).times(30).div(fixedYear ?? dec(360)).times(share)
  }
  // Σ over the calendar years the slice touches of days in that year / year length (in epoch days).
  let total = dec(0)
  let year = from.year
  let cursor = epochDay(from)
  const end = epochDay(to)
  while (cursor < end) {
    const stop = Math.min(epochDayOf(year + 1, 1, 1), end)
    total = total.plus(dec(stop - cursor).div(fixedYear ?? dec(daysInYearOf(year))))
    cursor = stop
    year++
  }
  return total
}

/** Rate factor of a slice, for the EMI (whole period grid) or for interest. */
function sliceFactor(spec: ScheduleSpec, ctx: Ctx, slice: Slice, period: Period, forEmi: boolean): RateDecimal {
  const rate = spec.annualRatePct.div(100)
  if (spec.compat === 'puhui') return rate.times(puhuiYearFraction(spec, slice.from, slice.to, period))
  return progressiveRateFactor(spec, ctx, slice.from, forEmi ? slice.to : period.dueOn, period, forEmi)
}

/** Unrounded interest (minor units) on `balance` over a slice (InterestPeriod.getCalculatedDueInterest). */
function sliceInterest(spec: ScheduleSpec, ctx: Ctx, balance: bigint, slice: Slice, period: Period): RateDecimal {
  if (!slice.funded || balance === 0n) return dec(0)
  const factor = sliceFactor(spec, ctx, slice, period, false)
  if (spec.compat === 'puhui') return dec(balance).times(factor)
  const tillDue = daysBetween(slice.from, period.dueOn)
  if (tillDue === 0) return dec(0)
  return mul(div(mul(dec(balance), factor, ctx), dec(tillDue), ctx), dec(daysBetween(slice.from, slice.to)), ctx)
}

/** Interest for one period, rounded once (RepaymentPeriod.calculateCalculatedDueInterest → Money.of). */
function periodInterestMinor(spec: ScheduleSpec, ctx: Ctx, balance: bigint, period: Period): bigint {
  const exact = slicesOf(spec, period).reduce((sum, slice) => sum.plus(sliceInterest(spec, ctx, balance, slice, period)), dec(0))
  return roundMinor(fit(exact, ctx), spec.rounding)
}

/** EMI = P·Π(1+rᵢ) / fn over the amortizing periods (ProgressiveEMICalculator), rounded to cents or the multiple. */
function rateFactorEmiMinor(spec: ScheduleSpec, ctx: Ctx, plan: Plan, periods: readonly Period[]): bigint {
  const amortizing = periods.slice(plan.principalGrace)
  const onePlusRates = amortizing.map((period) => {
    if (period.n <= plan.interestFree) return dec(1)
    const slices = slicesOf(spec, period).filter((slice) => slice.funded)
    return slices.reduce((sum, slice) => sum.plus(sliceFactor(spec, ctx, slice, period, true)), dec(1))
  })
  const product = onePlusRates.reduce((acc, value) => mul(acc, value, ctx), dec(1))
  const fn = onePlusRates.slice(1).reduce((acc, value) => add(dec(1), mul(acc, value, ctx), ctx), dec(1))
  const emi = roundMinor(div(mul(product, dec(spec.principalMinor), ctx), fn, ctx), spec.rounding)
  if (spec.installmentMultipleOfMinor === null) return emi
  const rounded = roundToMultiple(dec(emi), spec.installmentMultipleOfMinor, spec.rounding)
  return rounded === 0n ? emi : rounded // safeRoundingForEMI: never round a positive EMI to zero
}

/** Declining balance with rate factors: interest on the balance, principal = EMI − interest, last takes the rest. */
function computeRateFactorDeclining(spec: ScheduleSpec, periods: readonly Period[], plan: Plan): Parts[] {
  const ctx = contextFor(spec)
  const emi = plan.amortization === 'equal_installments' ? rateFactorEmiMinor(spec, ctx, plan, periods) : null
  const fixedPrincipal = plan.amortization === 'equal_principal' ? equalPrincipalMinor(spec, plan, ctx) : null
  const parts: Parts[] = []
  let balance = spec.principalMinor
  let deferred = 0n
  for (const period of periods) {
    const accrued = period.n <= plan.interestFree ? 0n : periodInterestMinor(spec, ctx, balance, period)
    const isLast = period.n === periods.length
    let interest = 0n
    let own = 0n
    if (period.n <= plan.interestPaymentGrace && !isLast) {
      deferred += accrued
    } else {
      interest = deferred + accrued
      own = accrued
      deferred = 0n
    }
    let principal = period.n <= plan.principalGrace ? 0n : emi !== null ? emi - own : (fixedPrincipal ?? 0n)
    principal = settlePrincipal(principal, balance, isLast)
    balance -= principal
    parts.push({ principal, interest })
    if (balance === 0n) break
  }
  const last = parts[parts.length - 1]
  assert(last !== undefined, 'a schedule has at least one installment')
  last.interest += deferred
  return parts
}

/** Flat interest with rate factors: each period's interest on the original principal; equal totals. */
function computeRateFactorFlat(spec: ScheduleSpec, periods: readonly Period[], plan: Plan): Parts[] {
  const ctx = contextFor(spec)
  const accrued = periods.map((period) =>
    period.n <= plan.interestFree ? 0n : periodInterestMinor(spec, ctx, spec.principalMinor, period))
  const payable: bigint[] = []
  let deferred = 0n
  for (const [index, amount] of accrued.entries()) {
    const isLast = index === periods.length - 1
    if (index < plan.interestPaymentGrace && !isLast) {
      deferred += amount
      payable.push(0n)
    } else {
      payable.push(deferred + amount)
      deferred = 0n
    }
  }
  const paying = spec.installments - plan.principalGrace
  let emi: bigint | null = null
  if (plan.amortization === 'equal_installments') {
    const amortizingInterest = sumMinor(payable.slice(plan.principalGrace))
    emi = roundMinor(div(dec(spec.principalMinor + amortizingInterest), dec(paying), ctx), spec.rounding)
    if (spec.installmentMultipleOfMinor !== null) {
      const rounded = roundToMultiple(dec(emi), spec.installmentMultipleOfMinor, spec.rounding)
      emi = rounded === 0n ? emi : rounded
    }
  }
  const fixedPrincipal = equalPrincipalMinor(spec, plan, ctx)
  const parts: Parts[] = []
  let balance = spec.principalMinor
  for (const [index, period] of periods.entries()) {
    const interest = payable[index] ?? 0n
    const isLast = period.n === periods.length
    let principal = period.n <= plan.principalGrace ? 0n : emi !== null ? emi - interest : fixedPrincipal
    principal = settlePrincipal(principal, balance, isLast)
    balance -= principal
    parts.push({ principal, interest })
    if (balance === 0n) break
  }
  return parts
}

// ---------------------------------------------------------------------------------------------------------------
// Assembly and invariants
// ---------------------------------------------------------------------------------------------------------------

function assembleSchedule(spec: ScheduleSpec, periods: readonly Period[], parts: readonly Parts[]): Schedule {
  assert(parts.length >= 1, 'a schedule has at least one installment')
  assert(parts.length <= periods.length, 'never more installments than periods')
  let balance = spec.principalMinor
  const rows: ScheduleRow[] = parts.map((part, index) => {
    const period = periods[index]
    assert(period !== undefined, 'each installment has a period')
    assert(part.principal >= 0n, () => `principal part of installment ${period.n} is negative`)
    assert(part.interest >= 0n, () => `interest part of installment ${period.n} is negative`)
    balance -= part.principal
    assert(balance >= 0n, () => `balance after installment ${period.n} is negative`)
    const feesMinor = 0n
    return {
      n: period.n, startOn: period.startOn, dueOn: period.dueOn,
      principalMinor: part.principal, interestMinor: part.interest, feesMinor,
      totalMinor: part.principal + part.interest + feesMinor, balanceMinor: balance,
    }
  })
  const totals = {
    principalMinor: sumMinor(rows.map((row) => row.principalMinor)),
    interestMinor: sumMinor(rows.map((row) => row.interestMinor)),
    feesMinor: sumMinor(rows.map((row) => row.feesMinor)),
    totalMinor: sumMinor(rows.map((row) => row.totalMinor)),
  }
  assert(totals.principalMinor === spec.principalMinor, 'principal parts sum exactly to the principal')
  assert(balance === 0n, 'the balance ends at zero')
  assert(totals.totalMinor === totals.principalMinor + totals.interestMinor + totals.feesMinor, 'totals add up')
  return { currency: spec.currency, principalMinor: spec.principalMinor, rows, totals }
}

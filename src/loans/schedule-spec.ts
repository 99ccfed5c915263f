/**
 * @module loans/schedule-spec
 * Parses and validates the JSON schedule spec (`puhui schedule --spec`, `POST /v1/schedules/preview`) into a
 * typed `ScheduleSpec`. Bad input is an expected outcome, not a bug: this never throws on it and returns
 * `{ status: 'invalid_schedule_spec', field, reason }` naming the first offending field (a JSON path such as
 * `installments` or `repaymentDates[2]`). Unknown fields are rejected so that a typo never silently falls back
 * to a default.
 */
import { Temporal } from 'temporal-polyfill'
import { installmentsMax } from '../core/limits.ts'
import { isCurrency, parseMajor, type Currency } from '../core/money.ts'
import { RateDecimal, roundings, type Rounding } from '../core/rate.ts'

// Module-specific limits (not system-wide, so they live here rather than in core/limits.ts).
/** Largest principal accepted, in minor units (10^15 minor units = 10 trillion yuan). */
export const schedulePrincipalMinorMax = 1_000_000_000_000_000n
/** Largest nominal annual rate accepted, in percent. */
export const scheduleAnnualRatePctMax = 1000
/** Largest repayment interval (`repaymentEvery`), in the spec's unit. */
export const scheduleRepaymentEveryMax = 366
/** Dates outside these years are rejected (keeps date arithmetic and day counts small and meaningful). */
export const scheduleYearMin = 1900
export const scheduleYearMax = 2200

export const repaymentUnits = ['days', 'weeks', 'months'] as const
export type RepaymentUnit = (typeof repaymentUnits)[number]
export const interestMethods = ['declining_balance', 'flat'] as const
export type InterestMethod = (typeof interestMethods)[number]
export const amortizations = ['equal_installments', 'equal_principal', 'interest_only', 'bullet'] as const
export type Amortization = (typeof amortizations)[number]
export const interestPeriods = ['daily', 'same_as_repayment'] as const
export type InterestPeriod = (typeof interestPeriods)[number]
export const daysInYearValues = ['actual', '360', '364', '365'] as const
export type DaysInYear = (typeof daysInYearValues)[number]
export const daysInMonthValues = ['actual', '30'] as const
export type DaysInMonth = (typeof daysInMonthValues)[number]
/** `puhui` is our own documented convention, used when the spec omits `compat`. */
export const compats = ['fineract-cumulative', 'fineract-progressive', 'puhui'] as const
export type Compat = (typeof compats)[number]

export type ScheduleSpec = {
  readonly principalMinor: bigint
  readonly currency: Currency
  /** Nominal annual rate in percent, e.g. 12 for 12%. */
  readonly annualRatePct: RateDecimal
  readonly installments: number
  readonly repaymentEvery: number
  readonly repaymentUnit: RepaymentUnit
  readonly interestMethod: InterestMethod
  readonly amortization: Amortization
  readonly interestPeriod: InterestPeriod
  readonly daysInYear: DaysInYear
  readonly daysInMonth: DaysInMonth
  readonly disbursedOn: Temporal.PlainDate
  readonly firstRepaymentOn: Temporal.PlainDate | null
  /** Start of the first period; defaults to `disbursedOn`. Interest never runs before `disbursedOn`. */
  readonly periodStartOn: Temporal.PlainDate | null
  readonly repaymentDates: readonly Temporal.PlainDate[] | null
  readonly graceOnPrincipalPeriods: number
  readonly graceOnInterestPaymentPeriods: number
  readonly interestFreePeriods: number
  readonly installmentMultipleOfMinor: bigint | null
  readonly rounding: Rounding
  readonly compat: Compat
}

export type ScheduleSpecResult =
  | { readonly status: 'ok'; readonly value: ScheduleSpec }
  | { readonly status: 'invalid_schedule_spec'; readonly field: string; readonly reason: string }

const knownFields = [
  'principal', 'currency', 'annualRatePct', 'installments', 'repaymentEvery', 'repaymentUnit', 'interestMethod',
  'amortization', 'interestPeriod', 'daysInYear', 'daysInMonth', 'disbursedOn', 'firstRepaymentOn', 'periodStartOn',
  'repaymentDates', 'graceOnPrincipalPeriods', 'graceOnInterestPaymentPeriods', 'interestFreePeriods',
  'installmentMultipleOf', 'rounding', 'compat',
] as const

/** Thrown only inside this module to unwind to `parseScheduleSpec`; never escapes it. */
class SpecError {
  readonly field: string
  readonly reason: string
  constructor(field: string, reason: string) {
    this.field = field
    this.reason = reason
  }
}

/**
 * Parses an already-decoded JSON value (the result of `JSON.parse`) into a `ScheduleSpec`.
 * @example parseScheduleSpec({ principal: '5000.00', currency: 'CNY', annualRatePct: '12', installments: 18, disbursedOn: '2022-11-01' })
 */
export function parseScheduleSpec(input: unknown): ScheduleSpecResult {
  try {
    return { status: 'ok', value: readSpec(input) }
  } catch (error) {
    if (error instanceof SpecError) return { status: 'invalid_schedule_spec', field: error.field, reason: error.reason }
    throw error
  }
}

/** Parses JSON text; a syntax error is reported on the field `$`. */
export function parseScheduleSpecJson(text: string): ScheduleSpecResult {
  let decoded: unknown
  try {
    decoded = JSON.parse(text)
  } catch {
    return { status: 'invalid_schedule_spec', field: '$', reason: 'The spec is not valid JSON.' }
  }
  return parseScheduleSpec(decoded)
}

function readSpec(input: unknown): ScheduleSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SpecError('$', 'The spec must be a JSON object.')
  }
  const raw = input as Record<string, unknown>
  for (const key of Object.keys(raw)) {
    if (!(knownFields as readonly string[]).includes(key)) throw new SpecError(key, `Unknown field "${key}".`)
  }
  const currency = readCurrency(raw)
  const principalMinor = readMoney(raw, 'principal', currency, true)
  if (principalMinor === null) throw new SpecError('principal', 'The principal is required.')
  if (principalMinor > schedulePrincipalMinorMax) throw new SpecError('principal', 'The principal is too large.')
  const installments = readInteger(raw, 'installments', null, 1, installmentsMax)
  const core = {
    principalMinor,
    currency,
    annualRatePct: readRate(raw),
    installments,
    repaymentEvery: readInteger(raw, 'repaymentEvery', 1, 1, scheduleRepaymentEveryMax),
    repaymentUnit: readEnum(raw, 'repaymentUnit', repaymentUnits, 'months'),
    interestMethod: readEnum(raw, 'interestMethod', interestMethods, 'declining_balance'),
    amortization: readEnum(raw, 'amortization', amortizations, 'equal_installments'),
    interestPeriod: readEnum(raw, 'interestPeriod', interestPeriods, 'same_as_repayment'),
    daysInYear: readEnum(raw, 'daysInYear', daysInYearValues, 'actual'),
    daysInMonth: readEnum(raw, 'daysInMonth', daysInMonthValues, 'actual'),
    graceOnPrincipalPeriods: readInteger(raw, 'graceOnPrincipalPeriods', 0, 0, installments - 1),
    graceOnInterestPaymentPeriods: readInteger(raw, 'graceOnInterestPaymentPeriods', 0, 0, installments - 1),
    interestFreePeriods: readInteger(raw, 'interestFreePeriods', 0, 0, installments - 1),
    installmentMultipleOfMinor: readMoney(raw, 'installmentMultipleOf', currency, false),
    rounding: readEnum(raw, 'rounding', roundings, 'half_even'),
    compat: readCompat(raw),
  }
  return { ...core, ...readDates(raw, installments) }
}

function readDates(raw: Record<string, unknown>, installments: number) {
  const disbursedOn = readDate(raw.disbursedOn, 'disbursedOn')
  if (disbursedOn === null) throw new SpecError('disbursedOn', 'The disbursement date is required.')
  const firstRepaymentOn = readDate(raw.firstRepaymentOn, 'firstRepaymentOn')
  const periodStartOn = readDate(raw.periodStartOn, 'periodStartOn')
  const repaymentDates = readDateList(raw.repaymentDates, 'repaymentDates')
  if (periodStartOn !== null && Temporal.PlainDate.compare(periodStartOn, disbursedOn) > 0) {
    throw new SpecError('periodStartOn', 'The first period cannot start after the disbursement date.')
  }
  if (firstRepaymentOn !== null && Temporal.PlainDate.compare(firstRepaymentOn, disbursedOn) <= 0) {
    throw new SpecError('firstRepaymentOn', 'The first repayment must fall after the disbursement date.')
  }
  if (repaymentDates !== null) {
    if (firstRepaymentOn !== null) {
      throw new SpecError('firstRepaymentOn', 'Give either firstRepaymentOn or repaymentDates, not both.')
    }
    if (repaymentDates.length !== installments) {
      throw new SpecError('repaymentDates', `Expected ${installments} repayment dates (one per installment).`)
    }
    let previous = disbursedOn
    repaymentDates.forEach((date, index) => {
      if (Temporal.PlainDate.compare(date, previous) <= 0) {
        throw new SpecError(`repaymentDates[${index}]`, 'Repayment dates must be strictly increasing and after the disbursement date.')
      }
      previous = date
    })
  }
  return { disbursedOn, firstRepaymentOn, periodStartOn, repaymentDates }
}

function readCurrency(raw: Record<string, unknown>): Currency {
  const value = raw.currency
  if (typeof value !== 'string' || !isCurrency(value)) {
    throw new SpecError('currency', 'The currency must be one of CNY, USD, EUR, HKD.')
  }
  return value
}

function readMoney(raw: Record<string, unknown>, field: string, currency: Currency, required: boolean): bigint | null {
  const value = raw[field]
  if (value === undefined || value === null) {
    if (required) throw new SpecError(field, `The field ${field} is required.`)
    return null
  }
  if (typeof value !== 'string') throw new SpecError(field, 'Amounts are decimal strings in major units, e.g. "5000.00".')
  const minor = parseMajor(value, currency)
  if (minor === undefined) {
    throw new SpecError(field, `"${value}" is not a plain decimal with at most the currency's number of fraction digits.`)
  }
  if (minor <= 0n) throw new SpecError(field, 'The amount must be positive.')
  return minor
}

function readRate(raw: Record<string, unknown>): RateDecimal {
  const value = raw.annualRatePct
  if (typeof value !== 'string' || !/^\d{1,6}(\.\d{1,12})?$/.test(value)) {
    throw new SpecError('annualRatePct', 'The annual rate is a decimal string in percent, e.g. "12" or "9.99".')
  }
  const rate = new RateDecimal(value)
  if (rate.greaterThan(scheduleAnnualRatePctMax)) {
    throw new SpecError('annualRatePct', `The annual rate cannot exceed ${scheduleAnnualRatePctMax}%.`)
  }
  return rate
}

function readInteger(raw: Record<string, unknown>, field: string, fallback: number | null, min: number, max: number): number {
  const value = raw[field]
  if (value === undefined || value === null) {
    if (fallback === null) throw new SpecError(field, `The field ${field} is required.`)
    return fallback
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new SpecError(field, `${field} must be a whole number.`)
  if (value < min || value > max) throw new SpecError(field, `${field} must be between ${min} and ${max}.`)
  return value
}

function readEnum<T extends string>(raw: Record<string, unknown>, field: string, allowed: readonly T[], fallback: T): T {
  const value = raw[field]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SpecError(field, `${field} must be one of ${allowed.map((v) => `"${v}"`).join(', ')}.`)
  }
  return value as T
}

function readCompat(raw: Record<string, unknown>): Compat {
  const value = raw.compat
  if (value === undefined || value === null) return 'puhui'
  if (value !== 'fineract-cumulative' && value !== 'fineract-progressive') {
    throw new SpecError('compat', 'compat must be "fineract-cumulative", "fineract-progressive", or omitted.')
  }
  return value
}

function readDate(value: unknown, field: string): Temporal.PlainDate | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw new SpecError(field, 'Dates are calendar dates written YYYY-MM-DD.')
  }
  let date: Temporal.PlainDate
  try {
    date = Temporal.PlainDate.from(value, { overflow: 'reject' })
  } catch {
    throw new SpecError(field, `"${value}" is not a calendar date.`)
  }
  if (date.year < scheduleYearMin || date.year > scheduleYearMax) {
    throw new SpecError(field, `Dates must fall between the years ${scheduleYearMin} and ${scheduleYearMax}.`)
  }
  return date
}

function readDateList(value: unknown, field: string): Temporal.PlainDate[] | null {
  if (value === undefined || value === null) return null
  if (!Array.isArray(value)) throw new SpecError(field, 'repaymentDates must be an array of YYYY-MM-DD dates or null.')
  return value.map((item: unknown, index) => {
    const date = readDate(item, `${field}[${index}]`)
    if (date === null) throw new SpecError(`${field}[${index}]`, 'A repayment date cannot be null.')
    return date
  })
}

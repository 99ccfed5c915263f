/**
 * @module credit/sources
 * The data sources of the credit data hub and the schema of one record of each (pure). A record is
 * about one enterprise and one period (monthly aggregates, or a dated event), carries the source's own
 * external id (ingestion is idempotent per source and external id), and is validated field by field so
 * that a bad row gets precise errors while the good rows of the same batch are taken.
 *
 * Amounts are decimal strings of minor units (JSON numbers lose precision above 2^53); shares and
 * scores are decimal strings; months are YYYY-MM and become the month's last day as `occurredOn`.
 */
import { Temporal } from 'temporal-polyfill'
import { isCurrency } from '../core/money.ts'

export const sources = ['registration', 'tax_filings', 'payment_flows', 'orders', 'logistics', 'reviews', 'utilities'] as const
export type Source = (typeof sources)[number]

type FieldType = 'minor' | 'count' | 'month' | 'date' | 'decimal' | 'currency' | 'text' | 'boolean'
type Field = { type: FieldType; required: boolean; min?: string; max?: string; values?: readonly string[] }

const f = (type: FieldType, extra: Omit<Field, 'type' | 'required'> & { optional?: boolean } = {}): Field => {
  const { optional, ...rest } = extra
  return { type, required: optional !== true, ...rest }
}

/** Field schemas; `month` or `date` fields name the period the record is about. */
export const sourceSchemas = {
  registration: { registeredOn: f('date'), legalForm: f('text', { values: ['company', 'sole_proprietor', 'partnership', 'individual_business'] }), status: f('text', { values: ['active', 'suspended', 'revoked', 'cancelled'] }), capitalMinor: f('minor', { optional: true }), currency: f('currency', { optional: true }), region: f('text', { optional: true }), sector: f('text', { optional: true }) },
  tax_filings: { month: f('month'), filedOn: f('date'), declaredRevenueMinor: f('minor'), taxPaidMinor: f('minor'), currency: f('currency') },
  payment_flows: { month: f('month'), inflowMinor: f('minor'), outflowMinor: f('minor'), transactions: f('count'), counterparties: f('count'), currency: f('currency') },
  orders: { month: f('month'), gmvMinor: f('minor'), orders: f('count'), buyers: f('count'), repeatBuyers: f('count'), topBuyerShare: f('decimal', { min: '0', max: '1' }), refundsMinor: f('minor'), refunds: f('count'), currency: f('currency') },
  logistics: { month: f('month'), shipments: f('count'), onTime: f('count'), delayed: f('count'), lost: f('count', { optional: true }) },
  reviews: { month: f('month'), reviews: f('count'), averageScore: f('decimal', { min: '0', max: '5' }), complaints: f('count', { optional: true }) },
  utilities: { month: f('month'), electricityKwh: f('count'), billMinor: f('minor'), paidOnTime: f('boolean'), currency: f('currency') },
} as const satisfies Record<Source, Record<string, Field>>

export type RecordValue = string | boolean | null
export type SourceRecord = { externalId: string; enterpriseId: string; occurredOn: string; fields: Record<string, RecordValue> }
export type FieldError = { field: string; message: string }
export type ValidatedRecord = { ok: true; record: SourceRecord } | { ok: false; errors: FieldError[] }

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const monthPattern = /^(\d{4})-(0[1-9]|1[0-2])$/
const datePattern = /^\d{4}-\d{2}-\d{2}$/
const minorPattern = /^(0|[1-9]\d{0,17})$/
const countPattern = /^(0|[1-9]\d{0,9})$/
const decimalPattern = /^\d+(\.\d+)?$/

export function isSource(value: string): value is Source {
  return (sources as readonly string[]).includes(value)
}

function compareDecimal(a: string, b: string): number {
  const [ai = '0', af = ''] = a.split('.')
  const [bi = '0', bf = ''] = b.split('.')
  const width = Math.max(af.length, bf.length)
  const x = BigInt(ai + af.padEnd(width, '0'))
  const y = BigInt(bi + bf.padEnd(width, '0'))
  return x < y ? -1 : x > y ? 1 : 0
}

function isCalendarDate(text: string): boolean {
  if (!datePattern.test(text)) return false
  try {
    Temporal.PlainDate.from(text, { overflow: 'reject' })
    return true
  } catch {
    return false
  }
}

/** Normalises one field (text from CSV or a JSON value) or says what is wrong with it. */
function checkField(name: string, field: Field, raw: unknown): { value: RecordValue } | { error: string } {
  if (raw === undefined || raw === null || raw === '') return field.required ? { error: 'is required' } : { value: null }
  if (field.type === 'boolean') {
    if (raw === true || raw === 'true' || raw === '1') return { value: true }
    if (raw === false || raw === 'false' || raw === '0') return { value: false }
    return { error: 'must be true or false' }
  }
  if (typeof raw !== 'string') return { error: `must be a string${field.type === 'minor' ? ' of minor units (amounts are strings)' : ''}` }
  switch (field.type) {
    case 'minor':
      return minorPattern.test(raw) ? { value: raw } : { error: 'must be a non-negative whole number of minor units' }
    case 'count':
      return countPattern.test(raw) ? { value: raw } : { error: 'must be a non-negative whole number' }
    case 'month':
      return monthPattern.test(raw) ? { value: raw } : { error: 'must be a month YYYY-MM' }
    case 'date':
      return isCalendarDate(raw) ? { value: raw } : { error: 'must be a calendar date YYYY-MM-DD' }
    case 'currency':
      return isCurrency(raw) ? { value: raw } : { error: 'must be one of CNY, USD, EUR, HKD' }
    case 'decimal': {
      if (!decimalPattern.test(raw)) return { error: 'must be a non-negative decimal' }
      if (field.min !== undefined && compareDecimal(raw, field.min) < 0) return { error: `must be at least ${field.min}` }
      if (field.max !== undefined && compareDecimal(raw, field.max) > 0) return { error: `must be at most ${field.max}` }
      return { value: raw }
    }
    case 'text':
      if (raw.length > 200) return { error: 'must be at most 200 characters' }
      if (field.values !== undefined && !field.values.includes(raw)) return { error: `must be one of ${field.values.join(', ')}` }
      return { value: raw }
  }
  return { error: `${name} has an unknown type` }
}

/** The last day of a YYYY-MM month. */
export function monthEnd(month: string): string {
  const start = Temporal.PlainYearMonth.from(month)
  return start.toPlainDate({ day: start.daysInMonth }).toString()
}

/**
 * Validates one input row of a source: `externalId` and `enterpriseId` plus the source's fields;
 * unknown fields are errors. Returns every error of the row, not only the first.
 */
export function validateRecord(source: Source, row: Record<string, unknown>): ValidatedRecord {
  const schema: Record<string, Field> = sourceSchemas[source]
  const errors: FieldError[] = []
  const externalId = row.externalId
  if (typeof externalId !== 'string' || externalId.length === 0 || externalId.length > 128) errors.push({ field: 'externalId', message: 'must be a string of 1 to 128 characters' })
  const enterpriseId = row.enterpriseId
  if (typeof enterpriseId !== 'string' || !uuidPattern.test(enterpriseId)) errors.push({ field: 'enterpriseId', message: 'must be the UUID of an enterprise' })
  for (const name of Object.keys(row)) {
    if (name !== 'externalId' && name !== 'enterpriseId' && !(name in schema)) errors.push({ field: name, message: `is not a field of ${source}` })
  }
  const fields: Record<string, RecordValue> = {}
  for (const [name, field] of Object.entries(schema)) {
    const checked = checkField(name, field, row[name])
    if ('error' in checked) errors.push({ field: name, message: checked.error })
    else fields[name] = checked.value
  }
  if (errors.length === 0 && source === 'logistics' && BigInt(fields.onTime as string) + BigInt(fields.delayed as string) > BigInt(fields.shipments as string)) {
    errors.push({ field: 'onTime', message: 'onTime + delayed cannot exceed shipments' })
  }
  if (errors.length === 0 && source === 'orders' && BigInt(fields.repeatBuyers as string) > BigInt(fields.buyers as string)) {
    errors.push({ field: 'repeatBuyers', message: 'cannot exceed buyers' })
  }
  if (errors.length > 0) return { ok: false, errors }
  const occurredOn = typeof fields.month === 'string' ? monthEnd(fields.month) : (fields.registeredOn as string)
  return { ok: true, record: { externalId: externalId as string, enterpriseId: enterpriseId as string, occurredOn, fields } }
}

/** A stable text of a record's content, to tell a replay (`exists`) from a change (`exists_with_different_fields`). */
export function canonicalFields(fields: Record<string, RecordValue>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
}

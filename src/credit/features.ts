/**
 * @module credit/features
 * The feature catalogue (pure): an enterprise's credit features as of a business date, from the records
 * known by then. Windows are calendar months: the k months ending with the last month that ended on or
 * before the as-of date. A feature with no data is null (the scorecard bins missing values on their
 * own). Features are model inputs, so they are JS numbers; money is summed as bigint first and only the
 * totals and ratios become numbers (in major units where they are amounts).
 *
 * Versioned: a change to any definition bumps `featureCatalogueVersion`, and a model records the
 * version it was trained on.
 */
import { Temporal } from 'temporal-polyfill'
import type { Source } from './sources.ts'

export const featureCatalogueVersion = '1'

/** A record as the feature code sees it: its source, period end and fields (strings as stored). */
export type FeatureRecord = { source: Source; occurredOn: string; fields: Record<string, unknown> }
export type FeatureValues = Record<string, number | null>
type Definition = { name: string; source: Source | 'derived'; description: string }

export const featureCatalogue: readonly Definition[] = [
  { name: 'gmv_3m', source: 'orders', description: 'GMV over the last 3 months, major units' },
  { name: 'gmv_6m', source: 'orders', description: 'GMV over the last 6 months, major units' },
  { name: 'gmv_12m', source: 'orders', description: 'GMV over the last 12 months, major units' },
  { name: 'gmv_trend_6m', source: 'orders', description: 'least-squares slope of monthly GMV over 6 months, divided by its mean (per month)' },
  { name: 'gmv_volatility_6m', source: 'orders', description: 'coefficient of variation of monthly GMV over 6 months' },
  { name: 'gmv_yoy_growth_3m', source: 'orders', description: 'GMV of the last 3 months over the same 3 months a year before, minus 1 (seasonality-adjusted growth)' },
  { name: 'refund_rate_6m', source: 'orders', description: 'refunded amount over GMV, 6 months' },
  { name: 'orders_6m', source: 'orders', description: 'number of orders, 6 months' },
  { name: 'avg_order_value_6m', source: 'orders', description: 'GMV per order, 6 months, major units' },
  { name: 'active_months_12m', source: 'orders', description: 'months with at least one order among the last 12' },
  { name: 'repeat_buyer_share_6m', source: 'orders', description: 'repeat buyers over buyers, 6 months' },
  { name: 'top_buyer_share', source: 'orders', description: "largest buyer's share of GMV in the last month (customer concentration)" },
  { name: 'months_since_last_order', source: 'orders', description: 'months since the last month with orders (0 = the last month)' },
  { name: 'declared_revenue_12m', source: 'tax_filings', description: 'revenue declared to the tax authority, 12 months, major units' },
  { name: 'tax_paid_12m', source: 'tax_filings', description: 'tax paid, 12 months, major units' },
  { name: 'tax_to_revenue_12m', source: 'tax_filings', description: 'tax paid over declared revenue, 12 months' },
  { name: 'filing_punctuality_12m', source: 'tax_filings', description: 'share of the months filed by the 15th of the following month' },
  { name: 'months_filed_12m', source: 'tax_filings', description: 'months with a filing among the last 12' },
  { name: 'declared_to_observed_revenue_12m', source: 'derived', description: 'declared revenue over GMV, 12 months (under-declaration or fabricated sales)' },
  { name: 'inflow_6m', source: 'payment_flows', description: 'money received, 6 months, major units' },
  { name: 'outflow_6m', source: 'payment_flows', description: 'money paid out, 6 months, major units' },
  { name: 'net_flow_ratio_6m', source: 'payment_flows', description: '(inflow − outflow) over inflow, 6 months' },
  { name: 'inflow_volatility_6m', source: 'payment_flows', description: 'coefficient of variation of monthly inflow over 6 months' },
  { name: 'counterparties_avg_6m', source: 'payment_flows', description: 'average monthly counterparties, 6 months' },
  { name: 'inflow_to_gmv_6m', source: 'derived', description: 'inflow over GMV, 6 months (sales that never turn into cash)' },
  { name: 'years_in_business', source: 'registration', description: 'years since registration' },
  { name: 'registration_active', source: 'registration', description: '1 when the registration status is active, else 0' },
  { name: 'on_time_delivery_rate_6m', source: 'logistics', description: 'on-time shipments over shipments, 6 months' },
  { name: 'shipments_6m', source: 'logistics', description: 'shipments, 6 months' },
  { name: 'review_score_6m', source: 'reviews', description: 'average review score weighted by reviews, 6 months (0–5)' },
  { name: 'complaints_per_100_reviews_6m', source: 'reviews', description: 'complaints per 100 reviews, 6 months' },
  { name: 'utilities_on_time_share_12m', source: 'utilities', description: 'share of utility bills paid on time, 12 months' },
  { name: 'electricity_trend_6m', source: 'utilities', description: 'least-squares slope of monthly electricity use over 6 months, divided by its mean' },
]

const minorPerMajor = 100

/** YYYY-MM of the last month that ended on or before `asOf`. */
export function lastClosedMonth(asOf: Temporal.PlainDate): Temporal.PlainYearMonth {
  const month = Temporal.PlainYearMonth.from(asOf)
  return asOf.day === month.daysInMonth ? month : month.subtract({ months: 1 })
}

/** The `count` months ending with `end`, oldest first, as YYYY-MM (integer month arithmetic: asked per decision). */
export function monthsBack(end: Temporal.PlainYearMonth, count: number): string[] {
  const last = end.year * 12 + (end.month - 1)
  return Array.from({ length: count }, (_, i) => {
    const index = last - (count - 1 - i)
    const year = Math.floor(index / 12)
    return `${String(year).padStart(4, '0')}-${String(index - year * 12 + 1).padStart(2, '0')}`
  })
}

/** Per month (YYYY-MM) of a source, the record's fields. The latest ingested wins if several. */
function byMonth(records: readonly FeatureRecord[], source: Source): Map<string, Record<string, unknown>> {
  const months = new Map<string, Record<string, unknown>>()
  for (const record of records) if (record.source === source && typeof record.fields.month === 'string') months.set(record.fields.month, record.fields)
  return months
}

const big = (value: unknown): bigint => (typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : 0n)
const num = (value: unknown): number => (typeof value === 'string' ? Number.parseFloat(value) : 0)
const major = (minor: bigint): number => Number(minor) / minorPerMajor
const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b)

function sumField(months: Map<string, Record<string, unknown>>, window: readonly string[], field: string): { total: bigint; present: number } {
  let total = 0n
  let present = 0
  for (const month of window) {
    const fields = months.get(month)
    if (fields === undefined) continue
    present++
    total += big(fields[field])
  }
  return { total, present }
}

function series(months: Map<string, Record<string, unknown>>, window: readonly string[], field: string): number[] | null {
  const values = window.map((month) => months.get(month)?.[field])
  if (values.every((value) => value === undefined)) return null
  return values.map((value) => (value === undefined ? 0 : num(value)))
}

function slopeOverMean(values: readonly number[]): number | null {
  const n = values.length
  const mean = values.reduce((a, b) => a + b, 0) / n
  if (n < 2 || mean === 0) return null
  const xMean = (n - 1) / 2
  let numerator = 0
  let denominator = 0
  values.forEach((y, x) => {
    numerator += (x - xMean) * (y - mean)
    denominator += (x - xMean) ** 2
  })
  return numerator / denominator / mean
}

function coefficientOfVariation(values: readonly number[]): number | null {
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  if (mean === 0) return null
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length
  return Math.sqrt(variance) / mean
}

/**
 * Every feature of the catalogue for one enterprise as of `asOf`. The caller passes only the records
 * known by then (ingested by the as-of instant) and about periods up to then: this function trusts that.
 */
export function computeFeatures(records: readonly FeatureRecord[], asOf: Temporal.PlainDate): FeatureValues {
  const end = lastClosedMonth(asOf)
  const w3 = monthsBack(end, 3)
  const w6 = monthsBack(end, 6)
  const w12 = monthsBack(end, 12)
  const w3LastYear = monthsBack(end.subtract({ months: 12 }), 3)
  const orders = byMonth(records, 'orders')
  const tax = byMonth(records, 'tax_filings')
  const flows = byMonth(records, 'payment_flows')
  const logistics = byMonth(records, 'logistics')
  const reviews = byMonth(records, 'reviews')
  const utilities = byMonth(records, 'utilities')
  const out: FeatureValues = {}

  const gmv3 = sumField(orders, w3, 'gmvMinor')
  const gmv6 = sumField(orders, w6, 'gmvMinor')
  const gmv12 = sumField(orders, w12, 'gmvMinor')
  const gmv3LastYear = sumField(orders, w3LastYear, 'gmvMinor')
  const hasOrders = gmv12.present > 0
  out.gmv_3m = hasOrders ? major(gmv3.total) : null
  out.gmv_6m = hasOrders ? major(gmv6.total) : null
  out.gmv_12m = hasOrders ? major(gmv12.total) : null
  const gmvSeries = series(orders, w6, 'gmvMinor')
  out.gmv_trend_6m = gmvSeries === null ? null : slopeOverMean(gmvSeries)
  out.gmv_volatility_6m = gmvSeries === null ? null : coefficientOfVariation(gmvSeries)
  out.gmv_yoy_growth_3m = gmv3LastYear.present === 0 || gmv3LastYear.total === 0n ? null : Number(gmv3.total) / Number(gmv3LastYear.total) - 1
  const refunds6 = sumField(orders, w6, 'refundsMinor')
  out.refund_rate_6m = gmv6.present === 0 ? null : ratio(Number(refunds6.total), Number(gmv6.total))
  const orders6 = sumField(orders, w6, 'orders')
  out.orders_6m = gmv6.present === 0 ? null : Number(orders6.total)
  out.avg_order_value_6m = gmv6.present === 0 ? null : ratio(major(gmv6.total), Number(orders6.total))
  out.active_months_12m = hasOrders ? w12.filter((m) => big(orders.get(m)?.orders) > 0n).length : null
  const buyers6 = sumField(orders, w6, 'buyers')
  const repeat6 = sumField(orders, w6, 'repeatBuyers')
  out.repeat_buyer_share_6m = gmv6.present === 0 ? null : ratio(Number(repeat6.total), Number(buyers6.total))
  const lastOrders = orders.get(end.toString())
  out.top_buyer_share = lastOrders === undefined ? null : num(lastOrders.topBuyerShare)
  const activeIndexes = w12.map((m, i) => (big(orders.get(m)?.orders) > 0n ? i : -1)).filter((i) => i >= 0)
  out.months_since_last_order = hasOrders ? (activeIndexes.length === 0 ? 12 : 11 - (activeIndexes.at(-1) as number)) : null

  const declared12 = sumField(tax, w12, 'declaredRevenueMinor')
  const taxPaid12 = sumField(tax, w12, 'taxPaidMinor')
  const hasTax = declared12.present > 0
  out.declared_revenue_12m = hasTax ? major(declared12.total) : null
  out.tax_paid_12m = hasTax ? major(taxPaid12.total) : null
  out.tax_to_revenue_12m = hasTax ? ratio(Number(taxPaid12.total), Number(declared12.total)) : null
  out.filing_punctuality_12m = hasTax
    ? w12.filter((m) => {
        const filedOn = tax.get(m)?.filedOn
        if (typeof filedOn !== 'string') return false
        const deadline = Temporal.PlainYearMonth.from(m).add({ months: 1 }).toPlainDate({ day: 15 })
        return Temporal.PlainDate.compare(Temporal.PlainDate.from(filedOn), deadline) <= 0
      }).length / 12
    : null
  out.months_filed_12m = hasTax ? declared12.present : null
  out.declared_to_observed_revenue_12m = hasTax && hasOrders ? ratio(Number(declared12.total), Number(gmv12.total)) : null

  const inflow6 = sumField(flows, w6, 'inflowMinor')
  const outflow6 = sumField(flows, w6, 'outflowMinor')
  const hasFlows = inflow6.present > 0
  out.inflow_6m = hasFlows ? major(inflow6.total) : null
  out.outflow_6m = hasFlows ? major(outflow6.total) : null
  out.net_flow_ratio_6m = hasFlows ? ratio(Number(inflow6.total - outflow6.total), Number(inflow6.total)) : null
  const inflowSeries = series(flows, w6, 'inflowMinor')
  out.inflow_volatility_6m = inflowSeries === null ? null : coefficientOfVariation(inflowSeries)
  const counterparties = sumField(flows, w6, 'counterparties')
  out.counterparties_avg_6m = hasFlows ? Number(counterparties.total) / inflow6.present : null
  out.inflow_to_gmv_6m = hasFlows && gmv6.present > 0 ? ratio(Number(inflow6.total), Number(gmv6.total)) : null

  const registration = records.findLast((r) => r.source === 'registration')
  out.years_in_business = registration === undefined || typeof registration.fields.registeredOn !== 'string' ? null : Temporal.PlainDate.from(registration.fields.registeredOn).until(asOf, { largestUnit: 'days' }).days / 365.25
  out.registration_active = registration === undefined ? null : registration.fields.status === 'active' ? 1 : 0

  const shipments = sumField(logistics, w6, 'shipments')
  const onTime = sumField(logistics, w6, 'onTime')
  out.on_time_delivery_rate_6m = shipments.present === 0 ? null : ratio(Number(onTime.total), Number(shipments.total))
  out.shipments_6m = shipments.present === 0 ? null : Number(shipments.total)

  let reviewCount = 0
  let scoreTotal = 0
  let complaints = 0
  for (const month of w6) {
    const fields = reviews.get(month)
    if (fields === undefined) continue
    const n = num(fields.reviews)
    reviewCount += n
    scoreTotal += n * num(fields.averageScore)
    complaints += num(fields.complaints)
  }
  out.review_score_6m = reviewCount === 0 ? null : scoreTotal / reviewCount
  out.complaints_per_100_reviews_6m = reviewCount === 0 ? null : (100 * complaints) / reviewCount

  const bills = w12.map((m) => utilities.get(m)).filter((f): f is Record<string, unknown> => f !== undefined)
  out.utilities_on_time_share_12m = bills.length === 0 ? null : bills.filter((f) => f.paidOnTime === true).length / bills.length
  const electricity = series(utilities, w6, 'electricityKwh')
  out.electricity_trend_6m = electricity === null ? null : slopeOverMean(electricity)

  for (const definition of featureCatalogue) {
    const value = out[definition.name]
    if (value === undefined || (value !== null && !Number.isFinite(value))) out[definition.name] = null
  }
  return out
}

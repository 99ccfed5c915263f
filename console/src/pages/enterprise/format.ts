// Profile helpers (pure): how a feature's value reads (by its name and definition), calendar dates, month-ends.
import type { Lang } from '../../i18n.ts'

export type FeatureKind = 'amount' | 'percent' | 'count' | 'flag' | 'decimal'

/**
 * How to show a feature, from the catalogue's name and definition: amounts (the definition says "major
 * units"), 0/1 flags, ratios, shares, rates, trends and growth as percentages, counts as integers, the
 * rest (scores, averages, years) with up to two decimals.
 */
export function featureKind(name: string, description: string): FeatureKind {
  if (/major units/i.test(description)) return 'amount'
  if (/^1 when\b/i.test(description)) return 'flag'
  if (/_to_/.test(name) || /_(rate|share|ratio|trend|volatility|growth|punctuality)(_|$)/.test(name)) return 'percent'
  if (/^(orders|shipments|active_months|months)_/.test(name)) return 'count'
  return 'decimal'
}

/** Signed percentages for changes (trends, growth), plain ones for shares and ratios. */
const signedFeature = (name: string) => /_(trend|growth)_/.test(name)

export type FeatureFormatter = (name: string, description: string, value: number) => string

export function featureFormatter(lang: Lang, yesNo: { yes: string; no: string }): FeatureFormatter {
  const amount = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  const percent = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 })
  const signedPercent = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' })
  const count = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 })
  const decimal = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 })
  return (name, description, value) => {
    switch (featureKind(name, description)) {
      case 'amount':
        return amount.format(value)
      case 'percent':
        return (signedFeature(name) ? signedPercent : percent).format(value)
      case 'count':
        return count.format(value)
      case 'flag':
        return value === 1 ? yesNo.yes : yesNo.no
      case 'decimal':
        return decimal.format(value)
    }
  }
}

/** Today's calendar date (YYYY-MM-DD) in a time zone; the UTC date if the zone is unknown. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
  } catch {
    return now.toISOString().slice(0, 10)
  }
}

export const isIsoDate = (value: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(new Date(`${value}T00:00:00Z`).getTime())

/** The date `years` years after an ISO date (29 February becomes 1 March in a common year). */
export function addYears(isoDate: string, years: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`)
  date.setUTCFullYear(date.getUTCFullYear() + years)
  return date.toISOString().slice(0, 10)
}

const lastDayOf = (year: number, monthIndex: number) => new Date(Date.UTC(year, monthIndex + 1, 0)).toISOString().slice(0, 10)

/**
 * The last days of the `count` months ending with the last month closed by `asOf` (its own month if
 * `asOf` is that month's last day, else the month before), oldest first: the dates the features-over-time
 * view asks for.
 */
export function monthEnds(asOf: string, count: number): string[] {
  const date = new Date(`${asOf}T00:00:00Z`)
  const year = date.getUTCFullYear()
  let month = date.getUTCMonth()
  if (lastDayOf(year, month) !== asOf) month -= 1
  return Array.from({ length: count }, (_, i) => lastDayOf(year, month - (count - 1 - i)))
}

/**
 * @module core/calendar
 * Day arithmetic on calendar dates from their year, month and day fields (proleptic Gregorian). Temporal
 * stays the type for dates everywhere; these functions are the hot-path shortcut for "how many days from A
 * to B", which temporal-polyfill's `until()` answers in about 3 µs (a Duration built and balanced) against
 * about 0.2 µs here. Schedules, accrual and APR ask it thousands of times per request.
 */

/** A calendar date's fields; a `Temporal.PlainDate` is one. */
export type CalendarFields = { readonly year: number; readonly month: number; readonly day: number }

/** Days since 1970-01-01 of year-month-day (Howard Hinnant's days_from_civil; exact for every year). */
export function epochDayOf(year: number, month: number, day: number): number {
  const y = year - (month <= 2 ? 1 : 0)
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

/** Days since 1970-01-01 of a date. */
export function epochDay(date: CalendarFields): number {
  return epochDayOf(date.year, date.month, date.day)
}

/** Whole days from `from` to `to` (negative when `to` is earlier): `from.until(to).days`. */
export function daysBetweenDates(from: CalendarFields, to: CalendarFields): number {
  return epochDay(to) - epochDay(from)
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

/** 365 or 366. */
export function daysInYearOf(year: number): number {
  return isLeapYear(year) ? 366 : 365
}

const daysInMonths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

/** Days since 1970-01-01 of an ISO 'YYYY-MM-DD' date, or undefined if the text is not a real calendar date. */
export function epochDayOfIsoDate(text: string): number | undefined {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined
  let year = 0
  let month = 0
  let day = 0
  for (let i = 0; i < 10; i++) {
    if (i === 4 || i === 7) continue
    const digit = text.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return undefined
    if (i < 4) year = year * 10 + digit
    else if (i < 7) month = month * 10 + digit
    else day = day * 10 + digit
  }
  if (month < 1 || month > 12 || day < 1) return undefined
  const monthDays = month === 2 && isLeapYear(year) ? 29 : (daysInMonths[month - 1] as number)
  if (day > monthDays) return undefined
  return epochDayOf(year, month, day)
}

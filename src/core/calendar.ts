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

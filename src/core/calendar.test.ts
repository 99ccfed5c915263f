import fc from 'fast-check'
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { daysBetweenDates, daysInYearOf, epochDay } from './calendar.ts'

const date = fc.integer({ min: -200_000, max: 2_900_000 }).map((days) => Temporal.PlainDate.from('1970-01-01').add({ days }))

describe('calendar', () => {
  it('epoch days of known dates', () => {
    expect(epochDay(Temporal.PlainDate.from('1970-01-01'))).toBe(0)
    expect(epochDay(Temporal.PlainDate.from('2000-03-01'))).toBe(11_017)
    expect(epochDay(Temporal.PlainDate.from('1969-12-31'))).toBe(-1)
    expect(daysInYearOf(2024)).toBe(366)
    expect(daysInYearOf(1900)).toBe(365)
    expect(daysInYearOf(2000)).toBe(366)
  })

  it('daysBetweenDates agrees with Temporal until() for any two dates', () => {
    fc.assert(fc.property(date, date, (a, b) => {
      expect(daysBetweenDates(a, b)).toBe(a.until(b, { largestUnit: 'days' }).days)
      expect(daysInYearOf(a.year)).toBe(a.daysInYear)
    }), { numRuns: 2_000 })
  })
})

import fc from 'fast-check'
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { measureApr, solveIrr } from './apr.ts'

const d = (text: string) => Temporal.PlainDate.from(text)

describe('solveIrr', () => {
  it('finds 1 % a month for 12 equal payments of an annuity at 1 %', () => {
    const payment = (10_000 * 0.01) / (1 - Math.pow(1.01, -12))
    const flows = [{ periods: 0, amount: -10_000 }, ...Array.from({ length: 12 }, (_, i) => ({ periods: i + 1, amount: payment }))]
    expect(solveIrr(flows)).toBeCloseTo(0.01, 12)
  })
  it('is zero when the payments return exactly the advance, and null when they return less than nothing', () => {
    expect(solveIrr([{ periods: 0, amount: -100 }, { periods: 1, amount: 100 }])).toBeCloseTo(0, 12)
    expect(solveIrr([{ periods: 0, amount: -100 }, { periods: 1, amount: 0 }])).toBeNull()
  })
  it('discounts the flows back to the advance (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1_000, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000 }).map((bp) => bp / 100_000), fc.integer({ min: 1, max: 36 }), (advance, rate, n) => {
      const payment = rate === 0 ? advance / n : (advance * rate) / (1 - Math.pow(1 + rate, -n))
      const flows = [{ periods: 0, amount: -advance }, ...Array.from({ length: n }, (_, i) => ({ periods: i + 1, amount: payment }))]
      const irr = solveIrr(flows)
      expect(irr).not.toBeNull()
      expect(Math.abs((irr as number) - rate)).toBeLessThan(1e-9)
    }))
  })
})

describe('measureApr', () => {
  const months = (n: number) => Array.from({ length: n }, (_, i) => d('2026-01-01').add({ months: i + 1 }))
  it('equals the nominal rate for a monthly annuity without fees (within day-count noise)', () => {
    const payment = 10_000_00 * 0.01 / (1 - Math.pow(1.01, -12))
    const apr = measureApr({ disbursedOn: d('2026-01-01'), netAdvanceMinor: 10_000_00n, periodsPerYear: 12, payments: months(12).map((dueOn) => ({ dueOn, amountMinor: BigInt(Math.round(payment)) })) })
    expect(apr?.toNumber()).toBeGreaterThan(11.9)
    expect(apr?.toNumber()).toBeLessThan(12.1)
  })
  it('rises above the nominal rate with an upfront fee', () => {
    const payment = BigInt(Math.round(10_000_00 * 0.01 / (1 - Math.pow(1.01, -12))))
    const payments = months(12).map((dueOn) => ({ dueOn, amountMinor: payment }))
    const without = measureApr({ disbursedOn: d('2026-01-01'), netAdvanceMinor: 10_000_00n, periodsPerYear: 12, payments })
    const withFee = measureApr({ disbursedOn: d('2026-01-01'), netAdvanceMinor: 9_800_00n, periodsPerYear: 12, payments })
    expect(withFee?.greaterThan(without ?? 0)).toBe(true)
    expect(withFee?.toNumber()).toBeGreaterThan(15)
  })
})

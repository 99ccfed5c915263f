import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addMoney, formatMajor, parseMajor } from './money.ts'
import { RateDecimal, interestMinor } from './rate.ts'

describe('money', () => {
  it('formats minor units in major units', () => {
    expect(formatMajor(0n, 'CNY')).toBe('0.00')
    expect(formatMajor(5n, 'CNY')).toBe('0.05')
    expect(formatMajor(-12345n, 'USD')).toBe('-123.45')
    expect(formatMajor(500000n, 'CNY')).toBe('5000.00')
  })
  it('parses major units exactly and refuses extra precision', () => {
    expect(parseMajor('5000', 'CNY')).toBe(500000n)
    expect(parseMajor('0.1', 'CNY')).toBe(10n)
    expect(parseMajor('1.005', 'CNY')).toBeUndefined()
    expect(parseMajor('1e3', 'CNY')).toBeUndefined()
    expect(parseMajor('', 'CNY')).toBeUndefined()
  })
  it('round-trips any amount', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (minor) => parseMajor(formatMajor(minor, 'CNY'), 'CNY') === minor))
  })
  it('refuses to add different currencies', () => {
    expect(() => addMoney({ amountMinor: 1n, currency: 'CNY' }, { amountMinor: 1n, currency: 'USD' })).toThrow(/currency mismatch/)
  })
  it('rounds interest with the named mode', () => {
    const rate = new RateDecimal('0.000125')
    expect(interestMinor(100_020n, rate, 'half_even')).toBe(13n) // 12.5025 → 13
    expect(interestMinor(100_000n, rate, 'half_even')).toBe(12n) // 12.5 → 12 (even)
    expect(interestMinor(100_000n, rate, 'half_up')).toBe(13n)
    expect(interestMinor(100_000n, rate, 'down')).toBe(12n)
    expect(interestMinor(100_001n, rate, 'up')).toBe(13n)
  })
})

/**
 * @module core/rate
 * Rates are decimals (decimal.js), never money and never floats. A cloned constructor keeps the global
 * defaults (precision 20, ROUND_HALF_UP) from applying by accident; every call site names its rounding.
 */
import { Decimal } from 'decimal.js'
import { assert } from './assert.ts'

export const RateDecimal = Decimal.clone({ precision: 34, rounding: Decimal.ROUND_HALF_EVEN })
export type RateDecimal = Decimal

export const roundings = ['half_even', 'half_up', 'down', 'up'] as const
export type Rounding = (typeof roundings)[number]
export const decimalRounding = {
  half_even: Decimal.ROUND_HALF_EVEN,
  half_up: Decimal.ROUND_HALF_UP,
  down: Decimal.ROUND_DOWN,
  up: Decimal.ROUND_UP,
} as const satisfies Record<Rounding, Decimal.Rounding>

/**
 * Interest for one period, rounded to minor units with the mode the product defines.
 * @example interestMinor(500000n, new RateDecimal('0.01'), 'half_even') // 5000n
 */
export function interestMinor(principalMinor: bigint, ratePerPeriod: Decimal, rounding: Rounding): bigint {
  assert(principalMinor >= 0n, 'principal must not be negative')
  const exact = new RateDecimal(principalMinor.toString()).times(ratePerPeriod)
  return BigInt(exact.toDecimalPlaces(0, decimalRounding[rounding]).toFixed(0))
}

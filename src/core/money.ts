/**
 * @module core/money
 * Money is a bigint count of minor units plus an ISO 4217 currency. Never a float, never a JS number.
 * The scale of each currency is fixed here once: changing it later would change every stored amount.
 */
import { assert } from './assert.ts'

export const currencies = ['CNY', 'USD', 'EUR', 'HKD'] as const
export type Currency = (typeof currencies)[number]
export const currencyScale = { CNY: 2, USD: 2, EUR: 2, HKD: 2 } as const satisfies Record<Currency, number>

export type Money = { readonly amountMinor: bigint; readonly currency: Currency }

export function isCurrency(value: string): value is Currency {
  return (currencies as readonly string[]).includes(value)
}

/** @example addMoney(cny(100n), cny(250n)) // { amountMinor: 350n, currency: 'CNY' } */
export function addMoney(a: Money, b: Money): Money {
  assert(a.currency === b.currency, () => `currency mismatch: ${a.currency} vs ${b.currency}`)
  return { amountMinor: a.amountMinor + b.amountMinor, currency: a.currency }
}

/**
 * Formats minor units as a decimal string in major units.
 * @example formatMajor(-12345n, 'CNY') // '-123.45'
 */
export function formatMajor(amountMinor: bigint, currency: Currency): string {
  const scale = currencyScale[currency]
  const negative = amountMinor < 0n
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = digits.slice(digits.length - scale)
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`
}

/**
 * Parses a decimal string in major units to minor units; returns undefined when the string is not a
 * plain decimal or has more fraction digits than the currency allows (no silent rounding of money).
 * @example parseMajor('5000.5', 'CNY') // 500050n
 */
export function parseMajor(text: string, currency: Currency): bigint | undefined {
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text)
  if (match === null) return undefined
  const scale = currencyScale[currency]
  const fraction = match[3] ?? ''
  if (fraction.length > scale) return undefined
  const minor = BigInt(match[2] + fraction.padEnd(scale, '0'))
  return match[1] === '-' ? -minor : minor
}

/**
 * @module core/integers
 * Conversions between bigint and number for counts and indexes (never money): asserted, so that a
 * value beyond 2^53 fails loudly instead of losing digits.
 */
import { assert } from './assert.ts'

/** @example safeIntegerOf(42n) // 42 */
export function safeIntegerOf(value: bigint): number {
  assert(value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER), () => `${value} is beyond a safe integer`)
  return Number(value)
}

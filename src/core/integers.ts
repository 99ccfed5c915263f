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

/**
 * Writes an integer-valued number as a big-endian 64-bit two's-complement integer at `offset`, without a
 * BigInt (hot paths: journal entries, binary query parameters). Exact for every integer a double holds
 * exactly below 2^63 in magnitude (microsecond instants beyond 2^53 included).
 */
export function writeInt64Number(view: DataView, offset: number, value: number): void {
  assert(Number.isInteger(value) && Math.abs(value) < 2 ** 63, () => `${value} is not an int64`)
  const high = Math.floor(value / 4_294_967_296)
  view.setInt32(offset, high)
  view.setUint32(offset + 4, value - high * 4_294_967_296)
}

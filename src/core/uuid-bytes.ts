/**
 * @module core/uuid-bytes
 * A UUID's 16 bytes from its text form, on hot paths (journal entries, binary query parameters: several
 * UUIDs per ledger transfer): decoded and validated in one pass over the characters, without the regex,
 * slices and hex Buffer a general parser costs (~1 µs each).
 */
import { assert } from './assert.ts'

/** Hex digit value by character code (either case); -1 for anything else. */
const hexValue = Int8Array.from({ length: 128 }, (_, code) => {
  const c = String.fromCharCode(code)
  return /[0-9]/.test(c) ? code - 48 : /[a-f]/.test(c) ? code - 87 : /[A-F]/.test(c) ? code - 55 : -1
})

/** Writes the 16 bytes of `uuid` (8-4-4-4-12 hex digits, either case) at `offset`; throws if it is not one. */
export function writeUuidBytes(bytes: Uint8Array, offset: number, uuid: string): void {
  let ok = uuid.length === 36 && uuid.charCodeAt(8) === 45 && uuid.charCodeAt(13) === 45 && uuid.charCodeAt(18) === 45 && uuid.charCodeAt(23) === 45
  let at = 0
  for (let i = 0; ok && i < 16; i++) {
    if (at === 8 || at === 13 || at === 18 || at === 23) at++
    const high = hexValue[uuid.charCodeAt(at)] ?? -1
    const low = hexValue[uuid.charCodeAt(at + 1)] ?? -1
    ok = high >= 0 && low >= 0
    bytes[offset + i] = (high << 4) | low
    at += 2
  }
  assert(ok, () => `not a UUID: ${uuid}`)
}

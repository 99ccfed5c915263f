/**
 * @module core/ids
 * Ids are UUIDv7, made in the application (time-ordered, so B-tree inserts stay local, and no reliance
 * on a database sequence or on PostgreSQL 18's uuidv7(): our SQL also runs on PostgreSQL 15 and on
 * distributed Postgres-compatible engines). An IdSource is passed in so tests can pin ids.
 */
import { v7 } from 'uuid'

export type IdSource = { next(): string }

// uuid's v7() asks the operating system for 16 random bytes per id (~1-3 µs, a tenth of a ledger
// transfer's CPU); we draw them from a pool filled 4 KiB at a time and keep the same monotonic
// (millisecond, counter) state the library keeps, passing both to it for the layout.
const randomPool = new Uint8Array(4_096)
let randomAt = randomPool.length
const v7State = { msecs: -Infinity, seq: 0 }

function nextV7(): string {
  if (randomAt === randomPool.length) {
    crypto.getRandomValues(randomPool)
    randomAt = 0
  }
  const random = randomPool.subarray(randomAt, randomAt + 16)
  randomAt += 16
  const now = Date.now()
  if (now > v7State.msecs) {
    // A fresh counter per millisecond, from 31 random bits (as uuid does), so ids stay unguessable in order.
    v7State.seq = (((random[6] as number) & 0x7f) << 24) | ((random[7] as number) << 16) | ((random[8] as number) << 8) | (random[9] as number)
    v7State.msecs = now
  } else {
    v7State.seq = (v7State.seq + 1) | 0
    if (v7State.seq === 0) v7State.msecs++
  }
  return v7({ msecs: v7State.msecs, seq: v7State.seq, random })
}

export const uuidv7Source: IdSource = { next: nextV7 }

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export function isUuid(value: string): boolean {
  return uuidPattern.test(value)
}

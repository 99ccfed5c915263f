/**
 * @module db/pg-arrays
 * One-dimensional PostgreSQL arrays in the binary wire format, as query parameters (node-postgres sends
 * a Buffer parameter in binary). The ledger's group write passes ~20 arrays of up to 8,190 elements:
 * as text literals the database parses every element character by character (`array_in` then
 * `uuid_in`, `int8in`, `timestamptz_in`, …: the largest part of its CPU outside the heap and indexes),
 * while the binary form is length-prefixed fixed-width values it copies. The statement's cast names the
 * type (`${pgArray.uuid(ids)}::uuid[]`), and the element type written here must be that type.
 *
 * Layout (array_recv): int32 dimensions (1), int32 has-nulls, int32 element type OID, int32 length,
 * int32 lower bound (1), then per element int32 byte length (-1 for NULL) and the element's bytes.
 */
import { assert } from '../core/assert.ts'
import { epochDayOfIsoDate } from '../core/calendar.ts'
import { writeUuidBytes } from '../core/uuid-bytes.ts'

const oids = { bool: 16, bytea: 17, int8: 20, int2: 21, int4: 23, text: 25, date: 1082, timestamptz: 1184, uuid: 2950 } as const

/** 2000-01-01, PostgreSQL's epoch for dates and timestamps, in days and milliseconds since 1970-01-01. */
const pgEpochDays = 10_957
const pgEpochMs = pgEpochDays * 86_400_000
const two32 = 4_294_967_296

/** An array whose elements all take `width` bytes (NULL takes none): header, then `write` per element. */
function fixedWidth<T>(oid: number, width: number, values: readonly (T | null)[], write: (buffer: Buffer, offset: number, value: T) => void): Buffer {
  let nulls = 0
  for (const value of values) if (value === null) nulls++
  const buffer = Buffer.allocUnsafe(20 + values.length * 4 + (values.length - nulls) * width)
  writeHeader(buffer, oid, values.length, nulls > 0)
  let offset = 20
  for (const value of values) {
    if (value === null) {
      buffer.writeInt32BE(-1, offset)
      offset += 4
      continue
    }
    buffer.writeInt32BE(width, offset)
    write(buffer, offset + 4, value)
    offset += 4 + width
  }
  return buffer
}

function writeHeader(buffer: Buffer, oid: number, length: number, hasNulls: boolean): void {
  buffer.writeInt32BE(1, 0)
  buffer.writeInt32BE(hasNulls ? 1 : 0, 4)
  buffer.writeInt32BE(oid, 8)
  buffer.writeInt32BE(length, 12)
  buffer.writeInt32BE(1, 16)
}

/** Writes a safe integer as a big-endian int64 without going through BigInt. */
function writeInt64Number(buffer: Buffer, offset: number, value: number): void {
  const high = Math.floor(value / two32)
  buffer.writeInt32BE(high, offset)
  buffer.writeUInt32BE(value - high * two32, offset + 4)
}

/** An array of variable-width elements given as their bytes. */
function variableWidth(oid: number, values: readonly (Uint8Array | null)[]): Buffer {
  let bytes = 0
  let nulls = 0
  for (const value of values) {
    if (value === null) nulls++
    else bytes += value.byteLength
  }
  const buffer = Buffer.allocUnsafe(20 + values.length * 4 + bytes)
  writeHeader(buffer, oid, values.length, nulls > 0)
  let offset = 20
  for (const value of values) {
    if (value === null) {
      buffer.writeInt32BE(-1, offset)
      offset += 4
      continue
    }
    buffer.writeInt32BE(value.byteLength, offset)
    buffer.set(value, offset + 4)
    offset += 4 + value.byteLength
  }
  return buffer
}

export const pgArray = {
  uuid: (values: readonly (string | null)[]): Buffer => fixedWidth(oids.uuid, 16, values, (buffer, offset, value) => writeUuidBytes(buffer, offset, value)),
  int8: (values: readonly (bigint | number | null)[]): Buffer =>
    fixedWidth(oids.int8, 8, values, (buffer, offset, value) => {
      if (typeof value === 'bigint') buffer.writeBigInt64BE(value, offset)
      else {
        assert(Number.isSafeInteger(value), () => `not a safe integer: ${value}`)
        writeInt64Number(buffer, offset, value)
      }
    }),
  int4: (values: readonly (number | null)[]): Buffer => fixedWidth(oids.int4, 4, values, (buffer, offset, value) => buffer.writeInt32BE(value, offset)),
  int2: (values: readonly (number | null)[]): Buffer => fixedWidth(oids.int2, 2, values, (buffer, offset, value) => buffer.writeInt16BE(value, offset)),
  bool: (values: readonly (boolean | null)[]): Buffer => fixedWidth(oids.bool, 1, values, (buffer, offset, value) => buffer.writeUInt8(value ? 1 : 0, offset)),
  /** ISO dates, 'YYYY-MM-DD'. */
  date: (values: readonly (string | null)[]): Buffer => {
    // A batch shares a few dates: each distinct one is parsed once.
    let lastText = ''
    let lastDays = 0
    return fixedWidth(oids.date, 4, values, (buffer, offset, value) => {
      if (value !== lastText) {
        const days = epochDayOfIsoDate(value)
        assert(days !== undefined, () => `not a date: ${value}`)
        lastText = value
        lastDays = days - pgEpochDays
      }
      buffer.writeInt32BE(lastDays, offset)
    })
  },
  /** Instants, to the millisecond. */
  timestamptz: (values: readonly (Date | null)[]): Buffer =>
    fixedWidth(oids.timestamptz, 8, values, (buffer, offset, value) => {
      const ms = value.getTime()
      assert(Number.isFinite(ms), 'a valid instant')
      writeInt64Number(buffer, offset, (ms - pgEpochMs) * 1000)
    }),
  text: (values: readonly (string | null)[]): Buffer => variableWidth(oids.text, values.map((value) => (value === null ? null : Buffer.from(value, 'utf8')))),
  bytea: (values: readonly (Uint8Array | null)[]): Buffer => variableWidth(oids.bytea, values),
}

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
import { writeInt64Number } from '../core/integers.ts'
import { writeUuidBytes } from '../core/uuid-bytes.ts'

const oids = { bool: 16, bytea: 17, int8: 20, int2: 21, int4: 23, text: 25, date: 1082, timestamptz: 1184, uuid: 2950 } as const

/** 2000-01-01, PostgreSQL's epoch for dates and timestamps, in days and milliseconds since 1970-01-01. */
const pgEpochDays = 10_957
const pgEpochMs = pgEpochDays * 86_400_000

/**
 * An array: the header, then per element its byte length (`sizeOf`) and its bytes (`write`), or -1 for
 * NULL. Through a DataView: Buffer's `writeInt32BE`/`writeBigInt64BE` range-check every call (the bigint
 * one with bigint comparisons), which cost more than the rest of the encoding.
 */
function encode<T>(oid: number, values: readonly (T | null)[], sizeOf: (value: T) => number, write: (view: DataView, offset: number, value: T, bytes: Buffer) => void): Buffer {
  let size = 20
  let nulls = 0
  for (const value of values) {
    size += 4
    if (value === null) nulls++
    else size += sizeOf(value)
  }
  const buffer = Buffer.allocUnsafe(size)
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  view.setInt32(0, 1) // dimensions
  view.setInt32(4, nulls > 0 ? 1 : 0)
  view.setInt32(8, oid)
  view.setInt32(12, values.length)
  view.setInt32(16, 1) // lower bound
  let offset = 20
  for (const value of values) {
    if (value === null) {
      view.setInt32(offset, -1)
      offset += 4
      continue
    }
    const length = sizeOf(value)
    view.setInt32(offset, length)
    write(view, offset + 4, value, buffer)
    offset += 4 + length
  }
  return buffer
}

/** An array whose elements all take `width` bytes. */
function fixedWidth<T>(oid: number, width: number, values: readonly (T | null)[], write: (view: DataView, offset: number, value: T, bytes: Buffer) => void): Buffer {
  return encode(oid, values, () => width, write)
}

/** An array of variable-width elements given as their bytes. */
function variableWidth(oid: number, values: readonly (Uint8Array | null)[]): Buffer {
  return encode(oid, values, (value) => value.byteLength, (_, offset, value, bytes) => bytes.set(value, offset))
}

const int64Min = -(2n ** 63n)
const int64Max = 2n ** 63n - 1n
const int32Min = -(2 ** 31)
const int32Max = 2 ** 31 - 1

export const pgArray = {
  uuid: (values: readonly (string | null)[]): Buffer => fixedWidth(oids.uuid, 16, values, (_, offset, value, bytes) => writeUuidBytes(bytes, offset, value)),
  int8: (values: readonly (bigint | number | null)[]): Buffer =>
    fixedWidth(oids.int8, 8, values, (view, offset, value) => {
      if (typeof value === 'bigint') {
        assert(value >= int64Min && value <= int64Max, () => `outside int8: ${value}`)
        view.setBigInt64(offset, value)
      } else {
        assert(Number.isSafeInteger(value), () => `not a safe integer: ${value}`)
        writeInt64Number(view, offset, value)
      }
    }),
  int4: (values: readonly (number | null)[]): Buffer =>
    fixedWidth(oids.int4, 4, values, (view, offset, value) => {
      assert(Number.isInteger(value) && value >= int32Min && value <= int32Max, () => `outside int4: ${value}`)
      view.setInt32(offset, value)
    }),
  int2: (values: readonly (number | null)[]): Buffer =>
    fixedWidth(oids.int2, 2, values, (view, offset, value) => {
      assert(Number.isInteger(value) && value >= -32_768 && value <= 32_767, () => `outside int2: ${value}`)
      view.setInt16(offset, value)
    }),
  bool: (values: readonly (boolean | null)[]): Buffer => fixedWidth(oids.bool, 1, values, (view, offset, value) => view.setUint8(offset, value ? 1 : 0)),
  /** ISO dates, 'YYYY-MM-DD'. */
  date: (values: readonly (string | null)[]): Buffer => {
    // A batch shares a few dates: each distinct one is parsed once.
    let lastText = ''
    let lastDays = 0
    return fixedWidth(oids.date, 4, values, (view, offset, value) => {
      if (value !== lastText) {
        const days = epochDayOfIsoDate(value)
        assert(days !== undefined, () => `not a date: ${value}`)
        lastText = value
        lastDays = days - pgEpochDays
      }
      view.setInt32(offset, lastDays)
    })
  },
  /** Instants, to the millisecond. */
  timestamptz: (values: readonly (Date | null)[]): Buffer =>
    fixedWidth(oids.timestamptz, 8, values, (view, offset, value) => {
      const ms = value.getTime()
      assert(Number.isFinite(ms), 'a valid instant')
      writeInt64Number(view, offset, (ms - pgEpochMs) * 1000)
    }),
  text: (values: readonly (string | null)[]): Buffer => variableWidth(oids.text, values.map((value) => (value === null ? null : Buffer.from(value, 'utf8')))),
  bytea: (values: readonly (Uint8Array | null)[]): Buffer => variableWidth(oids.bytea, values),
}

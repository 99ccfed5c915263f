/**
 * Binary array parameters against a real PostgreSQL: every element reads back as the value it was
 * written from (compared with the text form PostgreSQL prints), NULLs included, and a wrong value is
 * refused before anything is sent.
 */
import fc from 'fast-check'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgArray } from '../src/db/pg-arrays.ts'
import { freshDatabase, type TestDatabase } from './support/db.ts'

let t: TestDatabase

beforeAll(async () => {
  t = await freshDatabase()
})
afterAll(async () => {
  await t.close()
})

async function readBack(parameter: Buffer, type: string): Promise<(string | null)[]> {
  const rows = await sql<{ v: string | null }>`select v::text as v from unnest(${parameter}::${sql.raw(type)}[]) with ordinality as x(v, n) order by n`.execute(t.db)
  return rows.rows.map((row) => row.v)
}

const uuidArbitrary = fc.uuid({ version: [1, 4, 7] })
const dateArbitrary = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))
const instantArbitrary = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59.999Z'), noInvalidDate: true })

describe('binary array parameters', () => {
  it('uuid[], with NULLs and upper-case input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(uuidArbitrary, { nil: null }), { maxLength: 40 }), async (values) => {
        const mixedCase = values.map((v, i) => (v !== null && i % 2 === 1 ? v.toUpperCase() : v))
        expect(await readBack(pgArray.uuid(mixedCase), 'uuid')).toEqual(values)
      }),
      { numRuns: 40 },
    )
  })

  it('int8[] from bigints and safe integers, int4[], int2[], bool[]', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { nil: null }), { maxLength: 30 }), fc.array(fc.maxSafeInteger(), { maxLength: 30 }), async (bigints, numbers) => {
        expect(await readBack(pgArray.int8(bigints), 'int8')).toEqual(bigints.map((v) => (v === null ? null : v.toString())))
        expect(await readBack(pgArray.int8(numbers), 'int8')).toEqual(numbers.map(String))
      }),
      { numRuns: 40 },
    )
    const int4s = [0, 1, -1, 2_147_483_647, -2_147_483_648, null]
    expect(await readBack(pgArray.int4(int4s), 'int4')).toEqual(int4s.map((v) => (v === null ? null : String(v))))
    const int2s = [0, 32_767, -32_768, null, 5]
    expect(await readBack(pgArray.int2(int2s), 'int2')).toEqual(int2s.map((v) => (v === null ? null : String(v))))
    expect(await readBack(pgArray.bool([true, false, null]), 'bool')).toEqual(['true', 'false', null])
  })

  it('date[] and timestamptz[] (to the millisecond, UTC)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(dateArbitrary, { nil: null }), { maxLength: 30 }), fc.array(fc.option(instantArbitrary, { nil: null }), { maxLength: 30 }), async (dates, instants) => {
        expect(await readBack(pgArray.date(dates), 'date')).toEqual(dates)
        const rows = await sql<{ ms: string | null }>`select (extract(epoch from v) * 1000)::bigint::text as ms from unnest(${pgArray.timestamptz(instants)}::timestamptz[]) with ordinality as x(v, n) order by n`.execute(t.db)
        expect(rows.rows.map((row) => row.ms)).toEqual(instants.map((v) => (v === null ? null : String(v.getTime()))))
      }),
      { numRuns: 40 },
    )
  })

  it('text[] (UTF-8) and bytea[]', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\u0000')), { nil: null }), { maxLength: 20 }), fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), async (texts, blobs) => {
        expect(await readBack(pgArray.text(texts), 'text')).toEqual(texts)
        const rows = await sql<{ hex: string }>`select encode(v, 'hex') as hex from unnest(${pgArray.bytea(blobs)}::bytea[]) with ordinality as x(v, n) order by n`.execute(t.db)
        expect(rows.rows.map((row) => row.hex)).toEqual(blobs.map((b) => Buffer.from(b).toString('hex')))
      }),
      { numRuns: 30 },
    )
  })

  it('refuses what is not of the type before sending', () => {
    expect(() => pgArray.uuid(['not-a-uuid'])).toThrow(/not a UUID/)
    expect(() => pgArray.date(['2026-02-29'])).toThrow(/not a date/)
    expect(() => pgArray.date(['2026-13-01'])).toThrow(/not a date/)
    expect(() => pgArray.int8([2 ** 53])).toThrow(/safe integer/)
    expect(() => pgArray.int4([2 ** 31])).toThrow(/outside int4/)
    expect(() => pgArray.int2([40_000])).toThrow(/outside int2/)
    expect(() => pgArray.int8([2n ** 63n])).toThrow(/outside int8/)
    expect(() => pgArray.timestamptz([new Date(Number.NaN)])).toThrow(/valid instant/)
  })
})

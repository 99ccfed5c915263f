/**
 * CSV parsing: RFC 4180 quoting, the missing-value tokens, line ends, and numeric detection.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { detectColumns, formatCsv, parseCsv } from './csv.ts'

describe('parseCsv', () => {
  it('reads quotes, escaped quotes, commas and line breaks inside quotes, CRLF and a BOM', () => {
    const table = parseCsv('\uFEFF"a","b c",d\r\n"x, y","say ""hi""","two\nlines"\r\n1,2,3\r\n')
    expect(table.header).toEqual(['a', 'b c', 'd'])
    expect(table.rows).toEqual([['x, y', 'say "hi"', 'two\nlines'], ['1', '2', '3']])
  })
  it('reads "", NA, ?, NULL (quoted or not) as missing, and a trailing empty field', () => {
    const table = parseCsv('a,b,c,d,e\n"",NA,?,NULL,\n"NA",x,"?",,')
    expect(table.rows).toEqual([[null, null, null, null, null], [null, 'x', null, null, null]])
  })
  it('skips blank lines and accepts a last line without a newline', () => {
    expect(parseCsv('a,b\n\n1,2\n\n3,4').rows).toEqual([['1', '2'], ['3', '4']])
  })
  it('refuses ragged rows, duplicate names, unterminated quotes and empty input with one-line reasons', () => {
    expect(() => parseCsv('a,b\n1')).toThrow('CSV data row 1 has 1 fields, the header has 2')
    expect(() => parseCsv('a,a\n1,2')).toThrow('twice')
    expect(() => parseCsv('a\n"open')).toThrow('unterminated')
    expect(() => parseCsv('')).toThrow('empty')
  })
  it('round-trips any table of non-missing text through formatCsv', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', '中', '1') }).filter((s) => !['', 'NA', '?', 'NULL'].includes(s))
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((width) => fc.tuple(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: width, maxLength: width }),
        fc.array(fc.array(field, { minLength: width, maxLength: width }), { maxLength: 5 }),
      )), ([header, rows]) => {
        expect(parseCsv(formatCsv({ header, rows }))).toEqual({ header, rows })
      }),
      { numRuns: 60 },
    )
  })
})

describe('detectColumns', () => {
  it('makes a column numeric only when every present value is a plain number', () => {
    const [n, c, m, e] = detectColumns(parseCsv('n,c,m,e\n1.5,a,NA,\n-2e3,2,4,\n,3,0x10,'))
    expect(n?.kind).toBe('numeric')
    expect(Array.from(n?.values as Float64Array)).toEqual([1.5, -2000, Number.NaN])
    expect(c).toEqual({ kind: 'categorical', name: 'c', values: ['a', '2', '3'] })
    expect(m?.kind).toBe('categorical') // 0x10 is text, not a number
    expect(e?.kind).toBe('categorical') // nothing present
  })
})

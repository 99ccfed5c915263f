/**
 * @module scoring/csv
 * RFC 4180 CSV for model data: a header row, quoted fields (with `""` escapes, commas and line breaks
 * inside quotes), CRLF or LF line ends, an optional UTF-8 BOM. The tokens `` (empty), `NA`, `?` and
 * `NULL` are missing values, quoted or not. Pure: a string in, a table out (the CLI reads the file).
 *
 * Written here rather than taken from npm: the popular parsers are streaming and callback-shaped, bring
 * type coercion we would have to undo (missing tokens, numeric detection must see the whole column),
 * and we want one deterministic, dependency-free path from bytes to the training matrix.
 */
import { assert } from '../core/assert.ts'

/** The tokens read as a missing value (after unquoting). */
export const missingTokens: ReadonlySet<string> = new Set(['', 'NA', '?', 'NULL'])

/** A parsed CSV file: the header and the rows, missing fields as null. */
export type CsvTable = { readonly header: readonly string[]; readonly rows: readonly (readonly (string | null)[])[] }

/** A column ready for modelling: numbers (NaN = missing) or categories (null = missing). */
export type Column =
  | { readonly kind: 'numeric'; readonly name: string; readonly values: Float64Array }
  | { readonly kind: 'categorical'; readonly name: string; readonly values: readonly (string | null)[] }

/** Parses RFC 4180 text. Throws an Error with a one-line reason on malformed input. */
export function parseCsv(text: string): CsvTable {
  const records = parseRecords(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  const headerRecord = records.shift()
  if (headerRecord === undefined) throw new Error('the CSV file is empty: it needs a header row')
  const header = headerRecord.map((field) => field.trim())
  const seen = new Set<string>()
  for (const name of header) {
    if (name === '') throw new Error('the CSV header has an empty column name')
    if (seen.has(name)) throw new Error(`the CSV header names column "${name}" twice`)
    seen.add(name)
  }
  const rows = records.map((record, i) => {
    if (record.length !== header.length) throw new Error(`CSV data row ${i + 1} has ${record.length} fields, the header has ${header.length}`)
    return record.map((field) => (missingTokens.has(field) ? null : field))
  })
  return { header, rows }
}

function parseRecords(text: string): string[][] {
  const records: string[][] = []
  let record: string[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    let field: string
    if (text.charCodeAt(i) === 34 /* " */) {
      let value = ''
      let start = i + 1
      i = start
      while (true) {
        const q = text.indexOf('"', i)
        if (q < 0) throw new Error(`unterminated quoted field in CSV record ${records.length + 1}`)
        if (text.charCodeAt(q + 1) === 34) {
          value += text.slice(start, q + 1)
          i = q + 2
          start = i
          continue
        }
        value += text.slice(start, q)
        i = q + 1
        break
      }
      field = value
      const c = text.charCodeAt(i)
      if (i < n && c !== 44 && c !== 10 && c !== 13) throw new Error(`unexpected text after a closing quote in CSV record ${records.length + 1}`)
    } else {
      let j = i
      while (j < n) {
        const c = text.charCodeAt(j)
        if (c === 44 || c === 10 || c === 13) break
        j++
      }
      field = text.slice(i, j)
      i = j
    }
    record.push(field)
    const c = text.charCodeAt(i)
    if (c === 44) {
      i++
      if (i === n) record.push('')
      continue
    }
    // End of record (newline or end of text). Skip blank lines entirely.
    if (c === 13 && text.charCodeAt(i + 1) === 10) i += 2
    else if (i < n) i++
    if (!(record.length === 1 && record[0] === '')) records.push(record)
    record = []
  }
  if (record.length > 0) records.push(record) // text ended right after a comma
  return records
}

const numberPattern = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/

/** True when the text is a plain decimal number (no hex, no Infinity). */
export function isNumberText(text: string): boolean {
  return numberPattern.test(text)
}

/**
 * One column per header name. A column is numeric when every non-missing value is a plain decimal
 * number and at least one value is present; otherwise it is categorical (values kept as text).
 */
export function detectColumns(table: CsvTable): Column[] {
  return table.header.map((name, c) => {
    let present = 0
    let numeric = true
    for (const row of table.rows) {
      const value = row[c]
      if (value === null || value === undefined) continue
      present++
      if (!isNumberText(value)) {
        numeric = false
        break
      }
    }
    if (numeric && present > 0) {
      const values = new Float64Array(table.rows.length)
      table.rows.forEach((row, r) => {
        const value = row[c]
        values[r] = value === null || value === undefined ? Number.NaN : Number(value)
      })
      return { kind: 'numeric', name, values }
    }
    return { kind: 'categorical', name, values: table.rows.map((row) => row[c] ?? null) }
  })
}

/** Serialises a table back to RFC 4180 text (missing as an empty field), quoting where needed. */
export function formatCsv(table: CsvTable): string {
  const quote = (field: string | null) => {
    if (field === null) return ''
    return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field
  }
  assert(table.rows.every((row) => row.length === table.header.length), 'every row has a field per header column')
  return [table.header, ...table.rows].map((row) => row.map(quote).join(',')).join('\r\n') + '\r\n'
}

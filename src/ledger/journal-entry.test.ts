/**
 * Tests for the canonical journal entry encoding: the documented layout (the worked example of
 * docs/journal.md), round trips (fast-check), canonicality and refusal of malformed bytes and lines.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeJournalEntry, encodeJournalEntry, formatJournalExportLine, journalEntryBytes, journalLeafHash, parseJournalExportLine,
  type JournalEntry, type JournalEntryKind,
} from './journal-entry.ts'
import { formatHex, leafHash, parseHex } from './merkle.ts'

/** The worked example of docs/journal.md. */
const exampleEntry: JournalEntry = {
  tenantId: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
  index: 41,
  transferId: '0195f3c2-8a10-7b3c-9d4e-5f6a7b8c9d0e',
  debitAccountId: '0195f3c2-0000-7000-8000-000000000001',
  creditAccountId: '0195f3c2-0000-7000-8000-000000000002',
  amountMinor: 12_500_000n,
  currency: 'CNY',
  ledgerCode: 1122,
  flags: 0,
  pendingId: null,
  kind: 'posted',
  valueDate: '2026-03-31',
  postedAt: new Date('2026-03-31T08:15:30.123Z'),
  userData: 0n,
}
const exampleHex = '010190a1b2c3d47e5f8a6b7c8d9e0f1a2b00000000000000290195f3c28a107b3c9d4e5f6a7b8c9d0e0195f3c20000700080000000000000010195f3c200007000800000000000000200000000000000000000000000bebc20434e5900000462000000000000000000000000000000000000000000503f0000019d42f6494b0000000000000000'
const exampleLeafHash = 'f7bc4a518eba515720563cc219418a9e3e6c8f6b729239daf951dff4a5d7872e' // also checked with Python's hashlib

const kinds: JournalEntryKind[] = ['posted', 'pending', 'post_pending', 'void_pending', 'expire_pending']
const uuidArb = fc.uuid({ version: 7 })
const entryArb: fc.Arbitrary<JournalEntry> = fc.record({
  tenantId: uuidArb,
  index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  transferId: uuidArb,
  debitAccountId: uuidArb,
  creditAccountId: uuidArb,
  amountMinor: fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
  currency: fc.constantFrom('CNY', 'USD', 'EUR', 'HKD'),
  ledgerCode: fc.nat({ max: 0xffff_ffff }),
  flags: fc.nat({ max: 0xffff }),
  pendingId: fc.option(uuidArb, { nil: null }),
  kind: fc.constantFrom(...kinds),
  valueDate: fc.integer({ min: 0, max: 2_932_896 }).map((days) => new Date(days * 86_400_000).toISOString().slice(0, 10)),
  postedAt: fc.integer({ min: 0, max: 253_402_300_799_999 }).map((ms) => new Date(ms)),
  userData: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
})

function hex(text: string): Uint8Array {
  const bytes = parseHex(text)
  if (bytes === undefined) throw new Error(`not hex: ${text}`)
  return bytes
}

describe('journal entry encoding', () => {
  it('encodes the documented worked example byte for byte', () => {
    const bytes = encodeJournalEntry(exampleEntry)
    expect(bytes.length).toBe(journalEntryBytes)
    expect(formatHex(bytes)).toBe(exampleHex)
    expect(formatHex(leafHash(bytes))).toBe(exampleLeafHash)
  })
  it('hashes an entry in place as RFC 6962 hashes its encoding, entry after entry (nothing of the previous one left behind)', () => {
    expect(formatHex(journalLeafHash(exampleEntry))).toBe(exampleLeafHash)
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 2, maxLength: 6 }), (entries) => {
        for (const entry of entries) expect(formatHex(journalLeafHash(entry))).toBe(formatHex(leafHash(encodeJournalEntry(entry))))
      }),
      { numRuns: 300 },
    )
    // A pending id, then none: the second entry's pending id bytes are zeros again.
    const withPending = { ...exampleEntry, pendingId: '0195f3c2-0000-7000-8000-0000000000ff', kind: 'void_pending' as const }
    journalLeafHash(withPending)
    expect(formatHex(journalLeafHash(exampleEntry))).toBe(exampleLeafHash)
  })
  it('puts each field at its documented offset', () => {
    const bytes = encodeJournalEntry({ ...exampleEntry, pendingId: '0195f3c2-0000-7000-8000-0000000000ff', kind: 'void_pending', flags: 0x0102, userData: 0x0a0b_0c0dn })
    const field = (offset: number, length: number) => formatHex(bytes.subarray(offset, offset + length))
    expect(field(0, 1)).toBe('01')
    expect(field(1, 16)).toBe('0190a1b2c3d47e5f8a6b7c8d9e0f1a2b')
    expect(field(17, 8)).toBe('0000000000000029')
    expect(field(25, 16)).toBe('0195f3c28a107b3c9d4e5f6a7b8c9d0e')
    expect(field(73, 16)).toBe((12_500_000).toString(16).padStart(32, '0'))
    expect(field(89, 3)).toBe('434e59') // "CNY"
    expect(field(92, 4)).toBe('00000462') // 1122
    expect(field(96, 2)).toBe('0102')
    expect(field(98, 16)).toBe('0195f3c20000700080000000000000ff')
    expect(field(114, 1)).toBe('03')
    expect(field(115, 4)).toBe((20_543).toString(16).padStart(8, '0')) // 2026-03-31 is day 20543
    expect(field(119, 8)).toBe(Date.parse('2026-03-31T08:15:30.123Z').toString(16).padStart(16, '0'))
    expect(field(127, 8)).toBe('000000000a0b0c0d')
  })
  it('round-trips any entry, and re-encodes decoded bytes to the same bytes (fast-check)', () => {
    fc.assert(
      fc.property(entryArb, (entry) => {
        const bytes = encodeJournalEntry(entry)
        const decoded = decodeJournalEntry(bytes)
        expect(decoded).toEqual({ ...entry, tenantId: entry.tenantId.toLowerCase() })
        expect(encodeJournalEntry(decoded)).toEqual(bytes)
        const line = JSON.parse(JSON.stringify(formatJournalExportLine(entry))) as unknown
        const parsed = parseJournalExportLine(line)
        expect(parsed.ok && formatHex(encodeJournalEntry(parsed.entry))).toBe(formatHex(bytes))
        expect(parsed.ok && formatHex(parsed.leaf)).toBe(formatHex(bytes))
      }),
      { numRuns: 300 },
    )
  })
  it('refuses bytes of the wrong length, version or field values', () => {
    const good = encodeJournalEntry(exampleEntry)
    expect(() => decodeJournalEntry(good.subarray(1))).toThrow(/135 bytes, got 134/)
    expect(() => decodeJournalEntry(Uint8Array.of(...good, 0))).toThrow(/135 bytes, got 136/)
    const patched = (offset: number, value: number) => {
      const copy = good.slice()
      copy[offset] = value
      return copy
    }
    expect(() => decodeJournalEntry(patched(0, 2))).toThrow(/version 2/)
    expect(() => decodeJournalEntry(patched(114, 5))).toThrow(/kind 5/)
    expect(() => decodeJournalEntry(patched(89, 0x61))).toThrow(/currency/)
    expect(() => decodeJournalEntry(patched(17, 0xff))).toThrow(/index/)
    expect(() => decodeJournalEntry(patched(119, 0xff))).toThrow(/postedAt/)
    expect(() => decodeJournalEntry(patched(115, 0xff))).toThrow(/value date/)
  })
  it('refuses entries it cannot encode canonically', () => {
    expect(() => encodeJournalEntry({ ...exampleEntry, pendingId: '00000000-0000-0000-0000-000000000000' })).toThrow(/nil UUID/)
    expect(() => encodeJournalEntry({ ...exampleEntry, amountMinor: -1n })).toThrow(/u128/)
    expect(() => encodeJournalEntry({ ...exampleEntry, amountMinor: 2n ** 128n })).toThrow(/u128/)
    expect(() => encodeJournalEntry({ ...exampleEntry, currency: 'cny' })).toThrow(/currency/)
    expect(() => encodeJournalEntry({ ...exampleEntry, valueDate: '2026-02-30' })).toThrow(/value date/)
    expect(() => encodeJournalEntry({ ...exampleEntry, valueDate: '1969-12-31' })).toThrow(/value date/)
    expect(() => encodeJournalEntry({ ...exampleEntry, postedAt: new Date(NaN) })).toThrow(/postedAt/)
    expect(() => encodeJournalEntry({ ...exampleEntry, index: 1.5 })).toThrow(/index/)
    expect(() => encodeJournalEntry({ ...exampleEntry, tenantId: 'tenant-1' })).toThrow(/UUID/)
  })
  it('formats export lines with money and u64 as decimal strings, and parses them strictly', () => {
    const line = formatJournalExportLine(exampleEntry)
    expect(line).toEqual({
      index: 41, leafHex: exampleHex, tenantId: exampleEntry.tenantId, transferId: exampleEntry.transferId,
      debitAccountId: exampleEntry.debitAccountId, creditAccountId: exampleEntry.creditAccountId, amountMinor: '12500000', currency: 'CNY',
      ledgerCode: 1122, flags: 0, pendingId: null, kind: 'posted', valueDate: '2026-03-31', postedAt: '2026-03-31T08:15:30.123Z', userData: '0',
    })
    expect(parseJournalExportLine(line)).toEqual({ ok: true, entry: exampleEntry, leaf: hex(exampleHex) })
    const bad: Record<string, unknown>[] = [
      { ...line, amountMinor: 12500000 }, { ...line, amountMinor: '-1' }, { ...line, amountMinor: '1e3' }, { ...line, amountMinor: '007' },
      { ...line, index: '41' }, { ...line, leafHex: 'xyz' }, { ...line, leafHex: 'abc' }, { ...line, tenantId: 't1' },
      { ...line, pendingId: '00000000-0000-0000-0000-000000000000' }, { ...line, kind: 'settled' }, { ...line, valueDate: '2026-13-01' },
      { ...line, postedAt: '2026-03-31 08:15:30' }, { ...line, userData: '18446744073709551616' }, { ...line, memo: 'x' },
    ]
    for (const value of bad) expect(parseJournalExportLine(value).ok, JSON.stringify(value)).toBe(false)
    const { currency: _currency, ...missing } = line
    expect(parseJournalExportLine(missing)).toMatchObject({ ok: false, detail: expect.stringMatching(/exactly the fields/) })
    expect(parseJournalExportLine('{}')).toMatchObject({ ok: false })
  })
})

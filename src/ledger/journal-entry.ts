/**
 * @module ledger/journal-entry
 * The canonical byte encoding of a journal entry: one committed transfer of one tenant, as appended to
 * that tenant's journal and hashed into its Merkle tree (leaf = `SHA-256(0x00 || these bytes)`). The
 * layout is fixed-width, big-endian, and documented here and in docs/journal.md, so that an auditor can
 * decode it with any language. It holds ids, amounts and dates only: no personal data.
 *
 * Version 1, 135 bytes:
 *
 * | offset | bytes | field             | encoding                                                          |
 * |-------:|------:|-------------------|-------------------------------------------------------------------|
 * |      0 |     1 | version           | u8, always 1                                                      |
 * |      1 |    16 | tenantId          | UUID, 16 bytes in textual order                                   |
 * |     17 |     8 | index             | u64 BE: position in the tenant's journal, from 0                  |
 * |     25 |    16 | transferId        | UUID                                                              |
 * |     41 |    16 | debitAccountId    | UUID                                                              |
 * |     57 |    16 | creditAccountId   | UUID                                                              |
 * |     73 |    16 | amountMinor       | u128 BE, minor units of the currency                              |
 * |     89 |     3 | currency          | ISO 4217 code, 3 ASCII upper-case letters                         |
 * |     92 |     4 | ledgerCode        | u32 BE: chart-of-accounts code of the transfer, 0 if none         |
 * |     96 |     2 | flags             | u16 BE: the transfer's flags                                      |
 * |     98 |    16 | pendingId         | UUID of the pending transfer a post/void/expiry settles; zeros if none |
 * |    114 |     1 | kind              | u8: 0 posted (single-phase), 1 pending, 2 post_pending, 3 void_pending, 4 expire_pending |
 * |    115 |     4 | valueDate         | u32 BE: days since 1970-01-01                                     |
 * |    119 |     8 | postedAt          | u64 BE: milliseconds since the epoch (UTC)                        |
 * |    127 |     8 | userData          | u64 BE: the client's reference, 0 if none                         |
 *
 * The encoding is canonical: `encode(decode(b))` equals `b` for every `b` that decodes, so one entry has
 * one byte string (hence one leaf hash). That is why a nil UUID cannot be a `pendingId` (it would read as
 * "none") and why decoding refuses unknown kinds, non-letter currencies and out-of-range instants.
 *
 * The export line (`puhui journal export`, NDJSON) is `{"index", "leafHex", …fields}`: the decoded fields
 * in JSON (`amountMinor` and `userData` as decimal strings, `postedAt` as an ISO 8601 instant) beside the
 * leaf bytes in hex, so a reader can both read the entry and recompute the tree.
 */
import { assert } from '../core/assert.ts'
import { epochDayOfIsoDate } from '../core/calendar.ts'
import { writeInt64Number } from '../core/integers.ts'
import { isUuid } from '../core/ids.ts'
import { writeUuidBytes } from '../core/uuid-bytes.ts'
import { formatHex, leafHash, parseHex } from './merkle.ts'

/** How the transfer changed balances (TigerBeetle's two-phase model). */
export type JournalEntryKind = 'posted' | 'pending' | 'post_pending' | 'void_pending' | 'expire_pending'

export type JournalEntry = {
  readonly tenantId: string
  readonly index: number
  readonly transferId: string
  readonly debitAccountId: string
  readonly creditAccountId: string
  readonly amountMinor: bigint
  /** ISO 4217 code, e.g. 'CNY'. */
  readonly currency: string
  readonly ledgerCode: number
  readonly flags: number
  /** The pending transfer this entry posts, voids or expires; null when it settles none. */
  readonly pendingId: string | null
  readonly kind: JournalEntryKind
  /** Calendar date, 'YYYY-MM-DD'. */
  readonly valueDate: string
  readonly postedAt: Date
  readonly userData: bigint
}

/** One line of a journal export, as JSON (before `JSON.stringify`, after `JSON.parse`). */
export type JournalExportLine = {
  index: number
  leafHex: string
  tenantId: string
  transferId: string
  debitAccountId: string
  creditAccountId: string
  amountMinor: string
  currency: string
  ledgerCode: number
  flags: number
  pendingId: string | null
  kind: JournalEntryKind
  valueDate: string
  postedAt: string
  userData: string
}

export const journalEntryVersion = 1
export const journalEntryBytes = 135

const kindCodes = { posted: 0, pending: 1, post_pending: 2, void_pending: 3, expire_pending: 4 } as const satisfies Record<JournalEntryKind, number>
const kindByCode: readonly JournalEntryKind[] = ['posted', 'pending', 'post_pending', 'void_pending', 'expire_pending']
const two64 = 2n ** 64n
const u64Max = two64 - 1n
const u128Max = 2n ** 128n - 1n
const msPerDay = 86_400_000
/** Instants and dates stop at the end of year 9999, so that their ISO 8601 text keeps a 4-digit year. */
const instantMsMax = 253_402_300_799_999 // 9999-12-31T23:59:59.999Z
const valueDaysMax = 2_932_896 // 9999-12-31
const currencyPattern = /^[A-Z]{3}$/

/** Raised by `decodeJournalEntry` for bytes that are not a canonical version-1 entry. */
export class JournalEntryFormatError extends Error {
  override name = 'JournalEntryFormatError'
}

const offsets = {
  version: 0, tenantId: 1, index: 17, transferId: 25, debitAccountId: 41, creditAccountId: 57, amountMinor: 73,
  currency: 89, ledgerCode: 92, flags: 96, pendingId: 98, kind: 114, valueDate: 115, postedAt: 119, userData: 127,
} as const

function readUuid(bytes: Uint8Array, offset: number): string {
  const hex = formatHex(bytes.subarray(offset, offset + 16))
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0)
}

function formatDays(days: number): string {
  return new Date(days * msPerDay).toISOString().slice(0, 10)
}

/** The canonical bytes of a journal entry (see the module comment for the layout). */
export function encodeJournalEntry(entry: JournalEntry): Uint8Array {
  const bytes = new Uint8Array(journalEntryBytes)
  writeJournalEntry(entry, bytes, new DataView(bytes.buffer), 0)
  return bytes
}

/** One entry's bytes, reused by `journalLeafHash` (`leafHash` copies them before hashing). */
const entryScratch = new Uint8Array(journalEntryBytes)
const entryScratchView = new DataView(entryScratch.buffer)

/**
 * The RFC 6962 leaf hash of an entry, `leafHash(encodeJournalEntry(entry))`, without allocating the
 * entry's bytes: the journal's write path hashes every transfer, and a fresh buffer per entry was a good
 * part of its garbage.
 */
export function journalLeafHash(entry: JournalEntry): Uint8Array {
  writeJournalEntry(entry, entryScratch, entryScratchView, 0)
  return leafHash(entryScratch)
}

/** Writes every byte of the entry at `at` (the scratch buffer is reused: nothing may be left unwritten). */
function writeJournalEntry(entry: JournalEntry, bytes: Uint8Array, view: DataView, at: number): void {
  view.setUint8(at + offsets.version, journalEntryVersion)
  writeUuidBytes(bytes, at + offsets.tenantId, entry.tenantId)
  assert(Number.isSafeInteger(entry.index) && entry.index >= 0, () => `index ${entry.index} must be a non-negative safe integer`)
  writeInt64Number(view, at + offsets.index, entry.index)
  writeUuidBytes(bytes, at + offsets.transferId, entry.transferId)
  writeUuidBytes(bytes, at + offsets.debitAccountId, entry.debitAccountId)
  writeUuidBytes(bytes, at + offsets.creditAccountId, entry.creditAccountId)
  assert(entry.amountMinor >= 0n && entry.amountMinor <= u128Max, () => `amount ${entry.amountMinor} outside u128`)
  // Amounts beyond 64 bits are rare: no bigint division for the others.
  const amountHigh = entry.amountMinor <= u64Max ? 0n : entry.amountMinor / two64
  view.setBigUint64(at + offsets.amountMinor, amountHigh)
  view.setBigUint64(at + offsets.amountMinor + 8, amountHigh === 0n ? entry.amountMinor : entry.amountMinor % two64)
  assert(currencyPattern.test(entry.currency), () => `currency ${entry.currency} must be 3 upper-case ASCII letters`)
  for (let i = 0; i < 3; i++) view.setUint8(at + offsets.currency + i, entry.currency.charCodeAt(i))
  assert(Number.isInteger(entry.ledgerCode) && entry.ledgerCode >= 0 && entry.ledgerCode <= 0xffff_ffff, () => `ledger code ${entry.ledgerCode} outside u32`)
  view.setUint32(at + offsets.ledgerCode, entry.ledgerCode)
  assert(Number.isInteger(entry.flags) && entry.flags >= 0 && entry.flags <= 0xffff, () => `flags ${entry.flags} outside u16`)
  view.setUint16(at + offsets.flags, entry.flags)
  if (entry.pendingId !== null) {
    writeUuidBytes(bytes, at + offsets.pendingId, entry.pendingId)
    assert(!isZero(bytes.subarray(at + offsets.pendingId, at + offsets.pendingId + 16)), 'the nil UUID cannot be a pending id (zeros mean none)')
  } else {
    bytes.fill(0, at + offsets.pendingId, at + offsets.pendingId + 16)
  }
  view.setUint8(at + offsets.kind, kindCodes[entry.kind])
  const days = epochDayOfIsoDate(entry.valueDate)
  assert(days !== undefined && days >= 0, () => `value date ${entry.valueDate} must be a calendar date from 1970-01-01`)
  view.setUint32(at + offsets.valueDate, days)
  const postedAtMs = entry.postedAt.getTime()
  assert(Number.isSafeInteger(postedAtMs) && postedAtMs >= 0 && postedAtMs <= instantMsMax, () => `postedAt ${entry.postedAt.toString()} must be a valid instant in 1970..9999`)
  writeInt64Number(view, at + offsets.postedAt, postedAtMs)
  assert(entry.userData >= 0n && entry.userData <= u64Max, () => `user data ${entry.userData} outside u64`)
  view.setBigUint64(at + offsets.userData, entry.userData)
}

/** Decodes canonical entry bytes; throws `JournalEntryFormatError` on a wrong length, version or field. */
export function decodeJournalEntry(bytes: Uint8Array): JournalEntry {
  if (bytes.length !== journalEntryBytes) throw new JournalEntryFormatError(`a journal entry is ${journalEntryBytes} bytes, got ${bytes.length}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint8(offsets.version)
  if (version !== journalEntryVersion) throw new JournalEntryFormatError(`unknown journal entry version ${version}`)
  const index = view.getBigUint64(offsets.index)
  if (index > BigInt(Number.MAX_SAFE_INTEGER)) throw new JournalEntryFormatError(`index ${index} exceeds 2^53 - 1`)
  const amountMinor = view.getBigUint64(offsets.amountMinor) * two64 + view.getBigUint64(offsets.amountMinor + 8)
  const currency = String.fromCharCode(...bytes.subarray(offsets.currency, offsets.currency + 3))
  if (!currencyPattern.test(currency)) throw new JournalEntryFormatError('currency is not 3 upper-case ASCII letters')
  const pendingBytes = bytes.subarray(offsets.pendingId, offsets.pendingId + 16)
  const kind = kindByCode[view.getUint8(offsets.kind)]
  if (kind === undefined) throw new JournalEntryFormatError(`unknown entry kind ${view.getUint8(offsets.kind)}`)
  const postedAtMs = view.getBigUint64(offsets.postedAt)
  if (postedAtMs > BigInt(instantMsMax)) throw new JournalEntryFormatError(`postedAt ${postedAtMs} ms is after 9999-12-31`)
  const valueDays = view.getUint32(offsets.valueDate)
  if (valueDays > valueDaysMax) throw new JournalEntryFormatError(`value date ${valueDays} days is after 9999-12-31`)
  return {
    tenantId: readUuid(bytes, offsets.tenantId),
    index: parseIntSafe(index),
    transferId: readUuid(bytes, offsets.transferId),
    debitAccountId: readUuid(bytes, offsets.debitAccountId),
    creditAccountId: readUuid(bytes, offsets.creditAccountId),
    amountMinor,
    currency,
    ledgerCode: view.getUint32(offsets.ledgerCode),
    flags: view.getUint16(offsets.flags),
    pendingId: isZero(pendingBytes) ? null : readUuid(bytes, offsets.pendingId),
    kind,
    valueDate: formatDays(valueDays),
    postedAt: new Date(parseIntSafe(postedAtMs)),
    userData: view.getBigUint64(offsets.userData),
  }
}

/** A bigint known to be a safe integer, as a number (counts and instants, never money). */
function parseIntSafe(value: bigint): number {
  assert(value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER))
  return parseInt(value.toString(), 10)
}

/** The export line of an entry: its JSON fields and its canonical bytes in hex. */
export function formatJournalExportLine(entry: JournalEntry): JournalExportLine {
  return {
    index: entry.index,
    leafHex: formatHex(encodeJournalEntry(entry)),
    tenantId: entry.tenantId.toLowerCase(),
    transferId: entry.transferId.toLowerCase(),
    debitAccountId: entry.debitAccountId.toLowerCase(),
    creditAccountId: entry.creditAccountId.toLowerCase(),
    amountMinor: entry.amountMinor.toString(),
    currency: entry.currency,
    ledgerCode: entry.ledgerCode,
    flags: entry.flags,
    pendingId: entry.pendingId === null ? null : entry.pendingId.toLowerCase(),
    kind: entry.kind,
    valueDate: entry.valueDate,
    postedAt: entry.postedAt.toISOString(),
    userData: entry.userData.toString(),
  }
}

const exportLineKeys = [
  'amountMinor', 'creditAccountId', 'currency', 'debitAccountId', 'flags', 'index', 'kind', 'leafHex', 'ledgerCode',
  'pendingId', 'postedAt', 'tenantId', 'transferId', 'userData', 'valueDate',
].join(',')
const unsignedDecimalPattern = /^(?:0|[1-9]\d*)$/
const isoInstantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/

/** 'YYYY-MM-DDTHH:MM:SS[.sss]Z' in 1970..9999 → Date, or undefined (no time zone offsets, no impossible dates). */
function parseInstant(text: string): Date | undefined {
  if (!isoInstantPattern.test(text)) return undefined
  const date = new Date(text)
  const ms = date.getTime()
  if (Number.isNaN(ms) || ms < 0 || ms > instantMsMax) return undefined
  if (date.toISOString().slice(0, 19) !== text.slice(0, 19)) return undefined
  return date
}

type ParsedExportLine = { ok: true; entry: JournalEntry; leaf: Uint8Array; storedLeafHash: Uint8Array | undefined } | { ok: false; detail: string }

/**
 * Reads a parsed NDJSON export line: exactly the export fields, each well formed. Returns the entry its
 * fields describe and the leaf bytes from `leafHex` (not yet compared: that is the verifier's job).
 */
export function parseJournalExportLine(value: unknown): ParsedExportLine {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, detail: 'line is not a JSON object' }
  const line = value as Record<string, unknown>
  // `storedLeafHash` (optional): the leaf hash the ledger recorded at commit, exported beside the fields
  // re-read from storage, so that a stored row changed afterwards is found at its own index.
  const keys = Object.keys(line).filter((key) => key !== 'storedLeafHash').sort().join(',')
  if (keys !== exportLineKeys) return { ok: false, detail: `line must have exactly the fields ${exportLineKeys} (and optionally storedLeafHash); got ${keys}` }
  const storedLeafHash = line.storedLeafHash === undefined ? undefined : typeof line.storedLeafHash === 'string' ? parseHex(line.storedLeafHash) : undefined
  if (line.storedLeafHash !== undefined && (storedLeafHash === undefined || storedLeafHash.length !== 32)) return { ok: false, detail: 'storedLeafHash must be 32 bytes of hex' }
  const { index, leafHex, amountMinor, currency, ledgerCode, flags, pendingId, kind, valueDate, postedAt, userData } = line
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) return { ok: false, detail: 'index must be a non-negative integer' }
  const leaf = typeof leafHex === 'string' ? parseHex(leafHex) : undefined
  if (leaf === undefined) return { ok: false, detail: 'leafHex must be hex' }
  for (const field of ['tenantId', 'transferId', 'debitAccountId', 'creditAccountId'] as const) {
    const id = line[field]
    if (typeof id !== 'string' || !isUuid(id)) return { ok: false, detail: `${field} must be a UUID` }
  }
  if (pendingId !== null && (typeof pendingId !== 'string' || !isUuid(pendingId) || /^[0-]+$/.test(pendingId))) return { ok: false, detail: 'pendingId must be a non-nil UUID or null' }
  if (typeof amountMinor !== 'string' || !unsignedDecimalPattern.test(amountMinor) || BigInt(amountMinor) > u128Max) return { ok: false, detail: 'amountMinor must be a decimal string of a u128' }
  if (typeof currency !== 'string' || !currencyPattern.test(currency)) return { ok: false, detail: 'currency must be 3 upper-case letters' }
  if (typeof ledgerCode !== 'number' || !Number.isInteger(ledgerCode) || ledgerCode < 0 || ledgerCode > 0xffff_ffff) return { ok: false, detail: 'ledgerCode must be a u32' }
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffff) return { ok: false, detail: 'flags must be a u16' }
  if (typeof kind !== 'string' || !Object.hasOwn(kindCodes, kind)) return { ok: false, detail: `kind must be one of ${kindByCode.join(', ')}` }
  const days = typeof valueDate === 'string' ? epochDayOfIsoDate(valueDate) : undefined
  if (days === undefined || days < 0) return { ok: false, detail: 'valueDate must be a calendar date YYYY-MM-DD from 1970-01-01' }
  const postedAtDate = typeof postedAt === 'string' ? parseInstant(postedAt) : undefined
  if (postedAtDate === undefined) return { ok: false, detail: 'postedAt must be an ISO 8601 UTC instant (YYYY-MM-DDTHH:MM:SS.sssZ) in 1970..9999' }
  if (typeof userData !== 'string' || !unsignedDecimalPattern.test(userData) || BigInt(userData) > u64Max) return { ok: false, detail: 'userData must be a decimal string of a u64' }
  const entry: JournalEntry = {
    tenantId: line.tenantId as string,
    index,
    transferId: line.transferId as string,
    debitAccountId: line.debitAccountId as string,
    creditAccountId: line.creditAccountId as string,
    amountMinor: BigInt(amountMinor),
    currency,
    ledgerCode,
    flags,
    pendingId,
    kind: kind as JournalEntryKind,
    valueDate: valueDate as string,
    postedAt: postedAtDate,
    userData: BigInt(userData),
  }
  return { ok: true, entry, leaf, storedLeafHash }
}

/**
 * Tamper tests for the offline journal verifier: a valid export verifies; a changed amount (in leafHex, in
 * the decoded field, or in both consistently), a removed, inserted, duplicated or swapped line, a short
 * export, a bad signature and malformed lines each fail with the documented reason and first bad index.
 */
import crypto from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeJournalEntry, formatJournalExportLine, type JournalEntry, type JournalExportLine } from './journal-entry.ts'
import { verifyJournalExport } from './journal-verify.ts'
import { formatHex, leafHash, parseHex, rootFromLeafHashes } from './merkle.ts'
import { signTreeHead, type SignedTreeHead } from './tree-head.ts'

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
const signer = (message: Uint8Array) => ({ keyId: 'k1', signature: crypto.sign(null, message, privateKey).toString('base64') })

const tenantId = '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b'
function uuidOf(n: number): string {
  return `0195f3c2-0000-7000-8000-${n.toString(16).padStart(12, '0')}`
}
function entryAt(index: number): JournalEntry {
  return {
    tenantId, index, transferId: uuidOf(1000 + index), debitAccountId: uuidOf(index % 3), creditAccountId: uuidOf(3 + (index % 5)),
    amountMinor: 10_000n + BigInt(index) * 137n, currency: 'CNY', ledgerCode: 1122, flags: 0,
    pendingId: index % 4 === 2 ? uuidOf(2000 + index) : null, kind: index % 4 === 2 ? 'post_pending' : 'posted',
    valueDate: '2026-03-31', postedAt: new Date(1_774_944_000_000 + index * 1000), userData: BigInt(index),
  }
}

/** A journal of n entries as exported (JSON round-tripped lines) and a head signed over the first `treeSize`. */
function buildExport(n: number, treeSize = n): { lines: JournalExportLine[]; sth: SignedTreeHead } {
  const entries = Array.from({ length: n }, (_, i) => entryAt(i))
  const lines = entries.map((entry) => JSON.parse(JSON.stringify(formatJournalExportLine(entry))) as JournalExportLine)
  const rootHash = rootFromLeafHashes(entries.slice(0, treeSize).map((entry) => leafHash(encodeJournalEntry(entry))))
  return { lines, sth: signTreeHead({ treeSize, timestamp: 1_774_944_600_000, rootHash }, signer) }
}

function flipLeafByte(leafHex: string, offset: number): string {
  const bytes = parseHex(leafHex)!
  bytes[offset]! ^= 0x01
  return formatHex(bytes)
}
const amountLastByte = 73 + 15

describe('verifyJournalExport', () => {
  it('accepts a valid export, and one that runs past the signed head', () => {
    const { lines, sth } = buildExport(20)
    expect(verifyJournalExport(lines, sth, publicKeyPem)).toEqual({ ok: true, treeSize: 20, lineCount: 20 })
    const longer = buildExport(25, 20)
    expect(verifyJournalExport(longer.lines, longer.sth, publicKeyPem)).toEqual({ ok: true, treeSize: 20, lineCount: 25 })
    const empty = buildExport(0)
    expect(verifyJournalExport([], empty.sth, publicKeyPem)).toEqual({ ok: true, treeSize: 0, lineCount: 0 })
  })
  it('flags a byte of the amount flipped in leafHex at that index', () => {
    const { lines, sth } = buildExport(20)
    lines[7] = { ...lines[7]!, leafHex: flipLeafByte(lines[7]!.leafHex, amountLastByte) }
    expect(verifyJournalExport(lines, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'leaf_fields_mismatch', firstBadIndex: 7, detail: expect.stringMatching(/amountMinor/) })
  })
  it('flags the decoded amount edited (leafHex kept) at that index', () => {
    const { lines, sth } = buildExport(20)
    lines[7] = { ...lines[7]!, amountMinor: (BigInt(lines[7]!.amountMinor) ^ 1n).toString() }
    expect(verifyJournalExport(lines, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'leaf_fields_mismatch', firstBadIndex: 7 })
  })
  it('reports root_mismatch without an index when the amount was changed in both consistently', () => {
    const { lines, sth } = buildExport(20)
    const amountMinor = (BigInt(lines[7]!.amountMinor) ^ 1n).toString()
    lines[7] = { ...lines[7]!, amountMinor, leafHex: flipLeafByte(lines[7]!.leafHex, amountLastByte) }
    expect(verifyJournalExport(lines, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'root_mismatch', firstBadIndex: null })
  })
  it('names the index of a deleted line', () => {
    const { lines, sth } = buildExport(20)
    lines.splice(5, 1)
    expect(verifyJournalExport(lines, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'index_sequence', firstBadIndex: 5 })
  })
  it('names the index of an inserted line, whether it copies a later entry or claims the index it sits at', () => {
    const copied = buildExport(20)
    copied.lines.splice(3, 0, copied.lines[9]!)
    expect(verifyJournalExport(copied.lines, copied.sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'index_sequence', firstBadIndex: 3 })
    const forged = buildExport(20)
    forged.lines.splice(5, 0, formatJournalExportLine({ ...entryAt(5), amountMinor: 1n }))
    expect(verifyJournalExport(forged.lines, forged.sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'index_sequence', firstBadIndex: 5, detail: expect.stringMatching(/repeats index 5/) })
    const duplicated = buildExport(20)
    duplicated.lines.push(duplicated.lines[2]!)
    expect(verifyJournalExport(duplicated.lines, duplicated.sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'index_sequence', firstBadIndex: 2 })
  })
  it('names the first of two swapped lines', () => {
    const { lines, sth } = buildExport(20)
    ;[lines[4], lines[11]] = [lines[11]!, lines[4]!]
    expect(verifyJournalExport(lines, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'index_sequence', firstBadIndex: 4 })
  })
  it('names the first missing index when the export is shorter than the head', () => {
    const { lines, sth } = buildExport(20)
    lines.splice(17)
    expect(verifyJournalExport(lines, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'tree_size_exceeds_export', firstBadIndex: 17 })
  })
  it('reports root_mismatch when a deletion was hidden by renumbering and re-encoding every later entry', () => {
    const { lines, sth } = buildExport(20)
    const renumbered = [...lines.slice(0, 5), ...Array.from({ length: 14 }, (_, i) => formatJournalExportLine(entryAt(6 + i))).map((line, i) => {
      const entry = { ...entryAt(6 + i), index: 5 + i }
      return { ...line, index: entry.index, leafHex: formatHex(encodeJournalEntry(entry)) }
    })]
    const short = signTreeHead({ treeSize: 19, timestamp: sth.timestamp, rootHash: rootFromLeafHashes(lines.slice(0, 19).map((l) => leafHash(parseHex(l.leafHex)!))) }, signer)
    expect(verifyJournalExport(renumbered, short, publicKeyPem)).toMatchObject({ ok: false, reason: 'root_mismatch', firstBadIndex: null })
  })
  it('refuses a head with a bad signature, another key or a malformed head, before anything else', () => {
    const { lines, sth } = buildExport(20)
    expect(verifyJournalExport(lines, { ...sth, treeSize: 19 }, publicKeyPem)).toMatchObject({ ok: false, reason: 'signature_invalid', firstBadIndex: null })
    expect(verifyJournalExport(lines, { ...sth, rootHash: formatHex(new Uint8Array(32)) }, publicKeyPem)).toMatchObject({ ok: false, reason: 'signature_invalid' })
    const otherKey = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
    expect(verifyJournalExport(lines, sth, otherKey)).toMatchObject({ ok: false, reason: 'signature_invalid', detail: expect.stringMatching(/k1/) })
    expect(verifyJournalExport(lines, { ...sth, signature: undefined }, publicKeyPem)).toMatchObject({ ok: false, reason: 'signature_invalid' })
    expect(verifyJournalExport(lines, 'sth', publicKeyPem)).toMatchObject({ ok: false, reason: 'signature_invalid' })
  })
  it('names a malformed line by its position', () => {
    const { lines, sth } = buildExport(20)
    const withGarbage: unknown[] = [...lines]
    withGarbage[6] = { ...lines[6]!, amountMinor: 10_822 }
    expect(verifyJournalExport(withGarbage, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'malformed_line', firstBadIndex: 6, detail: expect.stringMatching(/^line 7: amountMinor/) })
    withGarbage[6] = null
    expect(verifyJournalExport(withGarbage, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'malformed_line', firstBadIndex: 6 })
    const truncatedLeaf: unknown[] = [...lines]
    truncatedLeaf[6] = { ...lines[6]!, leafHex: lines[6]!.leafHex.slice(0, -2) }
    expect(verifyJournalExport(truncatedLeaf, sth, publicKeyPem)).toMatchObject({ ok: false, reason: 'leaf_fields_mismatch', firstBadIndex: 6, detail: expect.stringMatching(/135 bytes/) })
  })
  it('locates any single-line tampering at its index, or reports root_mismatch only for consistent re-encoding (fast-check)', () => {
    const { lines, sth } = buildExport(40)
    fc.assert(
      fc.property(fc.nat(39), fc.nat(134), fc.constantFrom('leaf', 'field', 'both', 'delete'), (at, byte, how) => {
        const copy = lines.map((line) => ({ ...line }))
        const target = copy[at]!
        const amountMinor = (BigInt(target.amountMinor) + 1n).toString()
        if (how === 'leaf') target.leafHex = flipLeafByte(target.leafHex, byte)
        if (how === 'field') target.amountMinor = amountMinor
        if (how === 'both') target.leafHex = formatHex(encodeJournalEntry({ ...entryAt(at), amountMinor: BigInt(amountMinor) }))
        if (how === 'both') target.amountMinor = amountMinor
        if (how === 'delete') copy.splice(at, 1)
        const result = verifyJournalExport(copy, sth, publicKeyPem)
        expect(result.ok).toBe(false)
        if (result.ok) return
        if (how === 'both') expect(result).toMatchObject({ reason: 'root_mismatch', firstBadIndex: null })
        else if (how === 'delete' && at === 39) expect(result).toMatchObject({ reason: 'tree_size_exceeds_export', firstBadIndex: 39 })
        else expect(result.firstBadIndex).toBe(at)
      }),
      { numRuns: 200 },
    )
  })
})

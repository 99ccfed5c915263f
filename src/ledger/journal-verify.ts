/**
 * @module ledger/journal-verify
 * Offline verification of a tenant's journal export (`puhui journal verify`): no database, no trust in
 * Puhui. Input: the export's lines (NDJSON, parsed by the caller), a signed tree head, the public key.
 *
 * Checks, in this order (the first failure is reported):
 *
 * 1. the STH is well formed and its Ed25519 signature verifies (`signature_invalid`): without a trusted
 *    head nothing else can be vouched for;
 * 2. line by line, from the top:
 *    - the line has exactly the export fields, well formed (`malformed_line`);
 *    - its fields encode to exactly its `leafHex` bytes (`leaf_fields_mismatch`): a field edited while
 *      `leafHex` was kept, or the other way round;
 *    - its `index` (which is inside the leaf bytes) equals its position (`index_sequence`);
 * 3. the export holds at least `sth.treeSize` lines (`tree_size_exceeds_export`);
 * 4. the RFC 6962 root of the first `sth.treeSize` leaves equals `sth.rootHash` (`root_mismatch`).
 *
 * What `firstBadIndex` means, and where it can be exact:
 *
 * - Each leaf carries its own index, so a removed, inserted, duplicated or reordered line shows up as an
 *   index that is not its position. firstBadIndex is the smallest journal index the fault touches: the
 *   position of the first out-of-place line, or, if that line repeats an earlier index, that index (for
 *   an inserted copy we cannot tell which of the two claimants is genuine, only that index is in doubt).
 * - A field/leaf mismatch and a malformed line are reported at their position.
 * - If lines are missing at the end, firstBadIndex is the first missing index.
 * - A root mismatch with every line internally consistent (someone changed an entry *and* re-encoded its
 *   leaf consistently, or replaced the export wholesale) cannot be localized from the root alone: the
 *   result is `root_mismatch` with firstBadIndex = null. Localizing it needs more signed data, e.g.
 *   earlier tree heads plus consistency proofs, or a per-entry inclusion proof checked against the head.
 * - A bad signature has firstBadIndex = null.
 *
 * Lines beyond `sth.treeSize` are still checked for internal consistency, but the head does not cover
 * them: the result says how many lines the head vouches for (`treeSize`) and how many there were.
 */
import { decodeJournalEntry, parseJournalExportLine, encodeJournalEntry } from './journal-entry.ts'
import { equalBytes, formatHex, leafHash, rootFromLeafHashes } from './merkle.ts'
import { parseSignedTreeHead, verifyTreeHead } from './tree-head.ts'

export type JournalVerifyFailure =
  /** The tree head is malformed, or its signature does not verify with the given key. */
  | 'signature_invalid'
  /** A line is not an object with exactly the export fields, each well formed. */
  | 'malformed_line'
  /** A line's fields do not encode to its leafHex (one of the two was changed). */
  | 'leaf_fields_mismatch'
  /** A line's entry does not hash to the leaf hash the ledger stored at commit: the stored row was changed. */
  | 'stored_leaf_hash_mismatch'
  /** A line's index is not its position: a line was removed, inserted, duplicated or moved. */
  | 'index_sequence'
  /** The tree head covers more entries than the export holds. */
  | 'tree_size_exceeds_export'
  /** Every line is consistent, but the tree they make is not the signed one. */
  | 'root_mismatch'

export type JournalVerifyResult =
  | { ok: true; treeSize: number; lineCount: number }
  | { ok: false; firstBadIndex: number | null; reason: JournalVerifyFailure; detail: string }

function fail(reason: JournalVerifyFailure, firstBadIndex: number | null, detail: string): JournalVerifyResult {
  return { ok: false, firstBadIndex, reason, detail }
}

/** Checks one line at its position; returns its leaf bytes or the failure. */
function checkLine(value: unknown, position: number): { ok: true; leaf: Uint8Array } | { ok: false; failure: JournalVerifyResult } {
  const parsed = parseJournalExportLine(value)
  if (!parsed.ok) return { ok: false, failure: fail('malformed_line', position, `line ${position + 1}: ${parsed.detail}`) }
  let fromLeaf: ReturnType<typeof decodeJournalEntry>
  try {
    fromLeaf = decodeJournalEntry(parsed.leaf)
  } catch (error) {
    return { ok: false, failure: fail('leaf_fields_mismatch', position, `line ${position + 1}: leafHex is not a journal entry (${(error as Error).message})`) }
  }
  const fromFields = encodeJournalEntry(parsed.entry)
  if (!equalBytes(fromFields, parsed.leaf)) {
    const differing = differingFields(parsed.entry, fromLeaf)
    return { ok: false, failure: fail('leaf_fields_mismatch', position, `line ${position + 1}: fields differ from leafHex in ${differing.join(', ') || 'their encoding'}`) }
  }
  if (parsed.storedLeafHash !== undefined && !equalBytes(leafHash(parsed.leaf), parsed.storedLeafHash)) {
    return { ok: false, failure: fail('stored_leaf_hash_mismatch', position, `line ${position + 1}: the entry hashes to ${formatHex(leafHash(parsed.leaf))}, but the ledger recorded ${formatHex(parsed.storedLeafHash)} when it committed this transfer`) }
  }
  const index = fromLeaf.index
  if (index !== position) {
    const firstBadIndex = Math.min(index, position)
    const what = index < position ? `repeats index ${index} (a line was inserted or duplicated)` : `has index ${index} where ${position} belongs (a line was removed or moved)`
    return { ok: false, failure: fail('index_sequence', firstBadIndex, `line ${position + 1} ${what}`) }
  }
  return { ok: true, leaf: parsed.leaf }
}

function differingFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const text = (value: unknown) => (value instanceof Date ? value.toISOString() : typeof value === 'string' ? value.toLowerCase() : String(value))
  return Object.keys(a).filter((key) => text(a[key]) !== text(b[key]))
}

/**
 * Verifies a journal export against a signed tree head and the signing public key (SPKI PEM).
 *
 * @example
 * const lines = ndjson.split('\n').filter(Boolean).map((l) => JSON.parse(l))
 * verifyJournalExport(lines, JSON.parse(sthJson), publicKeyPem) // { ok: true, treeSize, lineCount } or the first fault
 */
export function verifyJournalExport(lines: readonly unknown[], sth: unknown, publicKeyPem: string): JournalVerifyResult {
  const head = parseSignedTreeHead(sth)
  if (!head.ok) return fail('signature_invalid', null, `tree head: ${head.detail}`)
  if (!verifyTreeHead(head.sth, publicKeyPem)) return fail('signature_invalid', null, `the tree head's signature does not verify with the given public key (tree head names key ${head.sth.keyId})`)

  const leafHashes: Uint8Array[] = []
  for (let position = 0; position < lines.length; position++) {
    const checked = checkLine(lines[position], position)
    if (!checked.ok) return checked.failure
    leafHashes.push(leafHash(checked.leaf))
  }

  const { treeSize } = head.sth
  if (treeSize > lines.length) return fail('tree_size_exceeds_export', lines.length, `the tree head covers ${treeSize} entries but the export holds ${lines.length}: entries ${lines.length}..${treeSize - 1} are missing`)
  const root = formatHex(rootFromLeafHashes(leafHashes.slice(0, treeSize)))
  if (root !== head.sth.rootHash) return fail('root_mismatch', null, `the first ${treeSize} entries hash to ${root}, the tree head says ${head.sth.rootHash}; every line is self-consistent, so an entry was re-encoded consistently and cannot be located from the root alone`)
  return { ok: true, treeSize, lineCount: lines.length }
}

/**
 * @module ledger/merkle-cli
 * The pure part of `puhui merkle …`, the low-level tool for checking our RFC 6962 hashing against other
 * implementations. Each argument is one raw leaf (the entry bytes, not its hash) in hex; an empty
 * argument is a valid empty leaf. Each function returns the single line to print on stdout, or throws an
 * Error whose message is the one-line reason for stderr.
 *
 * - `puhui merkle root HEX...`                  → root hex (no leaves: SHA-256 of the empty string)
 * - `puhui merkle inclusion --index I HEX...`   → JSON array of hex hashes, RFC 6962 PATH(I, D[n])
 * - `puhui merkle consistency --from M HEX...`  → JSON array of hex hashes, RFC 6962 PROOF(M, D[n])
 */
import { consistencyProof, formatHex, inclusionProof, leafHash, parseHex, rootFromLeafHashes } from './merkle.ts'

function parseLeafArguments(hexArgs: readonly string[]): Uint8Array[] {
  return hexArgs.map((arg, i) => {
    const bytes = parseHex(arg)
    if (bytes === undefined) {
      const shown = arg.length > 40 ? `${arg.slice(0, 40)}…` : arg
      throw new Error(`leaf argument ${i + 1} ("${shown}") is not hex: use an even number of hex digits 0-9a-f`)
    }
    return leafHash(bytes)
  })
}

/** `puhui merkle root HEX...`: the tree hash, as hex. */
export function merkleRootCommand(hexArgs: readonly string[]): string {
  return formatHex(rootFromLeafHashes(parseLeafArguments(hexArgs)))
}

/** `puhui merkle inclusion --index I HEX...`: the audit path of leaf I (0-based) as a JSON array of hex. */
export function merkleInclusionCommand(index: number, hexArgs: readonly string[]): string {
  const leafHashes = parseLeafArguments(hexArgs)
  if (!Number.isSafeInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new Error(leafHashes.length === 0 ? 'an inclusion proof needs at least one leaf' : `--index must be an integer from 0 to ${leafHashes.length - 1}, got ${index}`)
  }
  return JSON.stringify(inclusionProof(index, leafHashes).map(formatHex))
}

/** `puhui merkle consistency --from M HEX...`: PROOF(M, D[n]) as a JSON array of hex ([] for M = 0 or M = n). */
export function merkleConsistencyCommand(from: number, hexArgs: readonly string[]): string {
  const leafHashes = parseLeafArguments(hexArgs)
  if (!Number.isSafeInteger(from) || from < 0 || from > leafHashes.length) {
    throw new Error(`--from must be an integer from 0 to ${leafHashes.length} (the number of leaves), got ${from}`)
  }
  return JSON.stringify(consistencyProof(from, leafHashes).map(formatHex))
}

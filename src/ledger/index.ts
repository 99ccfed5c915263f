/**
 * @module ledger
 * The ledger's public surface: double-entry accounts and transfers (pure core and service), the
 * journal's Merkle tree, tree heads, entry encoding and offline verification.
 */
export * from './transfer.ts'
export * from './account.ts'
export * from './ledger-service.ts'
export { formatHex, parseHex, leafHash, rootFromLeafHashes, verifyInclusion, verifyConsistency } from './merkle.ts'
export { verifyTreeHead, type SignedTreeHead } from './tree-head.ts'
export { encodeJournalEntry, decodeJournalEntry, type JournalEntry } from './journal-entry.ts'
export { verifyJournalExport } from './journal-verify.ts'

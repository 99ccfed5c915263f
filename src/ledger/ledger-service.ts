/**
 * @module ledger/ledger-service
 * The shell around the pure core. Every append locks the tenant's journal head (so journal order is
 * commit order and appends never fork), decides with `applyTransfers`, then writes with one set-based
 * statement (`unnest` of arrays: 8,190 rows would exceed PostgreSQL's 65,535 bind parameters as VALUES):
 * the transfers with their journal index and leaf hash, the account balance deltas, the Merkle tree's new
 * perfect-subtree nodes and the head. Balance limits are checked by the core and again by CHECK
 * constraints; Σ debits = Σ credits is asserted on every batch.
 *
 * `createTransfers` is a group commit: concurrent batches of a tenant share one transaction, decided in
 * queue order against what the tenant's writer knew after its last commit, before the lock; the lock
 * checks that knowledge (journal size, business date) and otherwise decides again from a snapshot read
 * under it (docs/ledger.md, "Write path").
 */
import { sql, type Kysely, type RawBuilder } from 'kysely'
import { assert } from '../core/assert.ts'
import { safeIntegerOf } from '../core/integers.ts'
import type { IdSource } from '../core/ids.ts'
import { inTenant, type Tx } from '../db/database.ts'
import { pgArray } from '../db/pg-arrays.ts'
import type { DB } from '../db/schema.ts'
import { decideAccounts, flagsFromBits, flagsToBits, type AccountInput, type AccountStatus, type StoredAccount } from './account.ts'
import { formatJournalExportLine, journalLeafHash, type JournalEntry, type JournalExportLine } from './journal-entry.ts'
import { signTreeHead, type SignedTreeHead } from './tree-head.ts'
import { sign, type Keyring } from '../keys/index.ts'
import {
  appendLeaves,
  consistencyProofFromStore,
  inclusionProofFromStore,
  nodeHash,
  nodesNeededForConsistency,
  nodesNeededForInclusion,
  nodesNeededForRoot,
  rootFromFrontier,
  rootFromStore,
  type SubtreeAddress,
  type SubtreeNode,
  type SubtreeStore,
} from './merkle.ts'
import {
  applyTransfers,
  expirePending,
  type AccountDelta,
  type ApplyOutcome,
  type LedgerSnapshot,
  type PendingState,
  type Transfer,
  type TransferInput,
  type TransferKind,
  type TransferResult,
} from './transfer.ts'

export type LedgerDeps = { db: Kysely<DB>; ids: IdSource }
export type BatchContext = { now: Date; origin: string | null }

const kinds: readonly TransferKind[] = ['posted', 'pending', 'post_pending', 'void_pending', 'expire_pending']
const flagBits = { linked: 1, pending: 2, postPending: 4, voidPending: 8, balancingDebit: 16, balancingCredit: 32 } as const

export function transferFlagsToBits(flags: Transfer['flags']): number {
  return (
    (flags.linked ? flagBits.linked : 0) |
    (flags.pending ? flagBits.pending : 0) |
    (flags.postPending ? flagBits.postPending : 0) |
    (flags.voidPending ? flagBits.voidPending : 0) |
    (flags.balancingDebit ? flagBits.balancingDebit : 0) |
    (flags.balancingCredit ? flagBits.balancingCredit : 0)
  )
}

export function transferFlagsFromBits(bits: number): Transfer['flags'] {
  return {
    linked: (bits & flagBits.linked) !== 0,
    pending: (bits & flagBits.pending) !== 0,
    postPending: (bits & flagBits.postPending) !== 0,
    voidPending: (bits & flagBits.voidPending) !== 0,
    balancingDebit: (bits & flagBits.balancingDebit) !== 0,
    balancingCredit: (bits & flagBits.balancingCredit) !== 0,
  }
}

type AccountRow = {
  id: string
  currency: string
  code: number
  flags: number
  owner: string | null
  closed: boolean
  user_data: bigint
  debits_posted: bigint
  credits_posted: bigint
  debits_pending: bigint
  credits_pending: bigint
}
/** The columns a decision needs (not created_at: parsing 16,000 timestamps per batch is not free). */
const accountColumns = sql.raw('id, currency, code, flags, owner, closed, user_data, debits_posted, credits_posted, debits_pending, credits_pending')

export function toAccount(row: AccountRow): StoredAccount {
  return {
    id: row.id,
    currency: row.currency,
    code: row.code,
    flags: flagsFromBits(row.flags),
    owner: row.owner,
    closed: row.closed,
    userData: row.user_data,
    debitsPosted: row.debits_posted,
    creditsPosted: row.credits_posted,
    debitsPending: row.debits_pending,
    creditsPending: row.credits_pending,
  }
}

/** The journal entry of a stored transfer: what its leaf hash commits to (journal-entry.ts). */
export function journalEntryOf(tenantId: string, index: bigint, transfer: Transfer): JournalEntry {
  return {
    tenantId,
    index: safeIntegerOf(index),
    transferId: transfer.id,
    debitAccountId: transfer.debitAccountId,
    creditAccountId: transfer.creditAccountId,
    amountMinor: transfer.amountMinor,
    currency: transfer.currency,
    ledgerCode: transfer.code,
    flags: transferFlagsToBits(transfer.flags),
    pendingId: transfer.pendingId,
    kind: transfer.kind,
    valueDate: transfer.valueDate,
    postedAt: transfer.postedAt,
    userData: transfer.userData,
  }
}

export type TransferRow = {
  id: string
  debit_account_id: string
  credit_account_id: string
  amount: bigint
  currency: string
  code: number
  kind: number
  flags: number
  pending_id: string | null
  timeout_seconds: number
  user_data: bigint
  value_date: string
  posted_at: Date
  journal_index: bigint
  leaf_hash: Buffer
}
export function toTransfer(row: TransferRow): Transfer {
  return {
    id: row.id,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amountMinor: row.amount,
    currency: row.currency,
    code: row.code,
    kind: kinds[row.kind] as TransferKind,
    flags: transferFlagsFromBits(row.flags),
    pendingId: row.pending_id,
    timeoutSeconds: row.timeout_seconds,
    userData: row.user_data,
    valueDate: row.value_date,
    postedAt: row.posted_at,
  }
}

export async function createAccounts(deps: LedgerDeps, tenantId: string, inputs: readonly AccountInput[], now: Date): Promise<AccountStatus[]> {
  return inTenant(deps.db, tenantId, (trx) => createAccountsInTransaction(trx, tenantId, inputs, now))
}

/** Account creation inside the caller's tenant transaction (e.g. a loan's accounts with the loan). */
export async function createAccountsInTransaction(trx: Tx, tenantId: string, inputs: readonly AccountInput[], now: Date): Promise<AccountStatus[]> {
  const ids = inputs.map((input) => input.id)
  const rows = await sql<AccountRow>`select ${accountColumns} from ledger_accounts where tenant_id = ${tenantId} and id = any(${pgArray.uuid(ids)}::uuid[])`.execute(trx)
  const decided = decideAccounts(new Map(rows.rows.map((row) => [row.id, toAccount(row)])), inputs)
  if (decided.created.length > 0) {
    const c = decided.created
    await sql`
      insert into ledger_accounts (tenant_id, id, currency, code, flags, owner, user_data, created_at)
      select ${tenantId}, * , ${now} from unnest(${pgArray.uuid(c.map((a) => a.id))}::uuid[], ${pgArray.text(c.map((a) => a.currency))}::text[], ${pgArray.int4(c.map((a) => a.code))}::int[],
        ${pgArray.int4(c.map((a) => flagsToBits(a.flags)))}::int[], ${pgArray.text(c.map((a) => a.owner))}::text[], ${pgArray.int8(c.map((a) => a.userData))}::bigint[])
    `.execute(trx)
  }
  return decided.statuses
}

/**
 * Loads what the batch touches. With `withExisting` false, the transfers stored under the batch's own
 * ids are not looked up (the optimistic path: fresh ids are the common case, and the insert detects the
 * rest).
 */
async function loadSnapshot(trx: Tx, tenantId: string, inputs: readonly TransferInput[], withExisting: boolean): Promise<LedgerSnapshot> {
  const pendingIds = [...new Set(inputs.flatMap((input) => (input.pendingId === null ? [] : [input.pendingId])))]
  const transferIds = withExisting ? [...new Set([...inputs.map((input) => input.id), ...pendingIds])] : pendingIds
  const stored = await sql<TransferRow>`select * from ledger_transfers where tenant_id = ${tenantId} and id = any(${pgArray.uuid(transferIds)}::uuid[])`.execute(trx)
  const transfers = new Map(stored.rows.map((row) => [row.id, toTransfer(row)]))
  const pendingStates = new Map<string, PendingState>()
  if (pendingIds.length > 0) {
    const resolutions = await sql<{ pending_id: string; kind: number }>`select pending_id, kind from ledger_transfers where tenant_id = ${tenantId} and pending_id = any(${pgArray.uuid(pendingIds)}::uuid[])`.execute(trx)
    for (const id of pendingIds) if (transfers.get(id)?.kind === 'pending') pendingStates.set(id, 'pending')
    for (const row of resolutions.rows) pendingStates.set(row.pending_id, row.kind === 2 ? 'posted' : row.kind === 3 ? 'voided' : 'expired')
  }
  const accountIds = new Set<string>()
  for (const input of inputs) {
    if (input.debitAccountId !== null) accountIds.add(input.debitAccountId)
    if (input.creditAccountId !== null) accountIds.add(input.creditAccountId)
  }
  for (const transfer of transfers.values()) {
    accountIds.add(transfer.debitAccountId)
    accountIds.add(transfer.creditAccountId)
  }
  const accounts = await sql<AccountRow>`select ${accountColumns} from ledger_accounts where tenant_id = ${tenantId} and id = any(${pgArray.uuid([...accountIds])}::uuid[])`.execute(trx)
  return { accounts: new Map(accounts.rows.map((row) => [row.id, toAccount(row)])), transfers, pendingStates }
}

/**
 * Levels of the Merkle tree below this one are not stored: a node there is recomputed from at most
 * 2^(storedLevelMin-1) leaf hashes when a proof needs it. Storing every level would add one row per
 * transfer to the write path; storing from level 4 adds one per sixteen.
 */
export const storedLevelMin = 4

/**
 * Bits of a journal index below its bucket: the transfers' statement indexes start with their generated
 * column `bucket = journal_index >> journalBucketBits` (65,536 transfers), fixed by
 * migrations/0019-ledger-transfer-buckets.
 */
export const journalBucketBits = 16
/**
 * A transfer `t` in bucket `b.bucket`, also bounded by the bucket's journal range: whatever the statistics
 * say, no plan reads more than one bucket for one probe (migrations/0019-ledger-transfer-buckets).
 */
const inBucket = sql`t.bucket = b.bucket and t.journal_index >= b.bucket::bigint << ${sql.lit(journalBucketBits)} and t.journal_index < (b.bucket::bigint + 1) << ${sql.lit(journalBucketBits)}`
/** Buckets an account statement reads per query. */
const statementBucketsPerQuery = 64

/** Fetches perfect-subtree hashes: leaves from the transfers, low levels recomputed, high levels stored. */
async function loadNodes(trx: Tx, tenantId: string, addresses: readonly SubtreeAddress[]): Promise<Map<string, Uint8Array>> {
  const hashes = new Map<string, Uint8Array>()
  const stored = addresses.filter((address) => address.level >= storedLevelMin)
  const computed = addresses.filter((address) => address.level < storedLevelMin)
  const leafIndexes = new Set<number>()
  for (const address of computed) {
    const width = 2 ** address.level
    for (let i = address.index * width; i < (address.index + 1) * width; i++) leafIndexes.add(i)
  }
  if (leafIndexes.size > 0) {
    const rows = await sql<{ journal_index: bigint; leaf_hash: Buffer }>`
      select journal_index, leaf_hash from ledger_transfers where tenant_id = ${tenantId} and journal_index = any(${[...leafIndexes]}::bigint[])`.execute(trx)
    const leaves = new Map(rows.rows.map((row) => [safeIntegerOf(row.journal_index), row.leaf_hash as Uint8Array]))
    const subtreeHash = (level: number, index: number): Uint8Array => {
      if (level === 0) {
        const leaf = leaves.get(index)
        assert(leaf !== undefined, () => `journal leaf ${index} exists`)
        return leaf
      }
      return nodeHash(subtreeHash(level - 1, 2 * index), subtreeHash(level - 1, 2 * index + 1))
    }
    for (const address of computed) hashes.set(`${address.level}:${address.index}`, subtreeHash(address.level, address.index))
  }
  if (stored.length > 0) {
    const rows = await sql<{ level: number; idx: bigint; hash: Buffer }>`
      select n.level, n.idx, n.hash from ledger_merkle_nodes n
      join unnest(${stored.map((a) => a.level)}::smallint[], ${stored.map((a) => a.index)}::bigint[]) as want(level, idx) on n.level = want.level and n.idx = want.idx
      where n.tenant_id = ${tenantId}`.execute(trx)
    for (const row of rows.rows) hashes.set(`${row.level}:${row.idx}`, row.hash)
  }
  for (const address of addresses) assert(hashes.has(`${address.level}:${address.index}`), () => `merkle node ${address.level}:${address.index} exists`)
  return hashes
}

function storeOf(hashes: Map<string, Uint8Array>): SubtreeStore {
  return { get: (level, index) => hashes.get(`${level}:${index}`) }
}

/** The perfect-subtree nodes on the right edge of the journal tree of `size` leaves. */
async function loadFrontier(trx: Tx, tenantId: string, size: bigint): Promise<SubtreeNode[]> {
  const addresses = nodesNeededForRoot(safeIntegerOf(size))
  const hashes = await loadNodes(trx, tenantId, addresses)
  return addresses.map((address) => ({ ...address, hash: hashes.get(`${address.level}:${address.index}`) as Uint8Array }))
}

/** Σ debits = Σ credits per currency in what a batch changes (posted and pending separately). */
function assertBalanced(outcome: Pick<ApplyOutcome, 'deltas'>): void {
  let posted = 0n
  let pending = 0n
  for (const delta of outcome.deltas.values()) {
    posted += delta.debitsPosted - delta.creditsPosted
    pending += delta.debitsPending - delta.creditsPending
  }
  assert(posted === 0n, 'a batch moves as much to debits as to credits (posted)')
  assert(pending === 0n, 'a batch moves as much to debits as to credits (pending)')
}

/** A decided group of batches, ready to be written as one journal append. */
type DecidedGroup = {
  /** Per batch: its results and the journal size after its own transfers. */
  batches: TransferBatchResult[]
  created: Transfer[]
  deltas: Map<string, AccountDelta>
}

type GroupBatch = { inputs: readonly TransferInput[]; context: BatchContext }

/**
 * Decides batches one after the other, each against the state the previous ones left (as if each had
 * been its own transaction, in this order). `snapshot`'s maps are updated in place with each batch's
 * effects: its accounts become the accounts after the group.
 */
function decideGroup(snapshot: { accounts: Map<string, StoredAccount>; transfers: Map<string, Transfer>; pendingStates: Map<string, PendingState> }, batches: readonly GroupBatch[], businessDate: string, startSize: bigint): DecidedGroup {
  const created: Transfer[] = []
  const deltas = new Map<string, AccountDelta>()
  const results: TransferBatchResult[] = []
  for (const batch of batches) {
    const outcome = applyTransfers(snapshot, batch.inputs, { now: batch.context.now, businessDate, origin: batch.context.origin })
    assertBalanced(outcome)
    for (const [id, delta] of outcome.deltas) {
      const before = snapshot.accounts.get(id) as StoredAccount
      snapshot.accounts.set(id, { ...before, debitsPosted: before.debitsPosted + delta.debitsPosted, creditsPosted: before.creditsPosted + delta.creditsPosted, debitsPending: before.debitsPending + delta.debitsPending, creditsPending: before.creditsPending + delta.creditsPending })
      const sum = deltas.get(id)
      deltas.set(id, sum === undefined ? delta : { debitsPosted: sum.debitsPosted + delta.debitsPosted, creditsPosted: sum.creditsPosted + delta.creditsPosted, debitsPending: sum.debitsPending + delta.debitsPending, creditsPending: sum.creditsPending + delta.creditsPending })
    }
    for (const transfer of outcome.created) {
      snapshot.transfers.set(transfer.id, transfer)
      if (transfer.kind === 'pending') snapshot.pendingStates.set(transfer.id, 'pending')
      created.push(transfer)
    }
    for (const [id, state] of outcome.resolved) snapshot.pendingStates.set(id, state)
    results.push({ results: outcome.results, journalSize: startSize + BigInt(created.length) })
  }
  return { batches: results, created, deltas }
}

/**
 * The SQL and the new Merkle frontier of a decided group appended at `startSize` (pure JavaScript):
 * `prewrite` (the transfers; needs no lock) and `locked` (the head, the
 * balances, the Merkle nodes; takes the head's row lock).
 */
type GroupWrite = { prewrite: RawBuilder<unknown>; locked: RawBuilder<{ size: bigint }>; createdCount: number; frontier: SubtreeNode[] }

/** A group's journal leaves hashed onto the tree: leaf hashes, the stored inner nodes they complete, the new frontier. */
type HashedLeaves = { leafHashes: Uint8Array[]; inner: SubtreeNode[]; frontier: SubtreeNode[] }

function hashLeavesChunk(tenantId: string, startSize: bigint, created: readonly Transfer[], from: number, to: number, into: HashedLeaves): void {
  const hashes: Uint8Array[] = []
  for (let i = from; i < to; i++) hashes.push(journalLeafHash(journalEntryOf(tenantId, startSize + BigInt(i), created[i] as Transfer)))
  const appended = appendLeaves(into.frontier, hashes)
  into.frontier = appended.frontier
  for (const node of appended.created) if (node.level >= storedLevelMin) into.inner.push(node)
  for (const hash of hashes) into.leafHashes.push(hash)
}

function hashLeaves(tenantId: string, startSize: bigint, frontier: readonly SubtreeNode[], created: readonly Transfer[]): HashedLeaves {
  const hashed: HashedLeaves = { leafHashes: [], inner: [], frontier: [...frontier] }
  hashLeavesChunk(tenantId, startSize, created, 0, created.length, hashed)
  return hashed
}

const hashChunkSize = 512

/**
 * The same, giving the event loop a turn every 512 transfers (~1.5 ms): a group is prepared while
 * the group before it is in the database, and a 4,000-transfer group hashed in one piece kept that
 * group's replies (its commit, the next lock) waiting ~30 ms on a busy main thread.
 */
async function hashLeavesYielding(tenantId: string, startSize: bigint, frontier: readonly SubtreeNode[], created: readonly Transfer[]): Promise<HashedLeaves> {
  const hashed: HashedLeaves = { leafHashes: [], inner: [], frontier: [...frontier] }
  for (let from = 0; from < created.length; from += hashChunkSize) {
    if (from > 0) await new Promise((resolve) => setImmediate(resolve))
    hashLeavesChunk(tenantId, startSize, created, from, Math.min(created.length, from + hashChunkSize), hashed)
  }
  return hashed
}

function buildGroupWrite(tenantId: string, startSize: bigint, businessDate: string, group: DecidedGroup, hashed: HashedLeaves): GroupWrite {
  const created = group.created
  const { leafHashes, inner } = hashed
  // Not sorted by account: in key order the update under the lock ran ~10 % faster, but the sort cost the
  // main thread more than that saved once the lock stopped being the bottleneck (A/B, 300,000 transfers).
  const ids = [...group.deltas.keys()]
  const d = [...group.deltas.values()]
  // Two statements. `prewrite` inserts the transfers (their statement indexes are on them, keyed by the
  // generated journal bucket: migrations/0019-ledger-transfer-buckets); a prepared group
  // sends it before it asks for the journal head lock, while the group before it holds that lock.
  // `locked` then moves the head from exactly the size the transfers were written at (and only if the
  // tenant is still at the business date they were decided on), updates the balances and inserts the
  // Merkle nodes; if the head is elsewhere it raises PJ001 and the transaction cannot commit the
  // transfers (migrations/0018-ledger-prewrite). A prepared group sends `locked` right behind its lock
  // request, before it has seen the answer (`commitGroup`).
  // The arrays are unnested in select lists, in lockstep: `from unnest(a, b, …)` would first copy every
  // element of every array into a tuplestore of its own (a function scan materialises them).
  const prewrite = sql`
    insert into ledger_transfers (tenant_id, id, debit_account_id, credit_account_id, amount, currency, code, kind, flags, pending_id,
        timeout_seconds, expires_at, user_data, value_date, posted_at, journal_index, leaf_hash)
      select ${tenantId}, unnest(${pgArray.uuid(created.map((t) => t.id))}::uuid[]), unnest(${pgArray.uuid(created.map((t) => t.debitAccountId))}::uuid[]), unnest(${pgArray.uuid(created.map((t) => t.creditAccountId))}::uuid[]),
        unnest(${pgArray.int8(created.map((t) => t.amountMinor))}::bigint[]), unnest(${pgArray.text(created.map((t) => t.currency))}::text[]), unnest(${pgArray.int4(created.map((t) => t.code))}::int[]),
        unnest(${pgArray.int2(created.map((t) => kinds.indexOf(t.kind)))}::smallint[]), unnest(${pgArray.int4(created.map((t) => transferFlagsToBits(t.flags)))}::int[]), unnest(${pgArray.uuid(created.map((t) => t.pendingId))}::uuid[]),
        unnest(${pgArray.int4(created.map((t) => t.timeoutSeconds))}::int[]), unnest(${pgArray.timestamptz(created.map((t) => (t.kind === 'pending' && t.timeoutSeconds > 0 ? new Date(t.postedAt.getTime() + t.timeoutSeconds * 1000) : null)))}::timestamptz[]),
        unnest(${pgArray.int8(created.map((t) => t.userData))}::bigint[]), unnest(${pgArray.date(created.map((t) => t.valueDate))}::date[]), unnest(${pgArray.timestamptz(created.map((t) => t.postedAt))}::timestamptz[]),
        unnest(${pgArray.int8(created.map((_, i) => startSize + BigInt(i)))}::bigint[]), unnest(${pgArray.bytea(leafHashes)}::bytea[])`
  const locked = sql<{ size: bigint }>`
    with head as (
      update ledger_journal_heads set size = ${(startSize + BigInt(created.length)).toString()}
      where tenant_id = ${tenantId} and size = ${startSize.toString()}
        and exists (select 1 from tenants t where t.id = ${tenantId} and t.business_date = ${businessDate}::date)
      returning size),
    balances as (
      update ledger_accounts a set
        debits_posted = a.debits_posted + v.dp, credits_posted = a.credits_posted + v.cp,
        debits_pending = a.debits_pending + v.dpe, credits_pending = a.credits_pending + v.cpe
      from (select unnest(${pgArray.uuid(ids)}::uuid[]) as id, unnest(${pgArray.int8(d.map((x) => x.debitsPosted))}::bigint[]) as dp, unnest(${pgArray.int8(d.map((x) => x.creditsPosted))}::bigint[]) as cp,
        unnest(${pgArray.int8(d.map((x) => x.debitsPending))}::bigint[]) as dpe, unnest(${pgArray.int8(d.map((x) => x.creditsPending))}::bigint[]) as cpe) as v
      where a.tenant_id = ${tenantId} and a.id = v.id and exists (select 1 from head)),
    nodes as (
      insert into ledger_merkle_nodes (tenant_id, level, idx, hash)
      select ${tenantId}, unnest(${pgArray.int2(inner.map((n) => n.level))}::smallint[]), unnest(${pgArray.int8(inner.map((n) => n.index))}::bigint[]), unnest(${pgArray.bytea(inner.map((n) => n.hash))}::bytea[])
      where exists (select 1 from head))
    select coalesce((select size from head), puhui_journal_moved()) as size`
  return { prewrite, locked, createdCount: created.length, frontier: hashed.frontier }
}

/**
 * Inserts a group's transfers. 'id_exists': a transfer id was already stored (the
 * statement failed; the caller rolls back to its savepoint and decides again knowing the stored transfers).
 */
async function prewriteGroup(trx: Tx, write: GroupWrite): Promise<'written' | 'id_exists'> {
  if (write.createdCount === 0) return 'written'
  try {
    const inserted = await write.prewrite.execute(trx)
    assert(inserted.numAffectedRows === BigInt(write.createdCount), 'every decided transfer is written')
    return 'written'
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string }
    // A plain insert, not `on conflict do nothing`: that would probe the primary key once more per row.
    if (code === '23505' && constraint === 'ledger_transfers_pkey') return 'id_exists'
    throw error
  }
}

/**
 * Moves the journal head over a prewritten group, with its balances and Merkle nodes. 'moved': the head
 * was not at the group's start size or the business date changed (the statement failed and nothing of
 * the transaction can commit; the caller rolls back to a savepoint taken before the prewrite). Possible
 * only when the caller sent it before it knew the head (`commitGroup`).
 */
async function writeGroupLocked(trx: Tx, write: GroupWrite): Promise<'written' | 'moved'> {
  // Run even when nothing was created: a group whose every item failed was decided against the same
  // knowledge, which the head's check confirms (or the group is decided again).
  try {
    await write.locked.execute(trx)
    return 'written'
  } catch (error) {
    if ((error as { code?: string }).code === 'PJ001') return 'moved'
    throw error
  }
}

/** The ids of a decided group's items that failed (neither created nor an idempotent retry). */
function failedItemIds(group: DecidedGroup): string[] {
  return group.batches.flatMap((batch) => batch.results.filter((result) => result.status !== 'created' && result.status !== 'exists').map((result) => result.id))
}

/** Both, by a caller that holds the journal head lock. */
async function writeGroup(trx: Tx, write: GroupWrite): Promise<'written' | 'id_exists'> {
  const prewritten = await prewriteGroup(trx, write)
  if (prewritten === 'written') assert((await writeGroupLocked(trx, write)) === 'written', 'the head does not move while this transaction holds its lock')
  return prewritten
}

/** Locks the tenant's journal head (creating it on first use) and reads the business date: one round trip. */
async function lockHead(trx: Tx, tenantId: string): Promise<{ size: bigint; businessDate: string }> {
  const head = await sql<{ size: bigint; business_date: string }>`
    with h as (
      insert into ledger_journal_heads as h (tenant_id, size) values (${tenantId}, 0)
      on conflict (tenant_id) do update set size = h.size returning size)
    select h.size, t.business_date from h, tenants t where t.id = ${tenantId}`.execute(trx)
  const row = head.rows[0]
  assert(row !== undefined, 'tenant exists')
  return { size: row.size, businessDate: row.business_date }
}

/** What a tenant's writer knows after its last commit: valid while nobody else appended. */
type WriterState = { journalSize: bigint; businessDate: string; frontier: SubtreeNode[]; accounts: Map<string, StoredAccount> }

/**
 * Decides and writes batches under the journal head lock, from a snapshot read in this transaction
 * (the path that trusts nothing it knew before). Returns the state after the group.
 */
async function decideAndWriteLocked(trx: Tx, tenantId: string, head: { size: bigint; businessDate: string }, batches: readonly GroupBatch[]): Promise<{ group: DecidedGroup; state: WriterState }> {
  const inputs = batches.flatMap((batch) => batch.inputs)
  const frontier = await loadFrontier(trx, tenantId, head.size)
  await sql`savepoint optimistic`.execute(trx)
  // Optimistic first: decide as if no id of the batch were stored yet. If one was, the insert says so,
  // and the batch is decided again from a snapshot that includes the stored transfers.
  for (const withExisting of [false, true]) {
    const loaded = await loadSnapshot(trx, tenantId, inputs, withExisting)
    const snapshot = { accounts: new Map(loaded.accounts as Map<string, StoredAccount>), transfers: new Map(loaded.transfers), pendingStates: new Map(loaded.pendingStates) }
    const group = decideGroup(snapshot, batches, head.businessDate, head.size)
    // A failed item may be the retry of a stored transfer, which answers `exists…` first: decided again
    // knowing the stored ids (fresh ids and no failures are the common case).
    if (!withExisting && failedItemIds(group).length > 0) continue
    const write = buildGroupWrite(tenantId, head.size, head.businessDate, group, hashLeaves(tenantId, head.size, frontier, group.created))
    const written = await writeGroup(trx, write)
    if (written === 'written') {
      await sql`release savepoint optimistic`.execute(trx)
      return { group, state: { journalSize: head.size + BigInt(write.createdCount), businessDate: head.businessDate, frontier: write.frontier, accounts: snapshot.accounts } }
    }
    assert(!withExisting, 'no stored id remains undetected')
    await sql`rollback to savepoint optimistic`.execute(trx)
  }
  throw new Error('unreachable')
}

export type TransferBatchResult = { results: TransferResult[]; journalSize: bigint }

/**
 * A batch inside a transaction the caller holds (servicing posts its transfers in the same
 * transaction as the loan's state: one money movement, one transaction). The caller must have scoped
 * the transaction to the tenant (`inTenant`).
 */
export async function createTransfersInTransaction(trx: Tx, tenantId: string, inputs: readonly TransferInput[], context: BatchContext): Promise<TransferBatchResult> {
  const head = await lockHead(trx, tenantId)
  const { group } = await decideAndWriteLocked(trx, tenantId, head, [{ inputs, context }])
  return group.batches[0] as TransferBatchResult
}

// ---------------------------------------------------------------------------------------------------
// Group commit. Concurrent `createTransfers` calls of one tenant in this process queue behind one
// writer, which appends several client batches per database transaction (each caller still gets its
// own results, decided as if its batch had been alone, in queue order). The writer keeps what it knew
// after its last commit (journal size, Merkle frontier, business date, the accounts it has seen) and
// decides the next group in JavaScript *before* taking the journal head lock, while the previous group
// is still in the database: under the lock only the write remains. That knowledge is checked under
// the lock: balances only change through journal appends, so an unchanged journal size (and business
// date) means nobody else wrote in between; otherwise the group is decided again from the database.

/** Items per grouped transaction: about half of what 8 clients of 1,000 keep queued, so that one group is decided while the other is written. */
const groupItemsMax = 4_096

/** Accounts a writer remembers at most (about 200 bytes each). */
const writerAccountsMax = 250_000

type Waiting = GroupBatch & { resolve: (result: TransferBatchResult) => void; reject: (error: unknown) => void }
type Prepared = { epoch: number; group: DecidedGroup; write: GroupWrite }
/** `written`: the group's write went through under the lock (it only has to commit), or it is done. */
type InFlight = { done: Promise<void>; written: Promise<void>; prepared: Prepared | undefined }

/**
 * Groups of a tenant in the database at once: one holding the journal head lock, the others inserting
 * their transfers and then waiting for it (two database backends at work).
 */
const pipelineDepth = 2
/** `wake`: set while the writer waits with groups in flight and nothing queued; a queued batch calls it. */
/**
 * `inFlightIds`: how many groups in flight carry each transfer id (a multiset). A prepared group inserts
 * its transfers before the lock; if one of its ids were also in an earlier group still in flight, that
 * group's insert (under the lock, or again after a fallback) would wait on the prepared group's
 * uncommitted row while the prepared group waits, in this process, for that group: a wait the database
 * cannot see as a deadlock. Such a group is decided under the lock instead, after the one before it.
 */
type Writer = { queue: Waiting[]; running: boolean; state: WriterState | undefined; epoch: number; wake: (() => void) | undefined; inFlightIds: Map<string, number> }

const writers = new WeakMap<Kysely<DB>, Map<string, Writer>>()

function writerOf(db: Kysely<DB>, tenantId: string): Writer {
  let byTenant = writers.get(db)
  if (byTenant === undefined) writers.set(db, (byTenant = new Map()))
  let writer = byTenant.get(tenantId)
  if (writer === undefined) byTenant.set(tenantId, (writer = { queue: [], running: false, state: undefined, epoch: 0, wake: undefined, inFlightIds: new Map() }))
  return writer
}

export async function createTransfers(deps: LedgerDeps, tenantId: string, inputs: readonly TransferInput[], context: BatchContext): Promise<TransferBatchResult> {
  const writer = writerOf(deps.db, tenantId)
  const result = new Promise<TransferBatchResult>((resolve, reject) => writer.queue.push({ inputs, context, resolve, reject }))
  writer.wake?.()
  if (!writer.running) {
    writer.running = true
    runWriter(deps, tenantId, writer).catch((error: unknown) => {
      writer.running = false
      for (const waiting of writer.queue.splice(0)) waiting.reject(error)
    })
  }
  return result
}

function takeGroup(writer: Writer): Waiting[] {
  const group: Waiting[] = []
  let items = 0
  while (writer.queue.length > 0) {
    const next = writer.queue[0] as Waiting
    if (group.length > 0 && items + next.inputs.length > groupItemsMax) break
    group.push(writer.queue.shift() as Waiting)
    items += next.inputs.length
  }
  return group
}

async function runWriter(deps: LedgerDeps, tenantId: string, writer: Writer): Promise<void> {
  // Groups in flight, oldest first: each commits after the one before it (queue order), but inserts its
  // transfers as soon as it starts, while an earlier group holds the journal head lock.
  const inFlight: InFlight[] = []
  for (;;) {
    const last = inFlight.at(-1)
    if (last !== undefined && (last.prepared === undefined || last.prepared.epoch !== writer.epoch)) {
      // The last group will not leave the state it was decided against (not prepared, or prepared
      // against knowledge since dropped): the next is decided once it is written.
      await last.done
      inFlight.length = 0
      continue
    }
    if (inFlight.length >= pipelineDepth) {
      await (inFlight.shift() as InFlight).done
      continue
    }
    if (inFlight.length > 0 && writer.queue.length === 0) {
      // Wait for the oldest group or for a batch, whichever comes first: the clients answered by a commit
      // queue their next batches a few microtask turns after the writer learns of it, and waiting for
      // the whole pipeline to drain before preparing them left the journal head idle (a group's
      // preparation and prewrite, ~100 ms, out of every second group's time).
      const oldest = inFlight[0] as InFlight
      let finished = false
      await Promise.race([oldest.done.then(() => (finished = true)), new Promise<void>((resolve) => (writer.wake = resolve))])
      writer.wake = undefined
      if (finished) inFlight.shift()
      continue
    }
    if (writer.queue.length === 0) {
      writer.running = false // synchronously: a batch queued from now on starts a new writer
      return
    }
    const group = takeGroup(writer)
    let prepared: Prepared | undefined
    try {
      prepared = await prepareGroup(deps, tenantId, writer, group)
    } catch {
      // Decided again under the lock, where an error reaches the callers.
      writer.epoch++
      writer.state = undefined
      prepared = undefined
    }
    const before = inFlight.at(-1)
    let signalWritten = (): void => undefined
    const written = new Promise<void>((resolve) => (signalWritten = resolve))
    const ids = group.flatMap((batch) => batch.inputs.map((input) => input.id))
    for (const id of ids) writer.inFlightIds.set(id, (writer.inFlightIds.get(id) ?? 0) + 1)
    const done = commitGroup(deps, tenantId, writer, group, prepared, { done: before?.done ?? Promise.resolve(), written: before?.written ?? Promise.resolve() }, signalWritten).finally(() => {
      signalWritten()
      for (const id of ids) {
        const count = (writer.inFlightIds.get(id) ?? 0) - 1
        if (count > 0) writer.inFlightIds.set(id, count)
        else writer.inFlightIds.delete(id)
      }
    })
    inFlight.push({ done, written, prepared })
  }
}

/** Decides a group against the writer's state (undefined: it must be decided under the lock). */
async function prepareGroup(deps: LedgerDeps, tenantId: string, writer: Writer, group: readonly Waiting[]): Promise<Prepared | undefined> {
  const state = writer.state
  if (state === undefined) return undefined
  if (state.accounts.size > writerAccountsMax) {
    // Bounded memory: start again from what the next group reads under the lock.
    writer.epoch++
    writer.state = undefined
    return undefined
  }
  // Resolving a pending transfer needs the stored pending and its state: decided under the lock.
  if (group.some((batch) => batch.inputs.some((input) => input.pendingId !== null))) return undefined
  // An id an earlier group in flight also carries: decided under the lock (see `Writer`).
  if (writer.inFlightIds.size > 0 && group.some((batch) => batch.inputs.some((input) => writer.inFlightIds.has(input.id)))) return undefined
  const epoch = writer.epoch
  const missing = new Set<string>()
  for (const batch of group) {
    for (const input of batch.inputs) {
      if (input.debitAccountId !== null && !state.accounts.has(input.debitAccountId)) missing.add(input.debitAccountId)
      if (input.creditAccountId !== null && !state.accounts.has(input.creditAccountId)) missing.add(input.creditAccountId)
    }
  }
  if (missing.size > 0) {
    // Accounts the writer has not seen were not touched by its groups in flight; their committed
    // balances are current unless someone else appended since, which the lock's check catches.
    const rows = await inTenant(deps.db, tenantId, (trx) => sql<AccountRow>`select ${accountColumns} from ledger_accounts where tenant_id = ${tenantId} and id = any(${pgArray.uuid([...missing])}::uuid[])`.execute(trx))
    if (writer.epoch !== epoch || writer.state !== state || rows.rows.length !== missing.size) return undefined
    for (const row of rows.rows) state.accounts.set(row.id, toAccount(row))
  }
  const startSize = state.journalSize
  const decided = decideGroup({ accounts: state.accounts, transfers: new Map(), pendingStates: new Map() }, group, state.businessDate, startSize)
  // Decided knowing no stored transfer ids: a created item whose id is stored fails the insert, but a
  // failed item may be the retry of a stored transfer (which answers `exists…` first, whatever its
  // effect would be now). The decision stands only if none of its failed items' ids is stored.
  const failed = failedItemIds(decided)
  if (failed.length > 0) {
    const stored = await inTenant(deps.db, tenantId, (trx) => sql`select 1 from ledger_transfers where tenant_id = ${tenantId} and id = any(${pgArray.uuid(failed)}::uuid[]) limit 1`.execute(trx))
    if (stored.rows.length > 0 || writer.epoch !== epoch || writer.state !== state) {
      // The state already holds this group's effects on the accounts: dropped.
      writer.epoch++
      writer.state = undefined
      return undefined
    }
  }
  const hashed = await hashLeavesYielding(tenantId, startSize, state.frontier, decided.created)
  // The state was dropped meanwhile (a group before this one failed or was decided under the lock).
  if (writer.epoch !== epoch || writer.state !== state) return undefined
  const write = buildGroupWrite(tenantId, startSize, state.businessDate, decided, hashed)
  // From here the state assumes this group commits (the next group is decided on top of it).
  state.journalSize = startSize + BigInt(write.createdCount)
  state.frontier = write.frontier
  return { epoch, group: decided, write }
}

/**
 * Writes a group in its own transaction, in queue order. A prepared group inserts its transfers and
 * nothing else first, without the lock (so that they go in while the previous group holds it); once
 * the previous group's locked statement is through (it has only to commit), it sends its lock request
 * and its locked statement back to back, so that the database hands the lock over at the previous commit
 * without waiting for a turn of this process's event loop. That statement checks the head the group was
 * decided against itself, and fails (the transaction cannot commit the transfers) if it moved.
 */
async function commitGroup(deps: LedgerDeps, tenantId: string, writer: Writer, group: readonly Waiting[], prepared: Prepared | undefined, before: { done: Promise<void>; written: Promise<void> }, signalWritten: () => void): Promise<void> {
  const previous = before.done
  let outcome: DecidedGroup
  try {
    outcome = await inTenant(deps.db, tenantId, async (trx) => {
      if (prepared !== undefined) {
        // This transaction holds uncommitted transfers (unique ids) while it waits, in this process, for
        // the group before it; a writer of another process inserting one of those ids at the same time
        // would wait on them, unseen by PostgreSQL's deadlock detection if the group before it waits on
        // that writer. Bounded: a lock waited for this long fails the group, whose batches are retried.
        await sql`set local lock_timeout = '10s'`.execute(trx)
        await sql`savepoint prepared`.execute(trx)
        let prewritten: 'written' | 'id_exists'
        try {
          prewritten = await prewriteGroup(trx, prepared.write)
        } finally {
          await before.written // whatever happens here, queue order: no lock is asked for before the previous group holds it
        }
        if (prewritten === 'written' && prepared.epoch === writer.epoch) {
          // node-postgres queues the locked statement behind the lock request on this connection and
          // sends it when the lock is granted (at the previous group's commit). The lock must be taken
          // first: an update whose condition fails on the row's committed version does not wait for it.
          const [, written] = await Promise.all([lockHead(trx, tenantId), writeGroupLocked(trx, prepared.write)])
          if (written === 'written') {
            signalWritten()
            return prepared.group
          }
        }
        // Undoing the prewrite also releases the head lock if the failed statement took it: lock again.
        await sql`rollback to savepoint prepared`.execute(trx)
        await previous
        return decideLocked(trx, tenantId, writer, await lockHead(trx, tenantId), group)
      }
      await previous
      return decideLocked(trx, tenantId, writer, await lockHead(trx, tenantId), group)
    })
  } catch (error) {
    await previous
    // A failed group must not fail the batches that would have passed alone: each is retried alone.
    writer.epoch++
    writer.state = undefined
    for (const batch of group) {
      try {
        batch.resolve(await inTenant(deps.db, tenantId, (trx) => createTransfersInTransaction(trx, tenantId, batch.inputs, batch.context)))
      } catch (alone) {
        batch.reject(group.length === 1 ? error : alone)
      }
    }
    return
  }
  group.forEach((batch, i) => batch.resolve(outcome.batches[i] as TransferBatchResult))
}

/** Someone else appended, the date moved, an id was already stored or the group resolves pendings: decided from the database. */
async function decideLocked(trx: Tx, tenantId: string, writer: Writer, head: { size: bigint; businessDate: string }, group: readonly Waiting[]): Promise<DecidedGroup> {
  writer.epoch++
  writer.state = undefined
  const locked = await decideAndWriteLocked(trx, tenantId, head, group)
  writer.state = locked.state
  return locked.group
}

/** Expires the tenant's pending transfers whose timeout has passed; returns how many. */
export async function expirePendingTransfers(deps: LedgerDeps, tenantId: string, now: Date, limit = 8_190): Promise<number> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const head = await lockHead(trx, tenantId)
    const due = await sql<TransferRow>`
      select p.* from ledger_transfers p
      where p.tenant_id = ${tenantId} and p.kind = 1 and p.expires_at <= ${now}
        and not exists (select 1 from ledger_transfers r where r.tenant_id = p.tenant_id and r.pending_id = p.id)
      order by p.expires_at limit ${limit}`.execute(trx)
    if (due.rows.length === 0) return 0
    const pendings = due.rows.map(toTransfer)
    const accountIds = [...new Set(pendings.flatMap((t) => [t.debitAccountId, t.creditAccountId]))]
    const accounts = await sql<AccountRow>`select * from ledger_accounts where tenant_id = ${tenantId} and id = any(${accountIds}::uuid[])`.execute(trx)
    const snapshot: LedgerSnapshot = { accounts: new Map(accounts.rows.map((row) => [row.id, toAccount(row)])), transfers: new Map(pendings.map((t) => [t.id, t])), pendingStates: new Map(pendings.map((t) => [t.id, 'pending' as const])) }
    const outcome = expirePending(snapshot, pendings, { now, businessDate: head.businessDate, origin: null, newId: () => deps.ids.next() })
    assertBalanced(outcome)
    const write = buildGroupWrite(tenantId, head.size, head.businessDate, { batches: [], created: outcome.created, deltas: outcome.deltas }, hashLeaves(tenantId, head.size, await loadFrontier(trx, tenantId, head.size), outcome.created))
    assert((await writeGroup(trx, write)) === 'written', 'expiry ids are fresh and the head is locked')
    return outcome.created.length
  })
}

/** The journal's current size and root (RFC 6962 MTH), from stored subtree hashes. */
export async function journalRoot(deps: LedgerDeps, tenantId: string): Promise<{ treeSize: bigint; rootHash: Uint8Array }> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const head = await sql<{ size: bigint }>`select size from ledger_journal_heads where tenant_id = ${tenantId}`.execute(trx)
    const size = head.rows[0]?.size ?? 0n
    return { treeSize: size, rootHash: rootFromFrontier(await loadFrontier(trx, tenantId, size)) }
  })
}

export async function journalSize(trx: Tx, tenantId: string): Promise<bigint> {
  const head = await sql<{ size: bigint }>`select size from ledger_journal_heads where tenant_id = ${tenantId}`.execute(trx)
  return head.rows[0]?.size ?? 0n
}

/** RFC 6962 PATH(index, D[treeSize]) from stored subtree hashes (O(log n) rows). */
export async function inclusionProof(deps: LedgerDeps, tenantId: string, index: number, treeSize: number): Promise<{ leafHash: Uint8Array; proof: Uint8Array[]; rootHash: Uint8Array } | 'out_of_range'> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const size = await journalSize(trx, tenantId)
    if (treeSize < 1 || BigInt(treeSize) > size || index < 0 || index >= treeSize) return 'out_of_range' as const
    const addresses = [...nodesNeededForInclusion(index, treeSize), ...nodesNeededForRoot(treeSize), { level: 0, index }]
    const store = storeOf(await loadNodes(trx, tenantId, addresses))
    return { leafHash: store.get(0, index) as Uint8Array, proof: inclusionProofFromStore(index, treeSize, store), rootHash: rootFromStore(treeSize, store) }
  })
}

/** RFC 6962 PROOF(from, D[to]) from stored subtree hashes. */
export async function consistencyProof(deps: LedgerDeps, tenantId: string, from: number, to: number): Promise<{ proof: Uint8Array[]; firstRoot: Uint8Array; secondRoot: Uint8Array } | 'out_of_range'> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const size = await journalSize(trx, tenantId)
    if (from < 1 || from > to || BigInt(to) > size) return 'out_of_range' as const
    const addresses = [...nodesNeededForConsistency(from, to), ...nodesNeededForRoot(from), ...nodesNeededForRoot(to)]
    const store = storeOf(await loadNodes(trx, tenantId, addresses))
    return { proof: consistencyProofFromStore(from, to, store), firstRoot: rootFromStore(from, store), secondRoot: rootFromStore(to, store) }
  })
}

export type AccountView = StoredAccount & { createdAt: Date }

export async function findAccount(deps: LedgerDeps, tenantId: string, id: string): Promise<AccountView | undefined> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const rows = await sql<AccountRow & { created_at: Date }>`select * from ledger_accounts where tenant_id = ${tenantId} and id = ${id}`.execute(trx)
    const row = rows.rows[0]
    return row === undefined ? undefined : { ...toAccount(row), createdAt: row.created_at }
  })
}

export type StoredTransfer = Transfer & { journalIndex: bigint; leafHash: Uint8Array }

export async function findTransfer(deps: LedgerDeps, tenantId: string, id: string): Promise<StoredTransfer | undefined> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const rows = await sql<TransferRow>`select * from ledger_transfers where tenant_id = ${tenantId} and id = ${id}`.execute(trx)
    const row = rows.rows[0]
    return row === undefined ? undefined : { ...toTransfer(row), journalIndex: row.journal_index, leafHash: row.leaf_hash }
  })
}

/**
 * An account's transfers recorded in [from, to) (instants), oldest first, after a cursor (a journal
 * index): the statement. Pending transfers are listed with their kind; balances are the account's.
 */
export async function accountStatement(deps: LedgerDeps, tenantId: string, accountId: string, range: { from: Date | null; to: Date | null; afterIndex: bigint | null; limit: number }, bucketsPerQuery = statementBucketsPerQuery): Promise<StoredTransfer[]> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const from = range.from ?? new Date(0)
    const to = range.to ?? new Date('9999-12-31T00:00:00Z')
    let after = range.afterIndex ?? -1n
    const size = await journalSize(trx, tenantId)
    const found: StoredTransfer[] = []
    if (size === 0n) return found
    const lastBucket = safeIntegerOf((size - 1n) >> BigInt(journalBucketBits))
    // Bucket after bucket in journal order (migrations/0019-ledger-transfer-buckets), a few per query,
    // until the page is full: in each, the account's transfers on either side, merged by journal index.
    for (let bucket = safeIntegerOf((after + 1n) >> BigInt(journalBucketBits)); bucket <= lastBucket && found.length < range.limit; bucket += bucketsPerQuery) {
      const limit = range.limit - found.length
      const side = (column: 'debit_account_id' | 'credit_account_id') => sql`
        select t.* from ledger_transfers t
        where ${inBucket} and t.${sql.ref(column)} = ${accountId} and t.journal_index > ${after.toString()}
          and t.posted_at >= ${from} and t.posted_at < ${to} and t.tenant_id = ${tenantId}
        order by t.journal_index limit ${limit}`
      const rows = await sql<TransferRow>`
        select t.* from generate_series(${bucket}::int, ${Math.min(lastBucket, bucket + bucketsPerQuery - 1)}::int) as b(bucket)
        cross join lateral ((${side('debit_account_id')}) union all (${side('credit_account_id')})) as t
        order by t.journal_index limit ${limit}`.execute(trx)
      for (const row of rows.rows) found.push({ ...toTransfer(row), journalIndex: row.journal_index, leafHash: row.leaf_hash })
      after = found.at(-1)?.journalIndex ?? after
    }
    return found
  })
}

/**
 * Posted balances of an account as they stood at a past moment: by instant (`postedAt <= at`, what
 * the ledger had recorded then) or by value date (`valueDate <= on`, what counts for that business
 * date, including back-dated transfers recorded later).
 */
export async function balanceAsOf(deps: LedgerDeps, tenantId: string, accountId: string, asOf: { instant: Date } | { valueDate: string }): Promise<{ debitsPosted: bigint; creditsPosted: bigint }> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const size = await journalSize(trx, tenantId)
    if (size === 0n) return { debitsPosted: 0n, creditsPosted: 0n }
    const lastBucket = safeIntegerOf((size - 1n) >> BigInt(journalBucketBits))
    const cutoff = 'instant' in asOf ? sql`t.posted_at <= ${asOf.instant}` : sql`t.value_date <= ${asOf.valueDate}::date`
    const side = (column: 'debit_account_id' | 'credit_account_id') => sql`
      select t.amount, t.debit_account_id, t.credit_account_id from ledger_transfers t
      where ${inBucket} and t.${sql.ref(column)} = ${accountId} and t.kind in (0, 2) and ${cutoff} and t.tenant_id = ${tenantId}`
    // Posted amounts: single-phase transfers (kind 0) and posts of pendings (kind 2), found through the
    // account's transfers in every bucket of the journal.
    const rows = await sql<{ debits: bigint | null; credits: bigint | null }>`
      select sum(t.amount) filter (where t.debit_account_id = ${accountId})::bigint as debits, sum(t.amount) filter (where t.credit_account_id = ${accountId})::bigint as credits
      from generate_series(0, ${lastBucket}::int) as b(bucket)
      cross join lateral (${side('debit_account_id')} union all ${side('credit_account_id')}) as t`.execute(trx)
    return { debitsPosted: rows.rows[0]?.debits ?? 0n, creditsPosted: rows.rows[0]?.credits ?? 0n }
  })
}

/** Signs the current journal root (RFC 6962 STH, Ed25519) and records the tree head. */
export async function signJournalHead(deps: LedgerDeps, keyring: Keyring, tenantId: string, now: Date): Promise<SignedTreeHead> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const size = await journalSize(trx, tenantId)
    const rootHash = rootFromFrontier(await loadFrontier(trx, tenantId, size))
    const sth = signTreeHead({ treeSize: safeIntegerOf(size), timestamp: now.getTime(), rootHash }, (message) => sign(keyring, message))
    await sql`insert into ledger_tree_heads (tenant_id, tree_size, timestamp_ms, root_hash, key_id, signature)
      values (${tenantId}, ${sth.treeSize}, ${sth.timestamp}, ${Buffer.from(rootHash)}, ${sth.keyId}, ${sth.signature})
      on conflict do nothing`.execute(trx)
    return sth
  })
}

/**
 * Streams the tenant's journal, oldest first, as export lines ({index, leafHex, …decoded fields}),
 * re-encoded from the stored transfers, plus `storedLeafHash`: the leaf hash recorded at commit. A row
 * changed afterwards no longer matches its stored leaf hash (nor the signed tree heads).
 */
export async function exportJournal(deps: LedgerDeps, tenantId: string, options: { fromIndex: bigint; pageSize: number; onLine: (line: JournalExportLine & { storedLeafHash: string }) => void; onProgress?: (done: bigint, total: bigint) => void }): Promise<bigint> {
  let next = options.fromIndex
  let total = 0n
  for (;;) {
    const page = await inTenant(deps.db, tenantId, async (trx) => {
      total = await journalSize(trx, tenantId)
      return (await sql<TransferRow>`select * from ledger_transfers where tenant_id = ${tenantId} and journal_index >= ${next.toString()} order by journal_index limit ${options.pageSize}`.execute(trx)).rows
    })
    for (const row of page) {
      const line = formatJournalExportLine(journalEntryOf(tenantId, row.journal_index, toTransfer(row)))
      options.onLine({ ...line, storedLeafHash: Buffer.from(row.leaf_hash).toString('hex') })
      next = row.journal_index + 1n
    }
    options.onProgress?.(next, total)
    if (page.length < options.pageSize) return next - options.fromIndex
  }
}

/** The most recent signed tree head of the tenant's journal, if any was signed. */
export async function latestTreeHead(deps: LedgerDeps, tenantId: string): Promise<SignedTreeHead | undefined> {
  return inTenant(deps.db, tenantId, async (trx) => {
    const rows = await sql<{ tree_size: bigint; timestamp_ms: bigint; root_hash: Buffer; key_id: string; signature: string }>`
      select tree_size, timestamp_ms, root_hash, key_id, signature from ledger_tree_heads where tenant_id = ${tenantId}
      order by tree_size desc, timestamp_ms desc limit 1`.execute(trx)
    const row = rows.rows[0]
    if (row === undefined) return undefined
    return { treeSize: safeIntegerOf(row.tree_size), timestamp: safeIntegerOf(row.timestamp_ms), rootHash: Buffer.from(row.root_hash).toString('hex'), keyId: row.key_id, signature: row.signature }
  })
}

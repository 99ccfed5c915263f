/**
 * @module ledger/transfer
 * The pure core of the ledger: accounts, balances and transfers, and `applyTransfers`, which decides a
 * batch against a snapshot of the accounts and transfers it touches (no I/O, no clock: `now` and the
 * business date are passed in). TigerBeetle's model is the reference: client-chosen ids, statuses in
 * precedence order (an idempotent retry first, then `exists_with_different_<field>`, then validation,
 * then limits), two-phase transfers (pending → post in full or in part / void / expiry), linked chains
 * that succeed or fail as one, and balancing transfers that move up to what a limit allows.
 *
 * Why our own: a ledger is the domain; the point is its invariants (every transfer balances, no limit is
 * ever crossed, a replay changes nothing), asserted here and checked against a naive model in tests.
 */
import { assert } from '../core/assert.ts'

/** The largest balance a bigint column holds; a transfer that would overflow it is refused. */
export const balanceMax = 9_223_372_036_854_775_807n

export type AccountFlags = {
  /** An asset-style limit: the account may not pay out more than it has received (no overdraft). */
  debitsMustNotExceedCredits: boolean
  /** A liability-style limit: the account may not receive more than it has paid out. */
  creditsMustNotExceedDebits: boolean
}

export type Account = {
  id: string
  currency: string
  /** Chart-of-accounts code (DOMAIN.md), e.g. 1201 loan principal receivable. */
  code: number
  flags: AccountFlags
  /** Accounts owned by a module (e.g. a loan) accept transfers from that module only. */
  owner: string | null
  closed: boolean
  debitsPosted: bigint
  creditsPosted: bigint
  debitsPending: bigint
  creditsPending: bigint
}

export type TransferKind = 'posted' | 'pending' | 'post_pending' | 'void_pending' | 'expire_pending'

export type TransferFlags = {
  /** Links this transfer to the next one in the batch: the chain succeeds or fails as one. */
  linked: boolean
  pending: boolean
  postPending: boolean
  voidPending: boolean
  /** Move at most what the debit account's limit allows (a sweep); the amount is the ceiling. */
  balancingDebit: boolean
  /** Move at most what the credit account's limit allows; the amount is the ceiling. */
  balancingCredit: boolean
}

export type TransferInput = {
  id: string
  debitAccountId: string | null
  creditAccountId: string | null
  /** Minor units. For post_pending: null posts the full pending amount. */
  amountMinor: bigint | null
  /** When given, must be the accounts' currency (`currencies_must_match`). */
  currency: string | null
  code: number
  flags: TransferFlags
  pendingId: string | null
  /** Seconds after which a pending transfer expires (0: never). Only for pending transfers. */
  timeoutSeconds: number
  userData: bigint
  /** The business date the transfer counts for; defaults to the tenant's business date. */
  valueDate: string | null
}

export type Transfer = {
  id: string
  debitAccountId: string
  creditAccountId: string
  amountMinor: bigint
  currency: string
  code: number
  kind: TransferKind
  flags: TransferFlags
  pendingId: string | null
  timeoutSeconds: number
  userData: bigint
  valueDate: string
  postedAt: Date
}

/** The state of a pending transfer, as far as later transfers are concerned. */
export type PendingState = 'pending' | 'posted' | 'voided' | 'expired'

export const transferStatuses = [
  'created',
  'exists',
  'linked_event_failed',
  'linked_event_chain_open',
  'flags_are_mutually_exclusive',
  'pending_id_must_be_null',
  'pending_id_must_not_be_null',
  'pending_id_must_be_different',
  'timeout_reserved_for_pending_transfer',
  'amount_must_be_positive',
  'accounts_must_be_different',
  'debit_account_id_must_not_be_null',
  'credit_account_id_must_not_be_null',
  'exists_with_different_flags',
  'exists_with_different_pending_id',
  'exists_with_different_timeout',
  'exists_with_different_debit_account_id',
  'exists_with_different_credit_account_id',
  'exists_with_different_amount',
  'exists_with_different_user_data',
  'exists_with_different_code',
  'exists_with_different_value_date',
  'debit_account_not_found',
  'credit_account_not_found',
  'currencies_must_match',
  'debit_account_closed',
  'credit_account_closed',
  'account_reserved_for_owner',
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_debit_account_id',
  'pending_transfer_has_different_credit_account_id',
  'pending_transfer_has_different_amount',
  'exceeds_pending_transfer_amount',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'overflows_debits',
  'overflows_credits',
  'exceeds_credits',
  'exceeds_debits',
] as const
export type TransferStatus = (typeof transferStatuses)[number]

export type TransferResult = { index: number; id: string; status: TransferStatus }

/** What `applyTransfers` needs to know beyond the batch: a snapshot, loaded by the shell. */
export type LedgerSnapshot = {
  accounts: ReadonlyMap<string, Account>
  /** Transfers already stored with an id in this batch, or referenced as pending by it. */
  transfers: ReadonlyMap<string, Transfer>
  /** For each stored pending transfer referenced by the batch: its current state. */
  pendingStates: ReadonlyMap<string, PendingState>
}

export type ApplyContext = {
  now: Date
  businessDate: string
  /** Who submits: the owner name that may use owned accounts (e.g. 'servicing'), or null for the raw API. */
  origin: string | null
}

export type AccountDelta = { debitsPosted: bigint; creditsPosted: bigint; debitsPending: bigint; creditsPending: bigint }

export type ApplyOutcome = {
  results: TransferResult[]
  /** Transfers to store, in batch order. */
  created: Transfer[]
  /** Net change of each touched account's balances. */
  deltas: Map<string, AccountDelta>
  /** Pending transfers this batch resolved. */
  resolved: Map<string, Exclude<PendingState, 'pending'>>
}

const noFlags: TransferFlags = { linked: false, pending: false, postPending: false, voidPending: false, balancingDebit: false, balancingCredit: false }
export function transferFlags(partial: Partial<TransferFlags> = {}): TransferFlags {
  return { ...noFlags, ...partial }
}

export function kindOf(flags: TransferFlags): TransferKind {
  if (flags.pending) return 'pending'
  if (flags.postPending) return 'post_pending'
  if (flags.voidPending) return 'void_pending'
  return 'posted'
}

/** Working balances for the batch, with an undo log so that a failed linked chain rolls back. */
class WorkingLedger {
  readonly balances = new Map<string, Account>()
  readonly pendingStates = new Map<string, PendingState>()
  readonly transfers = new Map<string, Transfer>()
  private undo: (() => void)[] = []
  private readonly snapshot: LedgerSnapshot
  constructor(snapshot: LedgerSnapshot) {
    this.snapshot = snapshot
  }

  account(id: string): Account | undefined {
    return this.balances.get(id) ?? this.snapshot.accounts.get(id)
  }
  transfer(id: string): Transfer | undefined {
    return this.transfers.get(id) ?? this.snapshot.transfers.get(id)
  }
  pendingState(id: string): PendingState | undefined {
    return this.pendingStates.get(id) ?? this.snapshot.pendingStates.get(id)
  }

  setAccount(next: Account): void {
    const previous = this.balances.get(next.id)
    this.undo.push(() => (previous === undefined ? this.balances.delete(next.id) : this.balances.set(next.id, previous)))
    this.balances.set(next.id, next)
  }
  addTransfer(transfer: Transfer): void {
    this.undo.push(() => this.transfers.delete(transfer.id))
    this.transfers.set(transfer.id, transfer)
  }
  setPendingState(id: string, state: PendingState): void {
    const previous = this.pendingStates.get(id)
    this.undo.push(() => (previous === undefined ? this.pendingStates.delete(id) : this.pendingStates.set(id, previous)))
    this.pendingStates.set(id, state)
  }
  /** Marks the start of a chain (or of a single transfer). */
  checkpoint(): number {
    return this.undo.length
  }
  rollbackTo(mark: number): void {
    while (this.undo.length > mark) (this.undo.pop() as () => void)()
  }
}

function flagsEqual(a: TransferFlags, b: TransferFlags): boolean {
  return a.linked === b.linked && a.pending === b.pending && a.postPending === b.postPending && a.voidPending === b.voidPending && a.balancingDebit === b.balancingDebit && a.balancingCredit === b.balancingCredit
}

/** An input that repeats a stored transfer: `exists`, or the first field that differs. */
function compareWithExisting(input: TransferInput, existing: Transfer, businessDate: string): TransferStatus {
  if (!flagsEqual(input.flags, existing.flags)) return 'exists_with_different_flags'
  if (input.pendingId !== existing.pendingId) return 'exists_with_different_pending_id'
  if (input.timeoutSeconds !== existing.timeoutSeconds) return 'exists_with_different_timeout'
  if (input.debitAccountId !== null && input.debitAccountId !== existing.debitAccountId) return 'exists_with_different_debit_account_id'
  if (input.creditAccountId !== null && input.creditAccountId !== existing.creditAccountId) return 'exists_with_different_credit_account_id'
  const balancing = existing.flags.balancingDebit || existing.flags.balancingCredit
  if (input.amountMinor !== null && !balancing && input.amountMinor !== existing.amountMinor) return 'exists_with_different_amount'
  if (input.amountMinor !== null && balancing && input.amountMinor < existing.amountMinor) return 'exists_with_different_amount'
  if (input.userData !== existing.userData) return 'exists_with_different_user_data'
  if (input.code !== existing.code) return 'exists_with_different_code'
  if ((input.valueDate ?? businessDate) !== existing.valueDate && input.valueDate !== null) return 'exists_with_different_value_date'
  return 'exists'
}

/** Checks that need only the input itself, in precedence order. */
function validateShape(input: TransferInput): TransferStatus | undefined {
  const { flags } = input
  const phases = [flags.pending, flags.postPending, flags.voidPending].filter(Boolean).length
  if (phases > 1) return 'flags_are_mutually_exclusive'
  if ((flags.balancingDebit || flags.balancingCredit) && (flags.postPending || flags.voidPending)) return 'flags_are_mutually_exclusive'
  const resolves = flags.postPending || flags.voidPending
  if (!resolves && input.pendingId !== null) return 'pending_id_must_be_null'
  if (resolves && input.pendingId === null) return 'pending_id_must_not_be_null'
  if (resolves && input.pendingId === input.id) return 'pending_id_must_be_different'
  if (!flags.pending && input.timeoutSeconds !== 0) return 'timeout_reserved_for_pending_transfer'
  if (!resolves) {
    if (input.amountMinor === null || input.amountMinor <= 0n) return 'amount_must_be_positive'
    if (input.debitAccountId === null) return 'debit_account_id_must_not_be_null'
    if (input.creditAccountId === null) return 'credit_account_id_must_not_be_null'
    if (input.debitAccountId === input.creditAccountId) return 'accounts_must_be_different'
  } else if (input.amountMinor !== null && input.amountMinor < 0n) {
    return 'amount_must_be_positive'
  }
  return undefined
}

function checkAccounts(ledger: WorkingLedger, debitId: string, creditId: string, origin: string | null, currency: string | null): TransferStatus | { debit: Account; credit: Account } {
  const debit = ledger.account(debitId)
  if (debit === undefined) return 'debit_account_not_found'
  const credit = ledger.account(creditId)
  if (credit === undefined) return 'credit_account_not_found'
  if (debit.currency !== credit.currency || (currency !== null && currency !== debit.currency)) return 'currencies_must_match'
  if (debit.closed) return 'debit_account_closed'
  if (credit.closed) return 'credit_account_closed'
  if ((debit.owner !== null && debit.owner !== origin) || (credit.owner !== null && credit.owner !== origin)) return 'account_reserved_for_owner'
  return { debit, credit }
}

/** How much a balancing transfer may move so that no limit is crossed (≤ `ceiling`). */
function balancingAmount(input: TransferInput, debit: Account, credit: Account, ceiling: bigint): bigint {
  let amount = ceiling
  if (input.flags.balancingDebit && debit.flags.debitsMustNotExceedCredits) {
    const room = debit.creditsPosted - debit.debitsPosted - debit.debitsPending
    amount = room < amount ? room : amount
  }
  if (input.flags.balancingCredit && credit.flags.creditsMustNotExceedDebits) {
    const room = credit.debitsPosted - credit.creditsPosted - credit.creditsPending
    amount = room < amount ? room : amount
  }
  return amount < 0n ? 0n : amount
}

/**
 * Applies `amount` to both accounts as posted or pending, or returns the limit it would cross.
 * `releasePending` is the pending amount a post/void releases first.
 */
function postAmounts(ledger: WorkingLedger, debit: Account, credit: Account, posted: bigint, pending: bigint, releasePending: bigint): TransferStatus | undefined {
  const nextDebit = { ...debit, debitsPosted: debit.debitsPosted + posted, debitsPending: debit.debitsPending + pending - releasePending }
  const nextCredit = { ...credit, creditsPosted: credit.creditsPosted + posted, creditsPending: credit.creditsPending + pending - releasePending }
  if (nextDebit.debitsPosted + nextDebit.debitsPending > balanceMax) return 'overflows_debits'
  if (nextCredit.creditsPosted + nextCredit.creditsPending > balanceMax) return 'overflows_credits'
  if (debit.flags.debitsMustNotExceedCredits && nextDebit.debitsPosted + nextDebit.debitsPending > nextDebit.creditsPosted) return 'exceeds_credits'
  if (credit.flags.creditsMustNotExceedDebits && nextCredit.creditsPosted + nextCredit.creditsPending > nextCredit.debitsPosted) return 'exceeds_debits'
  assert(nextDebit.debitsPending >= 0n && nextCredit.creditsPending >= 0n, 'pending balances never go negative')
  ledger.setAccount(nextDebit)
  ledger.setAccount(nextCredit)
  return undefined
}

function applyOne(ledger: WorkingLedger, input: TransferInput, context: ApplyContext): { status: TransferStatus; transfer?: Transfer } {
  const existing = ledger.transfer(input.id)
  if (existing !== undefined) return { status: compareWithExisting(input, existing, context.businessDate) }
  const shapeFailure = validateShape(input)
  if (shapeFailure !== undefined) return { status: shapeFailure }
  const valueDate = input.valueDate ?? context.businessDate
  const base = { id: input.id, code: input.code, flags: input.flags, timeoutSeconds: input.timeoutSeconds, userData: input.userData, valueDate, postedAt: context.now }

  if (input.flags.postPending || input.flags.voidPending) {
    const pendingId = input.pendingId as string
    const pending = ledger.transfer(pendingId)
    if (pending === undefined) return { status: 'pending_transfer_not_found' }
    if (pending.kind !== 'pending') return { status: 'pending_transfer_not_pending' }
    if (input.debitAccountId !== null && input.debitAccountId !== pending.debitAccountId) return { status: 'pending_transfer_has_different_debit_account_id' }
    if (input.creditAccountId !== null && input.creditAccountId !== pending.creditAccountId) return { status: 'pending_transfer_has_different_credit_account_id' }
    const amount = input.amountMinor ?? pending.amountMinor
    if (input.flags.voidPending && amount !== pending.amountMinor) return { status: 'pending_transfer_has_different_amount' }
    if (amount > pending.amountMinor) return { status: 'exceeds_pending_transfer_amount' }
    const state = ledger.pendingState(pendingId) ?? 'pending'
    if (state === 'posted') return { status: 'pending_transfer_already_posted' }
    if (state === 'voided') return { status: 'pending_transfer_already_voided' }
    if (state === 'expired' || isExpired(pending, context.now)) return { status: 'pending_transfer_expired' }
    const accounts = checkAccounts(ledger, pending.debitAccountId, pending.creditAccountId, context.origin, input.currency)
    if (typeof accounts === 'string') return { status: accounts }
    const posted = input.flags.postPending ? amount : 0n
    const limit = postAmounts(ledger, accounts.debit, accounts.credit, posted, 0n, pending.amountMinor)
    if (limit !== undefined) return { status: limit }
    ledger.setPendingState(pendingId, input.flags.postPending ? 'posted' : 'voided')
    const transfer: Transfer = { ...base, debitAccountId: pending.debitAccountId, creditAccountId: pending.creditAccountId, amountMinor: amount, currency: pending.currency, kind: kindOf(input.flags), pendingId }
    return { status: 'created', transfer }
  }

  const accounts = checkAccounts(ledger, input.debitAccountId as string, input.creditAccountId as string, context.origin, input.currency)
  if (typeof accounts === 'string') return { status: accounts }
  const ceiling = input.amountMinor as bigint
  const amount = input.flags.balancingDebit || input.flags.balancingCredit ? balancingAmount(input, accounts.debit, accounts.credit, ceiling) : ceiling
  const limit = input.flags.pending ? postAmounts(ledger, accounts.debit, accounts.credit, 0n, amount, 0n) : postAmounts(ledger, accounts.debit, accounts.credit, amount, 0n, 0n)
  if (limit !== undefined) return { status: limit }
  if (input.flags.pending) ledger.setPendingState(input.id, 'pending')
  const transfer: Transfer = { ...base, debitAccountId: accounts.debit.id, creditAccountId: accounts.credit.id, amountMinor: amount, currency: accounts.debit.currency, kind: kindOf(input.flags), pendingId: null }
  return { status: 'created', transfer }
}

export function isExpired(pending: Transfer, now: Date): boolean {
  return pending.timeoutSeconds > 0 && now.getTime() >= pending.postedAt.getTime() + pending.timeoutSeconds * 1000
}

/**
 * Decides a batch in order. Transfers in a linked chain (flag `linked` on all but the last) succeed or
 * fail together: when one fails, it keeps its own status, the others get `linked_event_failed`, and
 * none of the chain's effects remain. A chain still open at the end of the batch fails with
 * `linked_event_chain_open`.
 */
export function applyTransfers(snapshot: LedgerSnapshot, inputs: readonly TransferInput[], context: ApplyContext): ApplyOutcome {
  const ledger = new WorkingLedger(snapshot)
  const statuses: TransferStatus[] = []
  const made: (Transfer | undefined)[] = []
  let chainStart = -1
  let chainMark = 0
  let chainFailed = false
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index] as TransferInput
    if (chainStart < 0) {
      chainStart = index
      chainMark = ledger.checkpoint()
      chainFailed = false
    }
    const open = input.flags.linked && index === inputs.length - 1
    let status: TransferStatus
    if (chainFailed) {
      status = 'linked_event_failed'
      made.push(undefined)
    } else if (open) {
      status = 'linked_event_chain_open'
      made.push(undefined)
    } else {
      const outcome = applyOne(ledger, input, context)
      status = outcome.status
      made.push(outcome.transfer)
      if (outcome.transfer !== undefined) ledger.addTransfer(outcome.transfer)
    }
    statuses.push(status)
    const failed = status !== 'created' && status !== 'exists'
    if (failed && !chainFailed && chainStart < index + 1) {
      // Fail the whole chain: undo its effects and mark the earlier members.
      chainFailed = true
      ledger.rollbackTo(chainMark)
      for (let earlier = chainStart; earlier < index; earlier++) {
        statuses[earlier] = 'linked_event_failed'
        made[earlier] = undefined
      }
    }
    if (!input.flags.linked || open) chainStart = -1
  }
  const created = made.filter((transfer): transfer is Transfer => transfer !== undefined)
  return { results: statuses.map((status, index) => ({ index, id: (inputs[index] as TransferInput).id, status })), created, deltas: deltasOf(snapshot, ledger), resolved: resolvedOf(snapshot, ledger) }
}

function deltasOf(snapshot: LedgerSnapshot, ledger: WorkingLedger): Map<string, AccountDelta> {
  const deltas = new Map<string, AccountDelta>()
  for (const [id, after] of ledger.balances) {
    const before = snapshot.accounts.get(id)
    assert(before !== undefined, 'only known accounts change')
    const delta = { debitsPosted: after.debitsPosted - before.debitsPosted, creditsPosted: after.creditsPosted - before.creditsPosted, debitsPending: after.debitsPending - before.debitsPending, creditsPending: after.creditsPending - before.creditsPending }
    if (delta.debitsPosted !== 0n || delta.creditsPosted !== 0n || delta.debitsPending !== 0n || delta.creditsPending !== 0n) deltas.set(id, delta)
  }
  return deltas
}

function resolvedOf(snapshot: LedgerSnapshot, ledger: WorkingLedger): Map<string, Exclude<PendingState, 'pending'>> {
  const resolved = new Map<string, Exclude<PendingState, 'pending'>>()
  for (const [id, state] of ledger.pendingStates) {
    if (state !== 'pending' && snapshot.pendingStates.get(id) !== state) resolved.set(id, state)
  }
  return resolved
}

/**
 * Expiry of timed-out pending transfers: for each, a transfer of kind `expire_pending` that releases the
 * pending amounts. `pendings` are those the shell found due (with state 'pending').
 */
export function expirePending(snapshot: LedgerSnapshot, pendings: readonly Transfer[], context: ApplyContext & { newId: () => string }): ApplyOutcome {
  const ledger = new WorkingLedger(snapshot)
  const created: Transfer[] = []
  for (const pending of pendings) {
    assert(pending.kind === 'pending', 'only pending transfers expire')
    if ((ledger.pendingState(pending.id) ?? 'pending') !== 'pending' || !isExpired(pending, context.now)) continue
    const debit = ledger.account(pending.debitAccountId)
    const credit = ledger.account(pending.creditAccountId)
    assert(debit !== undefined && credit !== undefined, 'accounts of a stored transfer exist')
    const limit = postAmounts(ledger, debit, credit, 0n, 0n, pending.amountMinor)
    assert(limit === undefined, 'releasing a pending amount crosses no limit')
    ledger.setPendingState(pending.id, 'expired')
    created.push({ ...pending, id: context.newId(), kind: 'expire_pending', flags: noFlags, pendingId: pending.id, timeoutSeconds: 0, valueDate: context.businessDate, postedAt: context.now })
  }
  return { results: [], created, deltas: deltasOf(snapshot, ledger), resolved: resolvedOf(snapshot, ledger) }
}

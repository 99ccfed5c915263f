/**
 * The ledger against a naive in-memory model, through the service and a real PostgreSQL (fast-check):
 * random steps of batches — single-phase and pending transfers, posts (full and partial) and voids of
 * pendings, linked chains (some left open), exact replays and conflicting reuses of earlier ids, in two
 * currencies, on accounts with and without limits — sent by concurrent clients (so that the writer
 * groups them), and expiries of timed-out pendings. After every step: each item is created exactly when
 * the model accepts it, the database's balances are the model's, Σ debits = Σ credits per currency,
 * no limit is crossed, the journal holds one entry per created transfer, and a replay of what was
 * created answers `exists` and changes nothing.
 *
 * The model knows only balances and the rules as the issue states them (it shares no code with
 * ledger/transfer.ts): an account, a pending and its state, a transfer's stored definition.
 */
import fc from 'fast-check'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant } from '../src/access/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import { createAccounts, createTransfers, expirePendingTransfers, journalSize } from '../src/ledger/ledger-service.ts'
import { transferFlags, type TransferInput } from '../src/ledger/transfer.ts'
import { freshDatabase, type TestDatabase } from './support/db.ts'

let t: TestDatabase

beforeAll(async () => {
  t = await freshDatabase()
})
afterAll(async () => {
  await t.close()
})

type ModelAccount = { currency: string; noOverdraft: boolean; noOvercredit: boolean; dp: bigint; cp: bigint; dpe: bigint; cpe: bigint }
type ModelTransfer = { input: TransferInput; pending?: { debit: string; credit: string; amount: bigint; expires: boolean; state: 'open' | 'posted' | 'voided' | 'expired' } }
type Model = { accounts: Map<string, ModelAccount>; transfers: Map<string, ModelTransfer>; entries: number }

const accountSpecs = [
  { currency: 'CNY', noOverdraft: false, noOvercredit: false },
  { currency: 'CNY', noOverdraft: true, noOvercredit: false },
  { currency: 'CNY', noOverdraft: false, noOvercredit: true },
  { currency: 'CNY', noOverdraft: false, noOvercredit: false },
  { currency: 'USD', noOverdraft: false, noOvercredit: false },
  { currency: 'USD', noOverdraft: true, noOvercredit: false },
] as const

function cloneModel(model: Model): Model {
  return {
    accounts: new Map([...model.accounts].map(([id, a]) => [id, { ...a }])),
    transfers: new Map([...model.transfers].map(([id, tr]) => [id, tr.pending === undefined ? tr : { ...tr, pending: { ...tr.pending } }])),
    entries: model.entries,
  }
}

function withinLimits(a: ModelAccount): boolean {
  return !(a.noOverdraft && a.dp + a.dpe > a.cp) && !(a.noOvercredit && a.cp + a.cpe > a.dp)
}

/** One transfer against the model: 'created', 'exists' (the very same transfer again) or 'failed'. */
function modelApply(model: Model, input: TransferInput): 'created' | 'exists' | 'failed' {
  const prior = model.transfers.get(input.id)
  if (prior !== undefined) return prior.input === input ? 'exists' : 'failed'
  if (input.flags.postPending || input.flags.voidPending) {
    const pending = model.transfers.get(input.pendingId ?? '')?.pending
    if (pending === undefined || pending.state !== 'open') return 'failed'
    const amount = input.amountMinor ?? pending.amount
    if (amount > pending.amount || (input.flags.voidPending && amount !== pending.amount)) return 'failed'
    const debit = model.accounts.get(pending.debit) as ModelAccount
    const credit = model.accounts.get(pending.credit) as ModelAccount
    const posted = input.flags.postPending ? amount : 0n
    const nextDebit = { ...debit, dp: debit.dp + posted, dpe: debit.dpe - pending.amount }
    const nextCredit = { ...credit, cp: credit.cp + posted, cpe: credit.cpe - pending.amount }
    if (!withinLimits(nextDebit) || !withinLimits(nextCredit)) return 'failed'
    model.accounts.set(pending.debit, nextDebit)
    model.accounts.set(pending.credit, nextCredit)
    pending.state = input.flags.postPending ? 'posted' : 'voided'
    model.transfers.set(input.id, { input })
    model.entries++
    return 'created'
  }
  const amount = input.amountMinor ?? 0n
  const debitId = input.debitAccountId as string
  const creditId = input.creditAccountId as string
  const debit = model.accounts.get(debitId)
  const credit = model.accounts.get(creditId)
  if (amount <= 0n || debitId === creditId || debit === undefined || credit === undefined || debit.currency !== credit.currency) return 'failed'
  const pending = input.flags.pending
  const nextDebit = pending ? { ...debit, dpe: debit.dpe + amount } : { ...debit, dp: debit.dp + amount }
  const nextCredit = pending ? { ...credit, cpe: credit.cpe + amount } : { ...credit, cp: credit.cp + amount }
  if (!withinLimits(nextDebit) || !withinLimits(nextCredit)) return 'failed'
  model.accounts.set(debitId, nextDebit)
  model.accounts.set(creditId, nextCredit)
  model.transfers.set(input.id, pending ? { input, pending: { debit: debitId, credit: creditId, amount, expires: input.timeoutSeconds > 0, state: 'open' } } : { input })
  model.entries++
  return 'created'
}

/** A batch against the model: linked chains succeed or fail as one; a chain open at the end fails. */
function modelBatch(model: Model, inputs: readonly TransferInput[]): { model: Model; outcomes: ('created' | 'exists' | 'failed')[] } {
  let current = model
  const all: ('created' | 'exists' | 'failed')[] = []
  for (let start = 0; start < inputs.length; ) {
    let end = start
    while (end < inputs.length - 1 && (inputs[end] as TransferInput).flags.linked) end++
    const open = (inputs[end] as TransferInput).flags.linked
    const trial = cloneModel(current)
    const outcomes = inputs.slice(start, end + 1).map((input) => modelApply(trial, input))
    const chainHolds = !open && outcomes.every((outcome) => outcome !== 'failed')
    if (chainHolds) current = trial
    for (const outcome of outcomes) all.push(chainHolds ? outcome : 'failed')
    start = end + 1
  }
  return { model: current, outcomes: all }
}

/** Expiry of every open pending with a timeout, against the model: how many. */
function modelExpire(model: Model): number {
  let expired = 0
  for (const transfer of model.transfers.values()) {
    const pending = transfer.pending
    if (pending === undefined || pending.state !== 'open' || !pending.expires) continue
    const debit = model.accounts.get(pending.debit) as ModelAccount
    const credit = model.accounts.get(pending.credit) as ModelAccount
    debit.dpe -= pending.amount
    credit.cpe -= pending.amount
    pending.state = 'expired'
    expired++
  }
  model.entries += expired
  return expired
}

const itemArbitrary = fc.record({
  kind: fc.constantFrom('posted', 'posted', 'posted', 'pending', 'pending', 'post', 'void', 'replay', 'conflict'),
  debit: fc.nat({ max: accountSpecs.length }), // one past the end: an account that does not exist
  credit: fc.nat({ max: accountSpecs.length - 1 }),
  amount: fc.bigInt({ min: 0n, max: 60n }),
  partial: fc.boolean(),
  timeout: fc.boolean(),
  pick: fc.nat(),
  linked: fc.nat({ max: 9 }).map((n) => n < 3),
})
type Item = typeof itemArbitrary extends fc.Arbitrary<infer T> ? T : never
const stepArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.array(itemArbitrary, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 3 }).map((batches) => ({ batches })) },
  { weight: 1, arbitrary: fc.constant({ expire: true as const }) },
)

describe('the ledger against a naive model, in the database', () => {
  it('creates exactly what the model accepts, keeps its balances, balances per currency, never crosses a limit, and replays change nothing', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 6 }), async (steps) => {
        const tenant = await createTenant({ db: t.db, clock: systemClock, ids: uuidv7Source }, { slug: `model-${run++}-${uuidv7Source.next().slice(-8)}`, name: 'Model' })
        if (tenant.status !== 'ok') throw new Error(tenant.status)
        const tenantId = tenant.value.id
        const deps = { db: t.db, ids: uuidv7Source }
        const accountIds = accountSpecs.map(() => uuidv7Source.next())
        const missingAccount = uuidv7Source.next()
        const statuses = await createAccounts(deps, tenantId, accountSpecs.map((spec, i) => ({ id: accountIds[i] as string, currency: spec.currency, code: 1001, flags: { debitsMustNotExceedCredits: spec.noOverdraft, creditsMustNotExceedDebits: spec.noOvercredit }, owner: null, userData: 0n })), new Date())
        expect(statuses.every((status) => status === 'created')).toBe(true)
        let model: Model = { accounts: new Map(accountSpecs.map((spec, i) => [accountIds[i] as string, { ...spec, dp: 0n, cp: 0n, dpe: 0n, cpe: 0n }])), transfers: new Map(), entries: 0 }
        const sent: TransferInput[] = []
        const pendingsSent: string[] = []

        const toInput = (item: Item): TransferInput => {
          const linked = item.linked
          if (item.kind === 'replay' && sent.length > 0) return sent[item.pick % sent.length] as TransferInput
          const created = [...model.transfers.values()]
          if (item.kind === 'conflict' && created.length > 0) {
            // An earlier created id with another transfer: never the same definition (another amount, or
            // other flags than a post's or a void's).
            const earlier = (created[item.pick % created.length] as ModelTransfer).input
            return { ...earlier, debitAccountId: accountIds[0] as string, creditAccountId: accountIds[3] as string, amountMinor: (earlier.amountMinor ?? 0n) + 1n, flags: transferFlags({ linked }), pendingId: null, timeoutSeconds: 0 }
          }
          const id = uuidv7Source.next()
          if ((item.kind === 'post' || item.kind === 'void') && pendingsSent.length > 0) {
            const pendingId = pendingsSent[item.pick % pendingsSent.length] as string
            const amount = item.kind === 'post' && item.partial ? item.amount : null
            return { id, debitAccountId: null, creditAccountId: null, amountMinor: amount, currency: null, code: 0, flags: transferFlags({ linked, postPending: item.kind === 'post', voidPending: item.kind === 'void' }), pendingId, timeoutSeconds: 0, userData: 0n, valueDate: null }
          }
          const pending = item.kind === 'pending'
          const debit = item.debit === accountSpecs.length ? missingAccount : (accountIds[item.debit] as string)
          const input: TransferInput = { id, debitAccountId: debit, creditAccountId: accountIds[item.credit] as string, amountMinor: item.amount, currency: null, code: 0, flags: transferFlags({ linked, pending }), pendingId: null, timeoutSeconds: pending && item.timeout ? 3_600 : 0, userData: 0n, valueDate: null }
          if (pending) pendingsSent.push(id)
          return input
        }

        const readBalances = async () =>
          inTenant(t.db, tenantId, async (trx) => {
            const rows = await sql<{ id: string; currency: string; flags: number; debits_posted: bigint; credits_posted: bigint; debits_pending: bigint; credits_pending: bigint }>`
              select id, currency, flags, debits_posted, credits_posted, debits_pending, credits_pending from ledger_accounts where tenant_id = ${tenantId}`.execute(trx)
            return { rows: rows.rows, journal: await journalSize(trx, tenantId), transfers: (await sql<{ n: bigint }>`select count(*) as n from ledger_transfers where tenant_id = ${tenantId}`.execute(trx)).rows[0]?.n }
          })

        const checkAgainstModel = async () => {
          const stored = await readBalances()
          const sums = new Map<string, { debits: bigint; credits: bigint; debitsPending: bigint; creditsPending: bigint }>()
          for (const row of stored.rows) {
            const expected = model.accounts.get(row.id) as ModelAccount
            expect([row.debits_posted, row.credits_posted, row.debits_pending, row.credits_pending], `account ${accountIds.indexOf(row.id)}`).toEqual([expected.dp, expected.cp, expected.dpe, expected.cpe])
            if (row.flags & 1) expect(row.debits_posted + row.debits_pending <= row.credits_posted).toBe(true)
            if (row.flags & 2) expect(row.credits_posted + row.credits_pending <= row.debits_posted).toBe(true)
            const sum = sums.get(row.currency) ?? { debits: 0n, credits: 0n, debitsPending: 0n, creditsPending: 0n }
            sums.set(row.currency, { debits: sum.debits + row.debits_posted, credits: sum.credits + row.credits_posted, debitsPending: sum.debitsPending + row.debits_pending, creditsPending: sum.creditsPending + row.credits_pending })
          }
          for (const [currency, sum] of sums) {
            expect(sum.debits, `posted ${currency}`).toBe(sum.credits)
            expect(sum.debitsPending, `pending ${currency}`).toBe(sum.creditsPending)
          }
          expect(stored.journal).toBe(BigInt(model.entries))
          expect(stored.transfers).toBe(BigInt(model.entries))
          return stored
        }

        for (const step of steps) {
          if ('expire' in step) {
            const expired = await expirePendingTransfers(deps, tenantId, new Date(Date.now() + 2 * 3_600_000))
            expect(expired).toBe(modelExpire(model))
            await checkAgainstModel()
            continue
          }
          const batches = step.batches.map((items) => items.map(toInput))
          // Concurrent clients: queued in this order, decided as if each batch were alone, in this order.
          const results = await Promise.all(batches.map((inputs) => createTransfers(deps, tenantId, inputs, { now: new Date(), origin: null })))
          const standing: TransferInput[] = []
          batches.forEach((inputs, b) => {
            const decided = modelBatch(model, inputs)
            model = decided.model
            const statuses = (results[b] as { results: { status: string }[] }).results.map((r) => r.status)
            expect(statuses.map((status) => status === 'created'), JSON.stringify(statuses)).toEqual(decided.outcomes.map((outcome) => outcome === 'created'))
            expect(statuses.map((status) => status === 'exists')).toEqual(decided.outcomes.map((outcome) => outcome === 'exists'))
            inputs.forEach((input, i) => {
              if (decided.outcomes[i] !== 'failed') standing.push(input)
            })
            sent.push(...inputs)
          })
          const before = await checkAgainstModel()
          // A replay of what stands (created, or answered `exists`): every item `exists`, and nothing
          // changes. A chain either stands whole or not at all, so the chains in this list stay whole.
          if (standing.length > 0) {
            const replay = await createTransfers(deps, tenantId, standing, { now: new Date(), origin: null })
            expect(replay.results.map((r) => r.status)).toEqual(standing.map(() => 'exists'))
            expect(await checkAgainstModel()).toEqual(before)
          }
        }
      }),
      { numRuns: 40 },
    )
  }, 120_000)
})

/**
 * The pure ledger core: statuses in precedence order, two-phase transfers, linked chains, balancing,
 * and a model-based property test against a naive ledger (TigerBeetle's auditor in spirit).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyTransfers, expirePending, transferFlags, type Account, type LedgerSnapshot, type Transfer, type TransferInput, type PendingState } from './transfer.ts'

const now = new Date('2026-03-01T08:00:00Z')
const context = { now, businessDate: '2026-03-01', origin: null }

function account(id: string, partial: Partial<Account> = {}): Account {
  return { id, currency: 'CNY', code: 1001, flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false }, owner: null, closed: false, debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n, ...partial }
}
function transfer(id: string, debit: string | null, credit: string | null, amount: bigint | null, partial: Partial<TransferInput> = {}): TransferInput {
  return { id, debitAccountId: debit, creditAccountId: credit, amountMinor: amount, currency: null, code: 1, flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: null, ...partial }
}
function snapshot(accounts: Account[], transfers: Transfer[] = [], pendingStates: [string, PendingState][] = []): LedgerSnapshot {
  return { accounts: new Map(accounts.map((a) => [a.id, a])), transfers: new Map(transfers.map((t) => [t.id, t])), pendingStates: new Map(pendingStates) }
}
const statuses = (outcome: ReturnType<typeof applyTransfers>) => outcome.results.map((r) => r.status)

describe('applyTransfers', () => {
  const cash = account('cash')
  const loan = account('loan')
  const capped = account('capped', { flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false }, creditsPosted: 100n })

  it('posts a transfer and reports deltas that balance', () => {
    const outcome = applyTransfers(snapshot([cash, loan]), [transfer('t1', 'loan', 'cash', 500n)], context)
    expect(statuses(outcome)).toEqual(['created'])
    expect(outcome.deltas.get('loan')).toEqual({ debitsPosted: 500n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n })
    expect(outcome.deltas.get('cash')).toEqual({ debitsPosted: 0n, creditsPosted: 500n, debitsPending: 0n, creditsPending: 0n })
    expect(outcome.created[0]).toMatchObject({ valueDate: '2026-03-01', postedAt: now, currency: 'CNY', kind: 'posted' })
  })

  it('checks in precedence order', () => {
    const s = snapshot([cash, loan, account('usd', { currency: 'USD' }), account('closed', { closed: true }), account('owned', { owner: 'servicing' })])
    const cases: [TransferInput, string][] = [
      [transfer('a', 'loan', 'cash', 0n), 'amount_must_be_positive'],
      [transfer('b', 'loan', 'loan', 1n), 'accounts_must_be_different'],
      [transfer('c', 'nope', 'cash', 1n), 'debit_account_not_found'],
      [transfer('d', 'loan', 'nope', 1n), 'credit_account_not_found'],
      [transfer('e', 'usd', 'cash', 1n), 'currencies_must_match'],
      [transfer('e2', 'loan', 'cash', 1n, { currency: 'USD' }), 'currencies_must_match'],
      [transfer('f', 'closed', 'cash', 1n), 'debit_account_closed'],
      [transfer('g', 'owned', 'cash', 1n), 'account_reserved_for_owner'],
      [transfer('h', 'loan', 'cash', 1n, { pendingId: 'x' }), 'pending_id_must_be_null'],
      [transfer('i', null, null, null, { flags: transferFlags({ postPending: true }) }), 'pending_id_must_not_be_null'],
      [transfer('j', 'loan', 'cash', 1n, { timeoutSeconds: 5 }), 'timeout_reserved_for_pending_transfer'],
      [transfer('k', 'loan', 'cash', 1n, { flags: transferFlags({ pending: true, voidPending: true }), pendingId: 'x' }), 'flags_are_mutually_exclusive'],
    ]
    for (const [input, expected] of cases) expect(statuses(applyTransfers(s, [input], context))).toEqual([expected])
    expect(statuses(applyTransfers(s, [transfer('g', 'owned', 'cash', 1n)], { ...context, origin: 'servicing' }))).toEqual(['created'])
  })

  it('answers exists for a retry and exists_with_different_<field> otherwise', () => {
    const first = applyTransfers(snapshot([cash, loan]), [transfer('t1', 'loan', 'cash', 500n)], context)
    const stored = first.created[0] as Transfer
    const s = snapshot([cash, loan], [stored])
    expect(statuses(applyTransfers(s, [transfer('t1', 'loan', 'cash', 500n)], context))).toEqual(['exists'])
    expect(statuses(applyTransfers(s, [transfer('t1', 'loan', 'cash', 501n)], context))).toEqual(['exists_with_different_amount'])
    expect(statuses(applyTransfers(s, [transfer('t1', 'cash', 'loan', 500n)], context))).toEqual(['exists_with_different_debit_account_id'])
    expect(statuses(applyTransfers(s, [transfer('t1', 'loan', 'cash', 500n, { userData: 7n })], context))).toEqual(['exists_with_different_user_data'])
    expect(applyTransfers(s, [transfer('t1', 'loan', 'cash', 500n)], context).deltas.size).toBe(0)
  })

  it('enforces limits and lets balancing transfers move what is available', () => {
    expect(statuses(applyTransfers(snapshot([capped, cash]), [transfer('t', 'capped', 'cash', 101n)], context))).toEqual(['exceeds_credits'])
    const swept = applyTransfers(snapshot([capped, cash]), [transfer('t', 'capped', 'cash', 1_000n, { flags: transferFlags({ balancingDebit: true }) })], context)
    expect(statuses(swept)).toEqual(['created'])
    expect(swept.created[0]?.amountMinor).toBe(100n)
    const liability = account('wallet', { flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: true }, debitsPosted: 10n })
    expect(statuses(applyTransfers(snapshot([liability, cash]), [transfer('t', 'cash', 'wallet', 11n)], context))).toEqual(['exceeds_debits'])
  })

  it('runs two-phase transfers: pending, partial post, void, expiry, no double resolution', () => {
    const pendingInput = transfer('p', 'capped', 'cash', 80n, { flags: transferFlags({ pending: true }), timeoutSeconds: 60 })
    const placed = applyTransfers(snapshot([capped, cash]), [pendingInput], context)
    expect(statuses(placed)).toEqual(['created'])
    expect(placed.deltas.get('capped')?.debitsPending).toBe(80n)
    // While pending, the reserved amount counts against the limit.
    const cappedAfter = { ...capped, debitsPending: 80n }
    const cashAfter = { ...cash, creditsPending: 80n }
    const stored = placed.created[0] as Transfer
    const s = snapshot([cappedAfter, cashAfter], [stored], [['p', 'pending']])
    expect(statuses(applyTransfers(s, [transfer('x', 'capped', 'cash', 21n)], context))).toEqual(['exceeds_credits'])
    const post = applyTransfers(s, [transfer('post', null, null, 50n, { flags: transferFlags({ postPending: true }), pendingId: 'p' })], context)
    expect(statuses(post)).toEqual(['created'])
    expect(post.deltas.get('capped')).toEqual({ debitsPosted: 50n, creditsPosted: 0n, debitsPending: -80n, creditsPending: 0n })
    expect(post.resolved.get('p')).toBe('posted')
    expect(statuses(applyTransfers(s, [transfer('post', null, null, 81n, { flags: transferFlags({ postPending: true }), pendingId: 'p' })], context))).toEqual(['exceeds_pending_transfer_amount'])
    expect(statuses(applyTransfers(s, [transfer('void', null, null, 79n, { flags: transferFlags({ voidPending: true }), pendingId: 'p' })], context))).toEqual(['pending_transfer_has_different_amount'])
    const twice = applyTransfers(s, [
      transfer('v1', null, null, null, { flags: transferFlags({ voidPending: true }), pendingId: 'p' }),
      transfer('v2', null, null, null, { flags: transferFlags({ postPending: true }), pendingId: 'p' }),
    ], context)
    expect(statuses(twice)).toEqual(['created', 'pending_transfer_already_voided'])
    const late = { ...context, now: new Date(now.getTime() + 61_000) }
    expect(statuses(applyTransfers(s, [transfer('late', null, null, null, { flags: transferFlags({ postPending: true }), pendingId: 'p' })], late))).toEqual(['pending_transfer_expired'])
    const expired = expirePending(s, [stored], { ...late, newId: () => 'e1' })
    expect(expired.created).toHaveLength(1)
    expect(expired.created[0]).toMatchObject({ kind: 'expire_pending', pendingId: 'p', amountMinor: 80n })
    expect(expired.deltas.get('capped')).toEqual({ debitsPosted: 0n, creditsPosted: 0n, debitsPending: -80n, creditsPending: 0n })
  })

  it('fails a linked chain as one', () => {
    const outcome = applyTransfers(snapshot([capped, cash, loan]), [
      transfer('a', 'loan', 'cash', 10n, { flags: transferFlags({ linked: true }) }),
      transfer('b', 'capped', 'cash', 1_000n, { flags: transferFlags({ linked: true }) }),
      transfer('c', 'loan', 'cash', 10n),
      transfer('d', 'loan', 'cash', 10n),
    ], context)
    expect(statuses(outcome)).toEqual(['linked_event_failed', 'exceeds_credits', 'linked_event_failed', 'created'])
    expect(outcome.created.map((t) => t.id)).toEqual(['d'])
    expect(outcome.deltas.get('loan')?.debitsPosted).toBe(10n)
    const open = applyTransfers(snapshot([cash, loan]), [transfer('a', 'loan', 'cash', 1n), transfer('b', 'loan', 'cash', 1n, { flags: transferFlags({ linked: true }) })], context)
    expect(statuses(open)).toEqual(['created', 'linked_event_chain_open'])
  })
})

// ---------------------------------------------------------------------------------------------------
// Model-based: random batches against a naive ledger that only knows balances and the rules in prose.

type ModelAccount = { dp: bigint; cp: bigint; dpe: bigint; cpe: bigint; noOverdraft: boolean; noOvercredit: boolean }

function modelApply(model: Map<string, ModelAccount>, pendings: Map<string, { debit: string; credit: string; amount: bigint; open: boolean }>, seen: Set<string>, t: TransferInput): boolean {
  if (seen.has(t.id)) return false
  if (t.flags.postPending || t.flags.voidPending) {
    const p = pendings.get(t.pendingId ?? '')
    if (p === undefined || !p.open) return false
    const amount = t.amountMinor ?? p.amount
    if (amount > p.amount || (t.flags.voidPending && amount !== p.amount)) return false
    const d = model.get(p.debit) as ModelAccount
    const c = model.get(p.credit) as ModelAccount
    const posted = t.flags.postPending ? amount : 0n
    const nd = { ...d, dp: d.dp + posted, dpe: d.dpe - p.amount }
    const nc = { ...c, cp: c.cp + posted, cpe: c.cpe - p.amount }
    if ((nd.noOverdraft && nd.dp + nd.dpe > nd.cp) || (nc.noOvercredit && nc.cp + nc.cpe > nc.dp)) return false
    model.set(p.debit, nd)
    model.set(p.credit, nc)
    p.open = false
    seen.add(t.id)
    return true
  }
  const debit = t.debitAccountId as string
  const credit = t.creditAccountId as string
  if (debit === credit || (t.amountMinor ?? 0n) <= 0n || t.pendingId !== null) return false
  const d = model.get(debit) as ModelAccount
  const c = model.get(credit) as ModelAccount
  const amount = t.amountMinor as bigint
  const nd = t.flags.pending ? { ...d, dpe: d.dpe + amount } : { ...d, dp: d.dp + amount }
  const nc = t.flags.pending ? { ...c, cpe: c.cpe + amount } : { ...c, cp: c.cp + amount }
  if ((nd.noOverdraft && nd.dp + nd.dpe > nd.cp) || (nc.noOvercredit && nc.cp + nc.cpe > nc.dp)) return false
  model.set(debit, nd)
  model.set(credit, nc)
  if (t.flags.pending) pendings.set(t.id, { debit, credit, amount, open: true })
  seen.add(t.id)
  return true
}

describe('applyTransfers against a naive model', () => {
  const accountIds = ['a0', 'a1', 'a2', 'a3', 'a4']
  const arbitraryTransfer = (index: number) =>
    fc.record({
      kind: fc.constantFrom('posted', 'posted', 'pending', 'post', 'void'),
      debit: fc.constantFrom(...accountIds),
      credit: fc.constantFrom(...accountIds),
      amount: fc.bigInt({ min: 0n, max: 60n }),
      partial: fc.boolean(),
      target: fc.nat({ max: 40 }),
      reuseId: fc.option(fc.nat({ max: 40 }), { freq: 8 }),
    }).map((r) => ({ ...r, index }))

  it('agrees with the model; balances always balance and never cross a limit; replays change nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer(), { maxLength: 12 }), { minLength: 1, maxLength: 6 }).chain((batches) => {
        let counter = 0
        return fc.tuple(...batches.map((b) => fc.tuple(...b.map(() => arbitraryTransfer(counter++)))))
      }), (batches) => {
        const flags = [{ o: true, c: false }, { o: false, c: false }, { o: false, c: true }, { o: false, c: false }, { o: true, c: false }]
        let accounts = new Map(accountIds.map((id, i) => [id, account(id, { flags: { debitsMustNotExceedCredits: (flags[i] as { o: boolean }).o, creditsMustNotExceedDebits: (flags[i] as { c: boolean }).c }, creditsPosted: i === 0 ? 0n : 0n })]))
        // Seed: money enters through a0 (unlimited credits) by giving the capped accounts something to spend.
        const model = new Map(accountIds.map((id, i) => [id, { dp: 0n, cp: 0n, dpe: 0n, cpe: 0n, noOverdraft: (flags[i] as { o: boolean }).o, noOvercredit: (flags[i] as { c: boolean }).c }]))
        const pendings = new Map<string, { debit: string; credit: string; amount: bigint; open: boolean }>()
        const seen = new Set<string>()
        const stored = new Map<string, Transfer>()
        const states = new Map<string, PendingState>()
        for (const batch of batches) {
          const inputs: TransferInput[] = batch.map((r) => {
            const id = `t${r.reuseId ?? r.index}`
            if (r.kind === 'post' || r.kind === 'void') {
              return transfer(id, null, null, r.kind === 'post' && r.partial ? r.amount : null, { flags: transferFlags({ postPending: r.kind === 'post', voidPending: r.kind === 'void' }), pendingId: `t${r.target}` })
            }
            return transfer(id, r.debit, r.credit, r.amount, { flags: transferFlags({ pending: r.kind === 'pending' }) })
          })
          const s: LedgerSnapshot = { accounts, transfers: stored, pendingStates: states }
          const outcome = applyTransfers(s, inputs, context)
          // The model, transfer by transfer (no linked chains in this test).
          inputs.forEach((input, i) => {
            const accepted = modelApply(model, pendings, seen, input)
            expect(outcome.results[i]?.status === 'created', `${input.id}: ${outcome.results[i]?.status}`).toBe(accepted)
          })
          // Apply the outcome to the snapshot, as the database does.
          const next = new Map(accounts)
          for (const [id, delta] of outcome.deltas) {
            const a = next.get(id) as Account
            next.set(id, { ...a, debitsPosted: a.debitsPosted + delta.debitsPosted, creditsPosted: a.creditsPosted + delta.creditsPosted, debitsPending: a.debitsPending + delta.debitsPending, creditsPending: a.creditsPending + delta.creditsPending })
          }
          accounts = next
          for (const t of outcome.created) {
            stored.set(t.id, t)
            if (t.kind === 'pending') states.set(t.id, 'pending')
          }
          for (const [id, state] of outcome.resolved) states.set(id, state)
          // Invariants.
          let debits = 0n
          let credits = 0n
          for (const a of accounts.values()) {
            debits += a.debitsPosted + a.debitsPending
            credits += a.creditsPosted + a.creditsPending
            if (a.flags.debitsMustNotExceedCredits) expect(a.debitsPosted + a.debitsPending <= a.creditsPosted).toBe(true)
            if (a.flags.creditsMustNotExceedDebits) expect(a.creditsPosted + a.creditsPending <= a.debitsPosted).toBe(true)
            const m = model.get(a.id) as ModelAccount
            expect([a.debitsPosted, a.creditsPosted, a.debitsPending, a.creditsPending]).toEqual([m.dp, m.cp, m.dpe, m.cpe])
          }
          expect(debits).toBe(credits)
          // A replay of what was created changes nothing: every one answers `exists`.
          const createdIds = new Set(outcome.created.map((t) => t.id))
          const replay = applyTransfers({ accounts, transfers: stored, pendingStates: states }, inputs.filter((input, i) => createdIds.has(input.id) && outcome.results[i]?.status === 'created'), context)
          expect(replay.results.every((r) => r.status === 'exists')).toBe(true)
          expect(replay.created).toEqual([])
          expect(replay.deltas.size).toBe(0)
        }
      }),
      { numRuns: 300 },
    )
  })
})

/**
 * The ledger against a real PostgreSQL, through HTTP and the service: batches, replays, two-phase,
 * linked chains, limits under concurrency, append-only storage, and the journal's Merkle tree, proofs
 * and signed tree heads.
 */
import { sql } from 'kysely'
import pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uuidv7Source } from '../src/core/ids.ts'
import { inTenant } from '../src/db/database.ts'
import { createTransfers, expirePendingTransfers, journalEntryOf, toTransfer, type TransferRow } from '../src/ledger/ledger-service.ts'
import { encodeJournalEntry } from '../src/ledger/journal-entry.ts'
import { leafHash, parseHex, rootFromLeafHashes, verifyConsistency, verifyInclusion, formatHex } from '../src/ledger/merkle.ts'
import { verifyTreeHead } from '../src/ledger/tree-head.ts'
import { transferFlags, type TransferInput } from '../src/ledger/transfer.ts'
import { createTestApp, type TestApp } from './support/app.ts'

let t: TestApp
let tenantId: string
let admin: string
const headers = () => ({ authorization: `Bearer ${admin}` })
const cash = uuidv7()
const loan = uuidv7()
const wallet = uuidv7()
const funding = uuidv7()

async function post(url: string, payload: unknown) {
  const response = await t.app.inject({ method: 'POST', url, headers: headers(), payload: payload as Record<string, unknown> })
  expect(response.statusCode, response.body).toBe(200)
  return response.json() as { results: { index: number; id: string; status: string }[] }
}
async function balances(id: string) {
  return (await t.app.inject({ url: `/v1/ledger/accounts/${id}`, headers: headers() })).json() as Record<string, string>
}
async function storedTransfers(): Promise<TransferRow[]> {
  return inTenant(t.database.db, tenantId, async (trx) => (await sql<TransferRow>`select * from ledger_transfers order by journal_index`.execute(trx)).rows)
}

beforeAll(async () => {
  t = await createTestApp()
  tenantId = await t.createTenant('ledger-co')
  admin = await t.createKey(tenantId, 'admin')
  const created = await post('/v1/ledger/accounts', {
    accounts: [
      { id: cash, currency: 'CNY', code: 1001 },
      { id: loan, currency: 'CNY', code: 1201 },
      { id: wallet, currency: 'CNY', code: 2201, flags: { debitsMustNotExceedCredits: true } },
      { id: funding, currency: 'CNY', code: 1001 },
    ],
  })
  expect(created.results.map((r) => r.status)).toEqual(['created', 'created', 'created', 'created'])
})
afterAll(async () => {
  await t.close()
})

describe('accounts', () => {
  it('answers exists for a retry and exists_with_different_* for a changed definition', async () => {
    const again = await post('/v1/ledger/accounts', { accounts: [{ id: cash, currency: 'CNY', code: 1001 }, { id: cash, currency: 'USD', code: 1001 }, { id: loan, currency: 'CNY', code: 1202 }] })
    expect(again.results.map((r) => r.status)).toEqual(['exists', 'exists_with_different_currency', 'exists_with_different_code'])
  })
  it('refuses another tenant and a non-admin', async () => {
    const other = await t.createTenant('ledger-other')
    const otherAdmin = await t.createKey(other, 'admin')
    expect((await t.app.inject({ url: `/v1/ledger/accounts/${cash}`, headers: { authorization: `Bearer ${otherAdmin}` } })).statusCode).toBe(404)
    const operator = await t.createKey(tenantId, 'operator')
    expect((await t.app.inject({ method: 'POST', url: '/v1/ledger/transfers', headers: { authorization: `Bearer ${operator}` }, payload: { transfers: [{ id: uuidv7(), debitAccountId: loan, creditAccountId: cash, amountMinor: '1' }] } })).statusCode).toBe(403)
  })
})

describe('transfers', () => {
  const t1 = uuidv7()
  it('posts a batch, answers per item, and a replay changes nothing', async () => {
    const body = { transfers: [
      { id: t1, debitAccountId: loan, creditAccountId: cash, amountMinor: '500000', code: 1, valueDate: '2026-01-15' },
      { id: uuidv7(), debitAccountId: loan, creditAccountId: loan, amountMinor: '1' },
      { id: uuidv7(), debitAccountId: wallet, creditAccountId: cash, amountMinor: '1' },
    ] }
    const first = await post('/v1/ledger/transfers', body)
    expect(first.results.map((r) => r.status)).toEqual(['created', 'accounts_must_be_different', 'exceeds_credits'])
    expect(await balances(loan)).toMatchObject({ debitsPosted: '500000', creditsPosted: '0' })
    const replay = await post('/v1/ledger/transfers', { transfers: [body.transfers[0]] })
    expect(replay.results[0]?.status).toBe('exists')
    expect(await balances(loan)).toMatchObject({ debitsPosted: '500000' })
    const changed = await post('/v1/ledger/transfers', { transfers: [{ ...body.transfers[0], amountMinor: '500001' }] })
    expect(changed.results[0]?.status).toBe('exists_with_different_amount')
    const stored = (await t.app.inject({ url: `/v1/ledger/transfers/${t1}`, headers: headers() })).json() as Record<string, string>
    expect(stored).toMatchObject({ amountMinor: '500000', valueDate: '2026-01-15', kind: 'posted', journalIndex: '0' })
  })

  it('runs two-phase transfers and expiry through the database', async () => {
    const p = uuidv7()
    await post('/v1/ledger/transfers', { transfers: [{ id: uuidv7(), debitAccountId: cash, creditAccountId: wallet, amountMinor: '1000' }] })
    expect((await post('/v1/ledger/transfers', { transfers: [{ id: p, debitAccountId: wallet, creditAccountId: funding, amountMinor: '800', flags: { pending: true } }] })).results[0]?.status).toBe('created')
    expect(await balances(wallet)).toMatchObject({ debitsPending: '800', creditsPosted: '1000' })
    // The reservation counts against the limit.
    expect((await post('/v1/ledger/transfers', { transfers: [{ id: uuidv7(), debitAccountId: wallet, creditAccountId: funding, amountMinor: '201' }] })).results[0]?.status).toBe('exceeds_credits')
    const resolve = await post('/v1/ledger/transfers', { transfers: [
      { id: uuidv7(), pendingId: p, amountMinor: '300', flags: { postPending: true } },
      { id: uuidv7(), pendingId: p, flags: { voidPending: true } },
    ] })
    expect(resolve.results.map((r) => r.status)).toEqual(['created', 'pending_transfer_already_posted'])
    expect(await balances(wallet)).toMatchObject({ debitsPending: '0', debitsPosted: '300' })
    // Expiry of a timed-out pending transfer.
    const q = uuidv7()
    await post('/v1/ledger/transfers', { transfers: [{ id: q, debitAccountId: wallet, creditAccountId: funding, amountMinor: '100', flags: { pending: true }, timeoutSeconds: 1 }] })
    const { expireDuePendings } = await import('../src/server.ts')
    expect(await expireDuePendings(t.database.db, new Date(Date.now() + 5_000))).toBe(1)
    expect(await expirePendingTransfers({ db: t.database.db, ids: uuidv7Source }, tenantId, new Date(Date.now() + 5_000))).toBe(0)
    expect(await balances(wallet)).toMatchObject({ debitsPending: '0' })
    expect((await post('/v1/ledger/transfers', { transfers: [{ id: uuidv7(), pendingId: q, flags: { postPending: true } }] })).results[0]?.status).toBe('pending_transfer_expired')
  })

  it('fails a linked chain as one, in the database too', async () => {
    const before = await balances(loan)
    const chain = await post('/v1/ledger/transfers', { transfers: [
      { id: uuidv7(), debitAccountId: loan, creditAccountId: cash, amountMinor: '10', flags: { linked: true } },
      { id: uuidv7(), debitAccountId: wallet, creditAccountId: cash, amountMinor: '999999' },
    ] })
    expect(chain.results.map((r) => r.status)).toEqual(['linked_event_failed', 'exceeds_credits'])
    expect(await balances(loan)).toEqual(before)
  })

  it('refuses transfers on accounts owned by servicing from the raw API', async () => {
    const owned = uuidv7()
    await inTenant(t.database.db, tenantId, (trx) => sql`insert into ledger_accounts (tenant_id, id, currency, code, flags, owner, created_at) values (${tenantId}, ${owned}, 'CNY', 1201, 0, 'servicing', now())`.execute(trx))
    const refused = await post('/v1/ledger/transfers', { transfers: [{ id: uuidv7(), debitAccountId: owned, creditAccountId: cash, amountMinor: '1' }] })
    expect(refused.results[0]?.status).toBe('account_reserved_for_owner')
    const fromServicing = await createTransfers({ db: t.database.db, ids: uuidv7Source }, tenantId, [{ id: uuidv7(), debitAccountId: owned, creditAccountId: cash, amountMinor: 1n, currency: null, code: 0, flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: null }], { now: new Date(), origin: 'servicing' })
    expect(fromServicing.results[0]?.status).toBe('created')
  })

  it("posts inside the caller's transaction and rolls back with it", async () => {
    const { createTransfersInTransaction } = await import('../src/ledger/index.ts')
    const before = await balances(loan)
    const id = uuidv7()
    await expect(
      inTenant(t.database.db, tenantId, async (trx) => {
        const posted = await createTransfersInTransaction(trx, tenantId, [{ id, debitAccountId: loan, creditAccountId: cash, amountMinor: 7n, currency: null, code: 0, flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: null }], { now: new Date(), origin: null })
        expect(posted.results[0]?.status).toBe('created')
        throw new Error('the caller fails after posting')
      }),
    ).rejects.toThrow('the caller fails')
    expect(await balances(loan)).toEqual(before)
    expect((await t.app.inject({ url: `/v1/ledger/transfers/${id}`, headers: headers() })).statusCode).toBe(404)
  })

  it('rejects bad input with problem+json and changes nothing', async () => {
    const count = (await storedTransfers()).length
    for (const payload of [
      { transfers: [] },
      { transfers: [{ id: uuidv7(), debitAccountId: loan, creditAccountId: cash, amountMinor: 5 }] },
      { transfers: [{ id: uuidv7(), debitAccountId: loan, creditAccountId: cash, amountMinor: '1.5' }] },
      { transfers: [{ id: 'not-a-uuid', debitAccountId: loan, creditAccountId: cash, amountMinor: '1' }] },
      { transfers: [{ id: uuidv7(), debitAccountId: loan, creditAccountId: cash, amountMinor: '1', colour: 'red' }] },
      { transfers: Array.from({ length: 8_191 }, () => ({ id: uuidv7(), debitAccountId: loan, creditAccountId: cash, amountMinor: '1' })) },
    ]) {
      const response = await t.app.inject({ method: 'POST', url: '/v1/ledger/transfers', headers: headers(), payload })
      expect(response.statusCode).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    expect((await storedTransfers()).length).toBe(count)
  })
})

describe('reads', () => {
  it('pages a statement and answers balances as of an instant and a value date', async () => {
    const account = uuidv7()
    await post('/v1/ledger/accounts', { accounts: [{ id: account, currency: 'CNY', code: 1203 }] })
    for (let i = 0; i < 5; i++) await post('/v1/ledger/transfers', { transfers: [{ id: uuidv7(), debitAccountId: account, creditAccountId: cash, amountMinor: String(100 + i), valueDate: `2026-02-0${i + 1}` }] })
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = (await t.app.inject({ url: `/v1/ledger/accounts/${account}/transfers?limit=2${cursor === null ? '' : `&after=${cursor}`}`, headers: headers() })).json() as { items: { amountMinor: string }[]; nextCursor: string | null }
      seen.push(...page.items.map((i) => i.amountMinor))
      cursor = page.nextCursor
    } while (cursor !== null)
    expect(seen).toEqual(['100', '101', '102', '103', '104'])
    const byDate = (await t.app.inject({ url: `/v1/ledger/accounts/${account}/balance?valueDate=2026-02-02`, headers: headers() })).json() as Record<string, unknown>
    expect(byDate).toMatchObject({ debitsPosted: '201', asOf: { kind: 'value_date', value: '2026-02-02' } })
    const past = (await t.app.inject({ url: `/v1/ledger/accounts/${account}/balance?at=2000-01-01T00:00:00Z`, headers: headers() })).json() as Record<string, unknown>
    expect(past).toMatchObject({ debitsPosted: '0' })
    const nowBalance = (await t.app.inject({ url: `/v1/ledger/accounts/${account}/balance?at=${new Date(Date.now() + 1000).toISOString()}`, headers: headers() })).json() as Record<string, unknown>
    expect(nowBalance).toMatchObject({ debitsPosted: '510' })
  })
})

describe('reads across journal buckets', () => {
  it('pages a statement and sums a balance over an account whose transfers span two buckets of 65,536', async () => {
    const { accountStatement, balanceAsOf, createAccounts, journalBucketBits } = await import('../src/ledger/ledger-service.ts')
    const tenant = await t.createTenant('ledger-buckets')
    const deps = { db: t.database.db, ids: uuidv7Source }
    const [a, b, c] = [uuidv7(), uuidv7(), uuidv7()]
    const flags = { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false }
    await createAccounts(deps, tenant, [a, b, c].map((id) => ({ id, currency: 'CNY', code: 1001, flags, owner: null, userData: 0n })), new Date())
    const width = 2 ** journalBucketBits
    const total = width + 464
    // Account a at the first and last index of bucket 0 and the first and last written of bucket 1.
    const touches = new Map([[0, 'debit'], [width - 1, 'credit'], [width, 'debit'], [total - 1, 'credit']])
    const transfers = Array.from({ length: total }, (_, i): TransferInput => {
      const side = touches.get(i)
      const [debit, credit] = side === 'debit' ? [a, b] : side === 'credit' ? [c, a] : [b, c]
      return { id: uuidv7(), debitAccountId: debit, creditAccountId: credit, amountMinor: BigInt(i + 1), currency: null, code: 0, flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: null }
    })
    for (let i = 0; i < total; i += 8_190) {
      const result = await createTransfers(deps, tenant, transfers.slice(i, i + 8_190), { now: new Date(), origin: null })
      expect(result.results.every((r) => r.status === 'created')).toBe(true)
    }
    const expected = [...touches.keys()].map(BigInt)
    for (const bucketsPerQuery of [1, 64]) {
      const seen: bigint[] = []
      let after: bigint | null = null
      for (;;) {
        const page = await accountStatement(deps, tenant, a, { from: null, to: null, afterIndex: after, limit: 3 }, bucketsPerQuery)
        seen.push(...page.map((transfer) => transfer.journalIndex))
        if (page.length < 3) break
        after = page.at(-1)?.journalIndex ?? null
      }
      expect(seen).toEqual(expected)
    }
    const ranged = await accountStatement(deps, tenant, a, { from: new Date(Date.now() + 60_000), to: null, afterIndex: null, limit: 10 })
    expect(ranged).toEqual([])
    const balance = await balanceAsOf(deps, tenant, a, { instant: new Date(Date.now() + 1_000) })
    expect(balance).toEqual({ debitsPosted: 1n + BigInt(width + 1), creditsPosted: BigInt(width) + BigInt(total) })
    expect(await balanceAsOf(deps, tenant, a, { instant: new Date(0) })).toEqual({ debitsPosted: 0n, creditsPosted: 0n })
  }, 60_000)
})

describe('concurrency', () => {
  it('never overdraws an account raced by parallel clients, and never forks the journal', async () => {
    const capped = uuidv7()
    const sink = uuidv7()
    await post('/v1/ledger/accounts', { accounts: [{ id: capped, currency: 'CNY', code: 2201, flags: { debitsMustNotExceedCredits: true } }, { id: sink, currency: 'CNY', code: 1001 }] })
    await post('/v1/ledger/transfers', { transfers: [{ id: uuidv7(), debitAccountId: cash, creditAccountId: capped, amountMinor: '1000' }] })
    const attempts = await Promise.all(Array.from({ length: 12 }, () => post('/v1/ledger/transfers', { transfers: Array.from({ length: 10 }, () => ({ id: uuidv7(), debitAccountId: capped, creditAccountId: sink, amountMinor: '10' })) })))
    const created = attempts.flatMap((a) => a.results).filter((r) => r.status === 'created').length
    expect(created).toBe(100)
    expect(await balances(capped)).toMatchObject({ debitsPosted: '1000', creditsPosted: '1000' })
    const rows = await storedTransfers()
    expect(rows.map((r) => Number(r.journal_index))).toEqual(rows.map((_, i) => i))
  })
})

describe('invariants in storage', () => {
  it('Σ debits = Σ credits, and balances equal the sum of stored transfers', async () => {
    const check = await inTenant(t.database.db, tenantId, (trx) => sql<{ debits: bigint; credits: bigint; mismatches: bigint }>`
      select (select sum(debits_posted + debits_pending) from ledger_accounts)::bigint as debits,
             (select sum(credits_posted + credits_pending) from ledger_accounts)::bigint as credits,
             (select count(*) from ledger_accounts a where a.debits_posted <> coalesce((select sum(amount) from ledger_transfers t where t.debit_account_id = a.id and t.kind in (0, 2)), 0)) as mismatches`.execute(trx))
    expect(check.rows[0]?.debits).toBe(check.rows[0]?.credits)
    expect(check.rows[0]?.mismatches).toBe(0n)
  })
  it('refuses UPDATE and DELETE of transfers', async () => {
    await expect(inTenant(t.database.db, tenantId, (trx) => sql`update ledger_transfers set amount = amount + 1`.execute(trx))).rejects.toThrow(/permission denied/)
    await expect(inTenant(t.database.db, tenantId, (trx) => sql`delete from ledger_transfers`.execute(trx))).rejects.toThrow(/permission denied/)
    const owner = new pg.Client({ connectionString: t.database.url })
    await owner.connect()
    await expect(owner.query('update ledger_transfers set amount = amount + 1')).rejects.toThrow(/append-only/)
    await owner.end()
  })
})

describe('journal', () => {
  it('stores leaf hashes of the canonical entries, and its root, proofs and signed tree head verify', async () => {
    const rows = await storedTransfers()
    const leaves = rows.map((row) => leafHash(encodeJournalEntry(journalEntryOf(tenantId, row.journal_index, toTransfer(row)))))
    rows.forEach((row, i) => expect(formatHex(row.leaf_hash)).toBe(formatHex(leaves[i] as Uint8Array)))
    const sthResponse = await t.app.inject({ method: 'POST', url: '/v1/ledger/journal/tree-heads', headers: headers() })
    expect(sthResponse.statusCode).toBe(200)
    const sth = sthResponse.json() as { treeSize: number; rootHash: string; keyId: string; signature: string; timestamp: number }
    expect(sth.treeSize).toBe(rows.length)
    expect(sth.rootHash).toBe(formatHex(rootFromLeafHashes(leaves)))
    const latest = (await t.app.inject({ url: '/v1/ledger/journal/tree-heads/latest', headers: headers() })).json() as typeof sth
    expect(latest).toEqual(sth)
    const keys = (await t.app.inject({ url: '/v1/keys/signing' })).json() as { keys: { keyId: string; publicKeyPem: string }[] }
    expect(verifyTreeHead(sth, keys.keys.find((k) => k.keyId === sth.keyId)?.publicKeyPem as string)).toBe(true)

    for (const [index, size] of [[0, 1], [3, rows.length], [rows.length - 1, rows.length], [5, 9]] as const) {
      const proof = (await t.app.inject({ url: `/v1/ledger/journal/inclusion?index=${index}&treeSize=${size}`, headers: headers() })).json() as { leafHash: string; rootHash: string; proof: string[] }
      expect(proof.rootHash).toBe(formatHex(rootFromLeafHashes(leaves.slice(0, size))))
      expect(verifyInclusion({ leafIndex: index, treeSize: size, leafHash: parseHex(proof.leafHash) as Uint8Array, proof: proof.proof.map((h) => parseHex(h) as Uint8Array), rootHash: parseHex(proof.rootHash) as Uint8Array })).toBe(true)
    }
    for (const [from, to] of [[1, rows.length], [4, 7], [rows.length, rows.length]] as const) {
      const proof = (await t.app.inject({ url: `/v1/ledger/journal/consistency?from=${from}&to=${to}`, headers: headers() })).json() as { firstRoot: string; secondRoot: string; proof: string[] }
      expect(verifyConsistency({ firstSize: from, secondSize: to, firstRoot: parseHex(proof.firstRoot) as Uint8Array, secondRoot: parseHex(proof.secondRoot) as Uint8Array, proof: proof.proof.map((h) => parseHex(h) as Uint8Array) })).toBe(true)
    }
    expect((await t.app.inject({ url: `/v1/ledger/journal/inclusion?index=0&treeSize=${rows.length + 1}`, headers: headers() })).statusCode).toBe(404)
  })

  it('signs tree heads periodically only for journals that grew', async () => {
    const { signDueTreeHeads } = await import('../src/server.ts')
    const { loadKeyring } = await import('../src/keys/index.ts')
    const keyring = loadKeyring({ keyDir: (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/puhui-sth-`) })
    await post('/v1/ledger/transfers', { transfers: [{ id: uuidv7(), debitAccountId: loan, creditAccountId: cash, amountMinor: '1' }] })
    expect(await signDueTreeHeads(t.database.db, keyring, new Date())).toBeGreaterThanOrEqual(1)
    expect(await signDueTreeHeads(t.database.db, keyring, new Date())).toBe(0)
  })

  it('grows consistently across batches from many writers', async () => {
    const before = (await t.app.inject({ method: 'POST', url: '/v1/ledger/journal/tree-heads', headers: headers() })).json() as { treeSize: number; rootHash: string }
    const deps = { db: t.database.db, ids: uuidv7Source }
    const batch = (): TransferInput[] => Array.from({ length: 25 }, () => ({ id: uuidv7(), debitAccountId: loan, creditAccountId: cash, amountMinor: 1n, currency: null, code: 0, flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: null }))
    await Promise.all(Array.from({ length: 6 }, () => createTransfers(deps, tenantId, batch(), { now: new Date(), origin: null })))
    const after = (await t.app.inject({ method: 'POST', url: '/v1/ledger/journal/tree-heads', headers: headers() })).json() as { treeSize: number; rootHash: string }
    expect(after.treeSize).toBe(before.treeSize + 150)
    const proof = (await t.app.inject({ url: `/v1/ledger/journal/consistency?from=${before.treeSize}&to=${after.treeSize}`, headers: headers() })).json() as { proof: string[] }
    expect(verifyConsistency({ firstSize: before.treeSize, secondSize: after.treeSize, firstRoot: parseHex(before.rootHash) as Uint8Array, secondRoot: parseHex(after.rootHash) as Uint8Array, proof: proof.proof.map((h) => parseHex(h) as Uint8Array) })).toBe(true)
  })
})

describe('group commit (concurrent batches of one tenant share a transaction)', () => {
  const deps = () => ({ db: t.database.db, ids: uuidv7Source })
  const move = (id: string, debit: string, credit: string, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput => ({ id, debitAccountId: debit, creditAccountId: credit, amountMinor: amount, currency: null, code: 0, flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: null, ...extra })
  async function limitedAccount(): Promise<string> {
    const id = uuidv7()
    const { createAccounts } = await import('../src/ledger/ledger-service.ts')
    expect(await createAccounts(deps(), tenantId, [{ id, currency: 'CNY', code: 2201, flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false }, owner: null, userData: 0n }], new Date())).toEqual(['created'])
    return id
  }

  it('answers exists to a retry even where the transfer would fail now (its limit spent, its pending already posted), grouped or alone', async () => {
    const limited = await limitedAccount()
    const context = () => ({ now: new Date(), origin: null })
    const spend = move(uuidv7(), limited, cash, 10n)
    expect((await createTransfers(deps(), tenantId, [move(uuidv7(), cash, limited, 10n)], context())).results[0]?.status).toBe('created')
    expect((await createTransfers(deps(), tenantId, [spend], context())).results[0]?.status).toBe('created')
    const pending = move(uuidv7(), cash, loan, 7n, { flags: transferFlags({ pending: true }) })
    const post = move(uuidv7(), cash, loan, 0n, { debitAccountId: null, creditAccountId: null, amountMinor: null, flags: transferFlags({ postPending: true }), pendingId: pending.id })
    expect((await createTransfers(deps(), tenantId, [pending, post], context())).results.map((r) => r.status)).toEqual(['created', 'created'])
    const before = await balances(limited)
    // Alone, and queued together with other batches (the writer decides them in one group).
    expect((await createTransfers(deps(), tenantId, [spend], context())).results[0]?.status).toBe('exists')
    expect((await createTransfers(deps(), tenantId, [post], context())).results[0]?.status).toBe('exists')
    const grouped = await Promise.all([createTransfers(deps(), tenantId, [move(uuidv7(), cash, loan, 1n)], context()), createTransfers(deps(), tenantId, [spend], context()), createTransfers(deps(), tenantId, [pending, post], context())])
    expect(grouped.map((result) => result.results.map((r) => r.status))).toEqual([['created'], ['exists'], ['exists', 'exists']])
    expect(await balances(limited)).toEqual(before)
  })

  it('decides queued batches in order, as if each were alone: a repeated id is exists, a limit sees the earlier batches', async () => {
    const limited = await limitedAccount()
    const shared = uuidv7()
    const context = { now: new Date(), origin: null }
    const [first, second, third] = await Promise.all([
      createTransfers(deps(), tenantId, [move(shared, cash, limited, 10n)], context),
      createTransfers(deps(), tenantId, [move(shared, cash, limited, 10n), move(uuidv7(), limited, cash, 8n)], context),
      createTransfers(deps(), tenantId, [move(uuidv7(), limited, cash, 3n)], context),
    ])
    expect(first.results.map((r) => r.status)).toEqual(['created'])
    expect(second.results.map((r) => r.status)).toEqual(['exists', 'created'])
    expect(third.results.map((r) => r.status)).toEqual(['exceeds_credits'])
    expect(await balances(limited)).toMatchObject({ debitsPosted: '8', creditsPosted: '10' })
  })

  it('a batch that repeats the id of a batch in an earlier group still in flight waits for it, and never the other way round', async () => {
    for (let round = 0; round < 30; round++) {
      const shared = uuidv7()
      const context = { now: new Date(), origin: null }
      // Two clients at once: the first batch makes one group; the second, queued behind it, would be
      // prepared and inserted before the first group holds the lock.
      const [first, second] = await Promise.all([
        createTransfers(deps(), tenantId, [move(shared, cash, loan, 1n)], context),
        createTransfers(deps(), tenantId, [move(shared, cash, loan, 1n), move(uuidv7(), loan, cash, 1n)], context),
      ])
      expect(first.results.map((r) => r.status)).toEqual(['created'])
      expect(second.results.map((r) => r.status)).toEqual(['exists', 'created'])
    }
  }, 60_000)

  it('a batch the database refuses fails alone; the batches grouped with it are written', async () => {
    const good = Array.from({ length: 3 }, () => [move(uuidv7(), loan, cash, 1n)])
    const before = (await storedTransfers()).length
    const outcomes = await Promise.allSettled([
      createTransfers(deps(), tenantId, good[0] as TransferInput[], { now: new Date(), origin: null }),
      createTransfers(deps(), tenantId, [move(uuidv7(), loan, cash, 1n, { valueDate: '2026-02-30' })], { now: new Date(), origin: null }),
      createTransfers(deps(), tenantId, good[1] as TransferInput[], { now: new Date(), origin: null }),
      createTransfers(deps(), tenantId, good[2] as TransferInput[], { now: new Date(), origin: null }),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect((await storedTransfers()).length).toBe(before + 3)
  })

  it('sees what another writer appended since its last group (balancing amounts follow the stored balance)', async () => {
    const limited = await limitedAccount()
    expect((await createTransfers(deps(), tenantId, [move(uuidv7(), cash, limited, 10n)], { now: new Date(), origin: null })).results[0]?.status).toBe('created')
    // Another writer (here: a caller's own transaction, as servicing does) credits 5 more.
    const { createTransfersInTransaction } = await import('../src/ledger/ledger-service.ts')
    await inTenant(t.database.db, tenantId, (trx) => createTransfersInTransaction(trx, tenantId, [move(uuidv7(), cash, limited, 5n)], { now: new Date(), origin: null }))
    const sweep = uuidv7()
    expect((await createTransfers(deps(), tenantId, [move(sweep, limited, cash, 100n, { flags: transferFlags({ balancingDebit: true }) })], { now: new Date(), origin: null })).results[0]?.status).toBe('created')
    const rows = await storedTransfers()
    expect(rows.find((row) => row.id === sweep)?.amount).toBe(15n)
    expect(await balances(limited)).toMatchObject({ debitsPosted: '15', creditsPosted: '15' })
    const indexes = rows.map((row) => row.journal_index)
    expect(indexes).toEqual(indexes.map((_, i) => BigInt(i)))
  })

  it('a group prepared against a journal that another writer has since appended to is written at the new end', async () => {
    const { createTransfersInTransaction } = await import('../src/ledger/ledger-service.ts')
    const context = () => ({ now: new Date(), origin: null })
    // The writer learns the journal's size from its own commit...
    expect((await createTransfers(deps(), tenantId, [move(uuidv7(), cash, loan, 2n)], context())).results[0]?.status).toBe('created')
    // ...then another writer appends behind its back, so its next group is sent against a stale size:
    // the write finds the head moved, writes nothing, and the group is decided again under the lock.
    await inTenant(t.database.db, tenantId, (trx) => createTransfersInTransaction(trx, tenantId, [move(uuidv7(), cash, loan, 3n)], context()))
    const last = uuidv7()
    const result = await createTransfers(deps(), tenantId, [move(uuidv7(), cash, loan, 4n), move(last, loan, cash, 1n)], context())
    expect(result.results.map((r) => r.status)).toEqual(['created', 'created'])
    const rows = await inTenant(t.database.db, tenantId, (trx) => sql<{ id: string; journal_index: bigint }>`select id, journal_index from ledger_transfers order by journal_index`.execute(trx))
    const indexes = rows.rows.map((row) => row.journal_index)
    expect(indexes).toEqual(indexes.map((_, i) => BigInt(i)))
    expect(rows.rows.at(-1)?.id).toBe(last)
    expect(result.journalSize).toBe(BigInt(rows.rows.length))
  })

  it('lists every transfer of an account in its statement, in journal order, when groups overlap, another writer appends, or a prepared group meets a stored id', async () => {
    const { accountStatement, createTransfersInTransaction } = await import('../src/ledger/ledger-service.ts')
    const stored = uuidv7()
    expect((await createTransfers(deps(), tenantId, [move(stored, cash, loan, 1n)], { now: new Date(), origin: null })).results[0]?.status).toBe('created')
    const context = () => ({ now: new Date(), origin: null })
    const batch = (n: number) => Array.from({ length: n }, (_, i) => move(uuidv7(), i % 2 === 0 ? cash : loan, i % 2 === 0 ? funding : cash, BigInt(1 + i)))
    const outcomes = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => createTransfers(deps(), tenantId, i === 5 ? [...batch(20), move(stored, cash, loan, 1n)] : batch(50 + i), context())),
      ...Array.from({ length: 3 }, () => inTenant(t.database.db, tenantId, (trx) => createTransfersInTransaction(trx, tenantId, batch(7), context()))),
    ])
    expect(outcomes[5]?.results.at(-1)?.status).toBe('exists')
    const all = await storedTransfers()
    for (const account of [cash, loan, funding]) {
      const expected = all.filter((row) => row.debit_account_id === account || row.credit_account_id === account).map((row) => row.journal_index).sort((x, y) => (x < y ? -1 : 1))
      const seen: bigint[] = []
      let after: bigint | null = null
      for (;;) {
        const page = await accountStatement(deps(), tenantId, account, { from: null, to: null, afterIndex: after, limit: 97 })
        seen.push(...page.map((transfer) => transfer.journalIndex))
        if (page.length < 97) break
        after = page.at(-1)?.journalIndex ?? null
      }
      expect(seen.length).toBeGreaterThan(97)
      expect(seen).toEqual(expected)
    }
  })
})

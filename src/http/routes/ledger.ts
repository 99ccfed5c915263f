/**
 * @module http/routes/ledger
 * The raw ledger API (admins): batched account and transfer creation (up to 8,190 items, 4 MiB), and
 * reads for staff: balances, statements, balance as of a past instant or value date, transfers. The
 * journal routes (tree heads, proofs, export) are for admins and auditors. Batch routes answer 200 with
 * one {index, id, status} per item whatever each item's fate; the ids decide replays.
 */
import { Type } from 'typebox'
import { batchBodyBytesMax, pageSizeMax, transfersPerBatchMax } from '../../core/limits.ts'
import {
  accountStatement,
  accountStatuses,
  balanceAsOf,
  consistencyProof,
  createAccounts,
  createTransfers,
  findAccount,
  findTransfer,
  formatHex,
  inclusionProof,
  latestTreeHead,
  signJournalHead,
  transferFlags,
  transferStatuses,
  type AccountInput,
  type StoredTransfer,
  type TransferInput,
} from '../../ledger/index.ts'
import type { App, AppDeps } from '../app.ts'
import { principalOf, staffRoles } from '../authenticate.ts'
import { Problem } from '../problem.ts'
import { Strict, Uuid, problemResponses } from './schemas.ts'

const MinorUnits = Type.String({ pattern: '^(0|[1-9][0-9]{0,18})$', description: 'an amount in minor units, as a decimal string' })
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' })
const Day = Type.String({ format: 'date' })
const Code = Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'chart-of-accounts code (DOMAIN.md), e.g. 1201' })
const UserData = Type.String({ pattern: '^(0|[1-9][0-9]{0,17})$', description: 'a client reference (a non-negative integer below 10^18, as a decimal string)' })

const AccountInputSchema = Type.Object(
  {
    id: Uuid,
    currency: Currency,
    code: Code,
    flags: Type.Optional(Type.Object({ debitsMustNotExceedCredits: Type.Optional(Type.Boolean()), creditsMustNotExceedDebits: Type.Optional(Type.Boolean()) }, Strict)),
    userData: Type.Optional(UserData),
  },
  Strict,
)
const TransferInputSchema = Type.Object(
  {
    id: Uuid,
    debitAccountId: Type.Optional(Uuid),
    creditAccountId: Type.Optional(Uuid),
    amountMinor: Type.Optional(MinorUnits),
    currency: Type.Optional(Currency),
    code: Type.Optional(Code),
    flags: Type.Optional(
      Type.Object(
        {
          linked: Type.Optional(Type.Boolean()),
          pending: Type.Optional(Type.Boolean()),
          postPending: Type.Optional(Type.Boolean()),
          voidPending: Type.Optional(Type.Boolean()),
          balancingDebit: Type.Optional(Type.Boolean()),
          balancingCredit: Type.Optional(Type.Boolean()),
        },
        Strict,
      ),
    ),
    pendingId: Type.Optional(Uuid),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000 })),
    userData: Type.Optional(UserData),
    valueDate: Type.Optional(Day),
  },
  Strict,
)
const ResultSchema = (statuses: readonly string[]) => Type.Object({ index: Type.Integer(), id: Uuid, status: Type.Union(statuses.map((s) => Type.Literal(s))) })

const AccountSchema = Type.Object({
  id: Uuid,
  currency: Type.String(),
  code: Type.Integer(),
  flags: Type.Object({ debitsMustNotExceedCredits: Type.Boolean(), creditsMustNotExceedDebits: Type.Boolean() }),
  closed: Type.Boolean(),
  debitsPosted: MinorUnits,
  creditsPosted: MinorUnits,
  debitsPending: MinorUnits,
  creditsPending: MinorUnits,
  createdAt: Type.String({ format: 'date-time' }),
})
const TransferSchema = Type.Object({
  id: Uuid,
  debitAccountId: Uuid,
  creditAccountId: Uuid,
  amountMinor: MinorUnits,
  currency: Type.String(),
  code: Type.Integer(),
  kind: Type.Union(['posted', 'pending', 'post_pending', 'void_pending', 'expire_pending'].map((k) => Type.Literal(k))),
  pendingId: Type.Union([Uuid, Type.Null()]),
  timeoutSeconds: Type.Integer(),
  userData: Type.String(),
  valueDate: Day,
  postedAt: Type.String({ format: 'date-time' }),
  journalIndex: Type.String(),
  leafHash: Type.String(),
})
const HexList = Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }))

function transferView(t: StoredTransfer) {
  return {
    id: t.id,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amountMinor: t.amountMinor.toString(),
    currency: t.currency,
    code: t.code,
    kind: t.kind,
    pendingId: t.pendingId,
    timeoutSeconds: t.timeoutSeconds,
    userData: t.userData.toString(),
    valueDate: t.valueDate,
    postedAt: t.postedAt.toISOString(),
    journalIndex: t.journalIndex.toString(),
    leafHash: formatHex(t.leafHash),
  }
}

const ledgerReaders = staffRoles
const journalReaders = ['admin', 'auditor'] as const

export function registerLedgerRoutes(app: App, deps: AppDeps): void {
  const ledger = { db: deps.db, ids: deps.ids }

  app.post(
    '/v1/ledger/accounts',
    {
      bodyLimit: batchBodyBytesMax,
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['ledger'],
        summary: 'Create ledger accounts (batch)',
        description: 'Up to 8,190 accounts in one transaction. Ids are chosen by the client: a retry answers `exists`.',
        body: Type.Object({ accounts: Type.Array(AccountInputSchema, { minItems: 1, maxItems: transfersPerBatchMax }) }, Strict),
        response: { 200: Type.Object({ results: Type.Array(ResultSchema(accountStatuses)) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const inputs: AccountInput[] = request.body.accounts.map((a) => ({
        id: a.id,
        currency: a.currency,
        code: a.code,
        flags: { debitsMustNotExceedCredits: a.flags?.debitsMustNotExceedCredits ?? false, creditsMustNotExceedDebits: a.flags?.creditsMustNotExceedDebits ?? false },
        owner: null,
        userData: BigInt(a.userData ?? '0'),
      }))
      const statuses = await createAccounts(ledger, principal.tenantId, inputs, deps.clock.now())
      return { results: statuses.map((status, index) => ({ index, id: inputs[index]?.id as string, status })) }
    },
  )

  app.post(
    '/v1/ledger/transfers',
    {
      bodyLimit: batchBodyBytesMax,
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['ledger'],
        summary: 'Create transfers (batch)',
        description:
          'Up to 8,190 transfers in one transaction, decided in order. Two-phase: `flags.pending` reserves, `flags.postPending` / `flags.voidPending` with `pendingId` resolve (a post may be partial; omit `amountMinor` for the full amount). `flags.linked` chains a transfer to the next: the chain succeeds or fails as one. `flags.balancingDebit` / `balancingCredit` move at most what the limit allows. Statuses follow TigerBeetle: `exists` for a retry, `exists_with_different_<field>`, then validation, then limits. Accounts owned by loans accept transfers from servicing only.',
        body: Type.Object({ transfers: Type.Array(TransferInputSchema, { minItems: 1, maxItems: transfersPerBatchMax }) }, Strict),
        response: { 200: Type.Object({ results: Type.Array(ResultSchema(transferStatuses)) }), ...problemResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const inputs: TransferInput[] = request.body.transfers.map((t) => ({
        id: t.id,
        debitAccountId: t.debitAccountId ?? null,
        creditAccountId: t.creditAccountId ?? null,
        amountMinor: t.amountMinor === undefined ? null : BigInt(t.amountMinor),
        currency: t.currency ?? null,
        code: t.code ?? 0,
        flags: transferFlags(t.flags ?? {}),
        pendingId: t.pendingId ?? null,
        timeoutSeconds: t.timeoutSeconds ?? 0,
        userData: BigInt(t.userData ?? '0'),
        valueDate: t.valueDate ?? null,
      }))
      const outcome = await createTransfers(ledger, principal.tenantId, inputs, { now: deps.clock.now(), origin: null })
      return { results: outcome.results }
    },
  )

  app.get(
    '/v1/ledger/accounts/:id',
    { config: { access: { roles: ledgerReaders } }, schema: { tags: ['ledger'], summary: 'An account and its balances', params: Type.Object({ id: Uuid }, Strict), response: { 200: AccountSchema, ...problemResponses } } },
    async (request) => {
      const account = await findAccount(ledger, principalOf(request).tenantId, request.params.id)
      if (account === undefined) throw new Problem('not_found', 'no such account')
      return {
        id: account.id,
        currency: account.currency,
        code: account.code,
        flags: account.flags,
        closed: account.closed,
        debitsPosted: account.debitsPosted.toString(),
        creditsPosted: account.creditsPosted.toString(),
        debitsPending: account.debitsPending.toString(),
        creditsPending: account.creditsPending.toString(),
        createdAt: account.createdAt.toISOString(),
      }
    },
  )

  app.get(
    '/v1/ledger/accounts/:id/transfers',
    {
      config: { access: { roles: ledgerReaders } },
      schema: {
        tags: ['ledger'],
        summary: 'Account statement: transfers recorded in a time range, oldest first',
        params: Type.Object({ id: Uuid }, Strict),
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            after: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'cursor: `nextCursor` of the previous page' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 100 })),
          },
          Strict,
        ),
        response: { 200: Type.Object({ items: Type.Array(TransferSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
      },
    },
    async (request) => {
      const tenantId = principalOf(request).tenantId
      if ((await findAccount(ledger, tenantId, request.params.id)) === undefined) throw new Problem('not_found', 'no such account')
      const limit = request.query.limit ?? 100
      const items = await accountStatement(ledger, tenantId, request.params.id, {
        from: request.query.from === undefined ? null : new Date(request.query.from),
        to: request.query.to === undefined ? null : new Date(request.query.to),
        afterIndex: request.query.after === undefined ? null : BigInt(request.query.after),
        limit,
      })
      return { items: items.map(transferView), nextCursor: items.length === limit ? (items.at(-1)?.journalIndex.toString() ?? null) : null }
    },
  )

  app.get(
    '/v1/ledger/accounts/:id/balance',
    {
      config: { access: { roles: ledgerReaders } },
      schema: {
        tags: ['ledger'],
        summary: 'Posted balances as of a past instant or value date',
        description: 'Give exactly one of `at` (an instant: what the ledger had recorded by then) or `valueDate` (a business date: what counts for it, back-dated transfers included). The answer says which.',
        params: Type.Object({ id: Uuid }, Strict),
        querystring: Type.Object({ at: Type.Optional(Type.String({ format: 'date-time' })), valueDate: Type.Optional(Day) }, Strict),
        response: {
          200: Type.Object({ accountId: Uuid, asOf: Type.Object({ kind: Type.Union([Type.Literal('instant'), Type.Literal('value_date')]), value: Type.String() }), debitsPosted: MinorUnits, creditsPosted: MinorUnits }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const tenantId = principalOf(request).tenantId
      const { at, valueDate } = request.query
      if ((at === undefined) === (valueDate === undefined)) throw new Problem('invalid_field', 'give exactly one of `at` or `valueDate`', [{ path: 'querystring', code: 'invalid_field', message: 'exactly one of at, valueDate' }])
      if ((await findAccount(ledger, tenantId, request.params.id)) === undefined) throw new Problem('not_found', 'no such account')
      const asOf = at !== undefined ? { instant: new Date(at) } : { valueDate: valueDate as string }
      const balance = await balanceAsOf(ledger, tenantId, request.params.id, asOf)
      return {
        accountId: request.params.id,
        asOf: at !== undefined ? { kind: 'instant' as const, value: new Date(at).toISOString() } : { kind: 'value_date' as const, value: valueDate as string },
        debitsPosted: balance.debitsPosted.toString(),
        creditsPosted: balance.creditsPosted.toString(),
      }
    },
  )

  app.get(
    '/v1/ledger/transfers/:id',
    { config: { access: { roles: ledgerReaders } }, schema: { tags: ['ledger'], summary: 'A transfer', params: Type.Object({ id: Uuid }, Strict), response: { 200: TransferSchema, ...problemResponses } } },
    async (request) => {
      const transfer = await findTransfer(ledger, principalOf(request).tenantId, request.params.id)
      if (transfer === undefined) throw new Problem('not_found', 'no such transfer')
      return transferView(transfer)
    },
  )

  app.post(
    '/v1/ledger/journal/tree-heads',
    {
      config: { access: { roles: journalReaders } },
      schema: {
        tags: ['journal'],
        summary: 'Sign and publish the tree head of the current journal',
        description: 'RFC 6962 signed tree head over the tenant journal: Ed25519 over the TreeHeadSignature bytes (version 0, signature type 1, timestamp, tree size, root). Verify with the public key named by `keyId` (GET /v1/keys/signing).',
        response: { 200: Type.Object({ treeSize: Type.Integer(), timestamp: Type.Integer(), rootHash: Type.String(), keyId: Type.String(), signature: Type.String() }), ...problemResponses },
      },
    },
    async (request) => signJournalHead(ledger, deps.keyring, principalOf(request).tenantId, deps.clock.now()),
  )

  app.get(
    '/v1/ledger/journal/tree-heads/latest',
    {
      config: { access: { roles: journalReaders } },
      schema: {
        tags: ['journal'],
        summary: 'The most recent signed tree head (signed on demand or by the server every five minutes)',
        response: { 200: Type.Object({ treeSize: Type.Integer(), timestamp: Type.Integer(), rootHash: Type.String(), keyId: Type.String(), signature: Type.String() }), ...problemResponses },
      },
    },
    async (request) => {
      const head = await latestTreeHead(ledger, principalOf(request).tenantId)
      if (head === undefined) throw new Problem('not_found', 'no tree head has been signed yet: POST /v1/ledger/journal/tree-heads')
      return head
    },
  )

  app.get(
    '/v1/ledger/journal/inclusion',
    {
      config: { access: { roles: journalReaders } },
      schema: {
        tags: ['journal'],
        summary: 'Inclusion proof of entry `index` in the tree of size `treeSize` (RFC 6962 PATH)',
        querystring: Type.Object({ index: Type.Integer({ minimum: 0 }), treeSize: Type.Integer({ minimum: 1 }) }, Strict),
        response: { 200: Type.Object({ leafIndex: Type.Integer(), treeSize: Type.Integer(), leafHash: Type.String(), rootHash: Type.String(), proof: HexList }), ...problemResponses },
      },
    },
    async (request) => {
      const { index, treeSize } = request.query
      const result = await inclusionProof(ledger, principalOf(request).tenantId, index, treeSize)
      if (result === 'out_of_range') throw new Problem('not_found', 'no such entry or tree size in this journal')
      return { leafIndex: index, treeSize, leafHash: formatHex(result.leafHash), rootHash: formatHex(result.rootHash), proof: result.proof.map(formatHex) }
    },
  )

  app.get(
    '/v1/ledger/journal/consistency',
    {
      config: { access: { roles: journalReaders } },
      schema: {
        tags: ['journal'],
        summary: 'Consistency proof between tree sizes `from` and `to` (RFC 6962 PROOF)',
        querystring: Type.Object({ from: Type.Integer({ minimum: 1 }), to: Type.Integer({ minimum: 1 }) }, Strict),
        response: { 200: Type.Object({ from: Type.Integer(), to: Type.Integer(), firstRoot: Type.String(), secondRoot: Type.String(), proof: HexList }), ...problemResponses },
      },
    },
    async (request) => {
      const { from, to } = request.query
      const result = await consistencyProof(ledger, principalOf(request).tenantId, from, to)
      if (result === 'out_of_range') throw new Problem('not_found', 'no such tree sizes in this journal')
      return { from, to, firstRoot: formatHex(result.firstRoot), secondRoot: formatHex(result.secondRoot), proof: result.proof.map(formatHex) }
    },
  )
}

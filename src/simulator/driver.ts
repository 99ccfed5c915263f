/**
 * @module simulator/driver
 * Runs a simulation against the real platform (the adapter around the pure core): a tenant (fresh, or
 * the one given), a 310 loan product, a scorecard trained on a synthetic past book and registered as
 * champion, the sme-310 strategy published under maker-checker by two distinct analysts, the firms with
 * their owners, consents and twelve months of data in the credit data hub; then month by month, on the
 * tenant's business date (1st of the month) with an injected clock:
 *
 * 1. last month's records are in the data hub (set-based: one INSERT … SELECT FROM unnest per chunk, run while
 *    last month's close of business ran, stamped as received on this business date);
 * 2. loans more than 180 days past due are written off (`writeOffLoanBalance`);
 * 3. each firm's month is planned from its own state: what it repays, whether it asks for money, whether its
 *    credit line is due for review (quarterly, earlier when a loan drawn on it is past due);
 * 4. the firms with something to do are worked through in chunks over a few connections, each firm in order:
 *    repayments (`repayLoan`), its line's review (`reviewOneLine`), its application (`applyForLoan` or
 *    `applyForCreditLine`: the real decision, features, champion score, strategy), the acceptance of an offer
 *    (`acceptOffer` through the simulated bank, zero latency) or a draw on its line (`drawOnCreditLine`);
 *    firms do not read each other's loans, so the outcome does not depend on the connections' timing;
 * 5. the month's sales and costs move the firms' cash; a firm whose cash runs out fails;
 * 6. close of business runs for every day of the month (`runCloseOfBusiness` catches up day by day);
 * 7. the month-end state of every loan is read for the portfolio ratios and vintage curves.
 *
 * The summary is read from the database at the end. Nothing reads the wall clock: the clock says 09:00
 * Beijing time on the business date, so the same seed gives the same summary, byte for byte.
 */
import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { appendAudit, createTenant, createUser, systemActor, type Actor } from '../access/index.ts'
import { assert } from '../core/assert.ts'
import type { Clock } from '../core/clock.ts'
import type { IdSource } from '../core/ids.ts'
import { RateDecimal } from '../core/rate.ts'
import { monthEnd, type CreditDeps } from '../credit/index.ts'
import { inTenant, type Tx } from '../db/database.ts'
import type { DB } from '../db/schema.ts'
import { createStrategyDraft, sme310StrategyDocument, transitionStoredStrategy, type StrategyAction } from '../decisions/index.ts'
import { acceptOffer, applyForCreditLine, applyForLoan, createSimulatedBank, defaultStrategyName, drawOnCreditLine, readCreditLine, reviewEveryDays, reviewOneLine } from '../flows/index.ts'
import { blindIndex, encryptField, type Keyring } from '../keys/index.ts'
import {
  createProduct, defaultAllocationOrder, defaultDelinquencyRules, defaultPenaltyRules, defaultProvisionRatesPct, defaultTierThresholds, repayLoan,
  runCloseOfBusiness, writeOffLoanBalance, type ServicingContext, type Tier,
} from '../loans/index.ts'
import { buildArtefact, evaluateScorecard, predictColumns, registerModel, setModelStatus, trainScorecard } from '../scoring/index.ts'
import {
  creditLineRequestYuan, decideAcceptance, decideBorrowing, decideRepayment, initialState, monthActivity, monthRecords, settleMonth, yearMonthOf, type Activity, type FirmState, type Shock,
} from './economy.ts'
import { generateTrainingSet, registrationFields, simulationScorecardOptions, sourceEntries } from './history.ts'
import { buildVintageCurves, createVintageTracker, measurePortfolioRatios, observeVintages, ratioOf, type LoanObservation } from './metrics.ts'
import { generatePopulation, ownerIdNumber, ownerName, ownerPhone, type Firm } from './population.ts'
import { vintagesJson, type MonthPoint, type SimulationSummary } from './report.ts'

export const simulationStartDefault = '2025-01-01'
export const scorecardName = 'sme-scorecard'
export const writeOffDpdMin = 180
const recordsPerInsert = 5_000
const repaymentsPerTransaction = 100
/**
 * A line is re-decided every `lineReviewEveryMonths` months after its opening or last review (lines opened in
 * different months fall due in different months, so about a third of the book each month), and early, at the
 * first month start 30 days (`reviewEveryDays`) after its last review, when a loan drawn on it is past due:
 * the periodic review plus an early-warning trigger, as a lender runs it, instead of every line every month.
 */
export const lineReviewEveryMonths = 3
/** Firms (with something to do that month) per chunk of the monthly work: one repayment and one application transaction per chunk. */
const firmsPerChunk = 25

export type SimulationOptions = {
  readonly smes: number
  readonly months: number
  readonly seed: number
  readonly shock: Shock | null
  /** An existing tenant to simulate in; a fresh one is created when absent. */
  readonly tenantId?: string
  readonly trainingFirms?: number
  /** Connections working through the month's firm chunks in parallel (default 4); records are ingested over up to 2. */
  readonly concurrency?: number
  readonly onProgress?: (done: number, total: number, phase: string) => void
  readonly log?: (message: string) => void
}

export type SimulationDeps = { readonly db: Kysely<DB>; readonly keyring: Keyring; readonly ids: IdSource }

export type SimulationResult = {
  readonly summary: SimulationSummary
  readonly tenantId: string
  readonly productId: string
  readonly enterpriseIds: readonly string[]
  /**
   * Milliseconds per phase: setup, ingest (waiting for it), plan, firms (the chunked firm work, wall clock), cob,
   * observe, summary; repay, review, apply, accept and draw are summed over the connections working in parallel.
   */
  readonly timings: Readonly<Record<string, number>>
}

/** A clock that reads 09:00 in Beijing (01:00 UTC) on the simulated business date, plus whole seconds as phases pass. */
export type SimulatedClock = Clock & { setDate(date: string): void; tick(): void }
export function createSimulatedClock(date: string): SimulatedClock {
  let base = Date.parse(`${date}T01:00:00.000Z`)
  let offset = 0
  return {
    now: () => new Date(base + offset),
    setDate(next) {
      base = Date.parse(`${next}T01:00:00.000Z`)
      offset = 0
    },
    tick() {
      offset += 1_000
    },
  }
}

/** Runs `work` over `items` with `concurrency` workers, each taking contiguous chunks of `chunk` items. */
async function inParallel<T>(items: readonly T[], concurrency: number, chunk: number, work: (batch: readonly T[]) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const start = next
      next += chunk
      await work(items.slice(start, start + chunk))
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, Math.ceil(items.length / chunk))) }, worker))
}

const addMonths = (date: string, months: number) => Temporal.PlainDate.from(date).add({ months }).toString()
const yuanToMinor = (yuan: number) => BigInt(Math.floor(yuan)) * 100n
const minorToYuan = (minor: bigint) => Number(minor) / 100

type Setup = { tenantId: string; start: string; productId: string; maker: Actor; runTag: string }

async function ensureAnalyst(trx: Tx, deps: { clock: Clock; ids: IdSource }, tenantId: string, email: string, displayName: string): Promise<Actor> {
  const found = (await sql<{ id: string }>`select id from users where lower(email) = ${email}`.execute(trx)).rows[0]
  if (found !== undefined) return { kind: 'user', id: found.id }
  const created = await createUser(trx, deps, { tenantId, actor: systemActor, email, displayName, role: 'risk_analyst', password: null, enterpriseId: null })
  assert(created.status === 'ok', () => `simulator analyst ${email}: ${created.status}`)
  return { kind: 'user', id: created.value.id }
}

/** Tenant, analysts, product, champion scorecard and the active sme-310 strategy. */
async function setUp(deps: SimulationDeps, clock: SimulatedClock, options: SimulationOptions, log: (m: string) => void): Promise<Setup> {
  let tenantId = options.tenantId
  if (tenantId === undefined) {
    const created = await createTenant({ db: deps.db, clock, ids: deps.ids }, { slug: `sim-${options.seed}-${deps.ids.next().slice(-12)}`, name: `Simulation ${options.smes}×${options.months} seed ${options.seed}`, businessDate: simulationStartDefault })
    assert(created.status === 'ok', 'a fresh slug is free')
    tenantId = created.value.id
  }
  const id = tenantId
  let start = await inTenant(deps.db, id, async (trx) => (await sql<{ d: string }>`select business_date::text as d from tenants where id = ${id}`.execute(trx)).rows[0]?.d)
  assert(start !== undefined, 'the tenant exists')
  if (!start.endsWith('-01')) {
    // Months are calendar months: close the rest of this one first.
    const last = Temporal.PlainYearMonth.from(start.slice(0, 7)).toPlainDate({ day: Temporal.PlainYearMonth.from(start.slice(0, 7)).daysInMonth }).toString()
    log(`aligning the tenant to a month start: close of business through ${last}`)
    const cob = await runCloseOfBusiness(deps.db, { ids: deps.ids, now: () => clock.now() }, id, last)
    assert(cob.status !== 'tenant_not_found')
    start = addMonths(`${start.slice(0, 7)}-01`, 1)
  }
  clock.setDate(start)
  const runTag = deps.ids.next()
  const ctx = { tenantId: id, ids: deps.ids, now: clock.now() }
  return inTenant(deps.db, id, async (trx) => {
    const maker = await ensureAnalyst(trx, { clock, ids: deps.ids }, id, 'simulator-maker@sim.puhui.local', 'Simulator (maker)')
    const checker = await ensureAnalyst(trx, { clock, ids: deps.ids }, id, 'simulator-checker@sim.puhui.local', 'Simulator (checker)')
    const product = await createProduct(trx, ctx, {
      name: '310 working capital 经营贷', currency: 'CNY', principalMinMinor: 1_000_000n, principalMaxMinor: 100_000_000n, installmentsMin: 3, installmentsMax: 12,
      scheduleTemplate: {
        repaymentEvery: 1, repaymentUnit: 'months', interestMethod: 'declining_balance', amortization: 'equal_installments', interestPeriod: 'daily', daysInYear: '365',
        daysInMonth: 'actual', graceOnPrincipalPeriods: 0, graceOnInterestPaymentPeriods: 0, interestFreePeriods: 0, installmentMultipleOf: null, rounding: 'half_even', compat: null,
      },
      annualRateCapPct: new RateDecimal('24'), upfrontFeePct: new RateDecimal('1'), penalty: defaultPenaltyRules, allocationOrder: defaultAllocationOrder,
      delinquency: { thresholds: defaultTierThresholds, provisionRatesPct: defaultProvisionRatesPct, provisionRounding: defaultDelinquencyRules.provisionRounding, toleranceMinor: defaultDelinquencyRules.toleranceMinor, restructuredTierMin: defaultDelinquencyRules.restructuredTierMin },
      accrual: { nonAccrualDpdMin: 91 },
    })
    assert(product.status === 'ok', () => `the simulation product is valid: ${product.status === 'ok' ? '' : product.reason}`)

    const training = generateTrainingSet(options.seed, options.trainingFirms ?? 3_000, start)
    const card = trainScorecard({ columns: training.columns, target: training.target }, simulationScorecardOptions)
    const metrics = evaluateScorecard(card, predictColumns(card, training.columns), training.target)
    const artefact = buildArtefact({
      createdAt: clock.now().toISOString(),
      trainingData: { sha256: createHash('sha256').update(training.csv).digest('hex'), rows: training.target.length, bads: training.target.reduce((s, t) => s + t, 0), columns: [...training.columns.map((c) => c.name), 'bad'] },
      target: { column: 'bad', bad: '1' }, excluded: [], card, metrics: { ...metrics },
    })
    const registered = await registerModel(trx, { clock, ids: deps.ids }, { tenantId: id, name: scorecardName, artefactJson: JSON.stringify(artefact), actor: maker })
    assert(registered.status === 'ok', 'the trained artefact parses')
    const champion = await setModelStatus(trx, { clock, ids: deps.ids }, { tenantId: id, id: registered.value.id, status: 'champion', actor: maker })
    assert(champion.status === 'ok')

    // The 310 strategy as published, scoring with whatever version of our scorecard is champion.
    const document = { ...structuredClone(sme310StrategyDocument), models: [{ name: scorecardName, output: 'score' }] }
    const draft = await createStrategyDraft(trx, ctx, { document, authorId: maker.id as string })
    assert(draft.status === 'ok', () => `sme-310 compiles: ${draft.status === 'ok' ? '' : JSON.stringify(draft.errors)}`)
    const steps: [StrategyAction, Actor][] = [[{ type: 'submit' }, maker], [{ type: 'approve', note: 'simulation: second analyst' }, checker], [{ type: 'activate' }, maker]]
    for (const [action, actor] of steps) {
      const moved = await transitionStoredStrategy(trx, ctx, draft.strategy.id, action, actor.id as string)
      assert(moved.status === 'ok', () => `strategy ${action.type}: ${moved.status}`)
    }
    log(`setup: scorecard AUC ${metrics.auc.toFixed(3)} on ${training.target.length} past loans; sme-310 active`)
    return { tenantId: id, start, productId: product.product.id, maker, runTag }
  })
}

/** Enterprises, owners (encrypted, blind-indexed: shared owners link firms), consents. Set-based. */
async function seedFirms(deps: SimulationDeps, clock: SimulatedClock, setup: Setup, firms: readonly Firm[], seed: number): Promise<string[]> {
  const now = clock.now()
  const ids = firms.map(() => deps.ids.next())
  const expires = new Date(Date.parse(`${addMonths(setup.start, 36)}T00:00:00Z`))
  const scope = ['registration', 'tax_filings', 'payment_flows', 'orders', 'logistics', 'reviews', 'owners']
  for (let from = 0; from < firms.length; from += recordsPerInsert) {
    const slice = firms.slice(from, from + recordsPerInsert)
    const sliceIds = ids.slice(from, from + recordsPerInsert)
    await inTenant(deps.db, setup.tenantId, async (trx) => {
      await sql`insert into enterprises (tenant_id, id, name, uscc, sector, region, founded_on, created_at)
        select ${setup.tenantId}, e.id, e.name, e.uscc, e.sector, e.region, e.founded_on, ${now}
        from unnest(${sliceIds}::uuid[], ${slice.map((f) => f.name)}::text[], ${slice.map((f) => f.uscc)}::text[], ${slice.map((f) => f.sector.name)}::text[],
          ${slice.map((f) => f.region.name)}::text[], ${slice.map((f) => f.foundedOn)}::date[]) as e(id, name, uscc, sector, region, founded_on)`.execute(trx)
      const owners = slice.map((f) => {
        const idNumber = ownerIdNumber(seed, f.ownerKey)
        const phone = ownerPhone(seed, f.ownerKey)
        return {
          id: deps.ids.next(), name: encryptField(deps.keyring, ownerName(seed, f.ownerKey), 'owners.name'), idNumber: encryptField(deps.keyring, idNumber, 'owners.id_number'),
          idIndex: blindIndex(deps.keyring, idNumber, 'id_number'), phone: encryptField(deps.keyring, phone, 'owners.phone'), phoneIndex: blindIndex(deps.keyring, phone, 'phone'),
        }
      })
      await sql`insert into owners (tenant_id, id, enterprise_id, name_encrypted, id_number_encrypted, id_number_index, phone_encrypted, phone_index, share_pct, role, created_at)
        select ${setup.tenantId}, o.id, o.enterprise_id, o.name, o.id_number, o.id_index, o.phone, o.phone_index, 100, 'legal_representative', ${now}
        from unnest(${owners.map((o) => o.id)}::uuid[], ${sliceIds}::uuid[], ${owners.map((o) => o.name)}::text[], ${owners.map((o) => o.idNumber)}::text[],
          ${owners.map((o) => o.idIndex)}::text[], ${owners.map((o) => o.phone)}::text[], ${owners.map((o) => o.phoneIndex)}::text[]) as o(id, enterprise_id, name, id_number, id_index, phone, phone_index)`.execute(trx)
      await sql`insert into consents (tenant_id, id, enterprise_id, purpose, scope, granted_at, expires_at, granted_by, evidence)
        select ${setup.tenantId}, c.id, c.enterprise_id, 'credit_assessment', ${scope}::text[], ${now}, ${expires}, ${JSON.stringify(systemActor)}::jsonb, 'simulated e-signature'
        from unnest(${slice.map(() => deps.ids.next())}::uuid[], ${sliceIds}::uuid[]) as c(id, enterprise_id)`.execute(trx)
      // One audit entry per batch: the simulator wrote these owners and consents (no personal data in the entry).
      await appendAudit(trx, { tenantId: setup.tenantId, actor: systemActor, action: 'simulation.firms', targetKind: 'tenant', targetId: setup.tenantId, at: now, ids: deps.ids, detail: { firms: slice.length, run: setup.runTag } })
    })
  }
  return ids
}

type RecordRow = { enterpriseId: string; source: string; externalId: string; occurredOn: string; fields: string }

/** Inserts records straight into the data hub's table (validated shapes: the generator writes only valid fields). */
async function insertRecords(deps: SimulationDeps, now: Date, setup: Setup, rows: readonly RecordRow[], concurrency: number): Promise<void> {
  const provenance = JSON.stringify({ kind: 'simulation', run: setup.runTag })
  await inParallel(rows, Math.min(2, concurrency), recordsPerInsert, async (batch) => {
    await inTenant(deps.db, setup.tenantId, (trx) => sql`
      insert into data_records (tenant_id, id, enterprise_id, source, external_id, occurred_on, ingested_at, fields, provenance)
      select ${setup.tenantId}, r.id, r.enterprise_id, r.source, r.external_id, r.occurred_on, ${now}, r.fields::jsonb, ${provenance}::jsonb
      from unnest(${batch.map(() => deps.ids.next())}::uuid[], ${batch.map((r) => r.enterpriseId)}::uuid[], ${batch.map((r) => r.source)}::text[], ${batch.map((r) => r.externalId)}::text[],
        ${batch.map((r) => r.occurredOn)}::date[], ${batch.map((r) => r.fields)}::text[]) as r(id, enterprise_id, source, external_id, occurred_on, fields)`.execute(trx))
  })
}

/** Month ends already computed (one per calendar month, asked for every firm). */
const monthEnds = new Map<string, string>()
const monthEndOf = (yearMonth: string) => {
  let found = monthEnds.get(yearMonth)
  if (found === undefined) monthEnds.set(yearMonth, found = monthEnd(yearMonth))
  return found
}

function recordRowsOf(seed: number, setup: Setup, firm: Firm, enterpriseId: string, activity: Activity): RecordRow[] {
  return sourceEntries(monthRecords(seed, firm, activity)).map(([source, fields]) => ({
    enterpriseId, source, externalId: `${setup.runTag}:${firm.index}:${source}:${activity.yearMonth}`, occurredOn: monthEndOf(activity.yearMonth), fields: JSON.stringify(fields),
  }))
}

type Wish = { index: number; amountMinor: bigint; termMonths: number; channel: 'loan' | 'line' | 'draw' }
/** A firm's work in a month: its payments (in the order of the due list), its line's review, its wish. */
type FirmWork = { payments: { loanId: string; amountMinor: bigint }[]; reviewLineId: string | null; wish: Wish | null }
/** The product's smallest loan (CNY 10,000): a draw below it cannot be booked. */
const productMinMinor = 1_000_000n

type LoanDue = { id: string; enterprise_id: string; due: bigint }
type ObservedLoan = { id: string; disbursed_on: string; principal_minor: bigint; outstanding: bigint; dpd: number; tier: Tier; status: string; enterprise_id: string }

/** Runs the whole simulation; see the module comment for the monthly steps. */
export async function runSimulation(deps: SimulationDeps, options: SimulationOptions): Promise<SimulationResult> {
  assert(Number.isInteger(options.smes) && options.smes >= 1, 'at least one SME')
  assert(Number.isInteger(options.months) && options.months >= 1, 'at least one month')
  assert(options.shock === null || (options.shock.severity >= 0 && options.shock.severity <= 1), 'severity is 0–1')
  const log = options.log ?? (() => undefined)
  const concurrency = options.concurrency ?? 4
  const timings: Record<string, number> = {}
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now()
    try {
      return await fn()
    } finally {
      timings[phase] = (timings[phase] ?? 0) + (performance.now() - t0)
    }
  }
  const totalSteps = 2 + options.months * 6
  let done = 0
  const progress = (phase: string) => options.onProgress?.(++done, totalSteps, phase)

  const clock = createSimulatedClock(simulationStartDefault)
  const setup = await timed('setup', () => setUp(deps, clock, options, log))
  const { tenantId, start, productId } = setup
  const firms = generatePopulation(options.seed, options.smes, start)
  const enterpriseIds = await timed('setup', () => seedFirms(deps, clock, setup, firms, options.seed))
  const firmOfEnterprise = new Map(enterpriseIds.map((id, i) => [id, i]))
  const states: FirmState[] = firms.map(initialState)
  const credit: CreditDeps = { clock, ids: deps.ids, keyring: deps.keyring }
  const bank = createSimulatedBank({ latencyMs: 0 })
  const servicing = (): ServicingContext => ({ tenantId, ids: deps.ids, now: clock.now() })
  const income0 = await readInterestIncome(deps.db, tenantId)
  // Credit lines: the open line of each firm that has one (its id and allowed terms), and the firms that applied.
  const lines = new Map<number, { id: string; terms: readonly number[] }>()
  const lineTried = new Set<number>()
  const drawRefusals = new Map<string, number>()
  progress('setup')

  // Twelve months of history before the first simulated month, and each firm's registration.
  await timed('ingest', async () => {
    const rows: RecordRow[] = []
    firms.forEach((firm, i) => {
      const enterpriseId = enterpriseIds[i] as string
      rows.push({ enterpriseId, source: 'registration', externalId: `${setup.runTag}:${firm.index}:registration`, occurredOn: firm.foundedOn, fields: JSON.stringify(registrationFields(firm)) })
      for (let month = -12; month < 0; month++) rows.push(...recordRowsOf(options.seed, setup, firm, enterpriseId, monthActivity(options.seed, firm, start, month, null, false)))
    })
    await insertRecords(deps, clock.now(), setup, rows, concurrency)
  })
  progress('history')

  const tracker = createVintageTracker()
  const monthly: MonthPoint[] = []
  let lastMonthRecords: RecordRow[] = []
  // Last month's records, being ingested while that month's close of business runs (neither reads the other's tables).
  let ingesting: Promise<void> = Promise.resolve()
  let lastObservation: ObservedLoan[] = []
  for (let month = 0; month < options.months; month++) {
    const date = addMonths(start, month)
    clock.setDate(date)
    const label = yearMonthOf(start, month)

    await timed('ingest', () => ingesting)
    progress(`${label} ingest`)

    // Loans long past due are written off before the month's collections.
    await timed('repay', async () => {
      const due = lastObservation.filter((l) => l.status === 'active' && l.dpd >= writeOffDpdMin).map((l) => l.id).sort()
      for (let from = 0; from < due.length; from += repaymentsPerTransaction) {
        await inTenant(deps.db, tenantId, async (trx) => {
          for (const loanId of due.slice(from, from + repaymentsPerTransaction)) {
            const written = await writeOffLoanBalance(trx, servicing(), loanId, { valueDate: null })
            assert(written.status === 'ok', () => `write-off: ${written.status}`)
          }
        })
      }
    })

    // What each firm does this month is decided up front from its own state (pure): what it repays, whether it
    // asks for money, whether its line is due for review. Then the firms with something to do are worked through
    // in chunks of consecutive firms, one chunk per connection at a time, each firm in the order a month runs:
    // repayments, its line's review, its application, the acceptance of an offer or the draw. Firms do not read
    // each other's loans or lines (a decision's exposure is the firm's own; related firms lend only their data
    // records), so the outcome does not depend on which connection finishes first.
    let repaidMinor = 0n
    const dues = await timed('plan', () => inTenant(deps.db, tenantId, async (trx) => (await sql<LoanDue>`
      select l.id, l.enterprise_id, sum((i.principal_due - i.principal_paid - i.principal_waived) + (i.interest_due - i.interest_paid - i.interest_waived)
        + (i.fees_due - i.fees_paid - i.fees_waived) + (i.penalties_due - i.penalties_paid - i.penalties_waived))::bigint as due
      from loans l join loan_installments i on i.tenant_id = l.tenant_id and i.loan_id = l.id
      where l.product_id = ${productId} and l.status = 'active' and i.due_on <= ${date}::date
      group by l.id, l.enterprise_id, l.disbursed_on, l.principal_minor
      order by l.disbursed_on, l.principal_minor, l.id`.execute(trx)).rows))
    const work = new Map<number, FirmWork>()
    const workOf = (index: number): FirmWork => {
      let found = work.get(index)
      if (found === undefined) work.set(index, found = { payments: [], reviewLineId: null, wish: null })
      return found
    }
    for (const loan of dues) {
      if (loan.due <= 0n) continue
      const index = firmOfEnterprise.get(loan.enterprise_id)
      if (index === undefined) continue // a loan of this product made outside the simulation
      const state = states[index] as FirmState
      const dueYuan = minorToYuan(loan.due)
      const paidYuan = decideRepayment(state, dueYuan)
      const amountMinor = paidYuan >= dueYuan ? loan.due : yuanToMinor(paidYuan)
      if (amountMinor <= 0n) continue
      states[index] = { ...state, cashYuan: state.cashYuan - minorToYuan(amountMinor) }
      workOf(index).payments.push({ loanId: loan.id, amountMinor })
      repaidMinor += amountMinor
    }
    // Lines due for review (see `lineReviewEveryMonths`), as the close of business left them.
    const quarterAgo = Temporal.PlainDate.from(date).subtract({ months: lineReviewEveryMonths }).toString()
    const monthAgo = Temporal.PlainDate.from(date).subtract({ days: reviewEveryDays }).toString()
    const dueLines = await timed('plan', () => inTenant(deps.db, tenantId, async (trx) => (await sql<{ id: string; enterprise_id: string }>`
      select c.id, c.enterprise_id from credit_lines c where c.product_id = ${productId} and c.status <> 'closed'
        and (c.last_reviewed_on <= ${quarterAgo}::date
          or c.last_reviewed_on <= ${monthAgo}::date and exists (select 1 from loans l where l.credit_line_id = c.id and l.status = 'active' and l.dpd > 0))
      order by c.id`.execute(trx)).rows))
    for (const line of dueLines) {
      const index = firmOfEnterprise.get(line.enterprise_id)
      if (index !== undefined) workOf(index).reviewLineId = line.id
    }
    // Firms short of cash ask for money (`decideBorrowing`, the one place a firm gets credit): a loan
    // application, a credit-line application (the first time a firm with steady sales asks), or a draw on its line.
    firms.forEach((firm, index) => {
      const state = states[index] as FirmState
      const wish = decideBorrowing(options.seed, firm, state, month, Number.parseInt(label.slice(5), 10) - 1)
      if (wish === null) return
      states[index] = { ...state, lastAppliedMonth: month }
      const channel = wish.channel === 'loan' || lineTried.has(index) && !lines.has(index) ? 'loan' : lines.has(index) ? 'draw' : 'line'
      workOf(index).wish = { index, amountMinor: BigInt(wish.amountYuan) * 100n, termMonths: wish.termMonths, channel }
    })

    let disbursedMinor = 0n
    let loansThisMonth = 0
    let drawsAsked = 0
    const payouts = { db: deps.db, ids: deps.ids, clock, rail: bank }
    const reviewDeps = { ...credit, db: deps.db, clock }
    const received = (index: number, netMinor: bigint, principalMinor: bigint) => {
      loansThisMonth += 1
      disbursedMinor += principalMinor
      const state = states[index] as FirmState
      states[index] = { ...state, cashYuan: state.cashYuan + minorToYuan(netMinor) }
    }
    const drawOn = async (wish: Wish) => {
      const line = lines.get(wish.index)
      assert(line !== undefined)
      drawsAsked += 1
      // A term the line allows: the one wished, else the longest shorter one, else the shortest.
      const termMonths = line.terms.includes(wish.termMonths) ? wish.termMonths : ([...line.terms].reverse().find((t) => t < wish.termMonths) ?? line.terms[0] ?? wish.termMonths)
      const draw = (amountMinor: bigint) => drawOnCreditLine(payouts, { tenantId, creditLineId: line.id, amountMinor, termMonths, enterpriseId: enterpriseIds[wish.index] as string, actor: setup.maker })
      let asked = wish.amountMinor
      let drawn = await draw(asked)
      if (drawn.status === 'credit_line_insufficient') {
        // Take what is left on the line, in whole thousands of yuan, if the product can book it.
        const view = await inTenant(deps.db, tenantId, (trx) => readCreditLine(trx, line.id, { enterpriseId: null }))
        asked = ((view?.availableMinor ?? 0n) / 100_000n) * 100_000n
        if (asked >= productMinMinor) drawn = await draw(asked)
      }
      if (drawn.status !== 'ok') {
        drawRefusals.set(drawn.status, (drawRefusals.get(drawn.status) ?? 0) + 1)
        return
      }
      if (drawn.payout.status === 'succeeded') received(wish.index, drawn.payout.amountMinor, asked)
    }
    const busy = [...work.keys()].sort((a, b) => a - b)
    await timed('firms', () => inParallel(busy, concurrency, firmsPerChunk, async (chunk) => {
      const jobs = chunk.map((index) => ({ index, ...(work.get(index) as FirmWork) }))
      const payments = jobs.flatMap((j) => j.payments)
      if (payments.length > 0) {
        await timed('repay', () => inTenant(deps.db, tenantId, async (trx) => {
          for (const payment of payments) {
            const repaid = await repayLoan(trx, servicing(), payment.loanId, { amountMinor: payment.amountMinor, valueDate: null, enterpriseId: null })
            assert(repaid.status === 'ok', () => `repayment: ${repaid.status}`)
          }
        }))
      }
      // The periodic review, as `reviewCreditLines` does it: each line re-decided in its own transaction.
      for (const job of jobs) {
        const lineId = job.reviewLineId
        if (lineId === null) continue
        const outcome = await timed('review', () => inTenant(deps.db, tenantId, (trx) => reviewOneLine(trx, reviewDeps, { tenantId, lineId, strategyName: defaultStrategyName, actor: setup.maker, businessDate: date })))
        assert(outcome.action !== 'failed', () => `credit-line review: ${outcome.detail ?? ''}`)
      }
      const applying = jobs.flatMap((j) => j.wish !== null && j.wish.channel !== 'draw' ? [j.wish] : [])
      const offers: { index: number; offerId: string }[] = []
      const draws: Wish[] = jobs.flatMap((j) => j.wish !== null && j.wish.channel === 'draw' ? [j.wish] : [])
      if (applying.length > 0) {
        await timed('apply', () => inTenant(deps.db, tenantId, async (trx) => {
          for (const wish of applying) {
            const enterpriseId = enterpriseIds[wish.index] as string
            const common = { tenantId, enterpriseId, productId, termMonths: wish.termMonths, strategyName: defaultStrategyName, actor: setup.maker }
            if (wish.channel === 'line') {
              lineTried.add(wish.index)
              const applied = await applyForCreditLine(trx, credit, { ...common, termMonths: 12, amountMinor: BigInt(creditLineRequestYuan(firms[wish.index] as Firm)) * 100n })
              assert(applied.status === 'ok', `credit-line application: ${applied.status}${applied.status === 'ok' ? '' : ` ${applied.detail}`}`)
              if (applied.line === null) continue
              lines.set(wish.index, { id: applied.line.id, terms: applied.line.termsAllowed })
              draws.push(wish) // the line is open: the firm draws what it needed at once
              continue
            }
            const result = await applyForLoan(trx, credit, { ...common, amountMinor: wish.amountMinor })
            assert(result.status === 'ok', `application: ${result.status}${result.status === 'ok' ? '' : ` ${result.detail}`}`)
            if (result.offer !== null) offers.push({ index: wish.index, offerId: result.offer.id })
          }
        }))
      }
      for (const offer of offers) {
        if (!decideAcceptance(options.seed, firms[offer.index] as Firm, month)) continue
        const accepted = await timed('accept', () => acceptOffer(payouts, { tenantId, offerId: offer.offerId, enterpriseId: enterpriseIds[offer.index] as string }))
        assert(accepted.status === 'ok', () => `acceptance: ${accepted.status}`)
        if (accepted.payout.status === 'succeeded') received(offer.index, accepted.payout.amountMinor, accepted.offer.amountMinor)
      }
      for (const wish of draws) await timed('draw', () => drawOn(wish))
    }))
    progress(`${label} repay`)
    progress(`${label} apply`)
    progress(`${label} accept`)

    // The month's trading: sales, costs, cash; the records it leaves are ingested next month.
    lastMonthRecords = []
    firms.forEach((firm, index) => {
      const state = states[index] as FirmState
      const activity = monthActivity(options.seed, firm, start, month, options.shock, state.failed)
      states[index] = settleMonth(options.seed, firm, state, activity)
      lastMonthRecords.push(...recordRowsOf(options.seed, setup, firm, enterpriseIds[index] as string, activity))
    })

    const lastDay = Temporal.PlainDate.from(addMonths(start, month + 1)).subtract({ days: 1 }).toString()
    // The records are stamped as received at 09:00 on the next business date, when they were ingested before.
    if (month + 1 < options.months) ingesting = insertRecords(deps, new Date(Date.parse(`${addMonths(start, month + 1)}T01:00:00.000Z`)), setup, lastMonthRecords, concurrency)
    ingesting.catch(() => undefined) // awaited next month; a failure must not surface as an unhandled rejection meanwhile
    await timed('cob', async () => {
      const cob = await runCloseOfBusiness(deps.db, { ids: deps.ids, now: () => clock.now() }, tenantId, lastDay)
      assert(cob.status === 'ok', () => `close of business through ${lastDay}: ${cob.status}`)
    })
    progress(`${label} close of business`)

    lastObservation = await timed('observe', () => observeLoans(deps.db, tenantId, productId))
    const decided = await timed('observe', () => inTenant(deps.db, tenantId, async (trx) => (await sql<{ decisions: number; approved: number }>`
      select count(*)::int as decisions, (count(*) filter (where status = 'approved'))::int as approved
      from applications where product_id = ${productId} and business_date = ${date}::date`.execute(trx)).rows[0]))
    assert(decided !== undefined)
    const observations = lastObservation.map((l) => toObservation(start, l))
    observeVintages(tracker, month, observations)
    const ratios = measurePortfolioRatios(observations)
    monthly.push({
      month: label, applications: decided.decisions, approved: decided.approved, loans: loansThisMonth, disbursedMinor: disbursedMinor.toString(), repaidMinor: repaidMinor.toString(),
      outstandingMinor: ratios.outstandingMinor.toString(), nplRatio: ratios.nplRatio, par30: ratios.par30, failedFirms: states.filter((s) => s.failed).length,
    })
    progress(`${label} month end`)
    log(`${label}: ${decided.decisions} decisions, ${decided.approved} approved, ${loansThisMonth} loans (${drawsAsked} draws asked), NPL ${ratios.nplRatio}, PAR30 ${ratios.par30}`)
  }

  const summary = await timed('summary', async () => {
    const counts = await inTenant(deps.db, tenantId, async (trx) => (await sql<{ applications: number; approved: number; declined: number; referred: number; line_reviews: number; credit_lines: number }>`
      select count(*)::int as applications, (count(*) filter (where status = 'approved'))::int as approved, (count(*) filter (where status = 'declined'))::int as declined,
        (count(*) filter (where status = 'referred'))::int as referred, (count(*) filter (where kind = 'credit_line_review'))::int as line_reviews,
        (select count(*)::int from credit_lines where product_id = ${productId}) as credit_lines
      from applications where product_id = ${productId}`.execute(trx)).rows[0])
    assert(counts !== undefined)
    const book = await inTenant(deps.db, tenantId, async (trx) => (await sql<{ loans: number; draws: number; disbursed: bigint | null; written_off: bigint | null; written_off_loans: number; provision: bigint | null; repaid: bigint | null; business_date: string }>`
      select count(*)::int as loans, (count(*) filter (where credit_line_id is not null and status <> 'approved'))::int as draws, sum(principal_minor) filter (where status <> 'approved')::bigint as disbursed, sum(written_off_minor)::bigint as written_off,
        (count(*) filter (where status = 'written_off'))::int as written_off_loans, sum(provision_minor) filter (where status = 'active')::bigint as provision,
        (select sum(t.amount_minor) from loan_transactions t join loans l2 on l2.tenant_id = t.tenant_id and l2.id = t.loan_id where l2.product_id = ${productId} and t.kind = 'repayment')::bigint as repaid,
        (select business_date::text from tenants where id = ${tenantId}) as business_date
      from loans where product_id = ${productId}`.execute(trx)).rows[0])
    assert(book !== undefined)
    const final = measurePortfolioRatios(lastObservation.map((l) => toObservation(start, l)))
    const income = (await readInterestIncome(deps.db, tenantId)) - income0
    const result: SimulationSummary = {
      smes: options.smes, months: options.months, seed: options.seed, shock: options.shock === null ? null : { month: options.shock.month + 1, severity: options.shock.severity },
      applications: counts.applications, approved: counts.approved, loans: book.loans, draws: book.draws,
      approvalRate: ratioOf(BigInt(counts.approved), BigInt(counts.applications)), nplRatio: final.nplRatio, par30: final.par30,
      declined: counts.declined, referred: counts.referred, creditLines: counts.credit_lines, lineReviews: counts.line_reviews, failedFirms: states.filter((s) => s.failed).length,
      disbursedMinor: (book.disbursed ?? 0n).toString(), repaidMinor: (book.repaid ?? 0n).toString(), outstandingMinor: final.outstandingMinor.toString(),
      writtenOffMinor: (book.written_off ?? 0n).toString(), writtenOffLoans: book.written_off_loans, provisionMinor: (book.provision ?? 0n).toString(),
      interestIncomeMinor: income.toString(), currency: 'CNY', startDate: start, endDate: book.business_date,
      vintages: vintagesJson(buildVintageCurves(tracker, options.months, (m) => yearMonthOf(start, m))), monthly,
    }
    return result
  })
  progress('summary')
  if (drawRefusals.size > 0) log(`draws refused: ${[...drawRefusals].map(([code, n]) => `${code} ${n}`).join(', ')}`)
  log(`timings (s): ${Object.entries(timings).map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)}`).join(', ')}`)
  return { summary, tenantId, productId, enterpriseIds, timings }
}

function toObservation(start: string, loan: ObservedLoan): LoanObservation {
  const since = Temporal.PlainDate.from(start).until(Temporal.PlainDate.from(loan.disbursed_on), { largestUnit: 'months' }).months
  return { id: loan.id, disbursedMonth: since, principalMinor: loan.principal_minor, outstandingMinor: loan.outstanding, dpd: loan.dpd, tier: loan.tier, status: loan.status }
}

async function observeLoans(db: Kysely<DB>, tenantId: string, productId: string): Promise<ObservedLoan[]> {
  return inTenant(db, tenantId, async (trx) => (await sql<ObservedLoan>`
    select l.id, l.enterprise_id, l.disbursed_on::text as disbursed_on, l.principal_minor, l.dpd, l.tier, l.status,
      coalesce(sum(i.principal_due - i.principal_paid - i.principal_waived), 0)::bigint as outstanding
    from loans l left join loan_installments i on i.tenant_id = l.tenant_id and i.loan_id = l.id
    where l.product_id = ${productId} and l.status in ('active', 'closed', 'written_off')
    group by l.tenant_id, l.id order by l.id`.execute(trx)).rows)
}

/** Interest income on the books: the 4001 accounts' credits less debits (accruals less reversals and waivers). */
async function readInterestIncome(db: Kysely<DB>, tenantId: string): Promise<bigint> {
  const row = await inTenant(db, tenantId, async (trx) => (await sql<{ income: bigint | null }>`
    select sum(a.credits_posted - a.debits_posted)::bigint as income from ledger_gl_accounts g join ledger_accounts a on a.tenant_id = g.tenant_id and a.id = g.account_id
    where g.code = 4001`.execute(trx)).rows[0])
  return row?.income ?? 0n
}

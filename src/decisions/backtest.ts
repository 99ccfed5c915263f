/**
 * @module decisions/backtest
 * Runs a compiled strategy (typically a draft, before it goes live) over historical applications and
 * reports what it would have done: approval, referral and decline rates overall and by segment, the
 * expected bad rate among the approved, and the most frequent decline and referral reasons.
 *
 * Bad rates. Where a row carries an observed outcome (`outcome.bad`), it counts as 1 or 0; otherwise
 * its `badProbability` (e.g. the scorecard's probability at its score) counts instead. The *expected*
 * bad rate averages both over the approved rows that have either; the *observed* bad rate uses only
 * rows with outcomes. The observed bad rate of rows the strategy would decline shows what it screens
 * out (only meaningful for rows that were actually booked in the past).
 *
 * Rows can come from stored applications or from a CSV file (`readBacktestCsv`). Pure.
 */
import { assert } from '../core/assert.ts'
import { decide, type CompiledStrategy, type DecisionInput, type DecisionOutcome } from './compile.ts'
import { isIsoDate } from './expression.ts'

export type BacktestRow = {
  readonly input: DecisionInput
  readonly outcome?: { readonly bad: boolean }
  readonly segment?: string
  /** The predicted probability of going bad, used where no outcome is observed. */
  readonly badProbability?: number
}
export type SegmentReport = {
  readonly segment: string
  readonly applications: number
  readonly approved: number
  readonly referred: number
  readonly declined: number
  readonly approvalRate: number
  readonly referralRate: number
  readonly declineRate: number
  /** Mean bad indicator (observed, else predicted) over approved rows that have either; null when none do. */
  readonly expectedBadRate: number | null
  /** Bad share among approved rows with an observed outcome; null when there are none. */
  readonly observedBadRate: number | null
  readonly approvedWithOutcome: number
  /** Bad share among declined rows with an observed outcome: what the strategy screens out. */
  readonly declinedObservedBadRate: number | null
  /** Sum of the approved limits, in major units. */
  readonly approvedLimitMajorTotal: number
}
export type ReasonCount = { readonly code: string; readonly count: number; readonly share: number }
export type BacktestReport = {
  readonly overall: SegmentReport
  /** By segment name, in name order; rows without a segment are counted under `(none)`. */
  readonly segments: readonly SegmentReport[]
  readonly topDeclineReasons: readonly ReasonCount[]
  readonly topReferralReasons: readonly ReasonCount[]
}

export const backtestReasonsMax = 10
export const unsegmented = '(none)'

type Tally = {
  applications: number
  counts: Record<DecisionOutcome, number>
  badSum: number
  badKnown: number
  observedBad: number
  observedKnown: number
  declinedBad: number
  declinedKnown: number
  limitTotal: number
}

const newTally = (): Tally => ({
  applications: 0, counts: { approved: 0, referred: 0, declined: 0 }, badSum: 0, badKnown: 0,
  observedBad: 0, observedKnown: 0, declinedBad: 0, declinedKnown: 0, limitTotal: 0,
})

function addRow(tally: Tally, row: BacktestRow, outcome: DecisionOutcome, limitMajor: number | undefined): void {
  tally.applications++
  tally.counts[outcome]++
  const bad = row.outcome === undefined ? undefined : row.outcome.bad ? 1 : 0
  if (outcome === 'approved') {
    tally.limitTotal += limitMajor ?? 0
    const expected = bad ?? row.badProbability
    if (expected !== undefined) { tally.badSum += expected; tally.badKnown++ }
    if (bad !== undefined) { tally.observedBad += bad; tally.observedKnown++ }
  } else if (outcome === 'declined' && bad !== undefined) {
    tally.declinedBad += bad
    tally.declinedKnown++
  }
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole)

function summarise(segment: string, t: Tally): SegmentReport {
  const share = (n: number) => ratio(n, t.applications) ?? 0
  assert(t.counts.approved + t.counts.referred + t.counts.declined === t.applications)
  return {
    segment, applications: t.applications,
    approved: t.counts.approved, referred: t.counts.referred, declined: t.counts.declined,
    approvalRate: share(t.counts.approved), referralRate: share(t.counts.referred), declineRate: share(t.counts.declined),
    expectedBadRate: ratio(t.badSum, t.badKnown), observedBadRate: ratio(t.observedBad, t.observedKnown), approvedWithOutcome: t.observedKnown,
    declinedObservedBadRate: ratio(t.declinedBad, t.declinedKnown), approvedLimitMajorTotal: t.limitTotal,
  }
}

function topReasons(counts: Map<string, number>, total: number): ReasonCount[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, backtestReasonsMax)
    .map(([code, count]) => ({ code, count, share: ratio(count, total) ?? 0 }))
}

/** Decides every row with the strategy and tallies the outcomes. Deterministic: rows are read in order. */
export function backtestStrategy(compiled: CompiledStrategy, rows: readonly BacktestRow[]): BacktestReport {
  const overall = newTally()
  const bySegment = new Map<string, Tally>()
  const declineReasons = new Map<string, number>()
  const referralReasons = new Map<string, number>()
  for (const row of rows) {
    assert(row.badProbability === undefined || (row.badProbability >= 0 && row.badProbability <= 1), 'a probability is in [0, 1]')
    const decision = decide(compiled, row.input)
    const segment = row.segment ?? unsegmented
    let tally = bySegment.get(segment)
    if (tally === undefined) { tally = newTally(); bySegment.set(segment, tally) }
    addRow(overall, row, decision.outcome, decision.limitMajor)
    addRow(tally, row, decision.outcome, decision.limitMajor)
    const reasons = decision.outcome === 'declined' ? declineReasons : decision.outcome === 'referred' ? referralReasons : undefined
    // A reason counts once per application, however many rules gave it.
    for (const code of new Set(decision.reasons.map((r) => r.code))) reasons?.set(code, (reasons.get(code) ?? 0) + 1)
  }
  return {
    overall: summarise('all', overall),
    segments: [...bySegment.keys()].sort().map((segment) => summarise(segment, bySegment.get(segment) as Tally)),
    topDeclineReasons: topReasons(declineReasons, overall.counts.declined),
    topReferralReasons: topReasons(referralReasons, overall.counts.referred),
  }
}

export type CsvTableLike = { readonly header: readonly string[]; readonly rows: readonly (readonly (string | null)[])[] }
export type BacktestCsvOptions = {
  /** The column holding the segment, if any. */
  readonly segmentColumn?: string
  /** The column holding the observed outcome, and the value in it that means bad. */
  readonly badColumn?: string
  readonly badValue?: string
  /** The column holding a predicted probability of bad, if any. */
  readonly badProbabilityColumn?: string
}
export type ReadBacktestCsvResult =
  | { readonly ok: true; readonly rows: readonly BacktestRow[] }
  | { readonly ok: false; readonly errors: readonly { readonly row: number; readonly column: string; readonly reason: string }[] }

const csvErrorsMax = 50

/**
 * Turns a parsed CSV table (scoring's `parseCsv`: missing fields are null) into backtest rows. Columns
 * named like the strategy's inputs (`features.gmv_6m`, `score`, …) fill them, read by declared type:
 * numbers as plain decimals, booleans as true/false/1/0, dates as YYYY-MM-DD. Other columns are ignored.
 */
export function readBacktestCsv(compiled: CompiledStrategy, table: CsvTableLike, options: BacktestCsvOptions = {}): ReadBacktestCsvResult {
  const errors: { row: number; column: string; reason: string }[] = []
  const columnOf = (name: string | undefined) => (name === undefined ? -1 : table.header.indexOf(name))
  for (const name of [options.segmentColumn, options.badColumn, options.badProbabilityColumn]) {
    if (name !== undefined && columnOf(name) < 0) errors.push({ row: 0, column: name, reason: 'no such column in the header' })
  }
  if (options.badColumn !== undefined && options.badValue === undefined) errors.push({ row: 0, column: options.badColumn, reason: 'badValue is needed with badColumn' })
  const mapped = compiled.inputs.map((input) => ({ input, column: columnOf(input.name) })).filter((m) => m.column >= 0)
  const rows: BacktestRow[] = []
  table.rows.forEach((cells, r) => {
    if (errors.length >= csvErrorsMax) return
    const input: Record<string, unknown> = {}
    for (const { input: declared, column } of mapped) {
      const text = cells[column] ?? null
      const value = text === null ? null : readCell(text, declared.type)
      if (value === undefined) errors.push({ row: r + 1, column: declared.name, reason: `'${text}' is not ${declared.type === 'date' ? 'a date (YYYY-MM-DD)' : `a ${declared.type}`}` })
      else input[declared.name] = value
    }
    const segment = options.segmentColumn === undefined ? undefined : cells[columnOf(options.segmentColumn)] ?? undefined
    const badText = options.badColumn === undefined ? null : cells[columnOf(options.badColumn)] ?? null
    const probabilityText = options.badProbabilityColumn === undefined ? null : cells[columnOf(options.badProbabilityColumn)] ?? null
    const badProbability = probabilityText === null ? undefined : Number(probabilityText)
    if (badProbability !== undefined && !(badProbability >= 0 && badProbability <= 1)) {
      errors.push({ row: r + 1, column: options.badProbabilityColumn ?? '', reason: `'${probabilityText}' is not a probability in [0, 1]` })
      return
    }
    rows.push({
      input,
      ...(segment === undefined ? {} : { segment }),
      ...(badText === null ? {} : { outcome: { bad: badText === options.badValue } }),
      ...(badProbability === undefined ? {} : { badProbability }),
    })
  })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rows }
}

const numberText = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

function readCell(text: string, type: CompiledStrategy['inputs'][number]['type']): string | number | boolean | undefined {
  switch (type) {
    case 'string': return text
    case 'number': return numberText.test(text.trim()) ? Number(text) : undefined
    case 'boolean': {
      const lower = text.trim().toLowerCase()
      return lower === 'true' || lower === '1' ? true : lower === 'false' || lower === '0' ? false : undefined
    }
    case 'date': return isIsoDate(text.trim()) ? text.trim() : undefined
  }
}

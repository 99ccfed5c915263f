/**
 * @module simulator/history
 * The lender's "past book" the champion scorecard is trained on (pure): firms from the same generator
 * (other indexes, so none of them is in the simulated population), their last twelve months of records,
 * the features the credit hub would compute from those records (credit's own `computeFeatures`), and
 * the outcome of a standard six-month loan of one month of sales through the next twelve months under
 * the same cash behaviour: bad when the firm failed or missed two payments. The same generator on both
 * sides is what makes the score informative in the simulation.
 */
import { Temporal } from 'temporal-polyfill'
import { computeFeatures, featureCatalogue, monthEnd, type FeatureRecord } from '../credit/index.ts'
import { defaultScorecardOptions, type Column, type ScorecardOptions } from '../scoring/index.ts'
import { decideRepayment, initialState, monthActivity, monthRecords, settleMonth, type SourceRows } from './economy.ts'
import { generateFirm, type Firm } from './population.ts'

/** Training firms are numbered from here: far from any simulated population's indexes. */
export const historyFirmOffset = 10_000_000

/** The records of firm months [from, to) as credit `FeatureRecord`s, plus its registration. */
export function featureRecordsOf(seed: number, firm: Firm, start: string, from: number, to: number): FeatureRecord[] {
  const records: FeatureRecord[] = [{ source: 'registration', occurredOn: firm.foundedOn, fields: registrationFields(firm) }]
  for (let month = from; month < to; month++) {
    const rows = monthRecords(seed, firm, monthActivity(seed, firm, start, month, null, false))
    for (const [source, fields] of sourceEntries(rows)) records.push({ source, occurredOn: monthEnd(fields.month as string), fields })
  }
  return records
}

export function registrationFields(firm: Firm): Record<string, string> {
  return { registeredOn: firm.foundedOn, legalForm: firm.legalForm, status: 'active', region: firm.region.name, sector: firm.sector.name }
}

export function sourceEntries(rows: SourceRows): ['orders' | 'payment_flows' | 'tax_filings' | 'logistics' | 'reviews', Record<string, string>][] {
  const out: ['orders' | 'payment_flows' | 'tax_filings' | 'logistics' | 'reviews', Record<string, string>][] = [['orders', rows.orders], ['payment_flows', rows.payment_flows], ['tax_filings', rows.tax_filings]]
  if (rows.logistics !== null) out.push(['logistics', rows.logistics])
  if (rows.reviews !== null) out.push(['reviews', rows.reviews])
  return out
}

/** Whether a standard loan to `firm` at month 0 goes bad within twelve months (no shock: an ordinary year). */
export function standardLoanOutcome(seed: number, firm: Firm, start: string): boolean {
  let state = initialState(firm)
  const principal = Math.min(1_000_000, Math.max(10_000, firm.baseRevenueYuan))
  state = { ...state, cashYuan: state.cashYuan + principal }
  const rate = 0.12 / 12
  const payment = (principal * rate) / (1 - (1 + rate) ** -6)
  let missed = 0
  for (let month = 0; month < 12; month++) {
    state = settleMonth(seed, firm, state, monthActivity(seed, firm, start, month, null, state.failed))
    if (month >= 6) continue
    const paid = decideRepayment(state, payment)
    state = { ...state, cashYuan: state.cashYuan - paid }
    if (paid < payment) missed += 1
  }
  return state.failed || missed >= 2
}

/**
 * How the simulated lender scales its scorecard: 600 points at odds of 12 goods to 1 bad, 20 points to double
 * the odds. With sme-310's cutoffs (refer below 580, decline below 540) it approves applicants whose chance of
 * going bad (the training outcome below) is under about 14 %, and declines those above about 40 %: a lender
 * that takes some risk for reach, as 310 lenders do.
 */
export const simulationScorecardOptions: ScorecardOptions = { ...defaultScorecardOptions, scaling: { baseScore: 600, baseOdds: 12, pointsToDoubleOdds: 20 } }

export type TrainingSet = { readonly columns: Column[]; readonly target: Uint8Array; readonly csv: string }

/**
 * `count` past borrowers with features as of `start` (twelve months of records before it) and their outcome.
 * Features that are missing for everyone (utilities: no such data in the simulation) are left out.
 */
export function generateTrainingSet(seed: number, count: number, start: string): TrainingSet {
  const asOf = Temporal.PlainDate.from(start)
  const rows: Record<string, number | null>[] = []
  const target = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const firm = generateFirm(seed, historyFirmOffset + i, start)
    rows.push(computeFeatures(featureRecordsOf(seed, firm, start, -12, 0), asOf))
    target[i] = standardLoanOutcome(seed, firm, start) ? 1 : 0
  }
  const names = featureCatalogue.map((f) => f.name).filter((name) => rows.some((row) => row[name] !== null && row[name] !== undefined))
  const columns: Column[] = names.map((name) => ({ kind: 'numeric', name, values: Float64Array.from(rows, (row) => row[name] ?? Number.NaN) }))
  const lines = [[...names, 'bad'].join(',')]
  rows.forEach((row, i) => lines.push([...names.map((name) => (row[name] === null || row[name] === undefined ? '' : String(row[name]))), String(target[i])].join(',')))
  return { columns, target, csv: `${lines.join('\n')}\n` }
}

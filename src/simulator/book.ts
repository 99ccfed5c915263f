/**
 * @module simulator/book
 * A pure model of the simulated lender's book, for calibrating the economy without a database: the same
 * firms, cash behaviour, borrowing and repayment decisions as the driver, with the champion scorecard
 * trained on the same past book deciding (approve at or above the strategy's referral cutoff; firms
 * younger than a year or more than 30 days past due are refused, as sme-310 does) and a simplified loan:
 * equal monthly installments at a fixed rate, payments to the oldest installment first, days past due from
 * the oldest unpaid installment, written off at 180 days. No penalties, no fees. It approximates what the
 * real run gives (the real run is the measure); the calibrated ranges are checked on it in
 * simulator.test.ts.
 */
import { Temporal } from 'temporal-polyfill'
import { computeFeatures } from '../credit/index.ts'
import { compileScorecard, scoreRow, trainScorecard } from '../scoring/index.ts'
import { decideAcceptance, decideBorrowing, decideRepayment, initialState, monthActivity, settleMonth, yearMonthOf, type FirmState, type Shock } from './economy.ts'
import { featureRecordsOf, generateTrainingSet, simulationScorecardOptions } from './history.ts'
import { generatePopulation } from './population.ts'

type BookLoan = {
  firm: number
  principal: number
  /** Remaining principal per installment (index k is due at the start of month `disbursedMonth + k + 1`). */
  principalParts: number[]
  paymentParts: number[]
  paid: number[]
  disbursedMonth: number
  status: 'active' | 'closed' | 'written_off'
}

export type BookRun = {
  readonly applications: number
  readonly approved: number
  readonly loans: number
  readonly nplRatio: number
  readonly par30: number
  readonly writtenOff: number
  readonly failedFirms: number
  /** Per month end: NPL and PAR30. */
  readonly monthly: readonly { readonly nplRatio: number; readonly par30: number }[]
}

const annualRate = 0.18
const writeOffDays = 180
/** Approve at or above this score (sme-310 refers below 580 and declines below 540). */
export const bookApprovalScore = 580

/** Days past due at the end of month `month` of a loan whose oldest unpaid installment fell due at the start of `dueMonth`. */
const dpdAtMonthEnd = (dueMonth: number, month: number) => (month < dueMonth ? 0 : Math.round((month - dueMonth) * 30.4 + 29))

/** Runs the book model over `smes` firms for `months` months. */
export function runBookModel(options: { seed: number; smes: number; months: number; shock: Shock | null; start?: string; trainingFirms?: number }): BookRun {
  const start = options.start ?? '2025-01-01'
  const { seed } = options
  const training = generateTrainingSet(seed, options.trainingFirms ?? 2_000, start)
  const compiled = compileScorecard(trainScorecard({ columns: training.columns, target: training.target }, simulationScorecardOptions))
  const firms = generatePopulation(seed, options.smes, start)
  const states: FirmState[] = firms.map(initialState)
  const loans: BookLoan[] = []
  const monthly: { nplRatio: number; par30: number }[] = []
  let applications = 0
  let approved = 0
  let writtenOff = 0
  const oldestUnpaid = (loan: BookLoan) => loan.paid.findIndex((p, k) => p < (loan.paymentParts[k] as number) - 0.5)
  for (let month = 0; month < options.months; month++) {
    const asOf = Temporal.PlainDate.from(start).add({ months: month })
    const calendarMonth = Number.parseInt(yearMonthOf(start, month).slice(5), 10) - 1
    // Write-offs, then collections from cash (oldest installment first).
    for (const loan of loans) {
      if (loan.status !== 'active') continue
      const k = oldestUnpaid(loan)
      if (k >= 0 && dpdAtMonthEnd(loan.disbursedMonth + k + 1, month - 1) >= writeOffDays) {
        loan.status = 'written_off'
        writtenOff += 1
        continue
      }
      let due = 0
      loan.paymentParts.forEach((part, j) => { if (loan.disbursedMonth + j + 1 <= month) due += part - (loan.paid[j] as number) })
      const state = states[loan.firm] as FirmState
      let pay = decideRepayment(state, due)
      states[loan.firm] = { ...state, cashYuan: state.cashYuan - pay }
      for (let j = 0; j < loan.paid.length && pay > 0; j++) {
        const rest = (loan.paymentParts[j] as number) - (loan.paid[j] as number)
        const take = Math.min(rest, pay)
        loan.paid[j] = (loan.paid[j] as number) + take
        pay -= take
      }
      if (oldestUnpaid(loan) < 0) loan.status = 'closed'
    }
    // Applications: the scorecard decides on the last twelve months' records.
    firms.forEach((firm, index) => {
      const state = states[index] as FirmState
      const wish = decideBorrowing(seed, firm, state, month, calendarMonth)
      if (wish === null) return
      states[index] = { ...state, lastAppliedMonth: month }
      applications += 1
      const ageMonths = Temporal.PlainDate.from(firm.foundedOn).until(asOf, { largestUnit: 'months' }).months
      const pastDue = loans.some((l) => l.firm === index && l.status === 'active' && oldestUnpaid(l) >= 0 && dpdAtMonthEnd(l.disbursedMonth + oldestUnpaid(l) + 1, month - 1) > 30)
      const features = computeFeatures(featureRecordsOf(seed, firm, start, month - 12, month), asOf)
      const score = scoreRow(compiled, (name) => features[name] ?? null).score
      if (ageMonths < 12 || pastDue || score < bookApprovalScore) return
      approved += 1
      if (!decideAcceptance(seed, firm, month)) return
      const n = wish.termMonths
      const r = annualRate / 12
      const payment = (wish.amountYuan * r) / (1 - (1 + r) ** -n)
      const principalParts: number[] = []
      let balance = wish.amountYuan
      for (let j = 0; j < n; j++) {
        const part = j === n - 1 ? balance : payment - balance * r
        principalParts.push(part)
        balance -= part
      }
      loans.push({ firm: index, principal: wish.amountYuan, principalParts, paymentParts: principalParts.map(() => payment), paid: principalParts.map(() => 0), disbursedMonth: month, status: 'active' })
      states[index] = { ...(states[index] as FirmState), cashYuan: (states[index] as FirmState).cashYuan + wish.amountYuan * 0.99 }
    })
    // The month's trading.
    firms.forEach((firm, index) => {
      const state = states[index] as FirmState
      states[index] = settleMonth(seed, firm, state, monthActivity(seed, firm, start, month, options.shock, state.failed))
    })
    // Month end: outstanding principal (principal share of what is unpaid), NPL (91+ DPD), PAR30.
    let outstanding = 0
    let npl = 0
    let par30 = 0
    for (const loan of loans) {
      if (loan.status !== 'active') continue
      let rest = 0
      loan.principalParts.forEach((part, j) => { rest += part * (1 - (loan.paid[j] as number) / (loan.paymentParts[j] as number)) })
      const k = oldestUnpaid(loan)
      const dpd = k < 0 ? 0 : dpdAtMonthEnd(loan.disbursedMonth + k + 1, month)
      outstanding += rest
      if (dpd > 90) npl += rest
      if (dpd > 30) par30 += rest
    }
    monthly.push({ nplRatio: outstanding > 0 ? npl / outstanding : 0, par30: outstanding > 0 ? par30 / outstanding : 0 })
  }
  const last = monthly.at(-1) ?? { nplRatio: 0, par30: 0 }
  return { applications, approved, loans: loans.length, nplRatio: last.nplRatio, par30: last.par30, writtenOff, failedFirms: states.filter((s) => s.failed).length, monthly }
}

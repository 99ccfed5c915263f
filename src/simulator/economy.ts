/**
 * @module simulator/economy
 * One firm's month (pure): sales with seasonality, trend, noise, the firm's own setbacks (a lost buyer
 * or listing: sales fall to a quarter for four months, more often for weaker firms, and nobody sees them
 * coming, so even good borrowers sometimes default) and the shock; costs (a fixed share that
 * does not fall with sales); the monthly records a data hub would receive (orders with refunds, payment
 * flows, tax filings, logistics, reviews); and the cash behaviour: cash moves with the month's net flow,
 * a firm repays from its cash, wants to borrow when its cash falls under 0.3 months of costs (or to stock up
 * before its peak season), and fails
 * (stops paying for good) when its cash runs out past what its suppliers will carry, or walks away with a
 * small monthly hazard that grows as latent quality falls.
 *
 * Months are counted from the simulation's first month (0); negative months are the history before it.
 * Money inside the model is yuan as floating point (it is behaviour, not book-keeping); records carry
 * minor units as decimal strings, as the data hub expects.
 */
import { Temporal } from 'temporal-polyfill'
import type { Firm } from './population.ts'
import { streamOf } from './prng.ts'

/** A shock: in `month` (0-based) sales fall by `severity` × the firm's sensitivity, recovering over five months. */
export type Shock = { readonly month: number; readonly severity: number }

export function shockFactor(firm: Firm, month: number, shock: Shock | null): number {
  if (shock === null || month < shock.month) return 1
  const since = month - shock.month
  // Recovers linearly over five months (80 %, 60 %, 40 %, 20 % of the fall remain).
  const decay = Math.max(0, 1 - 0.2 * since)
  return Math.max(0, 1 - shock.severity * firm.shockSensitivity * decay)
}

/** Months a firm's own setback lasts, and how much of its sales remain meanwhile. */
export const setbackMonths = 4
export const setbackSales = 0.25

/** The share of sales a firm keeps this month after its own setbacks (1 when none started in the last `setbackMonths` months). */
export function setbackFactor(seed: number, firm: Firm, month: number): number {
  for (let k = 0; k < setbackMonths; k++) {
    if (streamOf(seed, firm.index, month - k + 11_000, 'behaviour').next() < firm.setbackHazard) return setbackSales
  }
  return 1
}

export type Activity = {
  readonly month: number
  readonly yearMonth: string
  readonly revenueYuan: number
  readonly costsYuan: number
  readonly netYuan: number
}

/** Calendar months already computed: Temporal is slow enough to show per firm-month at 20,000 firms. */
const yearMonths = new Map<string, string>()
/** The calendar month (YYYY-MM) of simulation month `month` from `start`'s month. */
export function yearMonthOf(start: string, month: number): string {
  const key = `${start.slice(0, 7)}${month}`
  let found = yearMonths.get(key)
  if (found === undefined) yearMonths.set(key, found = Temporal.PlainYearMonth.from(start.slice(0, 7)).add({ months: month }).toString())
  return found
}

/** Sales, costs and net cash flow of a month; a failed firm winds down (a quarter of its sales, same fixed costs). */
export function monthActivity(seed: number, firm: Firm, start: string, month: number, shock: Shock | null, failed: boolean): Activity {
  const r = streamOf(seed, firm.index, month, 'month')
  const yearMonth = yearMonthOf(start, month)
  const calendarMonth = Number.parseInt(yearMonth.slice(5), 10) - 1
  const seasonal = 1 + firm.seasonAmplitude * Math.cos((2 * Math.PI * (calendarMonth - firm.peakMonth)) / 12)
  const noise = Math.exp(firm.volatility * r.normal() - (firm.volatility * firm.volatility) / 2)
  const trend = (1 + firm.growthPerMonth) ** month
  const revenueYuan = firm.baseRevenueYuan * seasonal * noise * trend * shockFactor(firm, month, shock) * setbackFactor(seed, firm, month) * (failed ? 0.25 : 1)
  const costBase = firm.baseRevenueYuan * (1 - firm.margin)
  const costsYuan = costBase * (firm.fixedCostShare * Math.max(trend, 0.5) + (1 - firm.fixedCostShare) * (revenueYuan / firm.baseRevenueYuan))
  return { month, yearMonth, revenueYuan, costsYuan, netYuan: revenueYuan - costsYuan }
}

const minorOf = (yuan: number) => String(Math.max(0, Math.round(yuan * 100)))
const count = (x: number) => String(Math.max(0, Math.round(x)))
const decimal = (x: number, digits: number) => Math.max(0, x).toFixed(digits)

export type SourceRows = {
  readonly orders: Record<string, string>
  readonly payment_flows: Record<string, string>
  readonly tax_filings: Record<string, string>
  readonly logistics: Record<string, string> | null
  readonly reviews: Record<string, string> | null
}

/** The month's records as the data hub's source fields (without externalId and enterpriseId). */
export function monthRecords(seed: number, firm: Firm, activity: Activity): SourceRows {
  const r = streamOf(seed, firm.index, activity.month, 'behaviour')
  const gmv = activity.revenueYuan
  const orders = Math.max(gmv > 0 ? 1 : 0, gmv / (firm.sector.orderValueYuan * (0.8 + 0.4 * r.next())))
  const buyers = Math.max(orders > 0 ? 1 : 0, orders * (0.6 + 0.3 * r.next()))
  const refundShare = firm.refundRate * (0.6 + 0.8 * r.next())
  const filedLate = r.chance(firm.filesLate)
  const filedOn = `${yearMonthOf(`${activity.yearMonth}-01`, 1)}-${String(filedLate ? 16 + r.int(12) : 5 + r.int(10)).padStart(2, '0')}`
  const declared = gmv * firm.declareRatio
  const shipments = orders * (0.85 + 0.1 * r.next())
  const onTime = shipments * (0.8 + 0.18 * firm.quality)
  return {
    orders: {
      month: activity.yearMonth, gmvMinor: minorOf(gmv), orders: count(orders), buyers: count(buyers),
      repeatBuyers: count(Math.min(Math.round(buyers), buyers * (0.15 + 0.45 * firm.quality))),
      topBuyerShare: decimal(Math.min(1, firm.topBuyerShare * (0.8 + 0.4 * r.next())), 4),
      refundsMinor: minorOf(gmv * refundShare), refunds: count(orders * refundShare), currency: 'CNY',
    },
    payment_flows: {
      month: activity.yearMonth, inflowMinor: minorOf(gmv * (1 - refundShare) * (0.9 + 0.1 * firm.quality)), outflowMinor: minorOf(activity.costsYuan),
      transactions: count(orders * 0.6 + 10), counterparties: count(4 + Math.sqrt(buyers)), currency: 'CNY',
    },
    tax_filings: { month: activity.yearMonth, filedOn, declaredRevenueMinor: minorOf(declared), taxPaidMinor: minorOf(declared * 0.03), currency: 'CNY' },
    logistics: firm.sector.goods
      ? { month: activity.yearMonth, shipments: count(shipments), onTime: count(Math.min(Math.round(shipments), onTime)), delayed: count(Math.max(0, Math.round(shipments) - Math.round(onTime)) * 0.9), lost: count(shipments * 0.002 * (1 - firm.quality)) }
      : null,
    reviews: firm.sector.consumer
      ? { month: activity.yearMonth, reviews: count(orders * 0.08), averageScore: decimal(Math.min(5, 3.3 + 1.6 * firm.quality + 0.15 * r.normal()), 2), complaints: count(orders * 0.08 * 0.12 * (1 - firm.quality)) }
      : null,
  }
}

/** A firm's cash position between months (the simulator's only mutable state per firm). */
export type FirmState = {
  cashYuan: number
  failed: boolean
  failedMonth: number | null
  lastAppliedMonth: number | null
}

export function initialState(firm: Firm): FirmState {
  return { cashYuan: firm.baseRevenueYuan * (1 - firm.margin) * firm.initialCashMonths, failed: false, failedMonth: null, lastAppliedMonth: null }
}

/** How far below zero suppliers and landlords carry a firm before it fails: a share of a month's costs, more for better firms. */
export function overdraftLimitYuan(firm: Firm): number {
  return firm.baseRevenueYuan * (1 - firm.margin) * (0.25 + 0.75 * firm.quality)
}

/**
 * Books the month's net flow; the owner takes out most of the cash above a month of costs (small
 * firms do not hoard: the surplus is drawn, invested or spent), so a bad month bites. The firm fails when
 * its cash runs out past the overdraft, or walks away.
 */
export function settleMonth(seed: number, firm: Firm, state: FirmState, activity: Activity): FirmState {
  if (state.failed) return state
  const monthlyCosts = firm.baseRevenueYuan * (1 - firm.margin)
  let cashYuan = state.cashYuan + activity.netYuan
  if (cashYuan > monthlyCosts) cashYuan -= 0.8 * (cashYuan - monthlyCosts)
  const walksAway = streamOf(seed, firm.index, activity.month + 7_000, 'behaviour').next() < firm.walkAwayHazard
  const failed = cashYuan < -overdraftLimitYuan(firm) || walksAway
  return { ...state, cashYuan, failed, failedMonth: failed ? activity.month : null }
}

/** What the firm pays of `dueYuan`: all when it can, what it has when it cannot, nothing once failed. */
export function decideRepayment(state: FirmState, dueYuan: number): number {
  if (state.failed || dueYuan <= 0) return 0
  if (state.cashYuan >= dueYuan) return dueYuan
  // Short: pay what is left above a small working balance, in whole yuan.
  return Math.max(0, Math.floor(state.cashYuan))
}

/** How a firm borrows: firms with steady sales take a credit line (授信) once and draw on it; the others apply for loans. */
export type BorrowChannel = 'credit_line' | 'loan'

export type BorrowWish = { readonly amountYuan: number; readonly termMonths: 3 | 6 | 12; readonly channel: BorrowChannel }

/** Steady sales (monthly volatility under 10 %, seasonal swing under 30 %): such a firm prefers a credit line to one-off loans. */
export function prefersCreditLine(firm: Firm): boolean {
  return firm.volatility < 0.1 && firm.seasonAmplitude < 0.3
}

/** The limit a firm asks for when it applies for a credit line: two months of costs, within the product (10,000 to 1,000,000 yuan). */
export function creditLineRequestYuan(firm: Firm): number {
  return Math.min(1_000_000, Math.max(10_000, Math.ceil((2 * firm.baseRevenueYuan * (1 - firm.margin)) / 1_000) * 1_000))
}

/**
 * The single place where a firm asks for money: when its cash is under 0.3 months of costs (short of cash),
 * or, with a chance that grows with its seasonality, in the two months before its peak season (stock for the
 * season). At most once per quarter. The channel is the firm's habit (`prefersCreditLine`): the driver turns
 * a credit-line wish into a line application the first time and into draws afterwards.
 * `calendarMonth` is 0 for January.
 */
export function decideBorrowing(seed: number, firm: Firm, state: FirmState, month: number, calendarMonth: number): BorrowWish | null {
  if (state.failed) return null
  if (state.lastAppliedMonth !== null && month - state.lastAppliedMonth < 3) return null
  const monthlyCosts = firm.baseRevenueYuan * (1 - firm.margin)
  const r = streamOf(seed, firm.index, month + 5_000, 'behaviour')
  const termMonths = r.pick([3, 6, 6, 12, 12] as const)
  const untilPeak = (firm.peakMonth - calendarMonth + 12) % 12
  const stocksUp = (untilPeak === 1 || untilPeak === 2) && r.chance(0.2 + firm.seasonAmplitude)
  if (state.cashYuan >= 0.3 * monthlyCosts && !stocksUp) return null
  const wanted = stocksUp ? firm.baseRevenueYuan * (1 + firm.seasonAmplitude) : monthlyCosts - state.cashYuan
  const amountYuan = Math.min(1_000_000, Math.max(10_000, Math.ceil(wanted / 1_000) * 1_000))
  return { amountYuan, termMonths, channel: prefersCreditLine(firm) ? 'credit_line' : 'loan' }
}

/** Whether the firm takes an approved offer (most do; some found the money elsewhere). */
export function decideAcceptance(seed: number, firm: Firm, month: number): boolean {
  return streamOf(seed, firm.index, month + 9_000, 'behaviour').chance(0.9)
}

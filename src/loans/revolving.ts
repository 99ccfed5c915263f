/**
 * @module loans/revolving
 * A revolving credit line (随借随还): a limit; draws on any day, each with a maximum term; interest by the day on
 * what is drawn; repayment on any day; the limit restored as principal is repaid. Pure.
 *
 * Rules:
 * - available = limit − principal drawn and not repaid. A draw above it is `exceeds_available_limit`.
 * - Interest for day D on each draw's outstanding principal: simple daily rate = annual ÷ Y(D) (the product's
 *   `daysInYear`), rounded with a carry per draw (cumulative rounding, see accrual.ts): a draw made on D accrues
 *   for D; principal repaid on D does not accrue for D.
 * - Repayment: interest accrued and unpaid first (oldest draw first), then principal (oldest draw first); any rest
 *   goes to the overpayment wallet.
 * - A draw still owing principal after its due date (drawnOn + term) is overdue; the line's DPD is the age of the
 *   oldest overdue draw. Overdue draws keep accruing at the contract rate (no penalty rate on lines yet).
 */
import type { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import type { Currency } from '../core/money.ts'
import { RateDecimal, type Rounding } from '../core/rate.ts'
import type { DaysInYear } from './schedule-spec.ts'
import { computeDailyInterest, roundWithCarry } from './accrual.ts'
import { compareDates, daysFrom, minBigint } from './loan-state.ts'

export type RevolvingTerms = {
  readonly currency: Currency
  readonly limitMinor: bigint
  readonly annualRatePct: RateDecimal
  readonly daysInYear: DaysInYear
  readonly rounding: Rounding
  /** Longest term of one draw, in days; each draw is due `termDays` (≤ this) after it is made. */
  readonly drawTermDaysMax: number
}

export const revolvingLineStatuses = ['active', 'frozen', 'closed'] as const
/** `frozen`: no new draws (e.g. overdue or risk signal), repayments still accepted. */
export type RevolvingLineStatus = (typeof revolvingLineStatuses)[number]

export type Draw = {
  readonly id: string
  readonly drawnOn: Temporal.PlainDate
  readonly dueOn: Temporal.PlainDate
  readonly principalMinor: bigint
  readonly principalPaidMinor: bigint
  /** Interest accrued on this draw so far (rounded). */
  readonly interestAccruedMinor: bigint
  readonly interestPaidMinor: bigint
  /** Unrounded remainder of this draw's interest, minor units. */
  readonly carryMinor: RateDecimal
}

export type RevolvingLine = {
  readonly terms: RevolvingTerms
  readonly status: RevolvingLineStatus
  /** Oldest first. */
  readonly draws: readonly Draw[]
  /** Last day whose interest has been accrued. */
  readonly accruedThroughOn: Temporal.PlainDate
  readonly overpaymentMinor: bigint
}

/** A new line with nothing drawn; interest accrual starts on `openedOn`. */
export function openRevolvingLine(terms: RevolvingTerms, openedOn: Temporal.PlainDate): RevolvingLine {
  assert(terms.limitMinor > 0n, 'a line has a positive limit')
  assert(Number.isSafeInteger(terms.drawTermDaysMax) && terms.drawTermDaysMax >= 1, 'a draw term is at least one day')
  return { terms, status: 'active', draws: [], accruedThroughOn: openedOn.subtract({ days: 1 }), overpaymentMinor: 0n }
}

export function measureDrawnPrincipal(line: RevolvingLine): bigint {
  return line.draws.reduce((sum, d) => sum + d.principalMinor - d.principalPaidMinor, 0n)
}

export function measureInterestOwed(line: RevolvingLine): bigint {
  return line.draws.reduce((sum, d) => sum + d.interestAccruedMinor - d.interestPaidMinor, 0n)
}

/** limit − drawn principal not yet repaid. */
export function measureAvailable(line: RevolvingLine): bigint {
  const available = line.terms.limitMinor - measureDrawnPrincipal(line)
  assert(available >= 0n, 'drawn principal never exceeds the limit')
  return available
}

function assertLine(line: RevolvingLine): void {
  for (const d of line.draws) {
    assert(d.principalMinor > 0n, 'a draw is positive')
    assert(d.principalPaidMinor >= 0n && d.principalPaidMinor <= d.principalMinor, 'principal paid within the draw')
    assert(d.interestPaidMinor >= 0n && d.interestPaidMinor <= d.interestAccruedMinor, 'interest paid within what accrued')
  }
  assert(line.overpaymentMinor >= 0n, 'overpayment is not negative')
  measureAvailable(line)
}

export type DrawStatus =
  | 'line_not_active'
  | 'amount_must_be_positive'
  | 'draw_exists'                 // a draw with this id was already made
  | 'draw_term_exceeds_max'       // termDays outside 1…drawTermDaysMax
  | 'draw_before_last_close'      // the draw's date is a day already closed (accrued)
  | 'exceeds_available_limit'

export type DrawResult = { readonly status: 'ok'; readonly line: RevolvingLine; readonly draw: Draw } | { readonly status: DrawStatus }

/**
 * Draws `amountMinor` on `on`, due `termDays` later (default the maximum term).
 * @example drawOnLine(line, { id: 'd1', amountMinor: 100_000n, on }) // { status: 'ok', … } or { status: 'exceeds_available_limit' }
 */
export function drawOnLine(
  line: RevolvingLine,
  request: { readonly id: string; readonly amountMinor: bigint; readonly on: Temporal.PlainDate; readonly termDays?: number },
): DrawResult {
  if (line.status !== 'active') return { status: 'line_not_active' }
  if (request.amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  if (line.draws.some((d) => d.id === request.id)) return { status: 'draw_exists' }
  const termDays = request.termDays ?? line.terms.drawTermDaysMax
  if (!Number.isSafeInteger(termDays) || termDays < 1 || termDays > line.terms.drawTermDaysMax) return { status: 'draw_term_exceeds_max' }
  if (compareDates(request.on, line.accruedThroughOn) <= 0) return { status: 'draw_before_last_close' }
  if (request.amountMinor > measureAvailable(line)) return { status: 'exceeds_available_limit' }
  const draw: Draw = {
    id: request.id, drawnOn: request.on, dueOn: request.on.add({ days: termDays }), principalMinor: request.amountMinor,
    principalPaidMinor: 0n, interestAccruedMinor: 0n, interestPaidMinor: 0n, carryMinor: new RateDecimal(0),
  }
  const next = { ...line, draws: [...line.draws, draw] }
  assertLine(next)
  return { status: 'ok', line: next, draw }
}

export type LineAccrual =
  | { readonly status: 'ok'; readonly line: RevolvingLine; readonly accruedMinor: bigint; readonly perDraw: ReadonlyArray<{ id: string; accruedMinor: bigint }> }
  | { readonly status: 'already_accrued' }

/** Accrues day `on` (the day after `accruedThroughOn`) on every draw's outstanding principal. */
export function accrueLineInterest(line: RevolvingLine, on: Temporal.PlainDate): LineAccrual {
  if (compareDates(on, line.accruedThroughOn) <= 0) return { status: 'already_accrued' }
  assert(line.accruedThroughOn.add({ days: 1 }).equals(on), 'accrue line days in order')
  const perDraw: Array<{ id: string; accruedMinor: bigint }> = []
  const draws = line.draws.map((d) => {
    const outstanding = d.principalMinor - d.principalPaidMinor
    if (outstanding === 0n || compareDates(d.drawnOn, on) > 0) return d
    const exact = computeDailyInterest(outstanding, line.terms.annualRatePct, line.terms.daysInYear, on)
    const step = roundWithCarry({ accruedMinor: d.interestAccruedMinor, carryMinor: d.carryMinor }, exact, line.terms.rounding)
    if (step.amountMinor > 0n) perDraw.push({ id: d.id, accruedMinor: step.amountMinor })
    return { ...d, interestAccruedMinor: step.counter.accruedMinor, carryMinor: step.counter.carryMinor }
  })
  const next = { ...line, draws, accruedThroughOn: on }
  assertLine(next)
  return { status: 'ok', line: next, accruedMinor: perDraw.reduce((sum, p) => sum + p.accruedMinor, 0n), perDraw }
}

export type LineRepayment =
  | {
    readonly status: 'ok'
    readonly line: RevolvingLine
    readonly interestMinor: bigint
    readonly principalMinor: bigint
    readonly overpaymentMinor: bigint
    readonly perDraw: ReadonlyArray<{ id: string; interestMinor: bigint; principalMinor: bigint }>
  }
  | { readonly status: 'line_closed' | 'amount_must_be_positive' }

/**
 * Repays on `on` (interest accrued through the previous close): interest first, then principal, oldest draw first.
 * @example repayLine(line, 50_000n, on).principalMinor
 */
export function repayLine(line: RevolvingLine, amountMinor: bigint, on: Temporal.PlainDate): LineRepayment {
  if (line.status === 'closed') return { status: 'line_closed' }
  if (amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  assert(compareDates(on, line.accruedThroughOn) > 0, 'a repayment books after the last closed day')
  let remaining = amountMinor
  const interestPaid = new Map<string, bigint>()
  const principalPaid = new Map<string, bigint>()
  for (const d of line.draws) {
    const take = minBigint(remaining, d.interestAccruedMinor - d.interestPaidMinor)
    if (take > 0n) interestPaid.set(d.id, take)
    remaining -= take
  }
  for (const d of line.draws) {
    const take = minBigint(remaining, d.principalMinor - d.principalPaidMinor)
    if (take > 0n) principalPaid.set(d.id, take)
    remaining -= take
  }
  const draws = line.draws.map((d) => ({
    ...d,
    interestPaidMinor: d.interestPaidMinor + (interestPaid.get(d.id) ?? 0n),
    principalPaidMinor: d.principalPaidMinor + (principalPaid.get(d.id) ?? 0n),
  }))
  const interestMinor = [...interestPaid.values()].reduce((a, b) => a + b, 0n)
  const principalMinor = [...principalPaid.values()].reduce((a, b) => a + b, 0n)
  assert(interestMinor + principalMinor + remaining === amountMinor, 'allocated + overpayment = amount')
  assert(remaining >= 0n, 'overpayment is not negative')
  const next = { ...line, draws, overpaymentMinor: line.overpaymentMinor + remaining }
  assertLine(next)
  const perDraw = line.draws
    .filter((d) => interestPaid.has(d.id) || principalPaid.has(d.id))
    .map((d) => ({ id: d.id, interestMinor: interestPaid.get(d.id) ?? 0n, principalMinor: principalPaid.get(d.id) ?? 0n }))
  return { status: 'ok', line: next, interestMinor, principalMinor, overpaymentMinor: remaining, perDraw }
}

/** Draws still owing principal after their due date, as of `on`. */
export function findOverdueDraws(line: RevolvingLine, on: Temporal.PlainDate): Draw[] {
  return line.draws.filter((d) => d.principalPaidMinor < d.principalMinor && compareDates(d.dueOn, on) < 0)
}

/** DPD of the line as of `on`: the age of the oldest overdue draw (0 if none). */
export function measureLineDpd(line: RevolvingLine, on: Temporal.PlainDate): number {
  return findOverdueDraws(line, on).reduce((max, d) => Math.max(max, daysFrom(d.dueOn, on)), 0)
}

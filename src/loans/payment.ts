/**
 * @module loans/payment
 * The pure decisions of a payment, shared by live servicing (loan-service.ts) and by the re-run of a
 * value-dated payment (replay.ts), so that both allocate and book exactly alike:
 * - `decideRepayment`: a repayment on its value date — with principal still to fall due, an amount covering the
 *   pay-off quote settles the loan (interest not yet earned is cancelled, the rest goes to the wallet); otherwise
 *   the product's allocation order (principal first while non-accrual).
 * - `splitPayment`: what a payment paid per installment and component, and which part of the interest, fees and
 *   penalties paid comes out of suspense (non-accrual: recognised as income when paid).
 */
import type { Temporal } from 'temporal-polyfill'
import { assert } from '../core/assert.ts'
import {
  addComponents, compareDates, measureInstallmentOutstanding, minBigint, subtractComponents, sumComponents, zeroComponents, type ComponentsMinor, type LoanState,
} from './loan-state.ts'
import { applyPrepayment, quotePayoff, type ServicingRules } from './payoff.ts'
import type { ScheduleSpec } from './schedule-spec.ts'
import { allocatePayment, nonAccrualAllocationOrder, type AllocationOrder } from './waterfall.ts'

export type DecidedRepayment = { readonly next: LoanState; readonly overpaymentMinor: bigint; readonly settled: boolean }

export function decideRepayment(
  state: LoanState, amountMinor: bigint, on: Temporal.PlainDate, spec: ScheduleSpec, rules: ServicingRules, order: AllocationOrder,
): DecidedRepayment {
  const quote = quotePayoff(state, on, rules)
  assert(quote.status === 'ok', 'an active loan has a pay-off quote after its last closed day')
  const hasFuture = state.installments.some((i) => compareDates(i.dueOn, on) > 0 && measureInstallmentOutstanding(i).principal > 0n)
  if (hasFuture && amountMinor >= sumComponents(quote.owedMinor)) {
    const prepayment = applyPrepayment(state, amountMinor, on, { mode: 'reduce_installment', spec, rules })
    assert(prepayment.status === 'ok', () => `a pay-off settles the loan (${prepayment.status})`)
    assert(prepayment.repaid, 'a payment covering the quote repays everything')
    return { next: prepayment.state, overpaymentMinor: prepayment.overpaymentMinor, settled: true }
  }
  const allocation = allocatePayment(state, amountMinor, on, state.nonAccrual ? nonAccrualAllocationOrder : order)
  assert(allocation.status === 'ok', 'an active loan takes a positive payment')
  return { next: allocation.state, overpaymentMinor: allocation.overpaymentMinor, settled: false }
}

export type PaymentSplit = {
  readonly allocations: readonly { readonly n: number; readonly allocatedMinor: ComponentsMinor }[]
  readonly totals: ComponentsMinor
  readonly fromSuspense: { readonly interest: bigint; readonly fees: bigint; readonly penalties: bigint }
}

/** What `before → next` paid, per installment and in total, and the part paid out of suspense. */
export function splitPayment(
  before: LoanState, next: LoanState, payment: { amountMinor: bigint; overpaymentMinor: bigint; suspendedFeesMinor: bigint; suspendedPenaltiesMinor: bigint },
): PaymentSplit {
  const allocations = next.installments.flatMap((installment, index) => {
    const old = before.installments[index]
    assert(old !== undefined && old.n === installment.n, 'installments keep their numbers')
    const diff = subtractComponents(installment.paidMinor, old.paidMinor)
    return sumComponents(diff) === 0n ? [] : [{ n: installment.n, allocatedMinor: diff }]
  })
  const totals = allocations.map((a) => a.allocatedMinor).reduce(addComponents, zeroComponents)
  assert(sumComponents(totals) + payment.overpaymentMinor === payment.amountMinor, 'allocated + overpayment = the payment')
  assert(next.overpaymentMinor === before.overpaymentMinor + payment.overpaymentMinor, 'the wallet grows by the overpayment')
  const fromSuspense = {
    interest: before.suspendedInterestMinor - next.suspendedInterestMinor,
    fees: minBigint(totals.fees, payment.suspendedFeesMinor),
    penalties: minBigint(totals.penalties, payment.suspendedPenaltiesMinor),
  }
  assert(fromSuspense.interest >= 0n && fromSuspense.interest <= totals.interest, 'interest from suspense is part of the interest paid')
  return { allocations, totals, fromSuspense }
}

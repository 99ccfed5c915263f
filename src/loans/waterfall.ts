/**
 * @module loans/waterfall
 * Allocation of a repayment over installments and components (the repayment waterfall). Pure.
 *
 * What can be allocated on date `on`, per installment and component (the cap):
 * - installments due on or before `on`: everything still owed (due − paid − waived);
 * - installments due later (in advance): principal still owed, fees and penalties charged (normally none), and
 *   interest only as far as it has been accrued — the current period's accrued-not-yet-due interest, nothing of
 *   later periods (interest that is not earned is not collected; re-amortising prepayments are in payoff.ts).
 *
 * Orders (configurable per product):
 * - components: any permutation; default penalties → fees → interest → principal
 *   (`nonAccrualAllocationOrder` puts principal first, for loans past 90 DPD);
 * - installments: `overdue_due_advance` (default) fills the overdue group, then due today, then in advance; inside a
 *   group component by component, oldest installment first. `installment_by_installment` settles the oldest
 *   installment in full (all components in order) before the next.
 * - `inAdvance: false` stops at what is due today; the rest goes to the overpayment wallet.
 *
 * Invariants (asserted on every call, property-tested): Σ allocated + overpayment = amount; no component gets
 * more than its cap; nothing is negative.
 */
import type { Temporal } from 'temporal-polyfill'
import { assert, assertNever } from '../core/assert.ts'
import {
  addComponents, assertLoanState, compareDates, components, measureInstallmentOutstanding, maxBigint, minBigint,
  sumComponents, withComponent, zeroComponents, type Component, type ComponentsMinor, type InstallmentState, type LoanState,
} from './loan-state.ts'
import { findCurrentInstallment } from './accrual.ts'

export const installmentOrders = ['overdue_due_advance', 'installment_by_installment'] as const
export type InstallmentOrder = (typeof installmentOrders)[number]

export type AllocationOrder = {
  /** A permutation of the four components. */
  readonly components: readonly Component[]
  readonly installments: InstallmentOrder
  /** Allocate to installments not yet due (default true); otherwise the rest is overpayment. */
  readonly inAdvance: boolean
}
export const defaultAllocationOrder: AllocationOrder = {
  components: ['penalties', 'fees', 'interest', 'principal'], installments: 'overdue_due_advance', inAdvance: true,
}
/** DOMAIN.md: once non-performing, later cash goes to principal first unless the product says otherwise. */
export const nonAccrualAllocationOrder: AllocationOrder = {
  components: ['principal', 'interest', 'fees', 'penalties'], installments: 'overdue_due_advance', inAdvance: true,
}

export type InstallmentAllocation = { readonly n: number; readonly allocatedMinor: ComponentsMinor }

export type PaymentAllocationStatus =
  | 'loan_not_active'
  | 'amount_must_be_positive'

export type PaymentAllocation =
  | {
    readonly status: 'ok'
    readonly state: LoanState
    /** Installments that received something, in installment order. */
    readonly allocations: readonly InstallmentAllocation[]
    /** Σ per component (the 1001 ← 1204/1203/1202/1201 postings). */
    readonly totalsMinor: ComponentsMinor
    /** Part of this payment left over and added to the wallet (1001 ← 2201). */
    readonly overpaymentMinor: bigint
    /** Part of the allocated interest that was off-balance (non-accrual): income on cash (1001 ← 4001). */
    readonly interestFromSuspenseMinor: bigint
    /** True when nothing is owed any more: the caller may `transitionLoan(…, repay_in_full)`. */
    readonly repaid: boolean
  }
  | { readonly status: PaymentAllocationStatus }

type Group = 'overdue' | 'due' | 'advance'

function groupOf(installment: InstallmentState, on: Temporal.PlainDate): Group {
  const c = compareDates(installment.dueOn, on)
  return c < 0 ? 'overdue' : c === 0 ? 'due' : 'advance'
}

/** What may be allocated to each installment and component on `on` (see the module comment). */
export function measureAllocatable(state: LoanState, on: Temporal.PlainDate): Map<number, ComponentsMinor> {
  const accruing = findCurrentInstallment(state, state.accruedThroughOn.add({ days: 1 }))
  const caps = new Map<number, ComponentsMinor>()
  for (const installment of state.installments) {
    const owed = measureInstallmentOutstanding(installment)
    if (groupOf(installment, on) !== 'advance') {
      caps.set(installment.n, owed)
      continue
    }
    let interest = 0n
    if (accruing !== undefined && accruing.n === installment.n) {
      const settled = installment.paidMinor.interest + installment.waivedMinor.interest
      interest = minBigint(owed.interest, maxBigint(0n, state.accruedInterestMinor - settled))
    }
    caps.set(installment.n, { ...owed, interest })
  }
  return caps
}

function assertOrder(order: AllocationOrder): void {
  assert(order.components.length === components.length, 'the component order names every component once')
  for (const component of components) assert(order.components.includes(component), () => `the component order includes ${component}`)
}

/** The (installment, component) slots to fill, in allocation order. */
function slotsInOrder(state: LoanState, on: Temporal.PlainDate, order: AllocationOrder): Array<{ n: number; component: Component }> {
  const eligible = state.installments.filter((i) => order.inAdvance || groupOf(i, on) !== 'advance')
  const slots: Array<{ n: number; component: Component }> = []
  switch (order.installments) {
    case 'overdue_due_advance':
      for (const group of ['overdue', 'due', 'advance'] as const) {
        const members = eligible.filter((i) => groupOf(i, on) === group)
        for (const component of order.components) for (const i of members) slots.push({ n: i.n, component })
      }
      return slots
    case 'installment_by_installment':
      for (const i of eligible) for (const component of order.components) slots.push({ n: i.n, component })
      return slots
    default:
      return assertNever(order.installments)
  }
}

/**
 * Allocates a payment received on `on` (value date) and returns the allocation and the new state.
 * @example allocatePayment(loan, 100_000n, Temporal.PlainDate.from('2024-02-15')).totalsMinor
 */
export function allocatePayment(
  state: LoanState, amountMinor: bigint, on: Temporal.PlainDate, order: AllocationOrder = defaultAllocationOrder,
): PaymentAllocation {
  if (state.status !== 'active') return { status: 'loan_not_active' }
  if (amountMinor <= 0n) return { status: 'amount_must_be_positive' }
  assertOrder(order)
  const caps = measureAllocatable(state, on)
  const allocated = new Map<number, ComponentsMinor>()
  let remaining = amountMinor
  for (const slot of slotsInOrder(state, on, order)) {
    if (remaining === 0n) break
    const cap = caps.get(slot.n)
    assert(cap !== undefined, 'every installment has a cap')
    const already = allocated.get(slot.n) ?? zeroComponents
    const take = minBigint(remaining, cap[slot.component] - already[slot.component])
    if (take <= 0n) continue
    allocated.set(slot.n, withComponent(already, slot.component, already[slot.component] + take))
    remaining -= take
  }
  const allocations = state.installments
    .filter((i) => allocated.has(i.n))
    .map((i) => ({ n: i.n, allocatedMinor: allocated.get(i.n) ?? zeroComponents }))
  const totalsMinor = allocations.map((a) => a.allocatedMinor).reduce(addComponents, zeroComponents)
  assertAllocation(amountMinor, totalsMinor, remaining, allocations, caps)

  const installments = state.installments.map((i) => {
    const part = allocated.get(i.n)
    return part === undefined ? i : { ...i, paidMinor: addComponents(i.paidMinor, part) }
  })
  const interestFromSuspenseMinor = minBigint(totalsMinor.interest, state.suspendedInterestMinor)
  const next: LoanState = {
    ...state,
    installments,
    overpaymentMinor: state.overpaymentMinor + remaining,
    suspendedInterestMinor: state.suspendedInterestMinor - interestFromSuspenseMinor,
  }
  assertLoanState(next)
  const repaid = next.installments.every((i) => sumComponents(measureInstallmentOutstanding(i)) === 0n)
  return { status: 'ok', state: next, allocations, totalsMinor, overpaymentMinor: remaining, interestFromSuspenseMinor, repaid }
}

function assertAllocation(
  amountMinor: bigint, totals: ComponentsMinor, overpaymentMinor: bigint,
  allocations: readonly InstallmentAllocation[], caps: Map<number, ComponentsMinor>,
): void {
  assert(overpaymentMinor >= 0n, 'overpayment is not negative')
  assert(sumComponents(totals) + overpaymentMinor === amountMinor, 'allocated + overpayment = amount')
  for (const allocation of allocations) {
    const cap = caps.get(allocation.n)
    assert(cap !== undefined, 'allocated installments exist')
    for (const component of components) {
      assert(allocation.allocatedMinor[component] >= 0n, 'no negative allocation')
      assert(allocation.allocatedMinor[component] <= cap[component], () => `never more than owed: ${component} of ${allocation.n}`)
    }
  }
}

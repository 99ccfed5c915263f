/**
 * Tests for the repayment waterfall: the allocation invariants as fast-check properties over random loans,
 * payment histories, dates, amounts and orders; and the behaviour of each order option.
 */
import fc from 'fast-check'
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { accrueLoanInterest } from './accrual.ts'
import { components, loanFromSchedule, measureInstallmentOutstanding, sumComponents, type Component, type LoanState } from './loan-state.ts'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec, type ScheduleSpec } from './schedule-spec.ts'
import { allocatePayment, defaultAllocationOrder, measureAllocatable, nonAccrualAllocationOrder, type AllocationOrder } from './waterfall.ts'
import { chargePenalties, defaultPenaltyRules } from './penalty.ts'

const d = (text: string) => Temporal.PlainDate.from(text)

function specOf(overrides: Record<string, unknown>): ScheduleSpec {
  const parsed = parseScheduleSpec({ principal: '12000.00', currency: 'CNY', annualRatePct: '12', installments: 6, disbursedOn: '2024-01-15', ...overrides })
  if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
  return parsed.value
}

function activeLoan(spec: ScheduleSpec): LoanState {
  return { ...loanFromSchedule(buildSchedule(spec), spec), status: 'active' }
}

/** Runs COB (accrual + penalties with a late fee) from disbursement through `through`. */
function ageLoan(loan: LoanState, through: Temporal.PlainDate): LoanState {
  let state = loan
  const rules = { ...defaultPenaltyRules, lateFeeFixedMinor: 5_000n }
  for (let day = state.accruedThroughOn.add({ days: 1 }); Temporal.PlainDate.compare(day, through) <= 0; day = day.add({ days: 1 })) {
    const accrual = accrueLoanInterest(state, day)
    if (accrual.status !== 'ok') throw new Error(accrual.status)
    const penalty = chargePenalties(accrual.state, day, rules)
    if (penalty.status !== 'ok') throw new Error(penalty.status)
    state = penalty.state
  }
  return state
}

const orderArbitrary: fc.Arbitrary<AllocationOrder> = fc.record({
  components: fc.shuffledSubarray([...components], { minLength: 4, maxLength: 4 }) as fc.Arbitrary<Component[]>,
  installments: fc.constantFrom('overdue_due_advance', 'installment_by_installment' as const),
  inAdvance: fc.boolean(),
})

describe('property: allocation never exceeds the payment nor what is owed', () => {
  it('Σ allocated + overpayment = amount; per component ≤ allocatable; nothing negative; paid ≤ due after', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 200 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.bigInt({ min: 1n, max: 500_000n })), { maxLength: 3 }),
      fc.bigInt({ min: 1n, max: 2_000_000n }),
      orderArbitrary,
      (ageDays, history, amount, order) => {
        const spec = specOf({})
        const on = spec.disbursedOn.add({ days: ageDays })
        let loan = activeLoan(spec)
        // Earlier payments at random days before `on`.
        for (const [offset, paid] of [...history].sort((a, b) => a[0] - b[0])) {
          const day = spec.disbursedOn.add({ days: Math.min(offset, ageDays) })
          loan = ageLoan(loan, day.subtract({ days: 1 }))
          const result = allocatePayment(loan, paid, day, order)
          if (result.status === 'ok') loan = result.state
        }
        loan = ageLoan(loan, on.subtract({ days: 1 }))
        const caps = measureAllocatable(loan, on)
        const result = allocatePayment(loan, amount, on, order)
        if (result.status !== 'ok') throw new Error(result.status)
        expect(sumComponents(result.totalsMinor) + result.overpaymentMinor).toBe(amount)
        expect(result.overpaymentMinor >= 0n).toBe(true)
        for (const allocation of result.allocations) {
          const cap = caps.get(allocation.n)
          if (cap === undefined) throw new Error('cap')
          for (const component of components) {
            expect(allocation.allocatedMinor[component] >= 0n).toBe(true)
            expect(allocation.allocatedMinor[component] <= cap[component]).toBe(true)
          }
        }
        // Overpayment only when everything allocatable was taken.
        if (result.overpaymentMinor > 0n) {
          const capTotal = [...caps.entries()]
            .filter(([n]) => order.inAdvance || Temporal.PlainDate.compare(loan.installments[n - 1]?.dueOn ?? on, on) <= 0)
            .reduce((sum, [, cap]) => sum + sumComponents(cap), 0n)
          expect(sumComponents(result.totalsMinor)).toBe(capTotal)
        }
        for (const installment of result.state.installments) {
          for (const component of components) expect(measureInstallmentOutstanding(installment)[component] >= 0n).toBe(true)
        }
      },
    ), { numRuns: 60 })
  })
})

describe('allocation orders', () => {
  const spec = specOf({})
  const loan = activeLoan(spec)
  const second = loan.installments[1]
  if (second === undefined) throw new Error('installment 2')
  // Two installments overdue, a late fee and penalties on each.
  const late = ageLoan(loan, second.dueOn.add({ days: 10 }))
  const on = second.dueOn.add({ days: 11 })
  const [i1, i2] = late.installments

  it('default: penalties → fees → interest → principal across the overdue group, oldest first', () => {
    if (i1 === undefined || i2 === undefined) throw new Error('installments')
    const fees = i1.dueMinor.fees + i2.dueMinor.fees
    const penalties = i1.dueMinor.penalties + i2.dueMinor.penalties
    const amount = penalties + fees + i1.dueMinor.interest + 1n
    const result = allocatePayment(late, amount, on)
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.totalsMinor.penalties).toBe(penalties)
    expect(result.totalsMinor.fees).toBe(fees)
    expect(result.totalsMinor.interest).toBe(i1.dueMinor.interest + 1n) // interest of 1 in full, 1 cent of 2's
    expect(result.totalsMinor.principal).toBe(0n)
  })

  it('installment_by_installment settles installment 1 in full first', () => {
    if (i1 === undefined) throw new Error('installments')
    const whole1 = sumComponents(i1.dueMinor)
    const result = allocatePayment(late, whole1 + 1n, on, { ...defaultAllocationOrder, installments: 'installment_by_installment' })
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.allocations[0]?.allocatedMinor).toEqual(i1.dueMinor)
    expect(result.allocations[1]?.allocatedMinor.penalties).toBe(1n)
  })

  it('non-accrual order takes principal first', () => {
    if (i1 === undefined) throw new Error('installments')
    const result = allocatePayment(late, i1.dueMinor.principal, on, nonAccrualAllocationOrder)
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.totalsMinor).toEqual({ principal: i1.dueMinor.principal, interest: 0n, fees: 0n, penalties: 0n })
  })

  it('in advance: principal and accrued interest only; without inAdvance the rest is overpayment', () => {
    const onTime = ageLoan(loan, d('2024-01-31'))
    const payOn = d('2024-02-01')
    const accrued = onTime.accruedInterestMinor
    expect(accrued > 0n).toBe(true)
    const result = allocatePayment(onTime, 200_000n, payOn)
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.totalsMinor.interest).toBe(accrued)
    expect(result.totalsMinor.principal).toBe(200_000n - accrued)
    const held = allocatePayment(onTime, 200_000n, payOn, { ...defaultAllocationOrder, inAdvance: false })
    if (held.status !== 'ok') throw new Error(held.status)
    expect(held.overpaymentMinor).toBe(200_000n)
    expect(held.state.overpaymentMinor).toBe(200_000n)
  })

  it('rejects non-positive amounts and inactive loans; rejects a component order that is not a permutation', () => {
    expect(allocatePayment(late, 0n, on).status).toBe('amount_must_be_positive')
    expect(allocatePayment({ ...late, status: 'closed' }, 1n, on).status).toBe('loan_not_active')
    expect(() => allocatePayment(late, 1n, on, { ...defaultAllocationOrder, components: ['interest', 'interest', 'fees', 'principal'] })).toThrow()
  })

  it('interest paid while non-accrual comes out of suspense first', () => {
    const suspended = { ...late, suspendedInterestMinor: 100n, nonAccrual: true }
    const result = allocatePayment(suspended, 1_000_000n, on, { ...nonAccrualAllocationOrder, components: ['interest', 'principal', 'fees', 'penalties'] })
    if (result.status !== 'ok') throw new Error(result.status)
    expect(result.interestFromSuspenseMinor).toBe(100n)
    expect(result.state.suspendedInterestMinor).toBe(0n)
  })
})

/**
 * Unit and property tests for the schedule engine: invariants over random specs (fast-check), and the behaviour
 * of each option (dates, broken periods, grace, rounding, multiples, day counts, compat differences).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildPeriods, buildSchedule, type Schedule } from './schedule.ts'
import { parseScheduleSpec, type ScheduleSpec } from './schedule-spec.ts'
import { scheduleToJson } from './schedule-json.ts'

const base = {
  principal: '10000.00', currency: 'CNY', annualRatePct: '12', installments: 12, disbursedOn: '2024-01-15',
}

function specOf(overrides: Record<string, unknown>): ScheduleSpec {
  const parsed = parseScheduleSpec({ ...base, ...overrides })
  if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
  return parsed.value
}

function build(overrides: Record<string, unknown>): Schedule {
  return buildSchedule(specOf(overrides))
}

function column(schedule: Schedule, key: 'principal' | 'interest' | 'total' | 'dueOn'): string[] {
  return scheduleToJson(schedule).rows.map((row) => row[key])
}

function checkInvariants(schedule: Schedule, spec: ScheduleSpec): void {
  const sum = schedule.rows.reduce((total, row) => total + row.principalMinor, 0n)
  expect(sum).toBe(spec.principalMinor)
  expect(schedule.rows.at(-1)?.balanceMinor).toBe(0n)
  expect(schedule.rows.length).toBeGreaterThan(0)
  expect(schedule.rows.length).toBeLessThanOrEqual(spec.installments)
  let previousBalance = spec.principalMinor
  for (const row of schedule.rows) {
    expect(row.principalMinor >= 0n && row.interestMinor >= 0n && row.feesMinor >= 0n).toBe(true)
    expect(row.totalMinor).toBe(row.principalMinor + row.interestMinor + row.feesMinor)
    expect(row.balanceMinor).toBe(previousBalance - row.principalMinor)
    previousBalance = row.balanceMinor
  }
}

const specArbitrary = fc.record({
  principal: fc.bigInt({ min: 1n, max: 10_000_000_000n }).map((minor) => `${minor / 100n}.${(minor % 100n).toString().padStart(2, '0')}`),
  currency: fc.constantFrom('CNY', 'USD', 'EUR', 'HKD'),
  annualRatePct: fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 99 })).map(([w, f]) => `${w}.${f}`),
  installments: fc.integer({ min: 1, max: 48 }),
  repaymentEvery: fc.integer({ min: 1, max: 3 }),
  repaymentUnit: fc.constantFrom('days', 'weeks', 'months'),
  interestMethod: fc.constantFrom('declining_balance', 'flat'),
  amortization: fc.constantFrom('equal_installments', 'equal_principal', 'interest_only', 'bullet'),
  interestPeriod: fc.constantFrom('daily', 'same_as_repayment'),
  daysInYear: fc.constantFrom('actual', '360', '364', '365'),
  daysInMonth: fc.constantFrom('actual', '30'),
  disbursedOn: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true })
    .map((date) => date.toISOString().slice(0, 10)),
  graceSeed: fc.tuple(fc.nat(6), fc.nat(6), fc.nat(6)),
  installmentMultipleOf: fc.constantFrom(null, '1', '10', '0.05'),
  rounding: fc.constantFrom('half_even', 'half_up', 'down', 'up'),
  compat: fc.constantFrom(undefined, 'fineract-cumulative', 'fineract-progressive'),
  brokenDays: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
}).map(({ graceSeed, brokenDays, ...rest }) => {
  const cap = (value: number) => Math.min(value, rest.installments - 1)
  const firstRepaymentOn = brokenDays === null ? null : addDaysIso(rest.disbursedOn, brokenDays)
  return {
    ...rest, firstRepaymentOn,
    graceOnPrincipalPeriods: cap(graceSeed[0]), graceOnInterestPaymentPeriods: cap(graceSeed[1]), interestFreePeriods: cap(graceSeed[2]),
  }
})

function addDaysIso(iso: string, days: number): string {
  const date = new Date(`${iso}T00:00:00Z`)
  date.setUTCDate(date.getUTCDate() + days)
  return date.toISOString().slice(0, 10)
}

describe('schedule invariants (property)', () => {
  it('principal parts sum to the principal, the balance ends at 0, no part is negative', () => {
    fc.assert(
      fc.property(specArbitrary, (raw) => {
        const parsed = parseScheduleSpec(raw)
        if (parsed.status !== 'ok') throw new Error(`${parsed.field}: ${parsed.reason}`)
        checkInvariants(buildSchedule(parsed.value), parsed.value)
      }),
      { numRuns: 400 },
    )
  })

  it('equal installments: every installment but the last is the same (no grace, no multiple)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60 }), fc.integer({ min: 1, max: 3600 }), fc.constantFrom('fineract-cumulative', 'fineract-progressive', undefined),
        (installments, ratePerMille, compat) => {
          const schedule = build({ installments, annualRatePct: `${Math.floor(ratePerMille / 100)}.${ratePerMille % 100}`, compat })
          const totals = new Set(column(schedule, 'total').slice(0, -1))
          expect(totals.size).toBe(1)
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('due dates and periods', () => {
  it('monthly from the disbursement, constrained at month ends (31 Jan → 29 Feb → 31 Mar)', () => {
    const periods = buildPeriods(specOf({ disbursedOn: '2024-01-31', installments: 3 }))
    expect(periods.map((p) => p.dueOn.toString())).toEqual(['2024-02-29', '2024-03-31', '2024-04-30'])
  })

  it('every 2 weeks and every 10 days', () => {
    expect(column(build({ installments: 2, repaymentUnit: 'weeks', repaymentEvery: 2 }), 'dueOn')).toEqual(['2024-01-29', '2024-02-12'])
    expect(column(build({ installments: 2, repaymentUnit: 'days', repaymentEvery: 10 }), 'dueOn')).toEqual(['2024-01-25', '2024-02-04'])
  })

  it('broken first period: firstRepaymentOn sets the grid', () => {
    const schedule = build({ installments: 3, firstRepaymentOn: '2024-03-01' })
    expect(column(schedule, 'dueOn')).toEqual(['2024-03-01', '2024-04-01', '2024-05-01'])
  })

  it('explicit due dates', () => {
    const dates = ['2024-02-10', '2024-04-01', '2024-04-20']
    expect(column(build({ installments: 3, repaymentDates: dates }), 'dueOn')).toEqual(dates)
  })
})

describe('interest conventions', () => {
  it('puhui pro-rates a long broken first period; fineract-cumulative charges one full period (same_as_repayment)', () => {
    const puhui = build({ installments: 3, firstRepaymentOn: '2024-03-15' })
    const cumulative = build({ installments: 3, firstRepaymentOn: '2024-03-15', compat: 'fineract-cumulative' })
    expect(cumulative.rows[0]?.interestMinor).toBe(10000n) // 10000.00 × 1%
    // 15 Jan → 15 Mar is 2 months: twice the monthly interest.
    expect(puhui.rows[0]?.interestMinor).toBe(20000n)
  })

  it('daily actual/actual across a leap-year end: cumulative divides by 365, progressive splits at 31 Dec', () => {
    const common = { principal: '36500.00', annualRatePct: '10', installments: 1, disbursedOn: '2023-12-01', interestPeriod: 'daily', repaymentDates: ['2024-01-31'] }
    // 61 days. Cumulative: 36500 × 10% × 61/365 = 610.00.
    expect(build({ ...common, compat: 'fineract-cumulative' }).rows[0]?.interestMinor).toBe(61000n)
    // Progressive: 30 days/365 (1 Dec → 31 Dec) + 31 days/366 (31 Dec → 31 Jan) = 300.00 + 309.15 = 609.15.
    expect(build({ ...common, compat: 'fineract-progressive' }).rows[0]?.interestMinor).toBe(60915n)
    // Puhui: 31 days/365 (to 1 Jan) + 30 days/366 = 310.00 + 299.18 = 609.18.
    expect(build({ ...common }).rows[0]?.interestMinor).toBe(60918n)
  })

  it('fixed day counts: 360, 364, 365 days in the year', () => {
    const common = { principal: '3600.00', annualRatePct: '10', installments: 1, interestPeriod: 'daily', disbursedOn: '2023-01-01', repaymentDates: ['2023-01-31'] }
    expect(build({ ...common, daysInYear: '360' }).rows[0]?.interestMinor).toBe(3000n) // 3600 × 10% × 30/360
    expect(build({ ...common, daysInYear: '364' }).rows[0]?.interestMinor).toBe(2967n) // 29.670…
    expect(build({ ...common, daysInYear: '365' }).rows[0]?.interestMinor).toBe(2959n) // 29.589…
  })

  it('30-day months: February costs the same as January', () => {
    const schedule = build({ installments: 2, interestPeriod: 'daily', daysInYear: '360', daysInMonth: '30', amortization: 'interest_only', disbursedOn: '2023-01-01' })
    expect(column(schedule, 'interest')).toEqual(['100.00', '100.00'])
  })

  it('zero rate: principal split evenly, no interest', () => {
    const schedule = build({ annualRatePct: '0', installments: 3, principal: '100.00' })
    expect(column(schedule, 'principal')).toEqual(['33.33', '33.33', '33.34'])
    expect(schedule.totals.interestMinor).toBe(0n)
  })
})

describe('amortization, grace and rounding', () => {
  it('equal principal', () => {
    const schedule = build({ principal: '1000.00', installments: 3, amortization: 'equal_principal', compat: 'fineract-cumulative' })
    expect(column(schedule, 'principal')).toEqual(['333.33', '333.33', '333.34'])
    expect(column(schedule, 'interest')).toEqual(['10.00', '6.67', '3.33'])
  })

  it('interest only: principal at the end', () => {
    const schedule = build({ principal: '1000.00', installments: 3, amortization: 'interest_only' })
    expect(column(schedule, 'principal')).toEqual(['0.00', '0.00', '1000.00'])
    expect(column(schedule, 'interest')).toEqual(['10.00', '10.00', '10.00'])
  })

  it('bullet: everything at maturity', () => {
    const schedule = build({ principal: '1000.00', installments: 3, amortization: 'bullet', compat: 'fineract-cumulative' })
    expect(column(schedule, 'total')).toEqual(['0.00', '0.00', '1030.00'])
  })

  it('interest-free periods charge nothing; interest payment grace defers', () => {
    const free = build({ principal: '1000.00', installments: 3, interestFreePeriods: 2, amortization: 'interest_only', compat: 'fineract-cumulative' })
    expect(column(free, 'interest')).toEqual(['0.00', '0.00', '10.00'])
    const deferred = build({ principal: '1000.00', installments: 3, graceOnInterestPaymentPeriods: 2, amortization: 'interest_only', compat: 'fineract-cumulative' })
    expect(column(deferred, 'interest')).toEqual(['0.00', '0.00', '30.00'])
  })

  it('installment rounded to whole yuan; the last absorbs the residue', () => {
    const schedule = build({ principal: '5000.00', installments: 18, installmentMultipleOf: '1', disbursedOn: '2022-11-01', compat: 'fineract-cumulative' })
    expect(new Set(column(schedule, 'total').slice(0, -1))).toEqual(new Set(['305.00']))
    expect(column(schedule, 'total').at(-1)).toBe('303.22')
  })

  it('rounding mode changes the EMI: down vs up (raw PMT 304.9102…)', () => {
    const down = build({ principal: '5000.00', installments: 18, rounding: 'down', disbursedOn: '2022-11-01', compat: 'fineract-cumulative' })
    const up = build({ principal: '5000.00', installments: 18, rounding: 'up', disbursedOn: '2022-11-01', compat: 'fineract-cumulative' })
    expect(column(down, 'total')[0]).toBe('304.91')
    expect(column(up, 'total')[0]).toBe('304.92')
  })

  it('flat interest: the same interest every period', () => {
    const schedule = build({ principal: '1200.00', installments: 12, interestMethod: 'flat', compat: 'fineract-cumulative' })
    expect(new Set(column(schedule, 'interest'))).toEqual(new Set(['12.00']))
    expect(column(schedule, 'principal')[0]).toBe('100.00')
  })
})

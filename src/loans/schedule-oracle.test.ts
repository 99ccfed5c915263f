/**
 * Annuity schedules checked against an independent oracle: LibreOffice Calc's PMT/IPMT/PPMT and a ROUND-based
 * amortization table, generated into test/golden/schedules/annuity-oracle.json by scripts/gen-schedule-goldens.ts.
 * Calc's ROUND rounds half up, so the engine runs with `rounding: "half_up"` here.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RateDecimal } from '../core/rate.ts'
import { buildSchedule } from './schedule.ts'
import { parseScheduleSpec } from './schedule-spec.ts'
import { scheduleToJson } from './schedule-json.ts'

type OracleRow = { n: number; ipmt: string; ppmt: string; interest: string; principal: string }
type OracleCase = { id: string; principal: string; annualRatePct: string; installments: number; pmt: string; emi: string; rows: OracleRow[] }

const goldenPath = join(import.meta.dirname, '..', '..', 'test', 'golden', 'schedules', 'annuity-oracle.json')
const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as { cases: OracleCase[] }

function scheduleFor(c: OracleCase, compat: string | undefined) {
  const parsed = parseScheduleSpec({
    principal: c.principal, currency: 'CNY', annualRatePct: c.annualRatePct, installments: c.installments,
    disbursedOn: '2023-03-15', rounding: 'half_up', compat,
  })
  if (parsed.status !== 'ok') throw new Error(parsed.reason)
  return scheduleToJson(buildSchedule(parsed.value))
}

describe('annuities against LibreOffice Calc (PMT/IPMT/PPMT)', () => {
  it('has cases', () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(5)
  })

  for (const c of golden.cases) {
    for (const compat of [undefined, 'fineract-cumulative', 'fineract-progressive']) {
      it(`${c.id} (${compat ?? 'puhui'}): EMI and the cent-rounded table match Calc`, () => {
        const json = scheduleFor(c, compat)
        expect(json.rows[0]?.total).toBe(c.emi)
        expect(json.rows.map((row) => `${row.principal} ${row.interest}`)).toEqual(c.rows.map((row) => `${row.principal} ${row.interest}`))
      })
    }

    it(`${c.id}: rounded interest stays within a cent per period of Calc's exact IPMT`, () => {
      const json = scheduleFor(c, undefined)
      json.rows.forEach((row, index) => {
        const oracle = c.rows[index]
        expect(oracle).toBeDefined()
        const drift = new RateDecimal(row.interest).minus(oracle?.ipmt ?? '0').abs()
        expect(drift.lessThanOrEqualTo(new RateDecimal('0.01').times(index + 1))).toBe(true)
      })
      const ppmtSum = c.rows.reduce((sum, row) => sum.plus(row.ppmt), new RateDecimal(0))
      expect(ppmtSum.minus(c.principal).abs().lessThan('0.000001')).toBe(true)
    })
  }
})

/**
 * @module loans/schedule-json
 * Renders a `Schedule` as the CLI/preview JSON shape: amounts as decimal strings in major units (formatMajor),
 * dates as YYYY-MM-DD, rows are installments only with `n` from 1.
 * `{"rows":[{"n":1,"dueOn":"2022-12-01","principal":"…","interest":"…","fees":"0.00","total":"…","balance":"…"}],
 *   "totals":{"principal":"…","interest":"…","fees":"…","total":"…"}}`
 */
import { formatMajor } from '../core/money.ts'
import type { Schedule } from './schedule.ts'

export type ScheduleRowJson = {
  readonly n: number
  readonly dueOn: string
  readonly principal: string
  readonly interest: string
  readonly fees: string
  readonly total: string
  readonly balance: string
}

export type ScheduleJson = {
  readonly rows: readonly ScheduleRowJson[]
  readonly totals: { readonly principal: string; readonly interest: string; readonly fees: string; readonly total: string }
}

/** Converts a schedule to its JSON-ready object (key order fixed: it is part of the output contract). */
export function scheduleToJson(schedule: Schedule): ScheduleJson {
  const major = (amountMinor: bigint) => formatMajor(amountMinor, schedule.currency)
  return {
    rows: schedule.rows.map((row) => ({
      n: row.n,
      dueOn: row.dueOn.toString(),
      principal: major(row.principalMinor),
      interest: major(row.interestMinor),
      fees: major(row.feesMinor),
      total: major(row.totalMinor),
      balance: major(row.balanceMinor),
    })),
    totals: {
      principal: major(schedule.totals.principalMinor),
      interest: major(schedule.totals.interestMinor),
      fees: major(schedule.totals.feesMinor),
      total: major(schedule.totals.totalMinor),
    },
  }
}

/** The one-line JSON text printed by `puhui schedule` (no trailing newline). */
export function formatScheduleJson(schedule: Schedule): string {
  return JSON.stringify(scheduleToJson(schedule))
}

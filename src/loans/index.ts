/**
 * @module loans
 * Public surface of the loans module. Other modules (flows, http, cli) import only from here.
 */
export { buildSchedule, buildPeriods } from './schedule.ts'
export type { Period, Schedule, ScheduleRow, ScheduleTotals } from './schedule.ts'
export { parseScheduleSpec, parseScheduleSpecJson } from './schedule-spec.ts'
export type {
  Amortization, Compat, DaysInMonth, DaysInYear, InterestMethod, InterestPeriod, RepaymentUnit, ScheduleSpec,
  ScheduleSpecResult,
} from './schedule-spec.ts'
export { formatScheduleJson, scheduleToJson } from './schedule-json.ts'
export type { ScheduleJson, ScheduleRowJson } from './schedule-json.ts'

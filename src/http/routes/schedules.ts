/**
 * @module http/routes/schedules
 * Schedule preview: the same pure engine as `puhui schedule`, over HTTP. Read-only (nothing stored).
 */
import { Type } from 'typebox'
import { buildSchedule, parseScheduleSpec, scheduleToJson } from '../../loans/index.ts'
import type { App } from '../app.ts'
import { anyRole } from '../authenticate.ts'
import { Problem } from '../problem.ts'
import { problemResponses } from './schemas.ts'

const Amount = Type.String({ pattern: '^-?\\d+\\.\\d{2}$', description: 'decimal string in major units' })
const RowSchema = Type.Object({ n: Type.Integer(), dueOn: Type.String({ format: 'date' }), principal: Amount, interest: Amount, fees: Amount, total: Amount, balance: Amount })
const TotalsSchema = Type.Object({ principal: Amount, interest: Amount, fees: Amount, total: Amount })

export function registerScheduleRoutes(app: App): void {
  app.post(
    '/v1/schedules/preview',
    {
      config: { access: { roles: anyRole } },
      schema: {
        tags: ['loans'],
        summary: 'Preview a repayment schedule',
        description: 'The body is a schedule specification (docs/schedules.md), the same JSON `puhui schedule --spec` reads; it is checked field by field and an invalid one answers `invalid_schedule_spec` naming the field.',
        body: Type.Object({}, { additionalProperties: true, description: 'ScheduleSpec: principal, currency, annualRatePct, installments, repaymentEvery, repaymentUnit, interestMethod, amortization, interestPeriod, daysInYear, daysInMonth, disbursedOn, …' }),
        response: { 200: Type.Object({ rows: Type.Array(RowSchema), totals: TotalsSchema }), ...problemResponses },
      },
    },
    async (request) => {
      const parsed = parseScheduleSpec(request.body)
      if (parsed.status !== 'ok') throw new Problem('invalid_schedule_spec', `${parsed.field}: ${parsed.reason}`, [{ path: `body/${parsed.field}`, code: 'invalid_schedule_spec', message: parsed.reason }])
      return scheduleToJson(buildSchedule(parsed.value))
    },
  )
}

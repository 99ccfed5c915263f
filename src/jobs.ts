/**
 * @module jobs
 * Work the server does on a timer for every tenant, beside serving requests: settling payouts whose outcome
 * is unknown (asking the rail; flows/accept-offer.ts `reconcilePayouts`), re-evaluating credit lines due
 * for review (flows/credit-line.ts `reviewCreditLines`), and the daily close of business (`runDailyCob`). Each tenant runs in its own transactions, so one
 * tenant's failure is logged and does not stop the others. The same functions back the CLI
 * (`puhui payouts reconcile`, `puhui credit-lines review`) and the HTTP routes.
 */
import { sql, type Kysely } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { systemActor } from './access/index.ts'
import type { Clock } from './core/clock.ts'
import type { IdSource } from './core/ids.ts'
import { inTenant } from './db/database.ts'
import type { DB } from './db/schema.ts'
import { defaultStrategyName, reconcilePayouts, reviewCreditLines, type LineReviewReport, type PayoutRail, type ReconcileReport } from './flows/index.ts'
import type { Keyring } from './keys/index.ts'
import { runCloseOfBusiness } from './loans/index.ts'
import type { Logger } from './log.ts'

export const payoutReconcileIntervalMs = 60_000
export const cobCheckIntervalMs = 600_000
/** A tenant further behind than this is not caught up automatically: an operator runs `puhui cob` (a wrong clock or
 * a restored backup should not age every loan by months unnoticed). */
export const autoCobLagDaysMax = 31
export const creditLineReviewIntervalMs = 3_600_000

export type JobDeps = { readonly db: Kysely<DB>; readonly clock: Clock; readonly ids: IdSource; readonly keyring: Keyring; readonly rail: PayoutRail; readonly log: Logger }

/** Every tenant's id (the directory function is the one cross-tenant read the application role may make). */
export async function allTenantIds(db: Kysely<DB>): Promise<string[]> {
  // The two directory functions in one query: slugs, each resolved to its id (in slug order).
  const rows = await sql<{ id: string | null }>`select puhui_tenant_by_slug(s.slug) as id from puhui_tenant_slugs() as s (slug)`.execute(db)
  return rows.rows.flatMap((row) => (row.id === null ? [] : [row.id]))
}

/** Reconciles every tenant's unsettled payouts; returns the reports of tenants where something was examined. */
export async function reconcileAllPayouts(deps: JobDeps): Promise<Map<string, ReconcileReport>> {
  const reports = new Map<string, ReconcileReport>()
  for (const tenantId of await allTenantIds(deps.db)) {
    try {
      const report = await reconcilePayouts(deps, { tenantId })
      if (report.examined > 0) {
        reports.set(tenantId, report)
        deps.log.info({ tenantId, ...report }, 'payouts reconciled')
      }
    } catch (error) {
      deps.log.error({ err: error, tenantId }, 'payout reconciliation failed')
    }
  }
  return reports
}

/** Re-evaluates every tenant's credit lines due for review with its default strategy. */
export async function reviewAllCreditLines(deps: JobDeps): Promise<Map<string, LineReviewReport>> {
  const reports = new Map<string, LineReviewReport>()
  for (const tenantId of await allTenantIds(deps.db)) {
    try {
      const report = await reviewCreditLines(deps, { tenantId, strategyName: defaultStrategyName, actor: systemActor })
      if (report.examined > 0) {
        reports.set(tenantId, report)
        deps.log.info({ tenantId, examined: report.examined, raised: report.raised, lowered: report.lowered, frozen: report.frozen, unfrozen: report.unfrozen, failed: report.failed }, 'credit lines reviewed')
      }
    } catch (error) {
      deps.log.error({ err: error, tenantId }, 'credit-line review failed')
    }
  }
  return reports
}

export type DailyCobOutcome = { readonly tenantId: string; readonly status: 'closed' | 'current' | 'too_far_behind' | 'failed'; readonly closedThrough?: string; readonly lagDays?: number }

/**
 * The daily close of business: for every tenant whose business date D is before today's calendar date in the
 * tenant's time zone, closes D through yesterday (set-based, one day per transaction; loans/cob.ts). A tenant more
 * than `autoCobLagDaysMax` days behind is reported, not caught up.
 */
export async function runDailyCob(deps: JobDeps): Promise<DailyCobOutcome[]> {
  const outcomes: DailyCobOutcome[] = []
  for (const tenantId of await allTenantIds(deps.db)) {
    try {
      const tenant = await inTenant(deps.db, tenantId, async (trx) => (await sql<{ d: string; tz: string }>`select business_date::text as d, time_zone as tz from tenants where id = ${tenantId}`.execute(trx)).rows[0])
      if (tenant === undefined) continue
      const today = Temporal.Instant.fromEpochMilliseconds(deps.clock.now().getTime()).toZonedDateTimeISO(tenant.tz).toPlainDate()
      const businessDate = Temporal.PlainDate.from(tenant.d)
      const lagDays = businessDate.until(today).days
      if (lagDays <= 0) {
        outcomes.push({ tenantId, status: 'current' })
        continue
      }
      if (lagDays > autoCobLagDaysMax) {
        deps.log.warn({ tenantId, businessDate: tenant.d, lagDays }, 'business date far behind the calendar: run `puhui cob` to catch up')
        outcomes.push({ tenantId, status: 'too_far_behind', lagDays })
        continue
      }
      const through = today.subtract({ days: 1 }).toString()
      const result = await runCloseOfBusiness(deps.db, { ids: deps.ids, now: () => deps.clock.now() }, tenantId, through)
      deps.log.info({ tenantId, through, status: result.status }, 'daily close of business')
      outcomes.push({ tenantId, status: 'closed', closedThrough: through })
    } catch (error) {
      deps.log.error({ err: error, tenantId }, 'daily close of business failed')
      outcomes.push({ tenantId, status: 'failed' })
    }
  }
  return outcomes
}

/** Starts the timers (the daily COB only with `autoCob`); returns a function that stops them. */
export function startJobs(deps: JobDeps & { readonly autoCob: boolean }): () => void {
  const payouts = setInterval(() => void reconcileAllPayouts(deps), payoutReconcileIntervalMs)
  const lines = setInterval(() => void reviewAllCreditLines(deps), creditLineReviewIntervalMs)
  const timers = [payouts, lines]
  if (deps.autoCob) timers.push(setInterval(() => void runDailyCob(deps), cobCheckIntervalMs))
  for (const timer of timers) timer.unref()
  return () => {
    for (const timer of timers) clearInterval(timer)
  }
}

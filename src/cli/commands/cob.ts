/**
 * @module cli/commands/cob
 * `puhui cob --date D [--tenant T] [--json]`: close of business for business date D (opens D + 1, then closes D
 * for every active loan, catching up missed days; set-based, see loans/cob.ts). Idempotent: a date already
 * closed is answered `already_closed` and nothing changes. The tenant defaults to PUHUI_TENANT, or the only
 * tenant of the installation.
 *
 * Output: with --json one line {"status","date","businessDate","days":[{"date","loans","transfers","accruedMinor","provisionChangeMinor"}]}
 * (amounts as decimal strings of minor units); otherwise one human line. Errors are thrown as one-line messages.
 */
import type { Command } from 'commander'
import { loadConfig } from '../../config.ts'
import { uuidv7Source } from '../../core/ids.ts'
import { openDatabase } from '../../db/database.ts'
import { runCloseOfBusiness } from '../../loans/index.ts'
import { createLogger } from '../../log.ts'
import { resolveTenantId } from '../tenant.ts'

export function registerCobCommand(program: Command): void {
  program
    .command('cob')
    .description('close of business for a business date: accrue, mark due and overdue, age, classify, provision, post to the ledger')
    .requiredOption('--date <date>', 'the business date to close (YYYY-MM-DD)')
    .option('--tenant <slug>', 'tenant slug (default: PUHUI_TENANT, or the only tenant of the installation)')
    .option('--json', 'print one line of JSON')
    .action(async (options: { date: string; tenant?: string; json?: boolean }) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(options.date) || Number.isNaN(Date.parse(`${options.date}T00:00:00Z`))) throw new Error(`--date "${options.date}" is not a date (YYYY-MM-DD)`)
      const config = loadConfig()
      const database = await openDatabase(config, createLogger(config.logLevel))
      try {
        const tenantId = await resolveTenantId(database, options.tenant)
        const result = await runCloseOfBusiness(database.db, { ids: uuidv7Source, now: () => new Date() }, tenantId, options.date)
        if (result.status === 'tenant_not_found') throw new Error('tenant not found')
        const days = result.status === 'ok' ? result.days.map((d) => ({ ...d, accruedMinor: d.accruedMinor.toString(), provisionChangeMinor: d.provisionChangeMinor.toString() })) : []
        const out = { status: result.status, date: result.date, businessDate: result.businessDate, days }
        const loans = days.reduce((sum, d) => sum + d.loans, 0)
        process.stdout.write(options.json === true ? `${JSON.stringify(out)}\n`
          : result.status === 'already_closed' ? `${options.date} was already closed; business date ${result.businessDate}\n`
            : `closed ${days.length} day(s) through ${options.date}: ${loans} loan-days; business date ${result.businessDate}\n`)
      } finally {
        await database.close()
      }
    })
}

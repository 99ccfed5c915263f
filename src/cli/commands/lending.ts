/**
 * @module cli/commands/lending
 * `puhui payouts reconcile [--tenant T]`: settles payouts whose outcome is unknown by asking the rail (the
 * in-process simulated bank knows only its own process's payouts, so from the CLI every `unknown` one stays
 * unknown until a real adapter is configured; the server runs the same job every minute against its rail).
 * `puhui credit-lines review [--tenant T] [--force] [--strategy NAME]`: re-evaluates the credit lines due for
 * review (raise, lower, freeze, unfreeze). Both print one line of JSON (amounts as decimal strings).
 */
import type { Command } from 'commander'
import { systemActor } from '../../access/index.ts'
import { loadConfig } from '../../config.ts'
import { systemClock } from '../../core/clock.ts'
import { uuidv7Source } from '../../core/ids.ts'
import { openDatabase } from '../../db/database.ts'
import { createSimulatedBank, defaultStrategyName, reconcilePayouts, reviewCreditLines } from '../../flows/index.ts'
import { loadKeyring } from '../../keys/index.ts'
import { createLogger } from '../../log.ts'
import { resolveTenantId } from '../tenant.ts'

export function registerLendingCommands(program: Command): void {
  program
    .command('payouts')
    .description('payouts through the rail')
    .command('reconcile')
    .description('settle payouts whose outcome is unknown by asking the rail')
    .option('--tenant <slug>', 'tenant slug (default: PUHUI_TENANT, or the only tenant of the installation)')
    .action(async (options: { tenant?: string }) => {
      const config = loadConfig()
      const database = await openDatabase(config, createLogger(config.logLevel))
      try {
        const tenantId = await resolveTenantId(database, options.tenant)
        const report = await reconcilePayouts({ db: database.db, ids: uuidv7Source, clock: systemClock, rail: createSimulatedBank() }, { tenantId })
        process.stdout.write(`${JSON.stringify(report)}\n`)
      } finally {
        await database.close()
      }
    })

  program
    .command('credit-lines')
    .description('credit lines (授信)')
    .command('review')
    .description('re-evaluate the credit lines due for review from fresh data: raise, lower, freeze or unfreeze')
    .option('--tenant <slug>', 'tenant slug (default: PUHUI_TENANT, or the only tenant of the installation)')
    .option('--force', 'review every open line now, not only those due')
    .option('--strategy <name>', 'the strategy whose active version decides', defaultStrategyName)
    .action(async (options: { tenant?: string; force?: boolean; strategy: string }) => {
      const config = loadConfig()
      const database = await openDatabase(config, createLogger(config.logLevel))
      try {
        const tenantId = await resolveTenantId(database, options.tenant)
        const keyring = loadKeyring({ keyDir: config.keyDir, signingKeyFile: config.signingKeyFile, dataKeyFile: config.dataKeyFile })
        const report = await reviewCreditLines({ db: database.db, ids: uuidv7Source, clock: systemClock, keyring }, { tenantId, strategyName: options.strategy, actor: systemActor, force: options.force === true })
        const out = { ...report, outcomes: report.outcomes.map((o) => ({ ...o, fromLimitMinor: o.fromLimitMinor.toString(), toLimitMinor: o.toLimitMinor.toString() })) }
        process.stdout.write(`${JSON.stringify(out)}\n`)
      } finally {
        await database.close()
      }
    })
}

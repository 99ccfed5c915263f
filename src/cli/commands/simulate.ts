/**
 * @module cli/commands/simulate
 * `puhui simulate --smes N --months M --seed S [--shock MONTH:SEVERITY] [--tenant SLUG] [--report FILE] [--json]`:
 * a simulated SME economy run through the real decision engine, servicing and close of business
 * (src/simulator). A fresh tenant per run unless --tenant names one. MONTH counts from 1 (the first
 * simulated month); SEVERITY is 0–1, the share of sales a fully exposed firm loses that month.
 *
 * Output: with --json one line, the summary (src/simulator/report.ts `SimulationSummary`):
 * {"smes","months","seed","shock","applications","approved","loans","draws","approvalRate","nplRatio","par30",…};
 * ratios are fractions 0–1, amounts decimal strings of minor units; byte-identical for the same seed and version.
 * Otherwise a few human lines. The HTML report goes to --report (default `<data dir>/reports/`), its path on
 * stderr; a progress bar on stderr when it is a terminal.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { loadConfig } from '../../config.ts'
import { uuidv7Source } from '../../core/ids.ts'
import { openDatabase } from '../../db/database.ts'
import { loadKeyring } from '../../keys/index.ts'
import { createLogger } from '../../log.ts'
import { renderReport, runSimulation, type Shock } from '../../simulator/index.ts'
import { version } from '../../version.ts'
import { startProgress } from '../progress.ts'
import { resolveTenantId } from '../tenant.ts'

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(text)) throw new Error(`${flag} "${text}" is not a whole number`)
  const value = Number.parseInt(text, 10)
  if (value < min || value > max) throw new Error(`${flag} must be between ${min} and ${max}`)
  return value
}

/** MONTH:SEVERITY → the core's shock (0-based month). */
export function parseShock(text: string, months: number): Shock {
  const match = /^(\d{1,4}):(\d+(?:\.\d+)?)$/.exec(text)
  if (match === null) throw new Error(`--shock "${text}" is not MONTH:SEVERITY (e.g. 3:0.6)`)
  const month = Number.parseInt(match[1] as string, 10)
  const severity = Number.parseFloat(match[2] as string)
  if (month < 1 || month > months) throw new Error(`--shock month must be between 1 and --months (${months})`)
  if (!(severity >= 0 && severity <= 1)) throw new Error('--shock severity must be between 0 and 1')
  return { month: month - 1, severity }
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('simulate an SME economy through the real decision engine, servicing and close of business; prints the portfolio summary and writes an HTML report')
    .requiredOption('--smes <n>', 'number of simulated firms')
    .requiredOption('--months <m>', 'number of simulated months (close of business runs for every day)')
    .option('--seed <s>', 'random seed (the same seed gives the same summary)', '1')
    .option('--shock <month:severity>', 'a sales shock in MONTH (1 = the first month) of SEVERITY 0–1, e.g. 3:0.6')
    .option('--tenant <slug>', 'simulate in this tenant (default: a fresh tenant per run)')
    .option('--report <file>', 'where to write the HTML report (default: <data dir>/reports/simulation-…html)')
    .option('--json', 'print the summary as one line of JSON')
    .action(async (options: { smes: string; months: string; seed: string; shock?: string; tenant?: string; report?: string; json?: boolean }) => {
      const smes = wholeNumber(options.smes, '--smes', 1, 10_000_000)
      const months = wholeNumber(options.months, '--months', 1, 120)
      const seed = wholeNumber(options.seed, '--seed', 0, 4_294_967_295)
      const shock = options.shock === undefined ? null : parseShock(options.shock, months)
      const config = loadConfig()
      const log = createLogger(config.logLevel)
      const database = await openDatabase(config, log)
      const keyring = loadKeyring({ keyDir: config.keyDir, signingKeyFile: config.signingKeyFile, dataKeyFile: config.dataKeyFile })
      const progress = startProgress('simulating', 2 + months * 6)
      try {
        const tenantId = options.tenant === undefined ? undefined : await resolveTenantId(database, options.tenant)
        const result = await runSimulation({ db: database.db, keyring, ids: uuidv7Source }, {
          smes, months, seed, shock, ...(tenantId === undefined ? {} : { tenantId }),
          onProgress: () => progress.tick(), log: (message) => log.info(message),
        })
        progress.stop()
        const file = path.resolve(options.report ?? path.join(config.dataDir, 'reports', `simulation-${seed}-${smes}x${months}${shock === null ? '' : `-shock${shock.month + 1}`}.html`))
        fs.mkdirSync(path.dirname(file), { recursive: true })
        fs.writeFileSync(file, renderReport(result.summary, { version }))
        process.stderr.write(`report: ${file}\n`)
        const s = result.summary
        process.stdout.write(options.json === true ? `${JSON.stringify(s)}\n`
          : `${s.smes} SMEs × ${s.months} months: ${s.applications} applications, ${s.approved} approved (${(s.approvalRate * 100).toFixed(1)}%), ${s.loans} loans; NPL ${(s.nplRatio * 100).toFixed(2)}%, PAR30 ${(s.par30 * 100).toFixed(2)}%\n`)
      } finally {
        progress.stop()
        await database.close()
      }
    })
}

/**
 * `npm run bench -- simulate [--quick]`: the simulated SME economy end to end (src/simulator: population,
 * data hub ingestion, real decisions (loans, credit lines and their quarterly reviews), acceptances and
 * credit-line draws through the simulated bank, repayments through servicing, close of business for every
 * day), at full size and, as the baseline in the same run and database, at one
 * tenth of the SMEs (cost per SME-month must not grow with scale). Full: 20,000 SMEs × 12 months
 * (PUHUI_BENCH_SIM_SMES overrides); --quick: 400 × 3. Prints the per-phase times on stderr.
 *
 * Last line: {"bench":"simulate","results":{"smes","months","seconds","sme_months_per_s","baseline_sme_months_per_s","peak_rss_mb"}}.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { uuidv7Source } from '../src/core/ids.ts'
import { loadKeyring } from '../src/keys/index.ts'
import { runSimulation } from '../src/simulator/index.ts'
import { openBenchDatabase, round } from './support.ts'

export async function benchSimulate(quick: boolean): Promise<Record<string, number>> {
  const smes = quick ? 400 : Number.parseInt(process.env.PUHUI_BENCH_SIM_SMES ?? '20000', 10)
  const months = quick ? 3 : 12
  const bench = await openBenchDatabase()
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-bench-sim-keys-'))
  try {
    const keyring = loadKeyring({ keyDir })
    const run = async (n: number) => {
      const t0 = performance.now()
      const result = await runSimulation({ db: bench.db, keyring, ids: uuidv7Source }, {
        smes: n, months, seed: 1, shock: null, trainingFirms: quick ? 1_000 : 3_000,
        log: (message) => process.stderr.write(`  [${n}] ${message}\n`),
      })
      const seconds = (performance.now() - t0) / 1000
      const s = result.summary
      process.stderr.write(`simulate ${n} SMEs × ${months} months: ${seconds.toFixed(1)} s, ${round((n * months) / seconds)} SME-months/s; ${s.applications} decisions (${s.lineReviews} line reviews), ${s.loans} loans (${s.draws} draws on ${s.creditLines} lines), NPL ${s.nplRatio}, PAR30 ${s.par30}\n`)
      return seconds
    }
    const baselineSmes = Math.max(1, Math.round(smes / 10))
    const baselineSeconds = await run(baselineSmes)
    const seconds = await run(smes)
    return {
      smes, months, seconds: round(seconds, 1), sme_months_per_s: round((smes * months) / seconds, 1),
      baseline_sme_months_per_s: round((baselineSmes * months) / baselineSeconds, 1), peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
    }
  } finally {
    await bench.close()
    fs.rmSync(keyDir, { recursive: true, force: true })
  }
}

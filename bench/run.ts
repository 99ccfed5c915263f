/**
 * `npm run bench -- NAME [--quick]`: runs one benchmark. Each prints its figures beside a baseline
 * measured in the same run (to stderr as it goes) and ends stdout with one line of JSON:
 * {"bench":"NAME","results":{…}} (snake_case keys, numbers only). Figures go to bench/RESULTS.md.
 */
import { benchApi } from './api.ts'
import { benchCob } from './cob.ts'
import { benchDecisions } from './decisions.ts'
import { benchLedger } from './ledger.ts'
import { benchScoring } from './scoring.ts'
import { benchSimulate } from './simulate.ts'

const benches: Record<string, (quick: boolean) => Promise<Record<string, number>>> = { api: benchApi, cob: benchCob, decisions: benchDecisions, ledger: benchLedger, scoring: benchScoring, simulate: benchSimulate }

const [name, ...flags] = process.argv.slice(2)
if (name === '--list') {
  process.stdout.write(`${Object.keys(benches).join('\n')}\n`)
  process.exit(0)
}
if (name === undefined || !(name in benches)) {
  process.stderr.write(`usage: npm run bench -- NAME [--quick]\n  benchmarks: ${Object.keys(benches).join(', ')}\n`)
  process.exit(2)
}
const results = await (benches[name] as (quick: boolean) => Promise<Record<string, number>>)(flags.includes('--quick'))
process.stdout.write(`${JSON.stringify({ bench: name, results })}\n`)
process.exit(0)

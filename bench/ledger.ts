/**
 * `npm run bench -- ledger`: the ledger service in process (not HTTP) on a real PostgreSQL with
 * durable commits. 10,000 accounts; 8 concurrent clients each sending 1,000-transfer batches;
 * "uniform" picks both accounts at random, "hot" puts one account on one side of every transfer.
 * Baseline, same run: "naive", one client sending one transfer per transaction through the same
 * service. Then an inclusion proof in the journal at its final size (≥ 1,000,000 entries).
 */
import { createTenant } from '../src/access/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { createAccounts, createTransfers, inclusionProof, journalRoot } from '../src/ledger/ledger-service.ts'
import { verifyInclusion } from '../src/ledger/merkle.ts'
import { transferFlags, type TransferInput } from '../src/ledger/transfer.ts'
import { cpuMeter, openBenchDatabase, percentile, round, walMeter } from './support.ts'

const accountsTotal = 10_000
const clients = 8
const batchSize = 1_000

function randomTransfer(accountIds: string[], hot: string | undefined): TransferInput {
  const pick = () => accountIds[Math.floor(Math.random() * accountIds.length)] as string
  let debit = hot ?? pick()
  let credit = pick()
  while (credit === debit) credit = pick()
  if (hot !== undefined && Math.random() < 0.5) [debit, credit] = [credit, debit]
  return { id: uuidv7Source.next(), debitAccountId: debit, creditAccountId: credit, amountMinor: BigInt(1 + Math.floor(Math.random() * 10_000)), currency: null, code: 0, flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: 0n, valueDate: null }
}

export async function benchLedger(quick: boolean): Promise<Record<string, number>> {
  const database = await openBenchDatabase()
  const deps = { db: database.db, ids: uuidv7Source }
  try {
    const tenant = await createTenant({ db: database.db, clock: systemClock, ids: uuidv7Source }, { slug: 'bench', name: 'Bench' })
    if (tenant.status !== 'ok') throw new Error(tenant.status)
    const tenantId = tenant.value.id
    const accountIds = Array.from({ length: accountsTotal }, () => uuidv7Source.next())
    for (let i = 0; i < accountIds.length; i += 5_000) {
      await createAccounts(deps, tenantId, accountIds.slice(i, i + 5_000).map((id) => ({ id, currency: 'CNY', code: 1001, flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false }, owner: null, userData: 0n })), new Date())
    }
    const hotAccount = accountIds[0] as string

    async function runBatched(label: string, total: number, hot: string | undefined): Promise<{ perS: number; p99BatchMs: number }> {
      let sent = 0
      const latencies: number[] = []
      const started = performance.now()
      const cpu = cpuMeter()
      const wal = await walMeter(deps.db)
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (sent < total) {
            sent += batchSize
            const batch = Array.from({ length: batchSize }, () => randomTransfer(accountIds, hot))
            const t0 = performance.now()
            const result = await createTransfers(deps, tenantId, batch, { now: new Date(), origin: null })
            latencies.push(performance.now() - t0)
            const failed = result.results.find((r) => r.status !== 'created')
            if (failed !== undefined) throw new Error(`${label}: ${failed.status}`)
          }
        }),
      )
      const seconds = (performance.now() - started) / 1000
      latencies.sort((a, b) => a - b)
      const perS = sent / seconds
      const used = cpu.read()
      const walUsed = await wal.read()
      const perTransfer = (ms: number | null) => (ms === null ? 'n/a' : `${round((ms * 1000) / sent, 1)} µs`)
      process.stderr.write(`${label.padEnd(26)} ${round(perS, 0).toString().padStart(9)} transfers/s   ${sent} in ${round(seconds, 1)} s   batch p99 ${round(percentile(latencies, 99), 1)} ms   CPU per transfer: main thread ${perTransfer(used.mainBusyMs)}, process ${perTransfer(used.processCpuMs)}, PostgreSQL ${perTransfer(used.postgresCpuMs)}; WAL per transfer ${round(walUsed.bytes / sent, 0)} bytes in ${round(walUsed.records / sent, 1)} records (${walUsed.fullPageImages} full-page images)\n`)
      return { perS, p99BatchMs: percentile(latencies, 99) }
    }

    async function runNaive(seconds: number): Promise<number> {
      let done = 0
      const started = performance.now()
      while (performance.now() - started < seconds * 1000) {
        await createTransfers(deps, tenantId, [randomTransfer(accountIds, undefined)], { now: new Date(), origin: null })
        done++
      }
      const perS = done / ((performance.now() - started) / 1000)
      process.stderr.write(`${'naive (1 per transaction)'.padEnd(26)} ${round(perS, 0).toString().padStart(9)} transfers/s   ${done} transfers\n`)
      return perS
    }

    // PUHUI_LEDGER_BENCH_TOTAL: a shorter full-mode run while iterating (the recorded figures use the default).
    const total = quick ? 16_000 : Number(process.env.PUHUI_LEDGER_BENCH_TOTAL ?? 1_000_000)
    await runBatched('warm-up', quick ? 8_000 : Math.min(80_000, total / 10), undefined)
    const uniform = await runBatched('batched uniform', total, undefined)
    const hot = await runBatched('batched hot account', total, hotAccount)
    const naive = await runNaive(quick ? 2 : 10)

    const { treeSize } = await journalRoot(deps, tenantId)
    const size = Number(treeSize)
    const proofTimes: number[] = []
    for (let i = 0; i < 50; i++) {
      const index = Math.floor(Math.random() * size)
      const t0 = performance.now()
      const proof = await inclusionProof(deps, tenantId, index, size)
      proofTimes.push(performance.now() - t0)
      if (proof === 'out_of_range' || !verifyInclusion({ leafIndex: index, treeSize: size, leafHash: proof.leafHash, proof: proof.proof, rootHash: proof.rootHash })) throw new Error('inclusion proof failed to verify')
    }
    proofTimes.sort((a, b) => a - b)
    const proofMs = percentile(proofTimes, 50)
    process.stderr.write(`inclusion proof at ${size} entries: median ${round(proofMs, 2)} ms, p99 ${round(percentile(proofTimes, 99), 2)} ms\n`)
    return {
      accounts: accountsTotal,
      clients,
      batch_size: batchSize,
      transfers_per_scenario: total,
      batched_per_s: round(uniform.perS, 0),
      hot_account_batched_per_s: round(hot.perS, 0),
      naive_per_s: round(naive, 0),
      speedup_vs_naive: round(uniform.perS / naive, 1),
      batch_p99_ms: round(uniform.p99BatchMs, 1),
      journal_entries: size,
      inclusion_proof_ms_at_1m: round(proofMs, 2),
    }
  } finally {
    await database.close()
  }
}

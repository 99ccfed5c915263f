/**
 * Crash safety of the ledger, end to end: our own Puhui (on its own embedded PostgreSQL with durable
 * commits, or on a fresh database of DATABASE_URL's server) takes transfer batches from concurrent
 * clients; we kill it with SIGKILL mid-stream (and the embedded PostgreSQL too), restart, and check:
 * every acknowledged batch is present, every batch is wholly present or wholly absent, balances equal
 * the sum of the transfers, and the journal verifies against a freshly signed tree head.
 */
import fs from 'node:fs'
import path from 'node:path'
import { v7 as uuidv7 } from 'uuid'
import { afterAll, describe, expect, it } from 'vitest'
import { cloneTemplate } from './support/db.ts'
import { freePort, puhuiProcesses } from './support/puhui-process.ts'

const processes = puhuiProcesses('puhui-crash-')
const dataDir = processes.dataDir
const external = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== ''
processes.env.PUHUI_DEMO = '0'
function cli(args: string[]): string {
  const result = processes.cli(args)
  if (result.status !== 0) throw new Error(`puhui ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}
const serve = async (port: number) => (await processes.serve(port)).child

afterAll(() => {
  processes.killStarted()
})

describe('ledger crash safety', () => {
  it('keeps every acknowledged batch, no partial batch, balanced accounts and a verifying journal after kill -9', async () => {
    if (external) processes.env.DATABASE_URL = (await cloneTemplate()).url
    cli(['tenant', 'create', '--slug', 'crash', '--name', 'Crash'])
    const key = (JSON.parse(cli(['apikey', 'create', '--tenant', 'crash', '--role', 'admin', '--json'])) as { key: string }).key
    const port = await freePort()
    const server = await serve(port)
    const base = `http://127.0.0.1:${port}`
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
    const accounts = Array.from({ length: 20 }, () => uuidv7())
    const created = await fetch(`${base}/v1/ledger/accounts`, { method: 'POST', headers, body: JSON.stringify({ accounts: accounts.map((id) => ({ id, currency: 'CNY', code: 1001 })) }) })
    expect(created.status).toBe(200)

    const batches: { ids: string[]; acknowledged: boolean }[] = []
    let stop = false
    const writer = async () => {
      while (!stop) {
        const transfers = Array.from({ length: 200 }, () => {
          const debit = accounts[Math.floor(Math.random() * accounts.length)] as string
          let credit = accounts[Math.floor(Math.random() * accounts.length)] as string
          while (credit === debit) credit = accounts[Math.floor(Math.random() * accounts.length)] as string
          return { id: uuidv7(), debitAccountId: debit, creditAccountId: credit, amountMinor: String(1 + Math.floor(Math.random() * 1000)) }
        })
        const batch = { ids: transfers.map((t) => t.id), acknowledged: false }
        batches.push(batch)
        try {
          const response = await fetch(`${base}/v1/ledger/transfers`, { method: 'POST', headers, body: JSON.stringify({ transfers }) })
          const body = (await response.json()) as { results: { status: string }[] }
          if (response.status === 200 && body.results.every((r) => r.status === 'created')) batch.acknowledged = true
        } catch {
          return // the server died under us
        }
      }
    }
    const writers = Array.from({ length: 4 }, writer)
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const pgPid = processes.postmasterPid()
    server.kill('SIGKILL')
    if (!external && pgPid !== undefined) process.kill(pgPid, 'SIGKILL')
    stop = true
    await Promise.all(writers)
    const acknowledged = batches.filter((b) => b.acknowledged)
    expect(acknowledged.length).toBeGreaterThan(0)

    // Restart on the same data: recovery, then look at what survived.
    const port2 = await freePort()
    const restarted = await serve(port2)
    const exported = cli(['journal', 'export', '--tenant', 'crash']).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { transferId: string; debitAccountId: string; creditAccountId: string; amountMinor: string; kind: string })
    const present = new Set(exported.map((e) => e.transferId))
    for (const batch of batches) {
      const found = batch.ids.filter((id) => present.has(id)).length
      expect(found === 0 || found === batch.ids.length, `a batch is wholly present or wholly absent (found ${found} of ${batch.ids.length})`).toBe(true)
      if (batch.acknowledged) expect(found, 'an acknowledged batch survives').toBe(batch.ids.length)
    }
    expect(present.size).toBe(exported.length)

    const sums = new Map<string, { debits: bigint; credits: bigint }>()
    for (const entry of exported) {
      const d = sums.get(entry.debitAccountId) ?? { debits: 0n, credits: 0n }
      d.debits += BigInt(entry.amountMinor)
      sums.set(entry.debitAccountId, d)
      const c = sums.get(entry.creditAccountId) ?? { debits: 0n, credits: 0n }
      c.credits += BigInt(entry.amountMinor)
      sums.set(entry.creditAccountId, c)
    }
    for (const id of accounts) {
      const account = (await (await fetch(`${base.replace(String(port), String(port2))}/v1/ledger/accounts/${id}`, { headers })).json()) as { debitsPosted: string; creditsPosted: string }
      expect(BigInt(account.debitsPosted)).toBe(sums.get(id)?.debits ?? 0n)
      expect(BigInt(account.creditsPosted)).toBe(sums.get(id)?.credits ?? 0n)
    }

    fs.writeFileSync(path.join(dataDir, 'journal.ndjson'), `${exported.map((e) => JSON.stringify(e)).join('\n')}\n`)
    const sth = cli(['journal', 'sth', '--tenant', 'crash'])
    fs.writeFileSync(path.join(dataDir, 'sth.json'), sth)
    const keys = JSON.parse(cli(['keys', 'list', '--json'])) as { publicKeys: Record<string, string> }
    fs.writeFileSync(path.join(dataDir, 'pub.pem'), keys.publicKeys[(JSON.parse(sth) as { keyId: string }).keyId] as string)
    const verify = JSON.parse(cli(['journal', 'verify', '--export', path.join(dataDir, 'journal.ndjson'), '--sth', path.join(dataDir, 'sth.json'), '--pubkey', path.join(dataDir, 'pub.pem')])) as { ok: boolean; treeSize: number }
    expect(verify).toMatchObject({ ok: true, treeSize: exported.length })
    restarted.kill('SIGTERM')
    await new Promise((resolve) => restarted.once('exit', resolve))
  })
})

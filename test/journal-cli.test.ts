/**
 * The auditor's tools as a user runs them: `puhui journal export`, `puhui journal sth`, `puhui keys
 * list`, then `puhui journal verify` offline; and tampering with the stored journal (a flipped amount,
 * a deleted row, two rows swapped) makes verify fail at the right index. `puhui merkle` on raw leaves.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant } from '../src/access/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { createKysely } from '../src/db/database.ts'
import { createAccounts, createTransfers, transferFlags } from '../src/ledger/index.ts'
import { cloneTemplate } from './support/db.ts'

const bin = path.join(import.meta.dirname, '..', 'bin', 'puhui.js')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-journal-'))
let databaseUrl: string

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DATABASE_URL: databaseUrl, PUHUI_DATA_DIR: dir, PUHUI_LOG_LEVEL: 'warn' } })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function exportAndVerify(): { ok: boolean; firstBadIndex?: number | null; reason?: string } {
  const exported = cli(['journal', 'export', '--tenant', 'audited'])
  expect(exported.status, exported.stderr).toBe(0)
  fs.writeFileSync(path.join(dir, 'journal.ndjson'), exported.stdout)
  const verify = cli(['journal', 'verify', '--export', path.join(dir, 'journal.ndjson'), '--sth', path.join(dir, 'sth.json'), '--pubkey', path.join(dir, 'pub.pem')])
  expect(verify.stdout.trim().split('\n')).toHaveLength(1)
  const result = JSON.parse(verify.stdout) as { ok: boolean; firstBadIndex?: number | null; reason?: string }
  expect(verify.status).toBe(result.ok ? 0 : 1)
  return result
}

async function asOwner(statements: string[]): Promise<void> {
  const owner = new pg.Client({ connectionString: databaseUrl })
  await owner.connect()
  try {
    // A superuser can switch the append-only trigger off: this is the attacker the journal defends against.
    await owner.query('alter table ledger_transfers disable trigger ledger_transfers_append_only')
    for (const statement of statements) await owner.query(statement)
    await owner.query('alter table ledger_transfers enable trigger ledger_transfers_append_only')
  } finally {
    await owner.end()
  }
}

beforeAll(async () => {
  databaseUrl = (await cloneTemplate()).url
  const db = createKysely(databaseUrl, 2)
  try {
    const tenant = await createTenant({ db, clock: systemClock, ids: uuidv7Source }, { slug: 'audited', name: 'Audited' })
    if (tenant.status !== 'ok') throw new Error(tenant.status)
    const deps = { db, ids: uuidv7Source }
    const a = uuidv7()
    const b = uuidv7()
    await createAccounts(deps, tenant.value.id, [a, b].map((id) => ({ id, currency: 'CNY', code: 1001, flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false }, owner: null, userData: 0n })), new Date())
    for (let batch = 0; batch < 3; batch++) {
      await createTransfers(deps, tenant.value.id, Array.from({ length: 7 }, (_, i) => ({ id: uuidv7(), debitAccountId: a, creditAccountId: b, amountMinor: BigInt(100 + batch * 10 + i), currency: 'CNY', code: 1, flags: transferFlags(), pendingId: null, timeoutSeconds: 0, userData: BigInt(i), valueDate: null })), { now: new Date(), origin: null })
    }
  } finally {
    await db.destroy()
  }
  const sth = cli(['journal', 'sth', '--tenant', 'audited'])
  expect(sth.status, sth.stderr).toBe(0)
  fs.writeFileSync(path.join(dir, 'sth.json'), sth.stdout)
  const keys = JSON.parse(cli(['keys', 'list', '--json']).stdout) as { publicKeys: Record<string, string> }
  const keyId = (JSON.parse(sth.stdout) as { keyId: string }).keyId
  fs.writeFileSync(path.join(dir, 'pub.pem'), keys.publicKeys[keyId] as string)
})
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('puhui journal', () => {
  it('exports NDJSON that verifies offline against the signed tree head', () => {
    const sth = JSON.parse(fs.readFileSync(path.join(dir, 'sth.json'), 'utf8')) as Record<string, unknown>
    expect(Object.keys(sth).sort()).toEqual(['keyId', 'rootHash', 'signature', 'timestamp', 'treeSize'])
    expect(sth.treeSize).toBe(21)
    expect(exportAndVerify()).toEqual({ ok: true, treeSize: 21, lineCount: 21 })
    const first = JSON.parse(fs.readFileSync(path.join(dir, 'journal.ndjson'), 'utf8').split('\n')[0] as string) as Record<string, unknown>
    expect(first).toMatchObject({ index: 0, amountMinor: '100', currency: 'CNY', kind: 'posted' })
  })
  it('rejects a tree head signed by another key', () => {
    const other = cli(['keys', 'rotate', '--kind', 'signing', '--json'])
    expect(other.status).toBe(0)
    const keys = JSON.parse(cli(['keys', 'list', '--json']).stdout) as { publicKeys: Record<string, string> }
    const wrongKey = keys.publicKeys[(JSON.parse(other.stdout) as { keyId: string }).keyId] as string
    fs.writeFileSync(path.join(dir, 'wrong.pem'), wrongKey)
    const verify = cli(['journal', 'verify', '--export', path.join(dir, 'journal.ndjson'), '--sth', path.join(dir, 'sth.json'), '--pubkey', path.join(dir, 'wrong.pem')])
    expect(verify.status).toBe(1)
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: false, reason: 'signature_invalid' })
  })
  it('finds a flipped amount, a deleted row and swapped rows at the right index', async () => {
    await asOwner(['update ledger_transfers set amount = amount # 1 where journal_index = 12'])
    expect(exportAndVerify()).toMatchObject({ ok: false, firstBadIndex: 12, reason: 'stored_leaf_hash_mismatch' })
    await asOwner(['delete from ledger_transfers where journal_index = 9'])
    expect(exportAndVerify()).toMatchObject({ ok: false, firstBadIndex: 9, reason: 'index_sequence' })
    await asOwner([
      'update ledger_transfers set journal_index = -1 where journal_index = 3',
      'update ledger_transfers set journal_index = 3 where journal_index = 4',
      'update ledger_transfers set journal_index = 4 where journal_index = -1',
    ])
    expect(exportAndVerify()).toMatchObject({ ok: false, firstBadIndex: 3, reason: 'stored_leaf_hash_mismatch' })
  })
  it('reads files it is given and says which one is missing', () => {
    const verify = cli(['journal', 'verify', '--export', path.join(dir, 'nope.ndjson'), '--sth', path.join(dir, 'sth.json'), '--pubkey', path.join(dir, 'pub.pem')])
    expect(verify.status).toBe(1)
    expect(verify.stdout).toBe('')
    expect(verify.stderr).toContain('nope.ndjson')
  })
})

describe('puhui merkle', () => {
  // Leaves and roots of the RFC 6962 test tree (transparency-dev/merkle, proof/verify_test.go).
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f']
  it('prints roots, inclusion and consistency proofs of raw leaves', () => {
    expect(cli(['merkle', 'root']).stdout).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n')
    expect(cli(['merkle', 'root', ...leaves]).stdout).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328\n')
    const inclusion = JSON.parse(cli(['merkle', 'inclusion', '--index', '0', ...leaves]).stdout) as string[]
    expect(inclusion).toHaveLength(3)
    const consistency = JSON.parse(cli(['merkle', 'consistency', '--from', '4', ...leaves]).stdout) as string[]
    expect(consistency).toHaveLength(1)
    const bad = cli(['merkle', 'root', 'xyz'])
    expect(bad.status).toBe(1)
    expect(bad.stdout).toBe('')
  })
})

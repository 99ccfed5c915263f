/**
 * The `puhui` CLI contract: stdout carries only the result (one line of JSON where machine-read),
 * errors exit non-zero with a one-line reason on stderr, commands that need no database start none.
 * Database commands run here against the test database through DATABASE_URL.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cloneTemplate } from './support/db.ts'

const bin = path.join(import.meta.dirname, '..', 'bin', 'puhui.js')
const emptyDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-cli-'))
let databaseUrl: string

function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    input: options.input,
    timeout: 60_000,
    env: { ...process.env, PUHUI_DATA_DIR: emptyDataDir, PUHUI_LOG_LEVEL: 'warn', ...options.env },
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

const spec = {
  principal: '5000.00', currency: 'CNY', annualRatePct: '12', installments: 18, repaymentEvery: 1, repaymentUnit: 'months',
  interestMethod: 'declining_balance', amortization: 'equal_installments', interestPeriod: 'same_as_repayment', daysInYear: 'actual',
  daysInMonth: 'actual', disbursedOn: '2022-11-01', firstRepaymentOn: null, periodStartOn: null, repaymentDates: null,
  graceOnPrincipalPeriods: 0, graceOnInterestPaymentPeriods: 0, interestFreePeriods: 0, installmentMultipleOf: null, rounding: 'half_even', compat: 'fineract-cumulative',
}

beforeAll(async () => {
  databaseUrl = (await cloneTemplate()).url
})
afterAll(() => {
  fs.rmSync(emptyDataDir, { recursive: true, force: true })
})

describe('puhui schedule', () => {
  it('prints one line of JSON from a file, and from stdin, and starts no database', () => {
    const file = path.join(emptyDataDir, 'spec.json')
    fs.writeFileSync(file, JSON.stringify(spec))
    const fromFile = cli(['schedule', '--spec', file], { env: { DATABASE_URL: '' } })
    expect(fromFile.status).toBe(0)
    expect(fromFile.stdout.endsWith('\n')).toBe(true)
    expect(fromFile.stdout.trim().split('\n')).toHaveLength(1)
    const schedule = JSON.parse(fromFile.stdout) as { rows: { n: number; dueOn: string; total: string; fees: string }[]; totals: { principal: string } }
    expect(schedule.rows).toHaveLength(18)
    expect(schedule.rows[0]).toMatchObject({ n: 1, dueOn: '2022-12-01', total: '304.91', fees: '0.00' })
    expect(schedule.totals.principal).toBe('5000.00')
    const fromStdin = cli(['schedule', '--spec', '-'], { input: JSON.stringify(spec) })
    expect(fromStdin.stdout).toBe(fromFile.stdout)
    expect(fs.existsSync(path.join(emptyDataDir, 'pg'))).toBe(false)
  })
  it('names the bad field and exits non-zero', () => {
    const result = cli(['schedule', '--spec', '-'], { input: JSON.stringify({ ...spec, installments: 0 }) })
    expect(result.status).not.toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('installments')
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })
})

describe('puhui keys', () => {
  it('generates keys on first use, rotates, and keeps the old public key listed', () => {
    const listed = cli(['keys', 'list', '--json'])
    expect(listed.status, listed.stderr).toBe(0)
    const before = JSON.parse(listed.stdout) as { signing: string; data: string; publicKeys: Record<string, string> }
    expect(before.signing).toMatch(/^[0-9a-f]{16}$/)
    const rotated = cli(['keys', 'rotate', '--kind', 'signing', '--json'])
    expect(rotated.status, rotated.stderr).toBe(0)
    const { keyId } = JSON.parse(rotated.stdout) as { keyId: string }
    const after = JSON.parse(cli(['keys', 'list', '--json']).stdout) as typeof before
    expect(after.signing).toBe(keyId)
    expect(after.data).toBe(before.data)
    expect(Object.keys(after.publicKeys).sort()).toEqual([before.signing, keyId].sort())
    expect(fs.existsSync(path.join(emptyDataDir, 'pg'))).toBe(false)
  })
})

describe('database commands on DATABASE_URL', () => {
  it('creates a tenant, a user and an API key with the promised JSON', () => {
    const env = { DATABASE_URL: databaseUrl }
    const tenant = cli(['tenant', 'create', '--slug', 'acme', '--name', 'Acme Finance', '--json'], { env })
    expect(tenant.status, tenant.stderr).toBe(0)
    expect(JSON.parse(tenant.stdout)).toMatchObject({ slug: 'acme', name: 'Acme Finance', timeZone: 'Asia/Shanghai' })
    const user = cli(['user', 'create', '--tenant', 'acme', '--email', 'ops@acme.test', '--role', 'operator', '--json'], { env })
    expect(user.status, user.stderr).toBe(0)
    expect(JSON.parse(user.stdout)).toMatchObject({ email: 'ops@acme.test', tenant: 'acme', role: 'operator', password: expect.any(String) })
    const key = cli(['apikey', 'create', '--tenant', 'acme', '--role', 'admin', '--json'], { env })
    expect(key.status, key.stderr).toBe(0)
    expect(key.stdout.trim().split('\n')).toHaveLength(1)
    const parsed = JSON.parse(key.stdout) as Record<string, string>
    expect(Object.keys(parsed).sort()).toEqual(['id', 'key', 'role', 'tenant'])
    expect(parsed).toMatchObject({ tenant: 'acme', role: 'admin' })
    expect(parsed.key).toMatch(/^puhui_/)
    const revoked = cli(['apikey', 'revoke', '--tenant', 'acme', '--id', parsed.id as string, '--json'], { env })
    expect(revoked.status, revoked.stderr).toBe(0)
  })
  it('closes a business day with puhui cob, once', () => {
    const env = { DATABASE_URL: databaseUrl }
    const tenant = JSON.parse(cli(['tenant', 'create', '--slug', 'cob-co', '--name', 'COB Co', '--business-date', '2026-03-01', '--json'], { env }).stdout) as { businessDate: string }
    expect(tenant.businessDate).toBe('2026-03-01')
    const first = cli(['cob', '--date', '2026-03-01', '--tenant', 'cob-co', '--json'], { env })
    expect(first.status, first.stderr).toBe(0)
    expect(first.stdout.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'ok', date: '2026-03-01', businessDate: '2026-03-02' })
    const again = JSON.parse(cli(['cob', '--date', '2026-03-01', '--tenant', 'cob-co', '--json'], { env }).stdout) as { status: string }
    expect(again.status).toBe('already_closed')
    const bad = cli(['cob', '--date', '2026-13-01', '--tenant', 'cob-co'], { env })
    expect(bad.status).toBe(1)
    expect(bad.stdout).toBe('')
  })

  it('fails with a one-line reason for an unknown tenant or role', () => {
    const env = { DATABASE_URL: databaseUrl }
    const missing = cli(['apikey', 'create', '--tenant', 'nope', '--role', 'admin', '--json'], { env })
    expect(missing.status).toBe(1)
    expect(missing.stdout).toBe('')
    expect(missing.stderr.trim()).toBe('puhui: no tenant with slug "nope"')
    const badRole = cli(['apikey', 'create', '--tenant', 'acme', '--role', 'king'], { env })
    expect(badRole.status).not.toBe(0)
    expect(badRole.stdout).toBe('')
  })
  it('has --help on every command', () => {
    for (const command of [[], ['serve'], ['migrate'], ['schedule'], ['cob'], ['ingest'], ['keys', 'rotate'], ['tenant', 'create'], ['user', 'create'], ['apikey', 'create'], ['apikey', 'revoke']]) {
      const help = cli([...command, '--help'])
      expect(help.status).toBe(0)
      expect(help.stdout).toContain('Usage: puhui')
    }
  })
})

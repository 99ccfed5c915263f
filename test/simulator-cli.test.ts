/**
 * `puhui simulate` as users run it (a process against the test database through DATABASE_URL): the last
 * stdout line is the JSON summary with the keys and meanings, every decision and loan is in the
 * database the summary was read from, the report is written, and the same seed gives the same bytes.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inTenant } from '../src/db/database.ts'
import { freshDatabase, type TestDatabase } from './support/db.ts'

const bin = path.join(import.meta.dirname, '..', 'bin', 'puhui.js')
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-sim-'))
let database: TestDatabase

function simulate(args: string[]) {
  const result = spawnSync(process.execPath, [bin, 'simulate', ...args], {
    encoding: 'utf8', timeout: 170_000, env: { ...process.env, PUHUI_DATA_DIR: dataDir, DATABASE_URL: database.url, PUHUI_LOG_LEVEL: 'warn' },
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

beforeAll(async () => {
  database = await freshDatabase()
})
afterAll(async () => {
  await database?.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('puhui simulate', () => {
  it('prints the summary as one JSON line, consistent with the database, and the same bytes for the same seed', { timeout: 360_000 }, async () => {
    const report = path.join(dataDir, 'report.html')
    const first = simulate(['--smes', '150', '--months', '3', '--seed', '42', '--shock', '2:0.5', '--json', '--report', report])
    expect(first.status, first.stderr).toBe(0)
    const lines = first.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    const summary = JSON.parse(lines[0] as string) as Record<string, unknown>
    expect(Object.keys(summary).slice(0, 11)).toEqual(['smes', 'months', 'seed', 'shock', 'applications', 'approved', 'loans', 'draws', 'approvalRate', 'nplRatio', 'par30'])
    expect(summary).toMatchObject({ smes: 150, months: 3, seed: 42, shock: { month: 2, severity: 0.5 } })
    const { applications, approved, loans, draws, declined, referred } = summary as { applications: number; approved: number; loans: number; draws: number; declined: number; referred: number }
    expect(applications).toBeGreaterThan(0)
    expect(approved + declined + referred).toBe(applications)
    expect(draws).toBeLessThanOrEqual(loans) // loan accounts opened, draws on credit lines included
    for (const ratio of ['approvalRate', 'nplRatio', 'par30'] as const) {
      expect(summary[ratio]).toBeGreaterThanOrEqual(0)
      expect(summary[ratio]).toBeLessThanOrEqual(1)
    }
    expect(summary.approvalRate).toBeCloseTo(approved / applications, 5)
    expect(fs.readFileSync(report, 'utf8')).toContain('<svg')
    expect(first.stderr).toContain(report)

    // The summary counts what the database holds: real decisions, loans and daily close of business.
    const tenants = (await sql<{ id: string }>`select puhui_tenant_by_slug(slug) as id from (select puhui_tenant_slugs as slug from puhui_tenant_slugs()) s`.execute(database.db)).rows
    expect(tenants).toHaveLength(1)
    const tenantId = tenants[0]?.id as string
    const stored = await inTenant(database.db, tenantId, async (trx) => (await sql<{ applications: number; loans: number; draws: number; cob_days: number; strategies: number; business_date: string }>`
      select (select count(*)::int from applications) as applications, (select count(*)::int from loans) as loans,
        (select count(*)::int from loans where credit_line_id is not null) as draws, (select count(*)::int from cob_runs) as cob_days,
        (select count(*)::int from strategies where status = 'active' and approved_by is not null and approved_by <> author_id) as strategies,
        (select business_date::text from tenants) as business_date`.execute(trx)).rows[0])
    expect(stored).toEqual({ applications, loans, draws, cob_days: 31 + 28 + 31, strategies: 1, business_date: '2025-04-01' })

    const second = simulate(['--smes', '150', '--months', '3', '--seed', '42', '--shock', '2:0.5', '--json', '--report', report])
    expect(second.status, second.stderr).toBe(0)
    expect(second.stdout).toBe(first.stdout)
  })

  it('refuses bad flags with a one-line reason and no output', () => {
    for (const args of [['--smes', '0', '--months', '1'], ['--smes', '5', '--months', '2', '--shock', '3:0.5'], ['--smes', '5', '--months', '2', '--shock', '1:1.5']]) {
      const result = simulate(args)
      expect(result.status).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
    }
  })
})

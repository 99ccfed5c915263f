/**
 * @module demo
 * The demo tenant created on the first start of an empty embedded database (PUHUI_DEMO=0 skips it;
 * against DATABASE_URL only with PUHUI_DEMO=1): a small simulation (src/simulator: a few hundred SMEs over
 * a few months, fixed seed) leaves enterprises with data, decided applications (approved, declined and
 * referred), offers, active, overdue and repaid loans, ledger postings and the journal; then one user per
 * role with a generated password (the borrower bound to an enterprise with a loan), kept in the data
 * directory (demo-logins.json, mode 0600) and printed at every start.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Kysely } from 'kysely'
import { Temporal } from 'temporal-polyfill'
import { createTenant, createUser, findTenantIdBySlug, roles, systemActor, type Role } from './access/index.ts'
import { sql } from 'kysely'
import type { Clock } from './core/clock.ts'
import type { IdSource } from './core/ids.ts'
import { inTenant } from './db/database.ts'
import type { DB } from './db/schema.ts'
import type { Keyring } from './keys/index.ts'
import { runSimulation } from './simulator/index.ts'

export const demoTenantSlug = 'demo'
export type DemoLogin = { role: Role; email: string; password: string }
export type DemoLogins = { tenant: string; logins: DemoLogin[] }

/**
 * The demo's simulation: small enough for a first start in under 30 s, long enough for loans to go more than
 * 30 days past due through servicing (a loan made in the first month and never paid reaches 31+ DPD at the end
 * of its third month, 91+ at the end of its fifth), and large enough to show every outcome and a credit line.
 * A sales shock in the third month (severity 0.6, early 2020 in miniature) makes the overdue loans a few, not one.
 */
export const demoSimulation = { smes: 300, months: 6, seed: 2025, trainingFirms: 1_200, shock: { month: 2, severity: 0.6 } } as const

export function demoLoginsFile(dataDir: string): string {
  return path.join(dataDir, 'demo-logins.json')
}

export function readDemoLogins(dataDir: string): DemoLogins | undefined {
  try {
    return JSON.parse(fs.readFileSync(demoLoginsFile(dataDir), 'utf8')) as DemoLogins
  } catch {
    return undefined
  }
}

/** The first day of the month `demoSimulation.months` months before `now`'s month (Asia/Shanghai). */
export function demoStartDate(now: Date): string {
  const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO('Asia/Shanghai').toPlainDate()
  return today.toPlainYearMonth().subtract({ months: demoSimulation.months }).toPlainDate({ day: 1 }).toString()
}

/** Creates the demo tenant if it does not exist yet; returns its logins (from the data directory). */
export async function seedDemo(deps: { db: Kysely<DB>; clock: Clock; ids: IdSource; keyring: Keyring }, dataDir: string, log: (message: string) => void = () => undefined): Promise<DemoLogins | undefined> {
  if ((await findTenantIdBySlug(deps.db, demoTenantSlug)) !== undefined) return readDemoLogins(dataDir)
  // The simulation ends at the first day of the current month, so the demo's business date is this month and the
  // server's daily close of business carries it on to today: the book keeps living after the first start.
  const businessDate = demoStartDate(deps.clock.now())
  const tenant = await createTenant(deps, { slug: demoTenantSlug, name: 'Puhui Demo Bank 普惠演示银行', businessDate })
  if (tenant.status !== 'ok') return readDemoLogins(dataDir) // another process seeded it first
  const tenantId = tenant.value.id
  log(`seeding the demo tenant: a simulation of ${demoSimulation.smes} SMEs over ${demoSimulation.months} months`)
  await runSimulation({ db: deps.db, keyring: deps.keyring, ids: deps.ids }, { smes: demoSimulation.smes, months: demoSimulation.months, seed: demoSimulation.seed, shock: demoSimulation.shock, tenantId, trainingFirms: demoSimulation.trainingFirms, log })
  const logins: DemoLogin[] = roles.map((role) => ({ role, email: `${role.replace('_', '-')}@demo.puhui.local`, password: crypto.randomBytes(9).toString('base64url') }))
  await inTenant(deps.db, tenantId, async (trx) => {
    // The borrower's login belongs to a firm with a loan on the books, so the borrower portal has something to show.
    const borrowerEnterprise = (await sql<{ enterprise_id: string }>`select enterprise_id from loans where status = 'active' order by dpd, disbursed_on desc, id limit 1`.execute(trx)).rows[0]?.enterprise_id
      ?? (await sql<{ id: string }>`select id from enterprises order by id limit 1`.execute(trx)).rows[0]?.id ?? null
    for (const login of logins) {
      const result = await createUser(trx, deps, {
        tenantId,
        actor: systemActor,
        email: login.email,
        displayName: `Demo ${login.role}`,
        role: login.role,
        password: login.password,
        enterpriseId: login.role === 'borrower' ? borrowerEnterprise : null,
      })
      if (result.status !== 'ok') throw new Error(`demo user ${login.email}: ${result.status}`)
    }
  })
  const demo = { tenant: demoTenantSlug, logins }
  fs.mkdirSync(dataDir, { recursive: true })
  fs.writeFileSync(demoLoginsFile(dataDir), JSON.stringify(demo, null, 2), { mode: 0o600 })
  return demo
}

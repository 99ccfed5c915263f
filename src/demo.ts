/**
 * @module demo
 * The demo tenant created on the first start of an empty embedded database (PUHUI_DEMO=0 skips it;
 * against DATABASE_URL only with PUHUI_DEMO=1): one user per role with a generated password, kept in
 * the data directory (demo-logins.json, mode 0600) and printed at every start.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Kysely } from 'kysely'
import { createTenant, createUser, findTenantIdBySlug, roles, systemActor, type Role } from './access/index.ts'
import type { Clock } from './core/clock.ts'
import type { IdSource } from './core/ids.ts'
import { usccCheckCharacter } from './credit/index.ts'
import { inTenant } from './db/database.ts'
import type { DB } from './db/schema.ts'

export const demoTenantSlug = 'demo'
export type DemoLogin = { role: Role; email: string; password: string }
export type DemoLogins = { tenant: string; logins: DemoLogin[] }

const demoEnterprises = [
  { name: '杭州云织服饰有限公司', sector: 'apparel e-commerce', region: '浙江省杭州市', foundedOn: '2017-03-14', code: '91330106MA2B3C4D5' },
  { name: '义乌小商品贸易商行', sector: 'wholesale trade', region: '浙江省义乌市', foundedOn: '2019-08-01', code: '92330782MA2E6F7G8' },
  { name: '东莞精工五金制品厂', sector: 'hardware manufacturing', region: '广东省东莞市', foundedOn: '2012-05-20', code: '91441900MA4H5J6K7' },
]

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

/** Creates the demo tenant if it does not exist yet; returns its logins (from the data directory). */
export async function seedDemo(deps: { db: Kysely<DB>; clock: Clock; ids: IdSource }, dataDir: string): Promise<DemoLogins | undefined> {
  if ((await findTenantIdBySlug(deps.db, demoTenantSlug)) !== undefined) return readDemoLogins(dataDir)
  const tenant = await createTenant(deps, { slug: demoTenantSlug, name: 'Puhui Demo Bank 普惠演示银行' })
  if (tenant.status !== 'ok') return readDemoLogins(dataDir) // another process seeded it first
  const logins: DemoLogin[] = roles.map((role) => ({ role, email: `${role.replace('_', '-')}@demo.puhui.local`, password: crypto.randomBytes(9).toString('base64url') }))
  await inTenant(deps.db, tenant.value.id, async (trx) => {
    const enterpriseIds: string[] = []
    for (const enterprise of demoEnterprises) {
      const id = deps.ids.next()
      enterpriseIds.push(id)
      await trx
        .insertInto('enterprises')
        .values({ tenant_id: tenant.value.id, id, name: enterprise.name, uscc: `${enterprise.code}${usccCheckCharacter(enterprise.code)}`, sector: enterprise.sector, region: enterprise.region, founded_on: enterprise.foundedOn, created_at: deps.clock.now() })
        .execute()
    }
    for (const login of logins) {
      const result = await createUser(trx, deps, {
        tenantId: tenant.value.id,
        actor: systemActor,
        email: login.email,
        displayName: `Demo ${login.role}`,
        role: login.role,
        password: login.password,
        enterpriseId: login.role === 'borrower' ? (enterpriseIds[0] ?? null) : null,
      })
      if (result.status !== 'ok') throw new Error(`demo user ${login.email}: ${result.status}`)
    }
  })
  const demo = { tenant: demoTenantSlug, logins }
  fs.mkdirSync(dataDir, { recursive: true })
  fs.writeFileSync(demoLoginsFile(dataDir), JSON.stringify(demo, null, 2), { mode: 0o600 })
  return demo
}

/**
 * @module cli/tenant
 * Which tenant a CLI command acts on: the --tenant slug, else PUHUI_TENANT, else the installation's only
 * tenant. Errors are one-line reasons (the CLI prints them as `puhui: …`).
 */
import { sql } from 'kysely'
import { findTenantIdBySlug } from '../access/index.ts'
import type { Database } from '../db/database.ts'

export async function resolveTenantId(database: Database, slug: string | undefined): Promise<string> {
  let chosen = slug ?? process.env.PUHUI_TENANT
  if (chosen === undefined || chosen === '') {
    const slugs = (await sql<{ slug: string }>`select puhui_tenant_slugs as slug from puhui_tenant_slugs()`.execute(database.db)).rows.map((row) => row.slug)
    if (slugs.length !== 1) throw new Error(slugs.length === 0 ? 'no tenant exists yet: create one with `puhui tenant create`' : `several tenants (${slugs.join(', ')}): pass --tenant or set PUHUI_TENANT`)
    chosen = slugs[0] as string
  }
  const id = await findTenantIdBySlug(database.db, chosen)
  if (id === undefined) throw new Error(`no tenant with slug "${chosen}"`)
  return id
}

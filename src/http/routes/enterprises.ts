/**
 * @module http/routes/enterprises
 * Enterprises (the SME borrowers). Staff see the tenant's enterprises; a borrower sees only its own,
 * and another enterprise answers 404 exactly like one that does not exist.
 */
import { Type } from 'typebox'
import { actorOf, appendAudit, type Principal } from '../../access/index.ts'
import { isValidUscc } from '../../credit/index.ts'
import { inTenant, type Tx } from '../../db/database.ts'
import type { App, AppDeps } from '../app.ts'
import { principalOf, staffRoles } from '../authenticate.ts'
import { mutate } from '../idempotency.ts'
import { Problem } from '../problem.ts'
import { IdParams, PageQuery, Strict, Uuid, problemResponses } from './schemas.ts'

const EnterpriseSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  uscc: Type.Union([Type.String(), Type.Null()]),
  sector: Type.Union([Type.String(), Type.Null()]),
  region: Type.Union([Type.String(), Type.Null()]),
  foundedOn: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
})

type EnterpriseRow = { id: string; name: string; uscc: string | null; sector: string | null; region: string | null; founded_on: string | null; created_at: Date }
function toView(row: EnterpriseRow) {
  return { id: row.id, name: row.name, uscc: row.uscc, sector: row.sector, region: row.region, foundedOn: row.founded_on, createdAt: row.created_at.toISOString() }
}

/** Rows of `enterprises` this principal may see: all for staff, its own for a bound party. */
function visibleEnterprises(trx: Tx, principal: Principal) {
  const query = trx.selectFrom('enterprises').selectAll()
  if (staffRoles.includes(principal.role)) return query
  return query.where('id', '=', principal.enterpriseId ?? '00000000-0000-0000-0000-000000000000')
}

export function registerEnterpriseRoutes(app: App, deps: AppDeps): void {
  app.get(
    '/v1/enterprises',
    {
      config: { access: { roles: [...staffRoles, 'borrower'] } },
      schema: { tags: ['enterprises'], summary: 'List enterprises (a borrower sees its own)', querystring: PageQuery, response: { 200: Type.Object({ items: Type.Array(EnterpriseSchema), nextCursor: Type.Union([Uuid, Type.Null()]) }), ...problemResponses } },
    },
    async (request) => {
      const principal = principalOf(request)
      const { limit = 50, after } = request.query
      const rows = await inTenant(deps.db, principal.tenantId, (trx) => {
        let query = visibleEnterprises(trx, principal).orderBy('id').limit(limit + 1)
        if (after !== undefined) query = query.where('id', '>', after)
        return query.execute()
      })
      return { items: rows.slice(0, limit).map(toView), nextCursor: rows.length > limit ? (rows[limit - 1]?.id ?? null) : null }
    },
  )

  app.get(
    '/v1/enterprises/:id',
    { config: { access: { roles: [...staffRoles, 'borrower'] } }, schema: { tags: ['enterprises'], summary: 'An enterprise', params: IdParams, response: { 200: EnterpriseSchema, ...problemResponses } } },
    async (request) => {
      const principal = principalOf(request)
      const row = await inTenant(deps.db, principal.tenantId, (trx) => visibleEnterprises(trx, principal).where('id', '=', request.params.id).executeTakeFirst())
      if (row === undefined) throw new Problem('not_found', 'no such enterprise')
      return toView(row)
    },
  )

  app.post(
    '/v1/enterprises',
    {
      config: { access: { roles: ['admin', 'operator'] } },
      schema: {
        tags: ['enterprises'],
        summary: 'Register an enterprise',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            uscc: Type.Optional(Type.String({ minLength: 18, maxLength: 18, description: 'unified social credit code (GB 32100), check character verified' })),
            sector: Type.Optional(Type.String({ maxLength: 100 })),
            region: Type.Optional(Type.String({ maxLength: 100 })),
            foundedOn: Type.Optional(Type.String({ format: 'date' })),
          },
          Strict,
        ),
        response: { 201: EnterpriseSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const body = request.body
      if (body.uscc !== undefined && !isValidUscc(body.uscc)) throw new Problem('uscc_invalid', 'the check character or the alphabet is wrong')
      return mutate(request, reply, deps, async (trx) => {
        if (body.uscc !== undefined) {
          const taken = await trx.selectFrom('enterprises').select('id').where('uscc', '=', body.uscc).executeTakeFirst()
          if (taken !== undefined) throw new Problem('uscc_taken')
        }
        const now = deps.clock.now()
        const row = { tenant_id: principal.tenantId, id: deps.ids.next(), name: body.name, uscc: body.uscc ?? null, sector: body.sector ?? null, region: body.region ?? null, founded_on: body.foundedOn ?? null, created_at: now }
        await trx.insertInto('enterprises').values(row).execute()
        await appendAudit(trx, { tenantId: principal.tenantId, actor: actorOf(principal), action: 'enterprise.create', targetKind: 'enterprise', targetId: row.id, at: now, ids: deps.ids, requestId: request.id })
        return { statusCode: 201, body: toView(row) }
      })
    },
  )
}

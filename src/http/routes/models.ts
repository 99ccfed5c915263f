/**
 * @module http/routes/models
 * The model registry: register a scorecard artefact as the next version of its name, list and inspect
 * versions (metrics, variables, fingerprint, author), make one champion or a challenger or retire it,
 * score rows with a version (scores kept for monitoring), and watch drift (score PSI, variable CSI).
 */
import { Type } from 'typebox'
import { actorOf } from '../../access/index.ts'
import { inTenant } from '../../db/database.ts'
import type { Role } from '../../db/schema.ts'
import { findModel, listModels, modelStatuses, monitorModel, registerModel, scoreWithModel, setModelStatus, type ModelSummary } from '../../scoring/index.ts'
import { batchBodyBytesMax } from '../../core/limits.ts'
import type { App, AppDeps } from '../app.ts'
import { principalOf } from '../authenticate.ts'
import { mutate } from '../idempotency.ts'
import { Problem } from '../problem.ts'
import { Strict, Uuid, problemResponses } from './schemas.ts'

const modelAdmins: readonly Role[] = ['admin', 'risk_analyst']
const modelReaders: readonly Role[] = ['admin', 'risk_analyst', 'reviewer', 'auditor', 'operator']
const Nullable = (schema: ReturnType<typeof Type.Number>) => Type.Union([schema, Type.Null()])
const ModelSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  version: Type.Integer(),
  status: Type.Union(modelStatuses.map((s) => Type.Literal(s))),
  fingerprint: Type.String(),
  metrics: Type.Object({ auc: Nullable(Type.Number()), ks: Nullable(Type.Number()), gini: Nullable(Type.Number()), n: Nullable(Type.Number()), cvAuc: Nullable(Type.Number()) }),
  variables: Type.Array(Type.String()),
  target: Type.Object({ column: Type.String(), bad: Type.String() }),
  author: Type.Object({ kind: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  createdAt: Type.String({ format: 'date-time' }),
})
const view = (m: ModelSummary) => ({ ...m, createdAt: m.createdAt.toISOString() })

export function registerModelRoutes(app: App, deps: AppDeps): void {
  app.post(
    '/v1/models',
    {
      bodyLimit: batchBodyBytesMax,
      config: { access: { roles: modelAdmins } },
      schema: {
        tags: ['models'],
        summary: 'Register a scorecard artefact as the next version of a model name',
        body: Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }), artefact: Type.Object({}, { additionalProperties: true, description: 'the MODEL.json written by `puhui model train`' }) }, Strict),
        response: { 201: ModelSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await registerModel(trx, deps, { tenantId: principal.tenantId, name: request.body.name, artefactJson: JSON.stringify(request.body.artefact), actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        return { statusCode: 201, body: view(result.value) }
      })
    },
  )

  app.get('/v1/models', { config: { access: { roles: modelReaders } }, schema: { tags: ['models'], summary: 'All model versions, by name then newest version', response: { 200: Type.Object({ items: Type.Array(ModelSchema) }), ...problemResponses } } }, async (request) => ({
    items: (await inTenant(deps.db, principalOf(request).tenantId, (trx) => listModels(trx))).map(view),
  }))

  app.get(
    '/v1/models/:id',
    { config: { access: { roles: modelReaders } }, schema: { tags: ['models'], summary: 'A model version with its full artefact (bins, points, metrics)', params: Type.Object({ id: Uuid }, Strict), response: { 200: Type.Object({ ...ModelSchema.properties, artefact: Type.Record(Type.String(), Type.Unknown()) }), ...problemResponses } } },
    async (request) => {
      const model = await inTenant(deps.db, principalOf(request).tenantId, (trx) => findModel(trx, request.params.id))
      if (model === undefined) throw new Problem('not_found', 'no such model')
      return { ...view(model), artefact: model.artefact as unknown as Record<string, unknown> }
    },
  )

  app.post(
    '/v1/models/:id/status',
    { config: { access: { roles: modelAdmins } }, schema: { tags: ['models'], summary: 'Make a version champion (the previous one becomes challenger), challenger, or retire it', params: Type.Object({ id: Uuid }, Strict), body: Type.Object({ status: Type.Union(modelStatuses.map((s) => Type.Literal(s))) }, Strict), response: { 200: ModelSchema, ...problemResponses } } },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await setModelStatus(trx, deps, { tenantId: principal.tenantId, id: request.params.id, status: request.body.status, actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem('not_found', 'no such model')
        return { statusCode: 200, body: view(result.value) }
      })
    },
  )

  app.post(
    '/v1/models/:id/scores',
    {
      config: { access: { roles: ['admin', 'risk_analyst', 'operator'] } },
      schema: {
        tags: ['models'],
        summary: 'Score rows with a model version (scores kept for monitoring)',
        params: Type.Object({ id: Uuid }, Strict),
        body: Type.Object({ rows: Type.Array(Type.Object({ subject: Type.Optional(Type.String({ maxLength: 128 })), values: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Null()])) }, Strict), { minItems: 1, maxItems: 1_000 }) }, Strict),
        response: { 200: Type.Object({ results: Type.Array(Type.Object({ score: Type.Number(), probability: Type.Number(), reasons: Type.Array(Type.Object({ code: Type.String(), en: Type.String(), zh: Type.String() })) })) }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await scoreWithModel(trx, deps, { tenantId: principal.tenantId, id: request.params.id, rows: request.body.rows.map((r) => ({ ...(r.subject === undefined ? {} : { subject: r.subject }), values: r.values })) })
        if (result.status === 'model_not_found') throw new Problem('not_found', 'no such model')
        if (result.status !== 'ok') throw new Problem(result.status)
        return { statusCode: 200, body: { results: result.value } }
      })
    },
  )

  app.get(
    '/v1/models/:id/monitoring',
    {
      config: { access: { roles: modelReaders } },
      schema: {
        tags: ['models'],
        summary: 'Drift since a moment: score PSI and per-variable CSI against the training distribution',
        params: Type.Object({ id: Uuid }, Strict),
        querystring: Type.Object({ since: Type.Optional(Type.String({ format: 'date-time' })) }, Strict),
        response: {
          200: Type.Object({ n: Type.Integer(), scorePsi: Nullable(Type.Number()), scoreStability: Type.Union([Type.Literal('stable'), Type.Literal('watch'), Type.Literal('shift'), Type.Null()]), csi: Type.Record(Type.String(), Nullable(Type.Number())), shiftedVariables: Type.Array(Type.String()) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const since = request.query.since === undefined ? new Date(0) : new Date(request.query.since)
      const result = await inTenant(deps.db, principalOf(request).tenantId, (trx) => monitorModel(trx, { id: request.params.id, since }))
      if (result.status !== 'ok') throw new Problem('not_found', 'no such model')
      return result.value
    },
  )
}

/**
 * @module http/routes/credit
 * The credit data hub over HTTP: consents (granted and revoked by the enterprise itself in the borrower
 * portal, or recorded by staff with evidence), owners (personal data in clear only for a purpose with an
 * active consent; every read audited), and batched ingestion of source records with per-row results.
 */
import { Type } from 'typebox'
import { actorOf, type Principal } from '../../access/index.ts'
import { batchBodyBytesMax, pageSizeMax, transfersPerBatchMax } from '../../core/limits.ts'
import {
  addContact,
  addOwner,
  contactKinds,
  readFeatureHistory,
  readRelatedEnterprises,
  computeEnterpriseFeatures,
  featureCatalogue,
  featureCatalogueVersion,
  consentItems,
  grantConsent,
  ingestRecords,
  ingestStatuses,
  listConsents,
  purposes,
  readOwners,
  readRecords,
  revokeConsent,
  sources,
  type ConsentView,
  type OwnerMasked,
  type Source,
} from '../../credit/index.ts'
import { inTenant } from '../../db/database.ts'
import { scoreEnterprise } from '../../flows/index.ts'
import type { Role } from '../../db/schema.ts'
import type { App, AppDeps } from '../app.ts'
import { principalOf, staffRoles } from '../authenticate.ts'
import { mutate } from '../idempotency.ts'
import { Problem } from '../problem.ts'
import { Strict, Uuid, problemResponses } from './schemas.ts'

const Timestamp = Type.String({ format: 'date-time' })
const PurposeSchema = Type.Union(purposes.map((p) => Type.Literal(p)))
const SourceSchema = Type.Union(sources.map((s) => Type.Literal(s)))
const ConsentSchema = Type.Object({
  id: Uuid,
  enterpriseId: Uuid,
  purpose: PurposeSchema,
  scope: Type.Array(Type.Union(consentItems.map((c) => Type.Literal(c)))),
  grantedAt: Timestamp,
  expiresAt: Timestamp,
  revokedAt: Type.Union([Timestamp, Type.Null()]),
  active: Type.Boolean(),
})
const OwnerRole = Type.Union(['legal_representative', 'shareholder', 'director', 'guarantor'].map((r) => Type.Literal(r)))
const OwnerMaskedSchema = Type.Object({ id: Uuid, enterpriseId: Uuid, role: OwnerRole, sharePct: Type.Union([Type.String(), Type.Null()]), idNumberMasked: Type.String(), createdAt: Timestamp })
const EnterpriseParams = Type.Object({ id: Uuid }, Strict)

const consentView = (c: ConsentView) => ({ ...c, grantedAt: c.grantedAt.toISOString(), expiresAt: c.expiresAt.toISOString(), revokedAt: c.revokedAt?.toISOString() ?? null })
const ownerView = (o: OwnerMasked) => ({ ...o, createdAt: o.createdAt.toISOString() })

const dataStaff: readonly Role[] = ['admin', 'operator', 'risk_analyst', 'reviewer']

/** A borrower acts only for its own enterprise; another answers 404 like a missing one. */
function assertEnterpriseScope(principal: Principal, enterpriseId: string): void {
  if (!staffRoles.includes(principal.role) && principal.enterpriseId !== enterpriseId) throw new Problem('not_found', 'no such enterprise')
}

export function registerCreditRoutes(app: App, deps: AppDeps): void {
  app.post(
    '/v1/enterprises/:id/consents',
    {
      config: { access: { roles: ['admin', 'operator', 'borrower'] } },
      schema: {
        tags: ['credit data'],
        summary: "Grant a consent to use the enterprise's data for a purpose",
        description: 'The enterprise grants it in the borrower portal; staff record one with its evidence (e.g. a signed form). Scope: data sources, and `owners` for personal data.',
        params: EnterpriseParams,
        body: Type.Object({ purpose: PurposeSchema, scope: Type.Array(Type.Union(consentItems.map((c) => Type.Literal(c))), { minItems: 1, uniqueItems: true }), expiresAt: Timestamp, evidence: Type.Optional(Type.String({ maxLength: 500 })) }, Strict),
        response: { 201: ConsentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      assertEnterpriseScope(principal, request.params.id)
      const body = request.body
      return mutate(request, reply, deps, async (trx) => {
        const result = await grantConsent(trx, deps, { tenantId: principal.tenantId, enterpriseId: request.params.id, purpose: body.purpose, scope: body.scope, expiresAt: new Date(body.expiresAt), evidence: body.evidence ?? null, actor: actorOf(principal), requestId: request.id })
        if (result.status === 'enterprise_not_found') throw new Problem('not_found', 'no such enterprise')
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        return { statusCode: 201, body: consentView(result.value) }
      })
    },
  )

  app.get(
    '/v1/enterprises/:id/consents',
    { config: { access: { roles: [...staffRoles, 'borrower'] } }, schema: { tags: ['credit data'], summary: "The enterprise's consents, newest first", params: EnterpriseParams, response: { 200: Type.Object({ items: Type.Array(ConsentSchema) }), ...problemResponses } } },
    async (request) => {
      const principal = principalOf(request)
      assertEnterpriseScope(principal, request.params.id)
      const items = await inTenant(deps.db, principal.tenantId, async (trx) => {
        if ((await trx.selectFrom('enterprises').select('id').where('id', '=', request.params.id).executeTakeFirst()) === undefined) throw new Problem('not_found', 'no such enterprise')
        return listConsents(trx, deps.clock.now(), request.params.id)
      })
      return { items: items.map(consentView) }
    },
  )

  app.post(
    '/v1/consents/:id/revoke',
    { config: { access: { roles: ['admin', 'operator', 'borrower'] } }, schema: { tags: ['credit data'], summary: 'Revoke a consent: its data is no longer read or taken for its purpose', params: Type.Object({ id: Uuid }, Strict), response: { 200: ConsentSchema, ...problemResponses } } },
    async (request, reply) => {
      const principal = principalOf(request)
      const scope = staffRoles.includes(principal.role) ? null : (principal.enterpriseId ?? '00000000-0000-0000-0000-000000000000')
      return mutate(request, reply, deps, async (trx) => {
        const result = await revokeConsent(trx, deps, { tenantId: principal.tenantId, id: request.params.id, enterpriseScope: scope, actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem('not_found', 'no such consent')
        return { statusCode: 200, body: consentView(result.value) }
      })
    },
  )

  app.post(
    '/v1/enterprises/:id/owners',
    {
      config: { access: { roles: ['admin', 'operator', 'borrower'] } },
      schema: {
        tags: ['credit data'],
        summary: 'Record an owner (legal representative, shareholder, director, guarantor)',
        description: 'Name, identity number and phone are encrypted at rest; the answer shows the identity number masked.',
        params: EnterpriseParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            idNumber: Type.String({ pattern: '^[0-9A-Za-z]{6,32}$' }),
            phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 -]{6,20}$' })),
            sharePct: Type.Optional(Type.String({ pattern: '^(100(\\.0{1,4})?|[0-9]{1,2}(\\.[0-9]{1,4})?)$' })),
            role: OwnerRole,
          },
          Strict,
        ),
        response: { 201: OwnerMaskedSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      assertEnterpriseScope(principal, request.params.id)
      const body = request.body
      return mutate(request, reply, deps, async (trx) => {
        const result = await addOwner(trx, deps, { tenantId: principal.tenantId, enterpriseId: request.params.id, name: body.name, idNumber: body.idNumber, phone: body.phone ?? null, sharePct: body.sharePct ?? null, role: body.role as 'shareholder', actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem('not_found', 'no such enterprise')
        return { statusCode: 201, body: ownerView(result.value) }
      })
    },
  )

  app.get(
    '/v1/enterprises/:id/owners',
    {
      config: { access: { roles: [...dataStaff, 'borrower'] } },
      schema: {
        tags: ['credit data'],
        summary: 'Owners in clear, for a purpose (consent required; the read is audited)',
        params: EnterpriseParams,
        querystring: Type.Object({ purpose: PurposeSchema }, Strict),
        response: { 200: Type.Object({ items: Type.Array(Type.Object({ ...OwnerMaskedSchema.properties, name: Type.String(), idNumber: Type.String(), phone: Type.Union([Type.String(), Type.Null()]) })) }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      assertEnterpriseScope(principal, request.params.id)
      // A read of personal data writes an audit entry: it goes through mutate() like a change.
      return mutate(request, reply, deps, async (trx) => {
        const result = await readOwners(trx, deps, { tenantId: principal.tenantId, enterpriseId: request.params.id, purpose: request.query.purpose, actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        return { statusCode: 200, body: { items: result.value.map((o) => ({ ...o, createdAt: o.createdAt.toISOString() })) } }
      })
    },
  )

  app.post(
    '/v1/enterprises/:id/contacts',
    {
      config: { access: { roles: ['admin', 'operator', 'borrower'] } },
      schema: {
        tags: ['credit data'],
        summary: "Record an enterprise's address, phone or bank account (encrypted; links related enterprises)",
        params: EnterpriseParams,
        body: Type.Object({ kind: Type.Union(contactKinds.map((k) => Type.Literal(k))), value: Type.String({ minLength: 3, maxLength: 300 }) }, Strict),
        response: { 201: Type.Object({ id: Uuid, kind: Type.String(), valueMasked: Type.String(), createdAt: Timestamp }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      assertEnterpriseScope(principal, request.params.id)
      return mutate(request, reply, deps, async (trx) => {
        const result = await addContact(trx, deps, { tenantId: principal.tenantId, enterpriseId: request.params.id, kind: request.body.kind, value: request.body.value, actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem('not_found', 'no such enterprise')
        return { statusCode: 201, body: { ...result.value, createdAt: result.value.createdAt.toISOString() } }
      })
    },
  )

  app.get(
    '/v1/enterprises/:id/related',
    {
      config: { access: { roles: dataStaff } },
      schema: {
        tags: ['credit data'],
        summary: 'Enterprises sharing an owner, phone, address or bank account (consent to owners required; audited)',
        params: EnterpriseParams,
        querystring: Type.Object({ purpose: PurposeSchema }, Strict),
        response: { 200: Type.Object({ items: Type.Array(Type.Object({ enterpriseId: Uuid, name: Type.String(), via: Type.String() })) }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const result = await readRelatedEnterprises(trx, deps, { tenantId: principal.tenantId, enterpriseId: request.params.id, purpose: request.query.purpose, actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        return { statusCode: 200, body: { items: result.value } }
      })
    },
  )

  app.get(
    '/v1/enterprises/:id/features',
    {
      config: { access: { roles: [...dataStaff, 'borrower'] } },
      schema: {
        tags: ['credit data'],
        summary: 'Features and cross-check flags as of a business date (consented sources only; audited)',
        description: 'Known-by semantics: only records ingested by `knownBy` (default now) about periods up to `asOf` (default the business date) are used. See GET /v1/features/catalogue for the definitions.',
        params: EnterpriseParams,
        querystring: Type.Object({ purpose: PurposeSchema, asOf: Type.Optional(Type.String({ format: 'date' })), knownBy: Type.Optional(Timestamp) }, Strict),
        response: {
          200: Type.Object({
            catalogueVersion: Type.String(),
            asOf: Type.String(),
            knownBy: Timestamp,
            features: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
            flags: Type.Array(Type.Object({ code: Type.String(), severity: Type.String(), evidence: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])), en: Type.String(), zh: Type.String() })),
            sourcesUsed: Type.Array(Type.String()),
            sourcesWithoutConsent: Type.Array(Type.String()),
          }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      assertEnterpriseScope(principal, request.params.id)
      return mutate(request, reply, deps, async (trx) => {
        if ((await trx.selectFrom('enterprises').select('id').where('id', '=', request.params.id).executeTakeFirst()) === undefined) throw new Problem('not_found', 'no such enterprise')
        const tenant = await trx.selectFrom('tenants').select('business_date').executeTakeFirstOrThrow()
        const report = await computeEnterpriseFeatures(trx, deps, {
          tenantId: principal.tenantId,
          enterpriseId: request.params.id,
          purpose: request.query.purpose,
          asOf: request.query.asOf ?? tenant.business_date,
          knownBy: request.query.knownBy === undefined ? deps.clock.now() : new Date(request.query.knownBy),
          actor: actorOf(principal),
          requestId: request.id,
        })
        return { statusCode: 200, body: { ...report, knownBy: report.knownBy.toISOString() } }
      })
    },
  )

  app.get(
    '/v1/enterprises/:id/feature-history',
    {
      config: { access: { roles: [...dataStaff, 'borrower'] } },
      schema: {
        tags: ['credit data'],
        summary: 'Features recomputed as data arrived (snapshots by business date), oldest first (consent required; audited)',
        params: EnterpriseParams,
        querystring: Type.Object({ purpose: PurposeSchema }, Strict),
        response: { 200: Type.Object({ items: Type.Array(Type.Object({ asOf: Type.String(), computedAt: Timestamp, catalogueVersion: Type.String(), features: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])), flags: Type.Array(Type.Record(Type.String(), Type.Unknown())) })) }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      assertEnterpriseScope(principal, request.params.id)
      return mutate(request, reply, deps, async (trx) => {
        const result = await readFeatureHistory(trx, deps, { tenantId: principal.tenantId, enterpriseId: request.params.id, purpose: request.query.purpose, actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        return { statusCode: 200, body: { items: result.value.map((snapshot) => ({ ...snapshot, computedAt: snapshot.computedAt.toISOString() })) } }
      })
    },
  )

  app.get(
    '/v1/enterprises/:id/score',
    {
      config: { access: { roles: dataStaff } },
      schema: {
        tags: ['credit data'],
        summary: 'Score the enterprise with the champion of a model name, from its features as of a date, with reasons',
        description: "The features (consented sources only; the read audited) are the model's inputs; the score is kept for the model's drift monitoring.",
        params: EnterpriseParams,
        querystring: Type.Object({ purpose: PurposeSchema, model: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }), asOf: Type.Optional(Type.String({ format: 'date' })) }, Strict),
        response: {
          200: Type.Object({
            model: Type.Object({ id: Uuid, name: Type.String(), version: Type.Integer() }),
            score: Type.Number(),
            probability: Type.Number(),
            reasons: Type.Array(Type.Object({ code: Type.String(), en: Type.String(), zh: Type.String() })),
            asOf: Type.String(),
            flags: Type.Array(Type.Object({ code: Type.String(), severity: Type.String(), en: Type.String(), zh: Type.String() })),
          }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        if ((await trx.selectFrom('enterprises').select('id').where('id', '=', request.params.id).executeTakeFirst()) === undefined) throw new Problem('not_found', 'no such enterprise')
        const tenant = await trx.selectFrom('tenants').select('business_date').executeTakeFirstOrThrow()
        const asOf = request.query.asOf ?? tenant.business_date
        const result = await scoreEnterprise(trx, deps, { tenantId: principal.tenantId, enterpriseId: request.params.id, purpose: request.query.purpose, modelName: request.query.model, asOf, knownBy: deps.clock.now(), actor: actorOf(principal), requestId: request.id })
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        const { model, score, probability, reasons, features } = result.value
        return { statusCode: 200, body: { model, score, probability, reasons: [...reasons], asOf, flags: features.flags.map((f) => ({ code: f.code, severity: f.severity, en: f.en, zh: f.zh })) } }
      })
    },
  )

  app.get(
    '/v1/features/catalogue',
    { config: { access: { roles: [...staffRoles, 'borrower'] } }, schema: { tags: ['credit data'], summary: 'The feature catalogue: every feature, its source and definition', response: { 200: Type.Object({ version: Type.String(), features: Type.Array(Type.Object({ name: Type.String(), source: Type.String(), description: Type.String() })) }) } } },
    async () => ({ version: featureCatalogueVersion, features: featureCatalogue.map((d) => ({ ...d })) }),
  )

  app.post(
    '/v1/data/:source',
    {
      bodyLimit: batchBodyBytesMax,
      config: { access: { roles: ['admin', 'operator'] } },
      schema: {
        tags: ['credit data'],
        summary: 'Ingest records of a data source (batch)',
        description: 'Up to 8,190 records of one source, each `{externalId, enterpriseId, …fields}` (docs/credit-data.md). Validated row by row; idempotent per (source, externalId); only for enterprises with an active consent covering the source. Answers 200 with one result per row.',
        params: Type.Object({ source: SourceSchema }, Strict),
        body: Type.Object({ records: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: transfersPerBatchMax }) }, Strict),
        response: {
          200: Type.Object({
            results: Type.Array(
              Type.Object({
                index: Type.Integer(),
                externalId: Type.Union([Type.String(), Type.Null()]),
                status: Type.Union(ingestStatuses.map((s) => Type.Literal(s))),
                errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
              }),
            ),
          }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      return mutate(request, reply, deps, async (trx) => {
        const results = await ingestRecords(trx, deps, { tenantId: principal.tenantId, source: request.params.source as Source, rows: request.body.records as Record<string, unknown>[], provenance: { actor: actorOf(principal), channel: 'api', requestId: request.id } })
        return { statusCode: 200, body: { results } }
      })
    },
  )

  app.get(
    '/v1/enterprises/:id/records',
    {
      config: { access: { roles: [...dataStaff, 'borrower'] } },
      schema: {
        tags: ['credit data'],
        summary: "An enterprise's records of a source, as known by a moment, for a purpose (consent required; audited)",
        params: EnterpriseParams,
        querystring: Type.Object({ source: SourceSchema, purpose: PurposeSchema, asOf: Type.Optional(Timestamp), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: 100 })) }, Strict),
        response: {
          200: Type.Object({ items: Type.Array(Type.Object({ id: Uuid, source: Type.String(), externalId: Type.String(), occurredOn: Type.String(), ingestedAt: Timestamp, fields: Type.Record(Type.String(), Type.Unknown()) })) }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      assertEnterpriseScope(principal, request.params.id)
      return mutate(request, reply, deps, async (trx) => {
        const result = await readRecords(trx, deps, {
          tenantId: principal.tenantId,
          enterpriseId: request.params.id,
          source: request.query.source as Source,
          purpose: request.query.purpose,
          asOf: request.query.asOf === undefined ? deps.clock.now() : new Date(request.query.asOf),
          actor: actorOf(principal),
          requestId: request.id,
          limit: request.query.limit ?? 100,
        })
        if (result.status !== 'ok') throw new Problem(result.status, result.detail)
        return { statusCode: 200, body: { items: result.value.map((r) => ({ ...r, ingestedAt: r.ingestedAt.toISOString() })) } }
      })
    },
  )
}

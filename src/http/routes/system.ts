/**
 * @module http/routes/system
 * Liveness, readiness and the OpenAPI document.
 */
import { sql } from 'kysely'
import { Type } from 'typebox'
import type { App, AppDeps } from '../app.ts'
import { Problem } from '../problem.ts'

export function registerSystemRoutes(app: App, deps: AppDeps): void {
  app.get(
    '/health',
    { config: { access: 'public' }, schema: { tags: ['system'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String() }) } } },
    async () => ({ status: 'ok' as const, version: deps.version }),
  )
  app.get(
    '/ready',
    { config: { access: 'public' }, schema: { tags: ['system'], summary: 'The database is reachable', response: { 200: Type.Object({ status: Type.Literal('ready') }), 503: Type.Ref('Problem') } } },
    async () => {
      try {
        await sql`select 1`.execute(deps.db)
      } catch {
        throw new Problem('database_unavailable')
      }
      return { status: 'ready' as const }
    },
  )
  app.get(
    '/v1/keys/signing',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Public keys that sign journal tree heads, by key id',
        description: 'Ed25519 public keys (SPKI PEM). Signed tree heads name the key id; retired keys stay listed so old signatures still verify.',
        security: [],
        response: { 200: Type.Object({ current: Type.String(), keys: Type.Array(Type.Object({ keyId: Type.String(), algorithm: Type.Literal('Ed25519'), publicKeyPem: Type.String() })) }) },
      },
    },
    async () => ({
      current: deps.keyring.signing.keyId,
      keys: [...deps.keyring.publicKeys].map(([keyId, publicKeyPem]) => ({ keyId, algorithm: 'Ed25519' as const, publicKeyPem })),
    }),
  )
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger())
}

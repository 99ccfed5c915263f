/**
 * @module http/authenticate
 * Resolves the caller once per request (an API key in `Authorization: Bearer`, or the console's session
 * cookie) and enforces the roles each route declares. A /v1 route without a declared `access` fails at
 * start-up: access is decided on every route, never by omission. Cookie-authenticated state changes
 * must carry the session's CSRF token in `X-CSRF-Token` (the cookie is also SameSite=Strict).
 */
import type { FastifyRequest } from 'fastify'
import { authenticateApiKey, authenticateSession, type Principal } from '../access/index.ts'
import { assert } from '../core/assert.ts'
import type { Role } from '../db/schema.ts'
import type { App, AppDeps } from './app.ts'
import { Problem } from './problem.ts'

export type Access = 'public' | { roles: readonly Role[] }
export const sessionCookie = 'puhui_session'
export const mutatingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export const anyRole: readonly Role[] = ['admin', 'operator', 'risk_analyst', 'reviewer', 'borrower', 'investor', 'core_enterprise', 'auditor']
/** Roles of the operator's own staff (not borrowers, investors or partners). */
export const staffRoles: readonly Role[] = ['admin', 'operator', 'risk_analyst', 'reviewer', 'auditor']

async function resolvePrincipal(request: FastifyRequest, deps: AppDeps): Promise<Principal> {
  const header = request.headers.authorization
  if (header !== undefined) {
    const match = /^Bearer (\S+)$/i.exec(header)
    if (match === null) throw new Problem('unauthenticated', 'the Authorization header must be "Bearer <API key>"')
    const result = await authenticateApiKey(deps.db, match[1] as string)
    if (result.status !== 'ok') throw new Problem(result.status, result.detail)
    return result.value
  }
  const token = request.cookies[sessionCookie]
  if (token === undefined || token === '') throw new Problem('unauthenticated', 'send an API key (Authorization: Bearer …) or log in')
  const result = await authenticateSession(deps, token)
  if (result.status !== 'ok') throw new Problem(result.status, result.detail)
  return result.value
}

export function registerAuthentication(app: App, deps: AppDeps): void {
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/')) assert(route.config?.access !== undefined, () => `route ${route.method} ${route.url} declares no access`)
  })
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access
    if (access === undefined || access === 'public') return
    const principal = await resolvePrincipal(request, deps)
    request.principal = principal
    if (!access.roles.includes(principal.role)) throw new Problem('forbidden', `this route requires one of the roles: ${access.roles.join(', ')}`)
    if (principal.session !== undefined && mutatingMethods.has(request.method) && request.headers['x-csrf-token'] !== principal.session.csrfToken) {
      throw new Problem('csrf_token_invalid')
    }
  })
}

/** The authenticated caller of a route that declared roles. */
export function principalOf(request: FastifyRequest): Principal {
  assert(request.principal !== null, 'principal resolved by the onRequest hook')
  return request.principal
}

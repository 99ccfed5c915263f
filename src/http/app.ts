/**
 * @module http/app
 * Builds the Fastify application: validation (route schemas are the one source for validation, types
 * and the OpenAPI document), problem+json errors, request ids, authentication and declared roles,
 * idempotency, metrics, the API reference at /docs and the console at /.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import fastifyCookie from '@fastify/cookie'
import fastifyStatic from '@fastify/static'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify'
import type { Kysely } from 'kysely'
import type { PayoutRail } from '../flows/index.ts'
import type { Logger } from 'pino'
import type { Principal } from '../access/index.ts'
import type { Clock } from '../core/clock.ts'
import type { IdSource } from '../core/ids.ts'
import { requestBodyBytesMax, requestTimeoutMs } from '../core/limits.ts'
import type { DB } from '../db/schema.ts'
import type { Keyring } from '../keys/index.ts'
import { registerAuthentication, type Access } from './authenticate.ts'
import { registerIdempotency, type Reservation } from './idempotency.ts'
import { createMetrics } from './metrics.ts'
import { Problem, ProblemSchema, problemBody, type FieldError } from './problem.ts'
import { registerRoutes } from './routes/index.ts'

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

export type AppDeps = {
  db: Kysely<DB>
  clock: Clock
  ids: IdSource
  log: Logger
  cookieSecure: boolean
  keyring: Keyring
  /** Built console (Vite output); served at / when present. */
  consoleDir: string | undefined
  version: string
  /** The payout rail for disbursements and draws; the in-process simulated bank when absent. Shared with the
   * server's periodic reconciliation, which must ask the same rail. */
  rail?: PayoutRail
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: 'public', or the roles allowed. Every /v1 route must declare it. */
    access?: Access
  }
  interface FastifyRequest {
    principal: Principal | null
    idempotency: Reservation | null
  }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv
const ajvOptions = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const
// Bodies are validated strictly (a string is never coerced to a number); query strings and path
// parameters are text on the wire, so they are coerced to the schema's types.
const strictAjv = addFormats(new Ajv({ ...ajvOptions, coerceTypes: false }))
const coercingAjv = addFormats(new Ajv({ ...ajvOptions, coerceTypes: 'array' }))

function fieldErrors(errors: ErrorObject[]): FieldError[] {
  return errors.map((error) => {
    const base = error.instancePath === '' ? '' : error.instancePath
    switch (error.keyword) {
      case 'additionalProperties':
        return { path: `${base}/${String(error.params.additionalProperty)}`, code: 'unknown_field', message: 'is not a field of this request' }
      case 'required':
        return { path: `${base}/${String(error.params.missingProperty)}`, code: 'missing_field', message: 'is required' }
      case 'type':
        return { path: base || '/', code: 'wrong_type', message: `must be ${String(error.params.type)}` }
      default:
        return { path: base || '/', code: 'invalid_field', message: error.message ?? 'is invalid' }
    }
  })
}

/** The most specific code for a set of field errors: unknown before missing before type before value. */
function validationCode(errors: FieldError[]): 'unknown_field' | 'missing_field' | 'wrong_type' | 'invalid_field' {
  for (const code of ['unknown_field', 'missing_field', 'wrong_type'] as const) {
    if (errors.some((error) => error.code === code)) return code
  }
  return 'invalid_field'
}

function toProblem(error: FastifyError & { validation?: ErrorObject[] }): Problem {
  if (error instanceof Problem) return error
  if (error.validation !== undefined) {
    const errors = fieldErrors(error.validation)
    const context = (error as { validationContext?: string }).validationContext ?? 'body'
    return new Problem(validationCode(errors), `the ${context} does not match the route schema`, errors.map((e) => ({ ...e, path: `${context}${e.path}` })))
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem('body_too_large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Problem('unsupported_media_type', error.message)
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new Problem('malformed_json', error.message)
    case 'FST_ERR_REQUEST_TIMEOUT':
      return new Problem('request_timeout')
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return new Problem('malformed_json', error.message)
  const code = (error as { code?: string }).code
  if (code === 'ECONNREFUSED' || code === '57P01' || code === '57P03' || code === '08006' || code === '08001') return new Problem('database_unavailable')
  return new Problem('internal_error')
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.statusCode)
    .type('application/problem+json')
    .send(problemBody(problem, request.url.split('?')[0] ?? request.url, request.id))
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const consoleRoot = deps.consoleDir !== undefined && fs.existsSync(path.join(deps.consoleDir, 'index.html')) ? deps.consoleDir : undefined
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : deps.ids.next()
    },
    bodyLimit: requestBodyBytesMax,
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs * 2,
    return503OnClosing: true,
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictAjv.compile(schema) : coercingAjv.compile(schema)))
  app.decorateRequest('principal', null)
  app.decorateRequest('idempotency', null)
  app.addSchema(ProblemSchema)

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id)
    return payload
  })
  app.addHook('onResponse', async (request, reply) => {
    const level = reply.statusCode >= 500 ? 'error' : 'info'
    request.log[level]({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request')
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error)
    if (problem.code === 'internal_error' || problem.code === 'database_unavailable') request.log.error({ err: error }, 'request failed')
    return sendProblem(request, reply, problem)
  })
  app.setNotFoundHandler((request, reply) => {
    if (request.method === 'GET' && consoleRoot !== undefined && !request.url.startsWith('/v1/') && (request.headers.accept ?? '').includes('text/html')) {
      return reply.type('text/html').sendFile('index.html') // the console is a single-page app
    }
    return sendProblem(request, reply, new Problem('route_not_found', `${request.method} ${request.url.split('?')[0]}`))
  })

  createMetrics(app)
  await app.register(fastifyCookie)
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Puhui API', version: deps.version, description: 'Inclusive-finance platform for small and micro businesses. Errors: application/problem+json, codes in docs/errors.md. Mutating routes accept an `Idempotency-Key` header.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer puhui_…`' },
          session: { type: 'apiKey', in: 'cookie', name: 'puhui_session', description: 'Console session (POST /v1/auth/login); mutating requests also need the `X-CSRF-Token` header.' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } })
  registerAuthentication(app, deps)
  registerIdempotency(app, deps)
  await registerRoutes(app, deps)

  if (consoleRoot !== undefined) {
    await app.register(fastifyStatic, { root: consoleRoot, prefix: '/', wildcard: true, index: 'index.html' })
  } else {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html').send('<!doctype html><title>Puhui</title><p>The console is not built. Run <code>npm run build</code> (npm ci does it). API reference: <a href="/docs">/docs</a>.</p>'),
    )
  }
  return app
}

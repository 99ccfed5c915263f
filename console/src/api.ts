// Fetch wrapper for the Puhui API: cookie session, JSON, the CSRF header, and problem+json errors as ApiError.

export const roles = ['admin', 'operator', 'risk_analyst', 'reviewer', 'borrower', 'investor', 'core_enterprise', 'auditor'] as const
export type Role = (typeof roles)[number]

export type Tenant = { id: string; slug: string; name: string; timeZone: string; businessDate: string }
export type User = { id: string; email: string; displayName: string; role: Role; enterpriseId: string | null; disabled: boolean; createdAt: string }
export type Principal = { kind: 'user' | 'api_key'; id: string; role: Role; enterpriseId: string | null }
export type Me = { tenant: Tenant; principal: Principal; user: User | null; csrfToken: string | null }
export type LoginResponse = { user: User; csrfToken: string; expiresAt: string }
export type Page<T> = { items: T[]; nextCursor: string | null }
export type Enterprise = { id: string; name: string; uscc: string | null; sector: string | null; region: string | null; foundedOn: string | null; createdAt: string }
export type AuditEntry = {
  id: string
  at: string
  actorKind: string
  actorId: string | null
  action: string
  targetKind: string | null
  targetId: string | null
  purpose: string | null
  requestId: string | null
}
export const purposes = ['credit_assessment', 'monitoring', 'identity_verification'] as const
export type Purpose = (typeof purposes)[number]
/** What a consent may cover: the data sources, and `owners` for personal data. */
export const consentItems = ['registration', 'tax_filings', 'payment_flows', 'orders', 'logistics', 'reviews', 'utilities', 'owners'] as const
export type ConsentItem = (typeof consentItems)[number]
export type Consent = { id: string; enterpriseId: string; purpose: Purpose; scope: ConsentItem[]; grantedAt: string; expiresAt: string; revokedAt: string | null; active: boolean }
export type ConsentGrant = { purpose: Purpose; scope: ConsentItem[]; expiresAt: string; evidence?: string }
export type FeatureFlag = { code: string; severity: string; evidence: Record<string, number | string>; en: string; zh: string }
export type FeatureReport = {
  catalogueVersion: string
  asOf: string
  knownBy: string
  features: Record<string, number | null>
  flags: FeatureFlag[]
  sourcesUsed: string[]
  sourcesWithoutConsent: string[]
}
export type FeatureDefinition = { name: string; source: string; description: string }
export type FeatureCatalogue = { version: string; features: FeatureDefinition[] }
export type DashboardSummary = {
  tenant: Tenant
  enterprises: number
  users: number
  activeApiKeys: number
  usersByRole: Partial<Record<Role, number>>
  auditEventsByDay: { day: string; events: number }[]
}
export const modelStatuses = ['registered', 'champion', 'challenger', 'retired'] as const
export type ModelStatus = (typeof modelStatuses)[number]
export type ModelSummary = {
  id: string
  name: string
  version: number
  status: ModelStatus
  fingerprint: string
  metrics: { auc: number | null; ks: number | null; gini: number | null; n: number | null; cvAuc: number | null }
  variables: string[]
  target: { column: string; bad: string }
  author: { kind: string; id: string | null }
  createdAt: string
}
/** A version with its artefact (MODEL.json): read defensively, it is whatever the trainer wrote. */
export type ModelDetail = ModelSummary & { artefact: Record<string, unknown> }
export type ModelMonitoring = { n: number; scorePsi: number | null; scoreStability: 'stable' | 'watch' | 'shift' | null; csi: Record<string, number | null>; shiftedVariables: string[] }

export type FieldError = { path: string; code: string; message: string }

/** A failed request: `code` is the API's stable problem code (docs/errors.md), or `network`. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: string
  readonly title: string
  readonly detail: string | undefined
  readonly requestId: string | undefined
  /** Field errors (validation, strategy documents): each with its path and reason. */
  readonly errors: readonly FieldError[]
  constructor(status: number, code: string, title: string, detail?: string, requestId?: string, errors: readonly FieldError[] = []) {
    super(detail ?? title)
    this.status = status
    this.code = code
    this.title = title
    this.detail = detail
    this.requestId = requestId
    this.errors = errors
  }
}

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  return new ApiError(0, 'client_error', 'Unexpected error', error instanceof Error ? error.message : String(error))
}

// The CSRF token of the current session: kept in memory only, sent on every state-changing request.
let csrfToken: string | null = null
let onSessionLost: (() => void) | null = null

export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

/** Called when an authenticated request answers 401 (the session ended elsewhere or expired). */
export function setSessionLostHandler(handler: (() => void) | null): void {
  onSessionLost = handler
}

type Problem = { code?: unknown; title?: unknown; detail?: unknown; requestId?: unknown; errors?: unknown }
const fieldErrors = (value: unknown): FieldError[] =>
  Array.isArray(value) ? value.filter((e): e is FieldError => typeof e === 'object' && e !== null && typeof (e as FieldError).path === 'string' && typeof (e as FieldError).message === 'string') : []
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

export async function request<T>(method: string, path: string, options: { body?: unknown; signal?: AbortSignal | undefined; quietUnauthenticated?: boolean; idempotencyKey?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET' && method !== 'HEAD' && csrfToken !== null) headers['x-csrf-token'] = csrfToken
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    })
  } catch (error) {
    if (options.signal?.aborted === true) throw error
    throw new ApiError(0, 'network', 'Network error', error instanceof Error ? error.message : undefined)
  }
  if (response.ok) {
    if (response.status === 204) return undefined as T
    return (await response.json()) as T
  }
  const type = response.headers.get('content-type') ?? ''
  let problem: Problem = {}
  if (type.includes('json')) {
    try {
      problem = (await response.json()) as Problem
    } catch {
      // a broken error body: keep the status
    }
  }
  const error = new ApiError(response.status, text(problem.code) ?? `http_${response.status}`, text(problem.title) ?? response.statusText, text(problem.detail), text(problem.requestId) ?? response.headers.get('x-request-id') ?? undefined, fieldErrors(problem.errors))
  if (response.status === 401 && options.quietUnauthenticated !== true) onSessionLost?.()
  throw error
}

export type EnterpriseScore = {
  model: { id: string; name: string; version: number }
  score: number
  probability: number
  reasons: { code: string; en: string; zh: string }[]
  asOf: string
  flags: { code: string; severity: string; en: string; zh: string }[]
}

export const api = {
  me: (signal?: AbortSignal) => request<Me>('GET', '/v1/me', { signal, quietUnauthenticated: true }),
  login: (body: { tenant: string; email: string; password: string }) => request<LoginResponse>('POST', '/v1/auth/login', { body, quietUnauthenticated: true }),
  logout: () => request<void>('POST', '/v1/auth/logout', { quietUnauthenticated: true }),
  dashboard: (signal?: AbortSignal) => request<DashboardSummary>('GET', '/v1/dashboard/summary', { signal }),
  enterprises: (after: string | undefined, signal?: AbortSignal) => request<Page<Enterprise>>('GET', `/v1/enterprises?${query({ limit: 20, after })}`, { signal }),
  enterprise: (id: string, signal?: AbortSignal) => request<Enterprise>('GET', `/v1/enterprises/${encodeURIComponent(id)}`, { signal }),
  consents: (enterpriseId: string, signal?: AbortSignal) => request<{ items: Consent[] }>('GET', `/v1/enterprises/${encodeURIComponent(enterpriseId)}/consents`, { signal }),
  grantConsent: (enterpriseId: string, body: ConsentGrant) => request<Consent>('POST', `/v1/enterprises/${encodeURIComponent(enterpriseId)}/consents`, { body }),
  revokeConsent: (id: string) => request<Consent>('POST', `/v1/consents/${encodeURIComponent(id)}/revoke`),
  /** Reading features is audited server-side with the purpose. */
  features: (enterpriseId: string, params: { purpose: Purpose; asOf: string }, signal?: AbortSignal) =>
    request<FeatureReport>('GET', `/v1/enterprises/${encodeURIComponent(enterpriseId)}/features?${query(params)}`, { signal }),
  featureCatalogue: (signal?: AbortSignal) => request<FeatureCatalogue>('GET', '/v1/features/catalogue', { signal }),
  auditLog: (before: string | undefined, signal?: AbortSignal) => request<Page<AuditEntry>>('GET', `/v1/audit-log?${query({ limit: 50, before })}`, { signal }),
  models: (signal?: AbortSignal) => request<{ items: ModelSummary[] }>('GET', '/v1/models', { signal }),
  model: (id: string, signal?: AbortSignal) => request<ModelDetail>('GET', `/v1/models/${encodeURIComponent(id)}`, { signal }),
  registerModel: (body: { name: string; artefact: unknown }) => request<ModelSummary>('POST', '/v1/models', { body }),
  setModelStatus: (id: string, status: ModelStatus) => request<ModelSummary>('POST', `/v1/models/${encodeURIComponent(id)}/status`, { body: { status } }),
  /** Scores the enterprise with the champion of a model name (the features read is audited). */
  enterpriseScore: (enterpriseId: string, params: { purpose: Purpose; model: string; asOf: string }, signal?: AbortSignal) =>
    request<EnterpriseScore>('GET', `/v1/enterprises/${encodeURIComponent(enterpriseId)}/score?${query(params)}`, { signal }),
  modelMonitoring: (id: string, since: string | undefined, signal?: AbortSignal) => request<ModelMonitoring>('GET', `/v1/models/${encodeURIComponent(id)}/monitoring?${query({ since })}`, { signal }),
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value))
  return search.toString()
}

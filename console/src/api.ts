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
export type DashboardSummary = {
  tenant: Tenant
  enterprises: number
  users: number
  activeApiKeys: number
  usersByRole: Partial<Record<Role, number>>
  auditEventsByDay: { day: string; events: number }[]
}

/** A failed request: `code` is the API's stable problem code (docs/errors.md), or `network`. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: string
  readonly title: string
  readonly detail: string | undefined
  readonly requestId: string | undefined
  constructor(status: number, code: string, title: string, detail?: string, requestId?: string) {
    super(detail ?? title)
    this.status = status
    this.code = code
    this.title = title
    this.detail = detail
    this.requestId = requestId
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

type Problem = { code?: unknown; title?: unknown; detail?: unknown; requestId?: unknown }
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

async function request<T>(method: string, path: string, options: { body?: unknown; signal?: AbortSignal | undefined; quietUnauthenticated?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
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
  const error = new ApiError(response.status, text(problem.code) ?? `http_${response.status}`, text(problem.title) ?? response.statusText, text(problem.detail), text(problem.requestId) ?? response.headers.get('x-request-id') ?? undefined)
  if (response.status === 401 && options.quietUnauthenticated !== true) onSessionLost?.()
  throw error
}

export const api = {
  me: (signal?: AbortSignal) => request<Me>('GET', '/v1/me', { signal, quietUnauthenticated: true }),
  login: (body: { tenant: string; email: string; password: string }) => request<LoginResponse>('POST', '/v1/auth/login', { body, quietUnauthenticated: true }),
  logout: () => request<void>('POST', '/v1/auth/logout', { quietUnauthenticated: true }),
  dashboard: (signal?: AbortSignal) => request<DashboardSummary>('GET', '/v1/dashboard/summary', { signal }),
  enterprises: (after: string | undefined, signal?: AbortSignal) => request<Page<Enterprise>>('GET', `/v1/enterprises?${query({ limit: 20, after })}`, { signal }),
  auditLog: (before: string | undefined, signal?: AbortSignal) => request<Page<AuditEntry>>('GET', `/v1/audit-log?${query({ limit: 50, before })}`, { signal }),
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value))
  return search.toString()
}

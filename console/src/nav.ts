// The console's modules (path, label, roles, built or not) and a tiny History-API router.
import { useEffect, useState } from 'react'
import type { Role } from './api.ts'
import type { MessageKey } from './i18n.ts'

export type ModuleId =
  | 'home'
  | 'enterprises'
  | 'applications'
  | 'loans'
  | 'review'
  | 'strategies'
  | 'models'
  | 'ledger'
  | 'users'
  | 'audit'
  | 'portal'
  | 'investor'
  | 'supplyChain'

export type Module = { id: ModuleId; path: string; label: MessageKey; roles: readonly Role[]; built: boolean }

const staff: readonly Role[] = ['admin', 'operator', 'risk_analyst', 'reviewer', 'auditor']
const everyone: readonly Role[] = [...staff, 'borrower', 'investor', 'core_enterprise']
/** Roles whose home is the operator dashboard (GET /v1/dashboard/summary); the others get a role home. */
export const dashboardRoles: readonly Role[] = staff

export const modules: readonly Module[] = [
  { id: 'home', path: '/', label: 'nav.home', roles: everyone, built: true },
  { id: 'enterprises', path: '/enterprises', label: 'nav.enterprises', roles: [...staff, 'borrower'], built: true },
  { id: 'applications', path: '/applications', label: 'nav.applications', roles: ['admin', 'operator', 'risk_analyst', 'reviewer', 'auditor'], built: true },
  { id: 'review', path: '/review', label: 'nav.review', roles: ['admin', 'risk_analyst', 'reviewer'], built: true },
  { id: 'loans', path: '/loans', label: 'nav.loans', roles: ['admin', 'operator', 'risk_analyst', 'reviewer', 'auditor'], built: true },
  { id: 'strategies', path: '/strategies', label: 'nav.strategies', roles: ['admin', 'risk_analyst', 'reviewer', 'auditor'], built: true },
  { id: 'models', path: '/models', label: 'nav.models', roles: ['admin', 'risk_analyst', 'reviewer', 'auditor', 'operator'], built: true },
  { id: 'ledger', path: '/journal', label: 'nav.ledger', roles: ['admin', 'auditor'], built: true },
  { id: 'users', path: '/users', label: 'nav.users', roles: ['admin'], built: false },
  { id: 'audit', path: '/audit-log', label: 'nav.audit', roles: ['admin', 'auditor'], built: true },
  { id: 'portal', path: '/portal', label: 'nav.portal', roles: ['borrower'], built: true },
  { id: 'investor', path: '/investor', label: 'nav.investor', roles: ['investor'], built: false },
  { id: 'supplyChain', path: '/supply-chain', label: 'nav.supplyChain', roles: ['core_enterprise'], built: false },
]

export function modulesFor(role: Role): Module[] {
  return modules.filter((module) => module.roles.includes(role))
}

export function moduleAt(path: string): Module | undefined {
  const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path
  if (enterpriseIdAt(normalized) !== undefined) return modules.find((module) => module.id === 'enterprises')
  if (modelIdAt(normalized) !== undefined) return modules.find((module) => module.id === 'models')
  for (const [prefix, id] of detailModules) if (detailIdAt(prefix, normalized) !== undefined) return modules.find((module) => module.id === id)
  return modules.find((module) => module.path === normalized)
}

/** Modules whose pages open one record at `<prefix>/:id`. */
const detailModules: readonly [string, ModuleId][] = [['/applications', 'applications'], ['/review', 'review'], ['/loans', 'loans'], ['/strategies', 'strategies'], ['/portal/loans', 'portal']]

/** The record id of a detail path (`<prefix>/:uuid`), if the path is one. */
export function detailIdAt(prefix: string, path: string): string | undefined {
  if (!path.startsWith(`${prefix}/`)) return undefined
  const rest = path.slice(prefix.length + 1).replace(/\/+$/, '')
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(rest) ? rest.toLowerCase() : undefined
}

const enterprisePattern = /^\/enterprises\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i

/** The enterprise id of a profile path (/enterprises/:id), if it is one. */
export function enterpriseIdAt(path: string): string | undefined {
  return enterprisePattern.exec(path)?.[1]?.toLowerCase()
}

export function enterprisePath(id: string): string {
  return `/enterprises/${encodeURIComponent(id)}`
}

const modelPattern = /^\/models\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i

/** The model version id of a model page path (/models/:id), if it is one. */
export function modelIdAt(path: string): string | undefined {
  return modelPattern.exec(path)?.[1]?.toLowerCase()
}

export function modelPath(id: string): string {
  return `/models/${encodeURIComponent(id)}`
}

/** The home label: the dashboard for staff, a plain home for the others. */
export function homeLabel(role: Role): MessageKey {
  return dashboardRoles.includes(role) ? 'nav.dashboard' : 'nav.home'
}

const listeners = new Set<() => void>()

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === location.pathname + location.search) return
  if (options.replace === true) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  for (const listener of listeners) listener()
  window.scrollTo(0, 0)
}

/** The current path; re-renders on navigate() and on the browser's back and forward buttons. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname)
  useEffect(() => {
    const update = () => setPath(location.pathname)
    listeners.add(update)
    window.addEventListener('popstate', update)
    return () => {
      listeners.delete(update)
      window.removeEventListener('popstate', update)
    }
  }, [])
  return path
}

/**
 * @module access
 * Tenants, principals (users, API keys, sessions), roles and the audit log.
 */
export * from './access-service.ts'
export { hashPassword, verifyPassword, parseApiKey } from './credentials.ts'
export { roles, type Role } from '../db/schema.ts'

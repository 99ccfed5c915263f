/**
 * @module credit
 * The credit data hub: enterprises' identifiers, sources and their record schemas, consents, owners
 * (personal data encrypted, reads audited), ingestion.
 */
export * from './uscc.ts'
export * from './sources.ts'
export * from './credit-service.ts'
export * from './features.ts'
export * from './cross-checks.ts'

/**
 * @module keys
 * Signing and data-encryption keys (see keyring.ts).
 */
export * from './keyring.ts'

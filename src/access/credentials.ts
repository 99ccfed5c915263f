/**
 * @module access/credentials
 * API keys, session tokens and passwords.
 *
 * API key format: `puhui_<prefix>_<secret>`: a 12-character lookup prefix (not secret) and 256 random
 * bits. We store only SHA-256 of the whole key: checking one costs microseconds, and a 256-bit random
 * secret needs no slow hash (argon2id is for passwords, which people choose and which are guessable).
 */
import crypto from 'node:crypto'
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2'
import { apiKeyPrefixLength } from '../core/limits.ts'

const keyPattern = new RegExp(`^puhui_([A-Za-z0-9]{${apiKeyPrefixLength}})_([A-Za-z0-9_-]{43})$`)
const alphanumeric = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function randomAlphanumeric(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length)) {
      if (byte < 248 && out.length < length) out += alphanumeric[byte % 62] // 248 = 4 × 62: no modulo bias
    }
  }
  return out
}

export type NewApiKey = { key: string; prefix: string; secretHash: Buffer }

export function generateApiKey(): NewApiKey {
  const prefix = randomAlphanumeric(apiKeyPrefixLength)
  const key = `puhui_${prefix}_${crypto.randomBytes(32).toString('base64url')}`
  return { key, prefix, secretHash: sha256(key) }
}

/** The lookup prefix of a well-formed key, or undefined. */
export function parseApiKey(key: string): string | undefined {
  return keyPattern.exec(key)?.[1]
}

export function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text).digest()
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}

/** A random opaque token (sessions, CSRF). */
export function generateToken(): string {
  return crypto.randomBytes(32).toString('base64url')
}

// argon2id (the library's default algorithm) with OWASP's recommended minimum: 19 MiB, 2 iterations, 1 lane.
const argon2Options = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password, argon2Options)
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2Verify(hash, password)
  } catch {
    return false
  }
}

/** A hash to verify against when the user does not exist, so timing does not reveal which emails exist. */
let decoyHash: Promise<string> | undefined
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(generateToken())
  return decoyHash
}

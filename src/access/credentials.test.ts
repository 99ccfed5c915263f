import { describe, expect, it } from 'vitest'
import { generateApiKey, hashPassword, hashesEqual, parseApiKey, sha256, verifyPassword } from './credentials.ts'

describe('API keys', () => {
  it('carry a lookup prefix and 256 random bits, stored as SHA-256', () => {
    const a = generateApiKey()
    const b = generateApiKey()
    expect(a.key).toMatch(/^puhui_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
    expect(parseApiKey(a.key)).toBe(a.prefix)
    expect(a.key).not.toBe(b.key)
    expect(hashesEqual(a.secretHash, sha256(a.key))).toBe(true)
    expect(hashesEqual(a.secretHash, sha256(b.key))).toBe(false)
  })
  it('rejects malformed keys', () => {
    expect(parseApiKey('puhui_short_x')).toBeUndefined()
    expect(parseApiKey('')).toBeUndefined()
    expect(parseApiKey(`other_${'A'.repeat(12)}_${'A'.repeat(43)}`)).toBeUndefined()
  })
})

describe('passwords', () => {
  it('hash with argon2id and verify', async () => {
    const hash = await hashPassword('correct horse battery')
    expect(hash).toMatch(/^\$argon2id\$/)
    expect(await verifyPassword(hash, 'correct horse battery')).toBe(true)
    expect(await verifyPassword(hash, 'wrong horse battery')).toBe(false)
    expect(await verifyPassword('not a hash', 'x')).toBe(false)
  })
})

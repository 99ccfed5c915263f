import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { blindIndex, decryptField, encryptField, loadKeyring, rotateKey, sign, verifySignature } from './keyring.ts'

const dirs: string[] = []
function keyDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-keys-'))
  dirs.push(dir)
  return path.join(dir, 'keys')
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

describe('keyring', () => {
  it('generates keys on first load, private files 0600, and loads the same keys again', () => {
    const dir = keyDir()
    const first = loadKeyring({ keyDir: dir })
    const again = loadKeyring({ keyDir: dir })
    expect(again.signing.keyId).toBe(first.signing.keyId)
    expect(again.data.keyId).toBe(first.data.keyId)
    expect(first.signing.keyId).toMatch(/^[0-9a-f]{16}$/)
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.pem') || n.endsWith('.key'))) {
      expect(fs.statSync(path.join(dir, name)).mode & 0o777).toBe(0o600)
    }
  })
  it('signs with Ed25519 and verifies by the published public key', () => {
    const keyring = loadKeyring({ keyDir: keyDir() })
    const message = Buffer.from('tree head')
    const { keyId, signature } = sign(keyring, message)
    const publicKey = keyring.publicKeys.get(keyId) as string
    expect(verifySignature(publicKey, message, signature)).toBe(true)
    expect(verifySignature(publicKey, Buffer.from('tree heaD'), signature)).toBe(false)
  })
  it('rotates: new signatures name the new key, old ones still verify, old ciphertexts still decrypt', () => {
    const dir = keyDir()
    const before = loadKeyring({ keyDir: dir })
    const oldSignature = sign(before, Buffer.from('m'))
    const oldCiphertext = encryptField(before, '330106199001011234', 'owners.id_number')
    rotateKey(dir, 'signing')
    rotateKey(dir, 'data')
    const after = loadKeyring({ keyDir: dir })
    expect(after.signing.keyId).not.toBe(before.signing.keyId)
    expect(after.data.keyId).not.toBe(before.data.keyId)
    expect(verifySignature(after.publicKeys.get(oldSignature.keyId) as string, Buffer.from('m'), oldSignature.signature)).toBe(true)
    expect(decryptField(after, oldCiphertext, 'owners.id_number')).toBe('330106199001011234')
    expect(encryptField(after, 'x', 'c').split(':')[1]).toBe(after.data.keyId)
  })
  it('authenticates the ciphertext and its context', () => {
    const keyring = loadKeyring({ keyDir: keyDir() })
    const ciphertext = encryptField(keyring, '身份证 110101199003078888', 'owners.id_number')
    expect(ciphertext).not.toContain('110101')
    expect(decryptField(keyring, ciphertext, 'owners.id_number')).toBe('身份证 110101199003078888')
    expect(() => decryptField(keyring, ciphertext, 'owners.phone')).toThrow()
    const parts = ciphertext.split(':')
    const body = Buffer.from(parts[3] as string, 'base64url')
    body[0] = (body[0] as number) ^ 1
    expect(() => decryptField(keyring, [parts[0], parts[1], parts[2], body.toString('base64url')].join(':'), 'owners.id_number')).toThrow()
  })
  it('blind-indexes equal values equally, without revealing them', () => {
    const keyring = loadKeyring({ keyDir: keyDir() })
    expect(blindIndex(keyring, ' 11010119900307888x ', 'id')).toBe(blindIndex(keyring, '11010119900307888X', 'id'))
    expect(blindIndex(keyring, '11010119900307888X', 'id')).not.toBe(blindIndex(keyring, '11010119900307888X', 'phone'))
    expect(blindIndex(keyring, 'a', 'id')).toMatch(/^[0-9a-f]{64}$/)
  })
  it('takes keys from files when given', () => {
    const dir = keyDir()
    const elsewhere = path.join(path.dirname(dir), 'elsewhere')
    const source = loadKeyring({ keyDir: elsewhere })
    const signingFile = fs.readdirSync(elsewhere).find((n) => n.startsWith('signing-')) as string
    const dataFile = fs.readdirSync(elsewhere).find((n) => n.startsWith('data-')) as string
    const fromFiles = loadKeyring({ keyDir: dir, signingKeyFile: path.join(elsewhere, signingFile), dataKeyFile: path.join(elsewhere, dataFile) })
    expect(fromFiles.signing.keyId).toBe(source.signing.keyId)
    expect(fromFiles.data.keyId).toBe(source.data.keyId)
    expect(fs.existsSync(dir)).toBe(false) // nothing generated when both keys come from files
  })
})

/**
 * @module keys/keyring
 * The journal signing key (Ed25519) and the data-encryption key (AES-256-GCM), each named by a key id
 * (the first 16 hex digits of SHA-256 of the public key, or of the key itself for the data key).
 *
 * Where keys come from: `PUHUI_SIGNING_KEY_FILE` (a PKCS#8 PEM Ed25519 private key) and
 * `PUHUI_DATA_KEY_FILE` (32 random bytes, base64) when set; otherwise the key directory
 * `<data dir>/keys/`, where the first start generates them. Rotation (`puhui keys rotate`) writes a new
 * current key and keeps the old ones, so that old signatures still verify and old ciphertexts still
 * decrypt: every signature and ciphertext names the key id it was made with.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { assert } from '../core/assert.ts'

export type SigningKey = { keyId: string; privateKey: crypto.KeyObject; publicKey: crypto.KeyObject }
export type DataKey = { keyId: string; key: Buffer }
export type Keyring = {
  signing: SigningKey
  data: DataKey
  /** Every signing public key known, current and retired, by key id (PEM, SPKI). */
  publicKeys: ReadonlyMap<string, string>
  dataKeys: ReadonlyMap<string, DataKey>
}
export type KeySources = { keyDir: string; signingKeyFile?: string | undefined; dataKeyFile?: string | undefined }

const keyIdHex = 16
const ciphertextVersion = 'v1'

function signingKeyId(publicKey: crypto.KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, keyIdHex)
}

function dataKeyId(key: Buffer): string {
  return crypto.createHash('sha256').update('puhui-data-key-id').update(key).digest('hex').slice(0, keyIdHex)
}

function readSigningKey(file: string): SigningKey {
  const privateKey = crypto.createPrivateKey(fs.readFileSync(file))
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`)
  const publicKey = crypto.createPublicKey(privateKey)
  return { keyId: signingKeyId(publicKey), privateKey, publicKey }
}

function readDataKey(file: string): DataKey {
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')
  if (key.length !== 32) throw new Error(`${file} must hold 32 bytes, base64-encoded (a 256-bit key)`)
  return { keyId: dataKeyId(key), key }
}

/** Generates a new key of the kind into the key directory and makes it current. Returns its key id. */
export function rotateKey(keyDir: string, kind: 'signing' | 'data'): string {
  fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 })
  let keyId: string
  if (kind === 'signing') {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
    keyId = signingKeyId(publicKey)
    fs.writeFileSync(path.join(keyDir, `signing-${keyId}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' })
  } else {
    const key = crypto.randomBytes(32)
    keyId = dataKeyId(key)
    fs.writeFileSync(path.join(keyDir, `data-${keyId}.key`), `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  }
  const pointer = path.join(keyDir, `${kind}.current`)
  fs.writeFileSync(`${pointer}.tmp`, `${keyId}\n`, { mode: 0o600 })
  fs.renameSync(`${pointer}.tmp`, pointer)
  return keyId
}

function currentKeyId(keyDir: string, kind: 'signing' | 'data'): string | undefined {
  try {
    return fs.readFileSync(path.join(keyDir, `${kind}.current`), 'utf8').trim()
  } catch {
    return undefined
  }
}

function keyFiles(keyDir: string, prefix: string, suffix: string): string[] {
  if (!fs.existsSync(keyDir)) return []
  return fs.readdirSync(keyDir).filter((name) => name.startsWith(prefix) && name.endsWith(suffix)).map((name) => path.join(keyDir, name))
}

/** Loads the keyring, generating missing keys in the key directory (unless given as files). */
export function loadKeyring(sources: KeySources): Keyring {
  const { keyDir } = sources
  if (sources.signingKeyFile === undefined && currentKeyId(keyDir, 'signing') === undefined) rotateKey(keyDir, 'signing')
  if (sources.dataKeyFile === undefined && currentKeyId(keyDir, 'data') === undefined) rotateKey(keyDir, 'data')

  const signingKeys = keyFiles(keyDir, 'signing-', '.pem').map(readSigningKey)
  const dataKeys = keyFiles(keyDir, 'data-', '.key').map(readDataKey)
  const signing = sources.signingKeyFile !== undefined ? readSigningKey(sources.signingKeyFile) : signingKeys.find((k) => k.keyId === currentKeyId(keyDir, 'signing'))
  const data = sources.dataKeyFile !== undefined ? readDataKey(sources.dataKeyFile) : dataKeys.find((k) => k.keyId === currentKeyId(keyDir, 'data'))
  if (signing === undefined) throw new Error(`the current signing key named in ${path.join(keyDir, 'signing.current')} is missing`)
  if (data === undefined) throw new Error(`the current data key named in ${path.join(keyDir, 'data.current')} is missing`)
  const publicKeys = new Map(signingKeys.map((k) => [k.keyId, k.publicKey.export({ type: 'spki', format: 'pem' }).toString()]))
  publicKeys.set(signing.keyId, signing.publicKey.export({ type: 'spki', format: 'pem' }).toString())
  const dataKeyMap = new Map(dataKeys.map((k) => [k.keyId, k]))
  dataKeyMap.set(data.keyId, data)
  return { signing, data, publicKeys, dataKeys: dataKeyMap }
}

/** Ed25519 signature over `message` with the current signing key. */
export function sign(keyring: Keyring, message: Uint8Array): { keyId: string; signature: string } {
  return { keyId: keyring.signing.keyId, signature: crypto.sign(null, message, keyring.signing.privateKey).toString('base64') }
}

export function verifySignature(publicKeyPem: string, message: Uint8Array, signatureBase64: string): boolean {
  return crypto.verify(null, message, crypto.createPublicKey(publicKeyPem), Buffer.from(signatureBase64, 'base64'))
}

/**
 * Encrypts personal data at rest: `v1:<keyId>:<iv>:<ciphertext+tag>` (base64url parts), AES-256-GCM with
 * a random 96-bit IV. `context` (e.g. the table and column) is authenticated, so a ciphertext copied to
 * another column does not decrypt.
 */
export function encryptField(keyring: Keyring, plaintext: string, context: string): string {
  const iv = crypto.randomBytes(12)
  const cipher = crypto.createCipheriv('aes-256-gcm', keyring.data.key, iv)
  cipher.setAAD(Buffer.from(context))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
  return [ciphertextVersion, keyring.data.keyId, iv.toString('base64url'), body.toString('base64url')].join(':')
}

export function decryptField(keyring: Keyring, ciphertext: string, context: string): string {
  const [version, keyId, ivText, bodyText] = ciphertext.split(':')
  assert(version === ciphertextVersion && keyId !== undefined && ivText !== undefined && bodyText !== undefined, 'malformed ciphertext')
  const key = keyring.dataKeys.get(keyId)
  if (key === undefined) throw new Error(`data key ${keyId} is not in the keyring`)
  const body = Buffer.from(bodyText, 'base64url')
  const decipher = crypto.createDecipheriv('aes-256-gcm', key.key, Buffer.from(ivText, 'base64url'))
  decipher.setAAD(Buffer.from(context))
  decipher.setAuthTag(body.subarray(body.length - 16))
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8')
}

/**
 * A keyed hash (blind index) of a normalised value, so that equal identity numbers can be matched
 * (shared owners) without decrypting them. Keyed by a subkey derived from the current data key: rotating
 * the data key changes blind indexes, so rotation re-indexes (done by the data hub's rotation job).
 */
export function blindIndex(keyring: Keyring, value: string, purpose: string): string {
  const subkey = Buffer.from(crypto.hkdfSync('sha256', keyring.data.key, Buffer.alloc(0), `puhui blind index ${purpose}`, 32))
  return crypto.createHmac('sha256', subkey).update(value.normalize('NFKC').trim().toUpperCase()).digest('hex')
}

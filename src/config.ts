/**
 * @module config
 * Every environment variable Puhui reads, parsed in one place (the README's table mirrors this file).
 */
import path from 'node:path'

export type Config = {
  port: number
  host: string
  databaseUrl: string | undefined
  dataDir: string
  logLevel: string
  /** Seed the demo tenant on first start: default on for the embedded server, off for DATABASE_URL. */
  demo: boolean
  /** Where generated keys live when no key file is given. */
  keyDir: string
  signingKeyFile: string | undefined
  dataKeyFile: string | undefined
  /** OS user that runs the embedded PostgreSQL when Puhui itself runs as root. */
  pgOsUser: string
  dbPoolMax: number
  /** HTTP server threads sharing the port (SO_REUSEPORT), the main thread included; each has its own pool. */
  httpThreads: number
  cookieSecure: boolean
  /** Close each tenant's business day automatically once its calendar day has passed (the daily COB job). */
  autoCob: boolean
  consoleDir: string
}

function readInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]
  if (text === undefined || text === '') return fallback
  if (!/^\d+$/.test(text)) throw new Error(`${name} must be a whole number, got "${text}"`)
  return Number.parseInt(text, 10)
}

function readRange(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = readInt(env, name, fallback)
  if (value < min || value > max) throw new Error(`${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

function readFlag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name]
  if (text === undefined || text === '') return fallback
  if (['1', 'true', 'yes', 'on'].includes(text)) return true
  if (['0', 'false', 'no', 'off'].includes(text)) return false
  throw new Error(`${name} must be 0 or 1, got "${text}"`)
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL === '' ? undefined : env.DATABASE_URL
  return {
    port: readInt(env, 'PORT', 3000),
    host: env.HOST ?? '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(env.PUHUI_DATA_DIR ?? 'data'),
    logLevel: env.PUHUI_LOG_LEVEL ?? 'info',
    demo: readFlag(env, 'PUHUI_DEMO', databaseUrl === undefined),
    keyDir: path.resolve(env.PUHUI_DATA_DIR ?? 'data', 'keys'),
    signingKeyFile: env.PUHUI_SIGNING_KEY_FILE,
    dataKeyFile: env.PUHUI_DATA_KEY_FILE,
    pgOsUser: env.PUHUI_PG_OS_USER ?? 'puhui',
    dbPoolMax: readInt(env, 'PUHUI_DB_POOL_MAX', 10),
    httpThreads: readRange(env, 'PUHUI_HTTP_THREADS', 1, 1, 16),
    cookieSecure: readFlag(env, 'PUHUI_COOKIE_SECURE', false),
    autoCob: readFlag(env, 'PUHUI_AUTO_COB', true),
    consoleDir: path.resolve(env.PUHUI_CONSOLE_DIR ?? path.join(import.meta.dirname, '..', 'console', 'dist')),
  }
}

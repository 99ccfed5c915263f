/**
 * The embedded PostgreSQL as a user meets it: `puhui serve` on an empty data directory, the CLI beside
 * a running server, `kill -9` of Puhui (and of the database too) followed by a plain restart, a clean
 * stop. Each test starts its own Puhui processes on their own data directory and kills only those.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isProcessAlive } from '../src/db/embedded.ts'

const bin = path.join(import.meta.dirname, '..', 'bin', 'puhui.js')
const nodeBin = process.execPath
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-life-'))
fs.chmodSync(dataDir, 0o755)
const started: ChildProcess[] = []

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env
  return { ...rest, PUHUI_DATA_DIR: dataDir, PUHUI_LOG_LEVEL: 'warn', ...extra }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

async function serve(port: number): Promise<{ child: ChildProcess; stdout: () => string }> {
  const child = spawn(nodeBin, [bin, 'serve'], { env: env({ PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] })
  started.push(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const deadline = Date.now() + 60_000
  while (!out.includes('is running at')) {
    if (child.exitCode !== null) throw new Error(`puhui serve exited ${child.exitCode}: ${err}`)
    if (Date.now() > deadline) throw new Error(`puhui serve did not start: ${err}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { child, stdout: () => out }
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(nodeBin, [bin, ...args], { env: env(), encoding: 'utf8', timeout: 60_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

async function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

function postmasterPid(): number | undefined {
  try {
    return Number.parseInt(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10)
  } catch {
    return undefined
  }
}

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  const pid = postmasterPid()
  if (pid !== undefined && isProcessAlive(pid)) process.kill(pid, 'SIGKILL')
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('embedded PostgreSQL lifecycle', () => {
  it('starts on an empty data directory, serves, and shares the database with the CLI', async () => {
    const port = await freePort()
    const server = await serve(port)
    expect(server.stdout()).toContain('demo tenant "demo"')
    const ready = await fetch(`http://127.0.0.1:${port}/ready`)
    expect(ready.status).toBe(200)
    const pgPort = (JSON.parse(fs.readFileSync(path.join(dataDir, 'pg.lock'), 'utf8')) as { port: number }).port
    expect(pgPort).not.toBe(5432)

    const created = cli(['apikey', 'create', '--tenant', 'demo', '--role', 'admin', '--json'])
    expect(created.status).toBe(0)
    expect(created.stdout.trim().split('\n')).toHaveLength(1)
    const key = JSON.parse(created.stdout) as Record<string, string>
    expect(Object.keys(key).sort()).toEqual(['id', 'key', 'role', 'tenant'])
    expect(key.tenant).toBe('demo')
    expect(key.role).toBe('admin')
    const me = await fetch(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: `Bearer ${key.key}` } })
    expect(me.status).toBe(200)
    // The CLI was a client: the server's database is still up.
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200)

    // kill -9 of Puhui alone: the orphaned database is adopted by the next start.
    server.child.kill('SIGKILL')
    await waitForExit(server.child)
    const port2 = await freePort()
    const second = await serve(port2)
    expect((await fetch(`http://127.0.0.1:${port2}/v1/me`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(200)

    // kill -9 of Puhui and of PostgreSQL: stale lock and postmaster.pid are recovered, data survives.
    const pgPid = postmasterPid()
    expect(pgPid).toBeDefined()
    second.child.kill('SIGKILL')
    process.kill(pgPid as number, 'SIGKILL')
    await waitForExit(second.child)
    const port3 = await freePort()
    const third = await serve(port3)
    expect((await fetch(`http://127.0.0.1:${port3}/v1/me`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(200)
    expect(third.stdout()).toContain('demo tenant "demo"') // the demo logins are printed again, not re-created

    // A clean stop stops the database it owns and removes the lock.
    const runningPg = postmasterPid()
    third.child.kill('SIGTERM')
    expect(await waitForExit(third.child)).toBe(0)
    expect(fs.existsSync(path.join(dataDir, 'pg.lock'))).toBe(false)
    expect(runningPg !== undefined && isProcessAlive(runningPg)).toBe(false)
  })

  it('lets CLI commands run without a server, starting and stopping the database themselves', async () => {
    const migrate = cli(['migrate', '--json'])
    expect(migrate.status, migrate.stderr).toBe(0)
    expect(JSON.parse(migrate.stdout)).toEqual({ applied: [], current: expect.any(String) })
    const tenant = cli(['tenant', 'create', '--slug', 'cli-made', '--name', 'CLI Made', '--json'])
    expect(tenant.status, tenant.stderr).toBe(0)
    expect(JSON.parse(tenant.stdout)).toMatchObject({ slug: 'cli-made' })
    const again = cli(['tenant', 'create', '--slug', 'cli-made', '--name', 'CLI Made'])
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('taken')
    expect(again.stdout).toBe('')
    expect(fs.existsSync(path.join(dataDir, 'pg.lock'))).toBe(false)
    const pid = postmasterPid()
    expect(pid === undefined || !isProcessAlive(pid)).toBe(true)
  })
})

/**
 * The embedded PostgreSQL as a user meets it: `puhui serve` on an empty data directory, the CLI beside
 * a running server, `kill -9` of Puhui (and of the database too) followed by a plain restart, a clean
 * stop. Each test starts its own Puhui processes on their own data directory and kills only those.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isProcessAlive } from '../src/db/embedded.ts'
import { freePort, puhuiProcesses, waitForExit } from './support/puhui-process.ts'

const processes = puhuiProcesses('puhui-life-')
const dataDir = processes.dataDir
const { cli, postmasterPid } = processes
const serve = (port: number) => processes.serve(port)

afterAll(() => {
  processes.killStarted()
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

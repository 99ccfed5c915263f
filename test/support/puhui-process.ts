/**
 * Puhui as a separate process, for tests that kill it: a data directory of its own, `puhui serve` on a
 * free port, the CLI, and the embedded PostgreSQL's postmaster pid. Each test kills only what it started
 * (`killStarted` in its afterAll).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { isProcessAlive } from '../../src/db/embedded.ts'

const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'puhui.js')

export type PuhuiProcesses = {
  dataDir: string
  /** Extra environment for every process (e.g. DATABASE_URL), settable after creation. */
  env: Record<string, string>
  serve(port: number): Promise<{ child: ChildProcess; stdout: () => string }>
  cli(args: string[]): { status: number | null; stdout: string; stderr: string }
  postmasterPid(): number | undefined
  killStarted(): void
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

export async function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

export function puhuiProcesses(prefix: string): PuhuiProcesses {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  fs.chmodSync(dataDir, 0o755) // the embedded server's OS user must reach it when tests run as root
  const started: ChildProcess[] = []
  const processes: PuhuiProcesses = {
    dataDir,
    env: {},
    async serve(port) {
      const child = spawn(process.execPath, [bin, 'serve'], { env: environment({ PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] })
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
    },
    cli(args) {
      const result = spawnSync(process.execPath, [bin, ...args], { env: environment(), encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 })
      return { status: result.status, stdout: result.stdout, stderr: result.stderr }
    },
    postmasterPid() {
      try {
        return Number.parseInt(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10)
      } catch {
        return undefined
      }
    },
    killStarted() {
      for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      const pid = processes.postmasterPid()
      if (pid !== undefined && isProcessAlive(pid)) process.kill(pid, 'SIGKILL')
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
  function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const { DATABASE_URL: _ignored, ...rest } = process.env
    return { ...rest, PUHUI_DATA_DIR: dataDir, PUHUI_LOG_LEVEL: 'warn', ...processes.env, ...extra }
  }
  return processes
}

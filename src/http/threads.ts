/**
 * @module http/threads
 * More HTTP servers on the same host and port, each in a worker thread with its own event loop, heap and
 * connection pool, listening with SO_REUSEPORT so the kernel spreads new connections over them
 * (`PUHUI_HTTP_THREADS`). The main thread keeps everything that must run once: the embedded server, the
 * migrations, the periodic jobs. Why: one event loop busy ~50 % at 200 applications/s needs 100–200 ms to
 * catch up after a slow WAL flush stalls every commit at once; two loops catch up in half the time
 * (bench/RESULTS.md, decisions). Each thread has its own simulated bank (its state is in memory, as it is
 * per process); a real payout adapter keeps its state at the bank.
 */
import { Worker } from 'node:worker_threads'
import type { FastifyListenOptions } from 'fastify'
import type { KeySources } from '../keys/index.ts'

export type HttpThreadOptions = {
  readonly databaseUrl: string
  readonly poolMax: number
  readonly keys: KeySources
  readonly host: string
  readonly port: number
  readonly logLevel: string
  readonly cookieSecure: boolean
  readonly consoleDir: string | undefined
  readonly version: string
  /** The simulated bank's fixed latency in ms (benchmarks); its default otherwise. */
  readonly railLatencyMs?: number
}

/** Listen options for a server sharing its port with the others (Node's `reusePort`, Linux and BSDs; Fastify passes it on). */
export function sharedPortListen(host: string, port: number): FastifyListenOptions {
  return { host, port, reusePort: true } as FastifyListenOptions
}

export type HttpThreads = {
  readonly count: number
  /** Stops accepting, finishes in-flight requests, closes each pool; the responses each thread served. */
  close(): Promise<number[]>
}

/** Starts `count` HTTP server threads on `options.host`:`options.port` (SO_REUSEPORT); resolves when all listen. */
export async function startHttpThreads(count: number, options: HttpThreadOptions): Promise<HttpThreads> {
  const threads = Array.from({ length: count }, () => new Worker(new URL('./http-thread.ts', import.meta.url), { workerData: options }))
  try {
    await Promise.all(threads.map((thread) => new Promise<void>((resolve, reject) => {
      thread.once('message', (message: { listening?: true; error?: string }) => (message.error === undefined ? resolve() : reject(new Error(message.error))))
      thread.once('error', reject)
    })))
  } catch (error) {
    await Promise.all(threads.map((thread) => thread.terminate()))
    throw error
  }
  return {
    count,
    async close() {
      const served = await Promise.all(threads.map((thread) => new Promise<number>((resolve) => {
        thread.once('message', (message: { served: number }) => resolve(message.served))
        thread.once('exit', () => resolve(0))
        thread.postMessage('close')
      })))
      await Promise.all(threads.map((thread) => thread.terminate()))
      return served
    },
  }
}

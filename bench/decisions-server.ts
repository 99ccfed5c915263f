/**
 * One Puhui HTTP server in a worker thread of the decisions bench (its own event loop and heap), listening
 * with SO_REUSEPORT on a port shared with the bench's other server threads: the kernel spreads connections
 * over them, as over the processes of a multi-process deployment.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { systemClock } from '../src/core/clock.ts'
import { uuidv7Source } from '../src/core/ids.ts'
import { createKysely } from '../src/db/database.ts'
import { createSimulatedBank } from '../src/flows/index.ts'
import { buildApp } from '../src/http/app.ts'
import { loadKeyring } from '../src/keys/index.ts'
import { createLogger } from '../src/log.ts'

export type ServerThread = { url: string; keyDir: string; port: number; poolMax: number }
const options = workerData as ServerThread
const db = createKysely(options.url, options.poolMax)
const app = await buildApp({ db, clock: systemClock, ids: uuidv7Source, keyring: loadKeyring({ keyDir: options.keyDir }), log: createLogger('silent'), cookieSecure: false, consoleDir: undefined, version: 'bench', rail: createSimulatedBank({ latencyMs: 100 }) })
await app.ready()
await new Promise<void>((resolve, reject) => {
  app.server.once('error', reject)
  app.server.listen({ host: '127.0.0.1', port: options.port, reusePort: true }, resolve)
})
parentPort?.postMessage('listening')
parentPort?.on('message', (message: string) => {
  if (message === 'close') void app.close().then(() => db.destroy()).then(() => parentPort?.postMessage('closed'))
})

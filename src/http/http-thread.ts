/**
 * @module http/http-thread
 * The body of one HTTP server thread (see http/threads.ts): the same app as the main thread's, on its own
 * pool, listening with SO_REUSEPORT on the shared port. Answers 'close' with the number of responses served.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { systemClock } from '../core/clock.ts'
import { uuidv7Source } from '../core/ids.ts'
import { createKysely } from '../db/database.ts'
import { createSimulatedBank } from '../flows/index.ts'
import { loadKeyring } from '../keys/index.ts'
import { createLogger } from '../log.ts'
import { buildApp } from './app.ts'
import { sharedPortListen, type HttpThreadOptions } from './threads.ts'

const options = workerData as HttpThreadOptions
const db = createKysely(options.databaseUrl, options.poolMax)
let served = 0
try {
  const app = await buildApp({
    db, clock: systemClock, ids: uuidv7Source, keyring: loadKeyring(options.keys), log: createLogger(options.logLevel), cookieSecure: options.cookieSecure,
    consoleDir: options.consoleDir, version: options.version, rail: createSimulatedBank(options.railLatencyMs === undefined ? {} : { latencyMs: options.railLatencyMs }),
  })
  app.addHook('onResponse', async () => { served++ })
  await app.listen(sharedPortListen(options.host, options.port))
  parentPort?.postMessage({ listening: true })
  parentPort?.on('message', (message: unknown) => {
    if (message !== 'close') return
    void app.close().then(() => db.destroy()).then(() => parentPort?.postMessage({ served }))
  })
} catch (error) {
  await db.destroy()
  parentPort?.postMessage({ error: String(error) })
}

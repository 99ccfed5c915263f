/**
 * PUHUI_HTTP_THREADS: more HTTP servers in worker threads sharing one port (SO_REUSEPORT), each on its own
 * pool against the same database. New connections are spread over the threads; state changes made through
 * one are seen through the others; closing stops every thread.
 */
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpThreads, type HttpThreads } from '../src/http/threads.ts'
import { createTestApp, type TestApp } from './support/app.ts'

let t: TestApp
let threads: HttpThreads | undefined
let port: number
let key: string

async function freePort(): Promise<number> {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const found = (probe.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return found
}

/** One request on a fresh connection (no keep-alive), so the kernel picks a listener for each. */
function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const request = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) } }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }))
    })
    request.on('error', reject)
    request.end(payload)
  })
}

beforeAll(async () => {
  t = await createTestApp()
  const tenant = await t.createTenant('threads')
  key = await t.createKey(tenant, 'admin')
  port = await freePort()
  threads = await startHttpThreads(2, {
    databaseUrl: t.database.url, poolMax: 4, keys: { keyDir: t.keyDir }, host: '127.0.0.1', port, logLevel: 'silent', cookieSecure: false, consoleDir: undefined, version: 'test',
  })
}, 60_000)
afterAll(async () => {
  await threads?.close()
  await t?.close()
})

describe('HTTP server threads', () => {
  it('spread new connections over the threads, and a change made through one is read through the others', async () => {
    const created = await send('POST', '/v1/enterprises', { name: 'Threaded Co' }, { authorization: `Bearer ${key}`, 'idempotency-key': 'threads-1' })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const replay = await send('POST', '/v1/enterprises', { name: 'Threaded Co' }, { authorization: `Bearer ${key}`, 'idempotency-key': 'threads-1' })
    expect(replay).toEqual(created) // replayed whichever thread answers
    const reads = await Promise.all(Array.from({ length: 40 }, () => send('GET', `/v1/enterprises/${created.body.id as string}`, undefined, { authorization: `Bearer ${key}` })))
    for (const read of reads) expect(read).toMatchObject({ status: 200, body: { id: created.body.id, name: 'Threaded Co' } })
    const served = await (threads as HttpThreads).close()
    threads = undefined
    expect(served.reduce((sum, n) => sum + n, 0)).toBe(42)
    for (const count of served) expect(count).toBeGreaterThan(0) // 42 connections all to one of two listeners: odds 2 in 2^41
    await expect(send('GET', '/health')).rejects.toThrow(/ECONNREFUSED/)
  })
})

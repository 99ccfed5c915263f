/**
 * The decisions bench's load generator, run in a worker thread: its HTTP client work (requests, JSON) runs on
 * its own event loop beside the server's, as a separate client would, instead of taking turns with the
 * server on one. Open loop: a request every 1/rate seconds on schedule whatever the answers; each latency
 * is measured from its scheduled send (no coordinated omission). One phase per message from the bench.
 */
import http from 'node:http'
import { parentPort, workerData } from 'node:worker_threads'

export type LoadTarget = { base: string; key: string; enterprises: string[]; product: string }
export type LoadPhase =
  | { kind: 'serial'; count: number }
  | { kind: 'apply'; ratePerS: number; seconds: number }
  | { kind: 'flows'; ratePerS: number; seconds: number }
export type PhaseReport = {
  latencies: number[]; sent: number; lateStartMaxMs: number; outcomes: Record<string, number>; failures: string[]
  /** The slowest requests: when they were due (ms from the phase's start) and how long they took. */
  slowest: { atMs: number; latencyMs: number }[]
}

type Answer = { status: number; body: Record<string, unknown> }

const target = workerData as LoadTarget
let sequence = 0

// node:http with keep-alive rather than fetch: a load generator should cost the machine as little as it can
// (fetch's WHATWG streams and headers cost about three times the CPU per request), as a wrk-style tool would.
// Idle sockets are reused oldest first ('fifo'), so that the requests rotate over the open connections as
// those of many clients would; with the default ('lifo') the few requests in flight at 200/s went over the
// same one or two connections, and with the server in two threads sharing the port (SO_REUSEPORT places a
// connection, not a request) one thread did two thirds of the work (CPU profile: 50 % against 23 % busy).
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'fifo' })
const origin = new URL(target.base)

function post(url: string, body: unknown, idempotencyKey: string): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body)
    const request = http.request({
      agent, host: origin.hostname, port: origin.port, path: url, method: 'POST',
      headers: { authorization: `Bearer ${target.key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'idempotency-key': idempotencyKey },
    }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> })
        } catch (error) {
          resolve({ status: response.statusCode ?? 0, body: { error: String(error) } })
        }
      })
      response.on('error', (error) => resolve({ status: 0, body: { error: String(error) } }))
    })
    request.on('error', (error) => resolve({ status: 0, body: { error: String(error) } }))
    request.end(payload)
  })
}

async function openLoop(ratePerS: number, seconds: number, task: (k: number, scheduledAt: number) => Promise<number | null>) {
  const intervalMs = 1000 / ratePerS
  const total = Math.round(ratePerS * seconds)
  const pending: Promise<void>[] = []
  const latencies: number[] = []
  const timeline: { atMs: number; latencyMs: number }[] = []
  let lateStartMaxMs = 0
  const start = performance.now() + 20
  for (let k = 0; k < total; k++) {
    const scheduledAt = start + k * intervalMs
    const wait = scheduledAt - performance.now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    lateStartMaxMs = Math.max(lateStartMaxMs, performance.now() - scheduledAt)
    pending.push(task(k, scheduledAt).then((latency) => {
      if (latency === null) return
      latencies.push(latency)
      timeline.push({ atMs: Math.round(scheduledAt - start), latencyMs: Math.round(latency * 10) / 10 })
    }))
  }
  await Promise.all(pending)
  latencies.sort((a, b) => a - b)
  const slowest = timeline.sort((a, b) => b.latencyMs - a.latencyMs).slice(0, 20).sort((a, b) => a.atMs - b.atMs)
  return { latencies, sent: total, lateStartMaxMs, slowest }
}

async function runPhase(phase: LoadPhase): Promise<PhaseReport> {
  const outcomes: Record<string, number> = {}
  const failures: string[] = []
  const count = (key: string) => { outcomes[key] = (outcomes[key] ?? 0) + 1 }
  const apply = async (enterprise: string) => {
    const response = await post('/v1/applications', { enterpriseId: enterprise, productId: target.product, amountMinor: '5000000', termMonths: 12 }, `bench-apply-${++sequence}`)
    if (response.status !== 201 && response.status !== 200) failures.push(`HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`)
    return response
  }
  const enterprise = (k: number) => target.enterprises[k % target.enterprises.length] as string
  switch (phase.kind) {
    case 'serial': {
      // Service time, one request at a time: what one application costs when nothing queues.
      const latencies: number[] = []
      for (let k = 0; k < phase.count; k++) {
        const t0 = performance.now()
        count(String((await apply(enterprise(k))).body.outcome))
        latencies.push(performance.now() - t0)
      }
      latencies.sort((a, b) => a - b)
      return { latencies, sent: phase.count, lateStartMaxMs: 0, outcomes, failures, slowest: [] }
    }
    case 'apply': {
      const loop = await openLoop(phase.ratePerS, phase.seconds, async (k, scheduledAt) => {
        count(String((await apply(enterprise(k))).body.outcome))
        return performance.now() - scheduledAt
      })
      return { ...loop, outcomes, failures }
    }
    case 'flows': {
      // An application and, when approved, the offer's acceptance, timed to the payout's `succeeded`.
      const loop = await openLoop(phase.ratePerS, phase.seconds, async (k, scheduledAt) => {
        const applied = await apply(enterprise(k * 7))
        const offer = applied.body.offer as { id: string } | null | undefined
        if (applied.body.outcome !== 'approved' || offer === null || offer === undefined) {
          count(String(applied.body.outcome))
          return null
        }
        const accepted = await post(`/v1/offers/${offer.id}/accept`, {}, `bench-accept-${++sequence}`)
        const payout = (accepted.body.payout as { status?: string } | undefined)?.status ?? `HTTP ${accepted.status}`
        count(payout)
        if (payout !== 'succeeded') { failures.push(`accept: ${payout} ${JSON.stringify(accepted.body).slice(0, 200)}`); return null }
        return performance.now() - scheduledAt
      })
      return { ...loop, outcomes, failures }
    }
  }
}

parentPort?.on('message', (phase: LoadPhase) => {
  runPhase(phase).then((report) => parentPort?.postMessage(report), (error: unknown) => parentPort?.postMessage({ error: String(error) }))
})

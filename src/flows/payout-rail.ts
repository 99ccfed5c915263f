/**
 * @module flows/payout-rail
 * The port to the bank (or payment company) that moves a disbursement to the borrower's account, and an
 * in-process simulated bank with configurable latency and failure modes (CONVENTIONS A: external systems
 * get an interface, a real adapter and a fake).
 *
 * Contract every adapter keeps:
 * - `send` is idempotent by `reference` (our payout id): sending the same reference twice never pays twice;
 *   it answers with the state of the first.
 * - `send` answers `succeeded` or `failed` only when the rail says so definitively. A timeout, a dropped
 *   connection or any answer that does not settle the outcome is `unknown`: the money may or may not have
 *   left, so the caller keeps its ledger transfer pending and asks `queryStatus` later (never voids it).
 * - `queryStatus` answers `pending` while the rail has not decided, and `not_found` when it never received
 *   the reference (then, and only then, it is safe to send again).
 */
import { assert } from '../core/assert.ts'

export type PayoutRequest = {
  /** Our payout id: the rail's idempotency key. */
  readonly reference: string
  readonly amountMinor: bigint
  readonly currency: string
  /** Who receives the money (the borrowing enterprise). */
  readonly beneficiaryId: string
}

export type PayoutOutcome =
  | { readonly status: 'succeeded'; readonly railReference: string }
  | { readonly status: 'failed'; readonly railReference: string | null; readonly reason: string }
  | { readonly status: 'unknown'; readonly detail: string }

export type PayoutStatus =
  | { readonly status: 'succeeded'; readonly railReference: string }
  | { readonly status: 'failed'; readonly railReference: string | null; readonly reason: string }
  | { readonly status: 'pending' | 'not_found' }

export interface PayoutRail {
  readonly name: string
  send(request: PayoutRequest): Promise<PayoutOutcome>
  queryStatus(reference: string): Promise<PayoutStatus>
}

/** How long a flow waits for `send` before treating the outcome as unknown. */
export const payoutTimeoutMsDefault = 5_000

/** `send` bounded by a timeout: past it the outcome is `unknown` (the call may still land at the bank). */
export async function sendPayoutWithTimeout(rail: PayoutRail, request: PayoutRequest, timeoutMs: number): Promise<PayoutOutcome> {
  assert(timeoutMs > 0)
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<PayoutOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'unknown', detail: `no answer from ${rail.name} within ${timeoutMs} ms` }), timeoutMs)
  })
  try {
    return await Promise.race([
      rail.send(request).catch((error: unknown): PayoutOutcome => ({ status: 'unknown', detail: `${rail.name}: ${error instanceof Error ? error.message : String(error)}` })),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The simulated bank's behaviours: `succeed` / `fail` answer definitively; `timeout_then_succeeded` /
 * `timeout_then_failed` answer `unknown` to `send` (as if the connection dropped) while the bank goes on
 * to pay or reject, which `queryStatus` then reports.
 */
export const simulatedPayoutModes = ['succeed', 'fail', 'timeout_then_succeeded', 'timeout_then_failed'] as const
export type SimulatedPayoutMode = (typeof simulatedPayoutModes)[number]

export type SimulatedBankOptions = {
  /** Latency of each `send` and `queryStatus`, in ms (0: answer on the next tick). */
  readonly latencyMs?: number
  /** The mode, or a function choosing it per request (e.g. by amount). Default `succeed`. */
  readonly mode?: SimulatedPayoutMode | ((request: PayoutRequest) => SimulatedPayoutMode)
  /** The bank decides a timed-out payout only after this many status queries answered `pending` (default 0). */
  readonly pendingQueries?: number
}

type BankRecord = { readonly request: PayoutRequest; readonly mode: SimulatedPayoutMode; readonly railReference: string; queriesLeft: number }

export type SimulatedBank = PayoutRail & {
  /** Change the behaviour for later sends. */
  setMode(mode: SimulatedBankOptions['mode']): void
  /** What the bank did, by reference: for tests and the benchmark. */
  readonly received: ReadonlyMap<string, { readonly amountMinor: bigint; readonly paid: boolean }>
  /** How many times `send` was called (idempotent replays included). */
  sendCalls(): number
}

/** An in-process bank: no network, deterministic, configurable. */
export function createSimulatedBank(options: SimulatedBankOptions = {}): SimulatedBank {
  const latencyMs = options.latencyMs ?? 0
  assert(latencyMs >= 0)
  let mode = options.mode ?? 'succeed'
  const records = new Map<string, BankRecord>()
  const received = new Map<string, { amountMinor: bigint; paid: boolean }>()
  let sequence = 0
  let calls = 0
  const wait = () => new Promise<void>((resolve) => setTimeout(resolve, latencyMs))
  const settled = (record: BankRecord): Extract<PayoutOutcome, { status: 'succeeded' | 'failed' }> =>
    record.mode === 'succeed' || record.mode === 'timeout_then_succeeded'
      ? { status: 'succeeded', railReference: record.railReference }
      : { status: 'failed', railReference: record.railReference, reason: 'beneficiary account rejected the credit' }
  return {
    name: 'simulated-bank',
    received,
    sendCalls: () => calls,
    setMode(next) {
      mode = next ?? 'succeed'
    },
    async send(request) {
      calls += 1
      assert(request.amountMinor > 0n, 'a payout moves money')
      await wait()
      let record = records.get(request.reference)
      if (record === undefined) {
        const chosen = typeof mode === 'function' ? mode(request) : mode
        sequence += 1
        record = { request, mode: chosen, railReference: `SIM${String(sequence).padStart(10, '0')}`, queriesLeft: options.pendingQueries ?? 0 }
        records.set(request.reference, record)
        received.set(request.reference, { amountMinor: request.amountMinor, paid: chosen === 'succeed' || chosen === 'timeout_then_succeeded' })
      }
      assert(record.request.amountMinor === request.amountMinor, 'the same reference is the same payout')
      if (record.mode === 'timeout_then_succeeded' || record.mode === 'timeout_then_failed') return { status: 'unknown', detail: 'simulated timeout' }
      return settled(record)
    },
    async queryStatus(reference) {
      await wait()
      const record = records.get(reference)
      if (record === undefined) return { status: 'not_found' }
      if (record.queriesLeft > 0) {
        record.queriesLeft -= 1
        return { status: 'pending' }
      }
      return settled(record)
    },
  }
}

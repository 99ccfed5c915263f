import { describe, expect, it } from 'vitest'
import { createSimulatedBank, sendPayoutWithTimeout } from './payout-rail.ts'

const request = (reference: string, amountMinor = 1000n) => ({ reference, amountMinor, currency: 'CNY', beneficiaryId: 'e1' })

describe('simulated bank', () => {
  it('answers definitively in succeed and fail modes, and is idempotent by reference', async () => {
    const bank = createSimulatedBank()
    const first = await bank.send(request('p1'))
    expect(first).toMatchObject({ status: 'succeeded' })
    expect(await bank.send(request('p1'))).toEqual(first)
    expect(bank.received.get('p1')).toEqual({ amountMinor: 1000n, paid: true })
    bank.setMode('fail')
    expect(await bank.send(request('p2'))).toMatchObject({ status: 'failed' })
    // The mode is fixed per reference at its first send.
    expect(await bank.send(request('p1'))).toEqual(first)
    expect(bank.sendCalls()).toBe(4)
  })

  it('times out (unknown) and then reports the outcome to status queries, after the configured pending queries', async () => {
    const bank = createSimulatedBank({ mode: (r) => (r.amountMinor > 5000n ? 'timeout_then_failed' : 'timeout_then_succeeded'), pendingQueries: 1 })
    expect(await bank.send(request('small'))).toMatchObject({ status: 'unknown' })
    expect(await bank.send(request('large', 9000n))).toMatchObject({ status: 'unknown' })
    expect(await bank.queryStatus('small')).toEqual({ status: 'pending' })
    expect(await bank.queryStatus('small')).toMatchObject({ status: 'succeeded' })
    expect(await bank.queryStatus('large')).toEqual({ status: 'pending' })
    expect(await bank.queryStatus('large')).toMatchObject({ status: 'failed' })
    expect(await bank.queryStatus('never-sent')).toEqual({ status: 'not_found' })
  })

  it('a send slower than the timeout is unknown, though the bank may still pay', async () => {
    const bank = createSimulatedBank({ latencyMs: 50 })
    expect(await sendPayoutWithTimeout(bank, request('slow'), 5)).toMatchObject({ status: 'unknown' })
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(await bank.queryStatus('slow')).toMatchObject({ status: 'succeeded' })
  })
})

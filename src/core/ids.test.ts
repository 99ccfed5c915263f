import { describe, expect, it } from 'vitest'
import { isUuid, uuidv7Source } from './ids.ts'

describe('uuidv7Source', () => {
  it('makes valid, unique, strictly increasing version-7 ids carrying the current millisecond', () => {
    const before = Date.now()
    // More than one random pool's worth (256 ids), so refills are crossed.
    const ids = Array.from({ length: 5_000 }, () => uuidv7Source.next())
    const after = Date.now()
    for (const id of ids) {
      expect(isUuid(id)).toBe(true)
      expect(id[14]).toBe('7') // version
      expect('89ab').toContain(id[19]) // RFC 9562 variant
    }
    for (let i = 1; i < ids.length; i++) expect((ids[i - 1] as string) < (ids[i] as string)).toBe(true)
    const msOf = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
    expect(msOf(ids[0] as string)).toBeGreaterThanOrEqual(before)
    // The counter may carry into the next millisecond, never far.
    expect(msOf(ids.at(-1) as string)).toBeLessThanOrEqual(after + 1)
  })

  it('does not repeat the random part across a pool refill', () => {
    const tails = new Set(Array.from({ length: 1_000 }, () => uuidv7Source.next().slice(24)))
    expect(tails.size).toBe(1_000)
  })
})

/**
 * WoE and IV: the textbook values without smoothing, and neutral WoE for empty cells with smoothing.
 */
import { describe, expect, it } from 'vitest'
import { computeWoe } from './woe.ts'

describe('computeWoe', () => {
  it('matches ln(bad share / good share) and Σ (bad − good share)·WoE without smoothing', () => {
    const { woe, iv } = computeWoe([10, 30], [60, 40], 0)
    expect(woe[0]).toBeCloseTo(Math.log(0.25 / 0.6), 12)
    expect(woe[1]).toBeCloseTo(Math.log(0.75 / 0.4), 12)
    expect(iv).toBeCloseTo((0.25 - 0.6) * Math.log(0.25 / 0.6) + (0.75 - 0.4) * Math.log(0.75 / 0.4), 12)
  })
  it('gives an empty bin WoE 0 and keeps every value finite when a side is empty', () => {
    const { woe, iv } = computeWoe([10, 0, 5], [50, 0, 0], 1)
    expect(woe[1]).toBeCloseTo(0, 12)
    expect(woe.every(Number.isFinite)).toBe(true)
    expect(Number.isFinite(iv)).toBe(true)
    expect(woe[2]).toBeGreaterThan(woe[0] as number) // all-bad bin is riskiest
  })
})

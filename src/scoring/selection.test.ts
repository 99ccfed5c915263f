/**
 * Variable selection: IV threshold, and the weaker of two correlated WoE columns is left out.
 */
import { describe, expect, it } from 'vitest'
import { pearson, selectVariables } from './selection.ts'

describe('selectVariables', () => {
  it('keeps strong, uncorrelated variables and says why the others were left out', () => {
    const a = Float64Array.from([1, 2, 3, 4, 5, 6])
    const aTwin = Float64Array.from([1.1, 2, 3.2, 4, 5.1, 6])
    const b = Float64Array.from([1, -1, 1, -1, 1, -1])
    const result = selectVariables([
      { name: 'a', iv: 0.4, woe: a },
      { name: 'aTwin', iv: 0.3, woe: aTwin },
      { name: 'b', iv: 0.1, woe: b },
      { name: 'weak', iv: 0.01, woe: b },
    ])
    expect(result.selected).toEqual(['a', 'b'])
    expect(result.decisions.find((d) => d.name === 'aTwin')).toMatchObject({ reason: 'correlated_with_stronger', correlatedWith: 'a' })
    expect(result.decisions.find((d) => d.name === 'weak')?.reason).toBe('iv_below_minimum')
  })
  it('pearson is ±1 on lines and 0 on a constant', () => {
    const x = Float64Array.from([1, 2, 3])
    expect(pearson(x, Float64Array.from([2, 4, 6]))).toBeCloseTo(1, 12)
    expect(pearson(x, Float64Array.from([3, 2, 1]))).toBeCloseTo(-1, 12)
    expect(pearson(x, Float64Array.from([5, 5, 5]))).toBe(0)
  })
})

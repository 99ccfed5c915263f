/**
 * The gradient-boosting challenger learns an interaction a linear scorecard cannot, handles missing
 * values, and is deterministic for a seed.
 */
import { describe, expect, it } from 'vitest'
import type { Column } from './csv.ts'
import { mulberry32 } from './cv.ts'
import { defaultGbmOptions, predictGbm, trainGbm } from './gbm.ts'
import { auc } from './metrics.ts'

describe('trainGbm', () => {
  it('learns an XOR of two features, with missing values and a categorical column', () => {
    const random = mulberry32(3)
    const n = 2000
    const a = new Float64Array(n)
    const b = new Float64Array(n)
    const c: (string | null)[] = []
    const y = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      a[i] = random() < 0.05 ? Number.NaN : random() * 2 - 1
      b[i] = random() * 2 - 1
      c.push(random() < 0.5 ? 'p' : null)
      y[i] = random() < ((a[i] as number) * (b[i] as number) > 0 ? 0.8 : 0.2) ? 1 : 0
    }
    const columns: Column[] = [{ kind: 'numeric', name: 'a', values: a }, { kind: 'numeric', name: 'b', values: b }, { kind: 'categorical', name: 'c', values: c }]
    const model = trainGbm(columns, y, defaultGbmOptions)
    const p = predictGbm(model, columns)
    expect(auc(p, y)).toBeGreaterThan(0.75)
    expect(Array.from(predictGbm(trainGbm(columns, y, defaultGbmOptions), columns))).toEqual(Array.from(p))
  })
})

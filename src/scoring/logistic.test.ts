/**
 * Logistic regression: the closed-form maximum-likelihood solution on a binary feature, first-order
 * optimality of the penalised fit, and a Cholesky check.
 */
import { describe, expect, it } from 'vitest'
import { mulberry32 } from './cv.ts'
import { fitLogistic, predictProbability, sigmoid, solveCholesky } from './logistic.ts'

describe('fitLogistic', () => {
  it('recovers the closed-form MLE for one binary feature (l2 = 0)', () => {
    // x = 0: 20 rows, 5 bad; x = 1: 30 rows, 18 bad → b0 = logit(0.25), b1 = logit(0.6) − logit(0.25).
    const xs: number[] = []
    const ys: number[] = []
    for (let i = 0; i < 20; i++) { xs.push(0); ys.push(i < 5 ? 1 : 0) }
    for (let i = 0; i < 30; i++) { xs.push(1); ys.push(i < 18 ? 1 : 0) }
    const logit = (p: number) => Math.log(p / (1 - p))
    const model = fitLogistic({ x: Float64Array.from(xs), n: 50, p: 1 }, Uint8Array.from(ys), { l2: 0, maxIterations: 50, tolerance: 1e-12 })
    expect(model.converged).toBe(true)
    expect(model.intercept).toBeCloseTo(logit(0.25), 9)
    expect(model.coefficients[0]).toBeCloseTo(logit(0.6) - logit(0.25), 9)
  })
  it('zeroes the penalised gradient (intercept unpenalised) on random data', () => {
    const random = mulberry32(5)
    const n = 300
    const p = 4
    const x = Float64Array.from({ length: n * p }, () => random() * 2 - 1)
    const y = Uint8Array.from({ length: n }, (_, i) => (random() < sigmoid(0.5 + 2 * (x[i * p] as number) - (x[i * p + 1] as number)) ? 1 : 0))
    const l2 = 3
    const model = fitLogistic({ x, n, p }, y, { l2, maxIterations: 50, tolerance: 1e-12 })
    const mu = predictProbability(model, { x, n, p })
    let g0 = 0
    const g = new Float64Array(p)
    for (let i = 0; i < n; i++) {
      const r = (mu[i] as number) - (y[i] as number)
      g0 += r
      for (let j = 0; j < p; j++) g[j] = (g[j] as number) + r * (x[i * p + j] as number)
    }
    expect(Math.abs(g0)).toBeLessThan(1e-6)
    for (let j = 0; j < p; j++) expect(Math.abs((g[j] as number) + l2 * (model.coefficients[j] as number))).toBeLessThan(1e-6)
    expect(model.coefficients[0]).toBeGreaterThan(1)
  })
  it('stays finite on separable data when penalised', () => {
    const model = fitLogistic({ x: Float64Array.from([0, 1, 2, 3]), n: 4, p: 1 }, Uint8Array.from([0, 0, 1, 1]), { l2: 0.1, maxIterations: 50, tolerance: 1e-10 })
    expect(Number.isFinite(model.coefficients[0])).toBe(true)
  })
})

describe('solveCholesky', () => {
  it('solves an SPD system and refuses an indefinite one', () => {
    const s = solveCholesky(Float64Array.from([4, 2, 2, 3]), Float64Array.from([2, 1]), 2) as Float64Array
    expect(s[0]).toBeCloseTo(0.5, 12)
    expect(s[1]).toBeCloseTo(0, 12)
    expect(solveCholesky(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toBeUndefined()
  })
})

/**
 * @module scoring/logistic
 * L2-regularised logistic regression fitted by Newton's method (IRLS) with an unpenalised intercept.
 *
 * Minimises Σ logloss(yᵢ, σ(b₀ + xᵢ·β)) + (l2 / 2)·‖β‖². Each step solves the penalised Hessian system by
 * Cholesky (it is symmetric positive definite once l2 > 0, or with any full-rank design), halving the
 * step while the objective does not fall, so the iteration cannot diverge on separable data. The design
 * is row-major in a Float64Array; the log-loss is evaluated in its overflow-safe form.
 *
 * Written here (no suitable npm library: the JS ML packages are gradient-descent toys or WASM bundles),
 * exact and deterministic: the same data give the same coefficients bit for bit.
 */
import { assert } from '../core/assert.ts'

export type LogisticOptions = {
  /** Penalty on the squared coefficients (not on the intercept). */
  readonly l2: number
  readonly maxIterations: number
  /** Stop when no parameter moves by more than this. */
  readonly tolerance: number
}

export const defaultLogisticOptions: LogisticOptions = { l2: 1, maxIterations: 50, tolerance: 1e-8 }

export type LogisticModel = {
  readonly intercept: number
  readonly coefficients: Float64Array
  readonly iterations: number
  readonly converged: boolean
}

/** A design matrix: n rows of p features, row-major. */
export type Design = { readonly x: Float64Array; readonly n: number; readonly p: number }

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))
}

export function fitLogistic(design: Design, y: Uint8Array, options: LogisticOptions = defaultLogisticOptions): LogisticModel {
  const { x, n, p } = design
  assert(x.length === n * p, 'design is n × p')
  assert(y.length === n, 'a label per row')
  assert(options.l2 >= 0, 'l2 is non-negative')
  const d = p + 1
  const theta = new Float64Array(d)
  let positives = 0
  for (let i = 0; i < n; i++) positives += y[i] as number
  const rate = Math.min(Math.max(positives / Math.max(n, 1), 1e-6), 1 - 1e-6)
  theta[0] = Math.log(rate / (1 - rate))
  const eta = new Float64Array(n)
  const objective = (t: Float64Array): number => {
    let loss = 0
    for (let i = 0; i < n; i++) {
      let z = t[0] as number
      const row = i * p
      for (let j = 0; j < p; j++) z += (x[row + j] as number) * (t[j + 1] as number)
      eta[i] = z
      loss += softplus(z) - (y[i] as number) * z
    }
    let penalty = 0
    for (let j = 1; j < d; j++) penalty += (t[j] as number) ** 2
    return loss + 0.5 * options.l2 * penalty
  }
  let current = objective(theta)
  let iterations = 0
  let converged = false
  const hessian = new Float64Array(d * d)
  const gradient = new Float64Array(d)
  const candidate = new Float64Array(d)
  while (iterations < options.maxIterations) {
    iterations++
    hessian.fill(0)
    gradient.fill(0)
    for (let i = 0; i < n; i++) {
      const mu = sigmoid(eta[i] as number)
      const w = Math.max(mu * (1 - mu), 1e-12)
      const r = mu - (y[i] as number)
      const row = i * p
      gradient[0] = (gradient[0] as number) + r
      hessian[0] = (hessian[0] as number) + w
      for (let a = 0; a < p; a++) {
        const xa = x[row + a] as number
        if (xa === 0) continue
        gradient[a + 1] = (gradient[a + 1] as number) + r * xa
        const wxa = w * xa
        const base = (a + 1) * d
        hessian[base] = (hessian[base] as number) + wxa
        for (let b = 0; b <= a; b++) hessian[base + b + 1] = (hessian[base + b + 1] as number) + wxa * (x[row + b] as number)
      }
    }
    for (let a = 1; a < d; a++) {
      gradient[a] = (gradient[a] as number) + options.l2 * (theta[a] as number)
      hessian[a * d + a] = (hessian[a * d + a] as number) + options.l2
      for (let b = 0; b < a; b++) hessian[b * d + a] = hessian[a * d + b] as number
    }
    const step = solveCholesky(hessian, gradient, d)
    if (step === undefined) break
    let scale = 1
    let next = Number.POSITIVE_INFINITY
    for (let halvings = 0; halvings < 40; halvings++) {
      for (let j = 0; j < d; j++) candidate[j] = (theta[j] as number) - scale * (step[j] as number)
      next = objective(candidate)
      if (next <= current) break
      scale /= 2
    }
    if (!(next <= current)) {
      objective(theta) // restore eta for the current parameters
      converged = true // no descent direction left at machine precision
      break
    }
    let moved = 0
    for (let j = 0; j < d; j++) moved = Math.max(moved, Math.abs((candidate[j] as number) - (theta[j] as number)))
    theta.set(candidate)
    const improvement = current - next
    current = next
    if (moved < options.tolerance || improvement <= 1e-12 * Math.max(1, Math.abs(current))) {
      converged = true
      break
    }
  }
  for (const v of theta) assert(Number.isFinite(v), 'logistic coefficients are finite')
  return { intercept: theta[0] as number, coefficients: theta.slice(1), iterations, converged }
}

/** Linear predictor b₀ + x·β per row. */
export function predictLogit(model: LogisticModel, design: Design): Float64Array {
  const { x, n, p } = design
  assert(model.coefficients.length === p, 'one coefficient per feature')
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let z = model.intercept
    for (let j = 0; j < p; j++) z += (x[i * p + j] as number) * (model.coefficients[j] as number)
    out[i] = z
  }
  return out
}

export function predictProbability(model: LogisticModel, design: Design): Float64Array {
  return predictLogit(model, design).map(sigmoid)
}

/**
 * Solves A·s = b for symmetric positive definite A (d × d, row-major) by Cholesky. Returns undefined
 * when A is not positive definite (a pivot ≤ 0 relative to the diagonal).
 */
export function solveCholesky(a: Float64Array, b: Float64Array, d: number): Float64Array | undefined {
  const l = new Float64Array(d * d)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * d + j] as number
      for (let k = 0; k < j; k++) sum -= (l[i * d + k] as number) * (l[j * d + k] as number)
      if (i === j) {
        if (!(sum > 1e-14 * Math.max(1, Math.abs(a[i * d + i] as number)))) return undefined
        l[i * d + i] = Math.sqrt(sum)
      } else {
        l[i * d + j] = sum / (l[j * d + j] as number)
      }
    }
  }
  const z = new Float64Array(d)
  for (let i = 0; i < d; i++) {
    let sum = b[i] as number
    for (let k = 0; k < i; k++) sum -= (l[i * d + k] as number) * (z[k] as number)
    z[i] = sum / (l[i * d + i] as number)
  }
  const s = new Float64Array(d)
  for (let i = d - 1; i >= 0; i--) {
    let sum = z[i] as number
    for (let k = i + 1; k < d; k++) sum -= (l[k * d + i] as number) * (s[k] as number)
    s[i] = sum / (l[i * d + i] as number)
  }
  return s
}

/** Column means and standard deviations (sd 1 for a constant column), ignoring NaN. */
export function columnMoments(design: Design): { mean: Float64Array; sd: Float64Array } {
  const { x, n, p } = design
  const mean = new Float64Array(p)
  const sd = new Float64Array(p)
  for (let j = 0; j < p; j++) {
    let count = 0
    let sum = 0
    for (let i = 0; i < n; i++) {
      const v = x[i * p + j] as number
      if (!Number.isNaN(v)) {
        count++
        sum += v
      }
    }
    const m = count === 0 ? 0 : sum / count
    let ss = 0
    for (let i = 0; i < n; i++) {
      const v = x[i * p + j] as number
      if (!Number.isNaN(v)) ss += (v - m) ** 2
    }
    const s = count > 1 ? Math.sqrt(ss / (count - 1)) : 0
    mean[j] = m
    sd[j] = s > 0 ? s : 1
  }
  return { mean, sd }
}

/** (x − mean) / sd per column, NaN (missing) → 0, the mean. Returns a new design. */
export function standardise(design: Design, moments: { mean: Float64Array; sd: Float64Array }): Design {
  const { x, n, p } = design
  const out = new Float64Array(n * p)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      const v = x[i * p + j] as number
      out[i * p + j] = Number.isNaN(v) ? 0 : (v - (moments.mean[j] as number)) / (moments.sd[j] as number)
    }
  }
  return { x: out, n, p }
}

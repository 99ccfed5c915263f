/**
 * @module scoring/cv
 * Seeded, stratified k-fold cross-validation. The generator is mulberry32 (32-bit state, fast, and the
 * same sequence on every platform), so a seed names one exact assignment of rows to folds.
 */
import { assert } from '../core/assert.ts'

/** mulberry32: a function returning uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fisher–Yates shuffle in place with the given generator. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = items[i] as T
    items[i] = items[j] as T
    items[j] = tmp
  }
  return items
}

/**
 * The fold (0 … k−1) of each row: each class is shuffled and dealt round-robin, so every fold holds
 * ⌊n_c/k⌋ or ⌈n_c/k⌉ rows of class c. The deal continues across classes so fold sizes stay balanced.
 */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, seed: number): Int32Array {
  assert(Number.isInteger(k) && k >= 2, 'at least two folds')
  const random = mulberry32(seed)
  const byClass = new Map<number, number[]>()
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i] as number
    let rows = byClass.get(c)
    if (rows === undefined) byClass.set(c, (rows = []))
    rows.push(i)
  }
  const folds = new Int32Array(labels.length).fill(-1)
  let next = 0
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const row of shuffleInPlace(byClass.get(c) as number[], random)) {
      folds[row] = next
      next = (next + 1) % k
    }
  }
  return folds
}

/** Row indices of the training and test part of one fold. */
export function splitFold(folds: Int32Array, fold: number): { train: Int32Array; test: Int32Array } {
  const train: number[] = []
  const test: number[] = []
  for (let i = 0; i < folds.length; i++) (folds[i] === fold ? test : train).push(i)
  return { train: Int32Array.from(train), test: Int32Array.from(test) }
}

/** A seeded stratified split: about `share` of each class goes to the second part. */
export function stratifiedSplit(labels: ArrayLike<number>, share: number, seed: number): { first: Int32Array; second: Int32Array } {
  assert(share > 0 && share < 1, 'share in (0, 1)')
  const random = mulberry32(seed)
  const first: number[] = []
  const second: number[] = []
  const byClass = new Map<number, number[]>()
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i] as number
    let rows = byClass.get(c)
    if (rows === undefined) byClass.set(c, (rows = []))
    rows.push(i)
  }
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = shuffleInPlace(byClass.get(c) as number[], random)
    const cut = Math.round(rows.length * share)
    second.push(...rows.slice(0, cut))
    first.push(...rows.slice(cut))
  }
  const sort = (rows: number[]) => Int32Array.from(rows).sort()
  return { first: sort(first), second: sort(second) }
}

/**
 * Runs `evaluate(train, test)` over `repeats` × k seeded stratified folds and returns each value
 * (repeat r uses seed + r).
 */
export function crossValidate<T>(labels: ArrayLike<number>, k: number, repeats: number, seed: number, evaluate: (train: Int32Array, test: Int32Array, fold: number, repeat: number) => T): T[] {
  const out: T[] = []
  for (let r = 0; r < repeats; r++) {
    const folds = stratifiedFolds(labels, k, seed + r)
    for (let f = 0; f < k; f++) {
      const { train, test } = splitFold(folds, f)
      out.push(evaluate(train, test, f, r))
    }
  }
  return out
}

export function meanAndSd(values: readonly number[]): { mean: number; sd: number } {
  const n = values.length
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN }
  const mean = values.reduce((s, v) => s + v, 0) / n
  const sd = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0
  return { mean, sd }
}

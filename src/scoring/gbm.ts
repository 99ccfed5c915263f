/**
 * @module scoring/gbm
 * The gradient-boosting challenger: histogram gradient boosting of regression trees on log-loss
 * (LightGBM's recipe in miniature), for the data sets where a points scorecard leaves signal behind
 * (interactions, U-shaped ratios: Taiwan, Polish bankruptcy).
 *
 * - Features are binned once: numeric at up to `binsMax` quantile cuts, categories ordered by their
 *   training bad rate; bin 0 is "missing" (and unseen categories), and every split learns which side
 *   missing goes to.
 * - Trees grow best-first to `leavesMax` leaves; a node's histogram is built over its rows and its
 *   larger child's histogram is the parent's minus the smaller child's.
 * - Leaf values are Newton steps −G/(H + l2) times the learning rate. Boosting stops early when the
 *   log-loss on a seeded stratified validation split of the *training* rows has not improved for
 *   `patienceRounds` rounds, and the model keeps the best round. Test rows are never looked at.
 *
 * No suitable npm library (the JS ports are unmaintained or native/WASM); this one is small, exact and
 * deterministic for a given seed. It is a benchmark challenger: model artefacts hold scorecards only.
 */
import { assert } from '../core/assert.ts'
import { fineCuts, upperBound } from './binning.ts'
import type { Column } from './csv.ts'
import { stratifiedSplit } from './cv.ts'
import { sigmoid } from './logistic.ts'

export type GbmOptions = {
  readonly binsMax: number
  readonly learningRate: number
  readonly roundsMax: number
  readonly leavesMax: number
  readonly leafRowsMin: number
  readonly l2: number
  readonly patienceRounds: number
  readonly validationShare: number
  readonly seed: number
}

export const defaultGbmOptions: GbmOptions = {
  binsMax: 64,
  learningRate: 0.08,
  roundsMax: 400,
  leavesMax: 15,
  leafRowsMin: 20,
  l2: 1,
  patienceRounds: 30,
  validationShare: 0.15,
  seed: 7,
}

type Encoder = { readonly kind: 'numeric'; readonly cuts: readonly number[] } | { readonly kind: 'categorical'; readonly codes: ReadonlyMap<string, number>; readonly size: number }

/** A tree in flat arrays; a node with feature −1 is a leaf. */
type Tree = { feature: Int32Array; threshold: Int32Array; missingLeft: Uint8Array; left: Int32Array; right: Int32Array; value: Float64Array }

export type GbmModel = { readonly names: readonly string[]; readonly encoders: readonly Encoder[]; readonly baseLogit: number; readonly trees: readonly Tree[] }

function buildEncoder(column: Column, target: Uint8Array, binsMax: number): Encoder {
  if (column.kind === 'numeric') {
    const present = column.values.filter((v) => !Number.isNaN(v))
    return { kind: 'numeric', cuts: fineCuts(present, binsMax - 1) }
  }
  const stats = new Map<string, { n: number; bads: number }>()
  column.values.forEach((v, i) => {
    if (v === null) return
    let s = stats.get(v)
    if (s === undefined) stats.set(v, (s = { n: 0, bads: 0 }))
    s.n++
    s.bads += target[i] as number
  })
  const ordered = [...stats].sort(([a, x], [b, y]) => (x.bads + 0.5) / (x.n + 1) - (y.bads + 0.5) / (y.n + 1) || (a < b ? -1 : 1))
  // Categories beyond binsMax − 1 share the last code (rare categories in a long tail).
  const codes = new Map(ordered.map(([c], i) => [c, Math.min(i + 1, binsMax - 1)]))
  return { kind: 'categorical', codes, size: Math.min(ordered.length + 1, binsMax) }
}

function binCount(encoder: Encoder): number {
  return encoder.kind === 'numeric' ? encoder.cuts.length + 2 : encoder.size
}

function encode(encoder: Encoder, column: Column): Uint8Array {
  const out = new Uint8Array(column.values.length)
  if (encoder.kind === 'numeric') {
    assert(column.kind === 'numeric', () => `column ${column.name} is numeric`)
    column.values.forEach((v, i) => {
      out[i] = Number.isNaN(v) ? 0 : 1 + upperBound(encoder.cuts, v)
    })
  } else {
    column.values.forEach((v, i) => {
      out[i] = v === null ? 0 : (encoder.codes.get(String(v)) ?? 0)
    })
  }
  return out
}

type Split = { gain: number; feature: number; threshold: number; missingLeft: boolean }

export function trainGbm(columns: readonly Column[], target: Uint8Array, options: GbmOptions = defaultGbmOptions): GbmModel {
  const n = target.length
  const encoders = columns.map((c) => buildEncoder(c, target, options.binsMax))
  const codes = columns.map((c, f) => encode(encoders[f] as Encoder, c))
  const sizes = encoders.map(binCount)
  const offsets = new Int32Array(sizes.length + 1)
  sizes.forEach((s, f) => (offsets[f + 1] = (offsets[f] as number) + s))
  const histLength = offsets[sizes.length] as number
  const { first: trainRows, second: validRows } = stratifiedSplit(target, options.validationShare, options.seed)
  let bads = 0
  for (const i of trainRows) bads += target[i] as number
  const rate = Math.min(Math.max(bads / trainRows.length, 1e-6), 1 - 1e-6)
  const baseLogit = Math.log(rate / (1 - rate))
  const logit = new Float64Array(n).fill(baseLogit)
  const grad = new Float64Array(n)
  const hess = new Float64Array(n)
  const trees: Tree[] = []
  let bestLoss = Number.POSITIVE_INFINITY
  let bestRounds = 0
  const rows = new Int32Array(trainRows)
  const scratch = new Int32Array(rows.length)

  const histogram = (from: number, to: number): Float64Array => {
    const h = new Float64Array(histLength * 3)
    for (let f = 0; f < codes.length; f++) {
      const code = codes[f] as Uint8Array
      const base = (offsets[f] as number) * 3
      for (let k = from; k < to; k++) {
        const i = rows[k] as number
        const at = base + (code[i] as number) * 3
        h[at] = (h[at] as number) + (grad[i] as number)
        h[at + 1] = (h[at + 1] as number) + (hess[i] as number)
        h[at + 2] = (h[at + 2] as number) + 1
      }
    }
    return h
  }
  const bestSplit = (h: Float64Array): Split | undefined => {
    let best: Split | undefined
    for (let f = 0; f < codes.length; f++) {
      const base = (offsets[f] as number) * 3
      const size = sizes[f] as number
      let G = 0
      let H = 0
      let N = 0
      for (let b = 0; b < size; b++) {
        G += h[base + b * 3] as number
        H += h[base + b * 3 + 1] as number
        N += h[base + b * 3 + 2] as number
      }
      const parent = (G * G) / (H + options.l2)
      const mG = h[base] as number
      const mH = h[base + 1] as number
      const mN = h[base + 2] as number
      let gL = 0
      let hL = 0
      let nL = 0
      for (let t = 1; t < size - 1; t++) {
        gL += h[base + t * 3] as number
        hL += h[base + t * 3 + 1] as number
        nL += h[base + t * 3 + 2] as number
        for (const missingLeft of [false, true]) {
          const gl = missingLeft ? gL + mG : gL
          const hl = missingLeft ? hL + mH : hL
          const nl = missingLeft ? nL + mN : nL
          if (nl < options.leafRowsMin || N - nl < options.leafRowsMin) continue
          const gain = (gl * gl) / (hl + options.l2) + ((G - gl) * (G - gl)) / (H - hl + options.l2) - parent
          if (gain > 1e-9 && (best === undefined || gain > best.gain)) best = { gain, feature: f, threshold: t, missingLeft }
        }
      }
    }
    return best
  }

  for (let round = 0; round < options.roundsMax; round++) {
    for (const i of trainRows) {
      const p = sigmoid(logit[i] as number)
      grad[i] = p - (target[i] as number)
      hess[i] = Math.max(p * (1 - p), 1e-12)
    }
    const tree = growTree()
    trees.push(tree)
    for (let i = 0; i < n; i++) logit[i] = (logit[i] as number) + predictTree(tree, codes, i)
    let loss = 0
    for (const i of validRows) {
      const z = logit[i] as number
      loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - (target[i] as number) * z
    }
    if (loss < bestLoss - 1e-9) {
      bestLoss = loss
      bestRounds = trees.length
    } else if (trees.length - bestRounds >= options.patienceRounds) {
      break
    }
  }
  return { names: columns.map((c) => c.name), encoders, baseLogit, trees: trees.slice(0, Math.max(bestRounds, 1)) }

  function growTree(): Tree {
    type Leaf = { node: number; from: number; to: number; hist: Float64Array; split: Split | undefined; G: number; H: number }
    const feature: number[] = []
    const threshold: number[] = []
    const missingLeft: number[] = []
    const left: number[] = []
    const right: number[] = []
    const value: number[] = []
    const addNode = () => {
      feature.push(-1)
      threshold.push(0)
      missingLeft.push(0)
      left.push(-1)
      right.push(-1)
      value.push(0)
      return feature.length - 1
    }
    const sums = (from: number, to: number) => {
      let G = 0
      let H = 0
      for (let k = from; k < to; k++) {
        G += grad[rows[k] as number] as number
        H += hess[rows[k] as number] as number
      }
      return { G, H }
    }
    const makeLeaf = (from: number, to: number, hist: Float64Array): Leaf => ({ node: addNode(), from, to, hist, split: bestSplit(hist), ...sums(from, to) })
    const leaves: Leaf[] = [makeLeaf(0, rows.length, histogram(0, rows.length))]
    while (leaves.length < options.leavesMax) {
      let pick = -1
      for (let l = 0; l < leaves.length; l++) {
        const s = (leaves[l] as Leaf).split
        if (s !== undefined && (pick < 0 || s.gain > ((leaves[pick] as Leaf).split as Split).gain)) pick = l
      }
      if (pick < 0) break
      const leaf = leaves[pick] as Leaf
      const split = leaf.split as Split
      // Partition rows[from, to) stably: left rows first.
      const code = codes[split.feature] as Uint8Array
      let l = leaf.from
      let r = 0
      for (let k = leaf.from; k < leaf.to; k++) {
        const i = rows[k] as number
        const c = code[i] as number
        const goesLeft = c === 0 ? split.missingLeft : c <= split.threshold
        if (goesLeft) rows[l++] = i
        else scratch[r++] = i
      }
      rows.set(scratch.subarray(0, r), l)
      const leftSmaller = l - leaf.from <= leaf.to - l
      const smallHist = leftSmaller ? histogram(leaf.from, l) : histogram(l, leaf.to)
      const bigHist = leaf.hist
      for (let k = 0; k < bigHist.length; k++) bigHist[k] = (bigHist[k] as number) - (smallHist[k] as number)
      const leftLeaf = makeLeaf(leaf.from, l, leftSmaller ? smallHist : bigHist)
      const rightLeaf = makeLeaf(l, leaf.to, leftSmaller ? bigHist : smallHist)
      feature[leaf.node] = split.feature
      threshold[leaf.node] = split.threshold
      missingLeft[leaf.node] = split.missingLeft ? 1 : 0
      left[leaf.node] = leftLeaf.node
      right[leaf.node] = rightLeaf.node
      leaves.splice(pick, 1, leftLeaf, rightLeaf)
    }
    for (const leaf of leaves) value[leaf.node] = (-leaf.G / (leaf.H + options.l2)) * options.learningRate
    return {
      feature: Int32Array.from(feature),
      threshold: Int32Array.from(threshold),
      missingLeft: Uint8Array.from(missingLeft),
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      value: Float64Array.from(value),
    }
  }
}

function predictTree(tree: Tree, codes: readonly Uint8Array[], i: number): number {
  let node = 0
  while ((tree.feature[node] as number) >= 0) {
    const c = (codes[tree.feature[node] as number] as Uint8Array)[i] as number
    const goesLeft = c === 0 ? tree.missingLeft[node] === 1 : c <= (tree.threshold[node] as number)
    node = (goesLeft ? tree.left[node] : tree.right[node]) as number
  }
  return tree.value[node] as number
}

/** Probabilities of bad for the rows of `columns` (matched to the model's features by name). */
export function predictGbm(model: GbmModel, columns: readonly Column[]): Float64Array {
  const byName = new Map(columns.map((c) => [c.name, c]))
  const codes = model.names.map((name, f) => {
    const column = byName.get(name)
    assert(column !== undefined, () => `column ${name} present`)
    return encode(model.encoders[f] as Encoder, column)
  })
  const n = codes[0]?.length ?? 0
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let z = model.baseLogit
    for (const tree of model.trees) z += predictTree(tree, codes, i)
    out[i] = sigmoid(z)
  }
  return out
}

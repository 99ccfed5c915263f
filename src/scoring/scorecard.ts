/**
 * @module scoring/scorecard
 * The WoE logistic scorecard: train (bin → WoE → select → fit), scale to points, score with reason
 * codes, and the versioned JSON model artefact.
 *
 * Points: score = offset + factor·ln(good:bad odds), factor = pointsToDoubleOdds / ln 2 and
 * offset = baseScore − factor·ln(baseOdds), so baseScore means baseOdds (e.g. 600 ↔ 50:1) and every
 * pointsToDoubleOdds points double the odds. With logit z = b₀ + Σ βᵥ·WoEᵥ (probability of bad), a row's
 * score is basePoints + Σ pointsᵥ with basePoints = offset − factor·b₀ and pointsᵥ = −factor·βᵥ·WoEᵥ.
 *
 * Reason codes are the variables whose points fall furthest below the best points that variable can
 * give (over its bins seen in training), largest shortfall first: the "top adverse factors".
 *
 * Pure: the caller passes the training-data fingerprint (SHA-256 of the CSV bytes) and the time.
 */
import { assert } from '../core/assert.ts'
import { binColumn, defaultBinningOptions, describeBin, makeAssigner, type Bin, type Binning, type BinningOptions } from './binning.ts'
import { isNumberText, type Column } from './csv.ts'
import { defaultLogisticOptions, fitLogistic, sigmoid, type LogisticOptions } from './logistic.ts'
import { auc, calibrationTable, ks, brier, scoreDistribution, type CalibrationRow, type ScoreBand } from './metrics.ts'
import { defaultSelectionOptions, selectVariables, type SelectionOptions, type SelectionResult } from './selection.ts'

export type Scaling = { readonly baseScore: number; readonly baseOdds: number; readonly pointsToDoubleOdds: number }
export const defaultScaling: Scaling = { baseScore: 600, baseOdds: 50, pointsToDoubleOdds: 20 }

export type ScorecardOptions = {
  readonly binning: BinningOptions
  readonly selection: SelectionOptions
  readonly logistic: LogisticOptions
  readonly scaling: Scaling
  readonly reasonsMax: number
  /** Drop variables whose coefficient comes out ≤ 0 and refit (the points then always read the right way). */
  readonly positiveCoefficients: boolean
}

export const defaultScorecardOptions: ScorecardOptions = {
  binning: defaultBinningOptions,
  selection: defaultSelectionOptions,
  logistic: defaultLogisticOptions,
  scaling: defaultScaling,
  reasonsMax: 4,
  positiveCoefficients: true,
}

export type PointedBin = Bin & { readonly points: number }

export type ScorecardVariable = {
  readonly name: string
  readonly type: 'numeric' | 'categorical'
  readonly trend: Binning['trend']
  readonly integerValued: boolean
  readonly iv: number
  readonly coefficient: number
  readonly bins: readonly PointedBin[]
}

export type Scorecard = {
  readonly intercept: number
  readonly basePoints: number
  readonly factor: number
  readonly offset: number
  readonly scaling: Scaling
  readonly variables: readonly ScorecardVariable[]
  readonly selection: SelectionResult['decisions']
  readonly reasonsMax: number
}

export type TrainingData = { readonly columns: readonly Column[]; readonly target: Uint8Array }

/** factor and offset of a points scale. */
export function scaleConstants(scaling: Scaling): { factor: number; offset: number } {
  assert(scaling.pointsToDoubleOdds > 0, 'points to double the odds are positive')
  assert(scaling.baseOdds > 0, 'base odds are positive')
  const factor = scaling.pointsToDoubleOdds / Math.LN2
  return { factor, offset: scaling.baseScore - factor * Math.log(scaling.baseOdds) }
}

/** The good:bad odds a score stands for on this scale. */
export function oddsAtScore(scaling: Scaling, score: number): number {
  const { factor, offset } = scaleConstants(scaling)
  return Math.exp((score - offset) / factor)
}

/** The probability of bad a score stands for on this scale. */
export function probabilityAtScore(scaling: Scaling, score: number): number {
  const { factor, offset } = scaleConstants(scaling)
  return sigmoid(-(score - offset) / factor)
}

/** Trains a scorecard. Throws an Error with a one-line reason when the data cannot make one. */
export function trainScorecard(data: TrainingData, options: ScorecardOptions = defaultScorecardOptions): Scorecard {
  const { columns, target } = data
  const n = target.length
  let bads = 0
  for (const t of target) bads += t
  if (bads === 0 || bads === n) throw new Error(`the target needs both classes: ${bads} bad and ${n - bads} good rows`)
  const binnings = columns.map((column) => binColumn(column, target, options.binning))
  const woeColumns = new Map<string, Float64Array>()
  binnings.forEach((binning, c) => woeColumns.set(binning.name, woeColumn(binning, columns[c] as Column)))
  const selection = selectVariables(binnings.map((b) => ({ name: b.name, iv: b.iv, woe: woeColumns.get(b.name) as Float64Array })), options.selection)
  // Fit; a variable whose coefficient comes out ≤ 0 (its WoE counted against the risk it measures, a
  // sign of collinearity) is dropped and the rest refitted, so every points column reads the right way.
  let names = [...selection.selected]
  let fit = fitOn(names, woeColumns, target, options.logistic)
  const dropped = new Set<string>()
  while (options.positiveCoefficients && names.length > 0) {
    const worst = names.map((name, j) => ({ name, beta: fit.coefficients[j] as number })).sort((a, b) => a.beta - b.beta)[0]
    if (worst === undefined || worst.beta > 0) break
    dropped.add(worst.name)
    names = names.filter((name) => name !== worst.name)
    fit = fitOn(names, woeColumns, target, options.logistic)
  }
  const { factor, offset } = scaleConstants(options.scaling)
  const variables = names.map((name, j) => {
    const binning = binnings.find((b) => b.name === name) as Binning
    const beta = fit.coefficients[j] as number
    return {
      name,
      type: binning.type,
      trend: binning.trend,
      integerValued: binning.integerValued,
      iv: binning.iv,
      coefficient: beta,
      bins: binning.bins.map((bin) => ({ ...bin, points: -factor * beta * bin.woe })),
    }
  })
  const decisions = selection.decisions.map((d) => (dropped.has(d.name) ? { ...d, reason: 'coefficient_not_positive' as const } : d))
  return { intercept: fit.intercept, basePoints: offset - factor * fit.intercept, factor, offset, scaling: options.scaling, variables, selection: decisions, reasonsMax: options.reasonsMax }
}

function fitOn(names: readonly string[], woeColumns: Map<string, Float64Array>, target: Uint8Array, options: LogisticOptions) {
  const n = target.length
  const p = names.length
  const x = new Float64Array(n * p)
  names.forEach((name, j) => {
    const col = woeColumns.get(name) as Float64Array
    for (let i = 0; i < n; i++) x[i * p + j] = col[i] as number
  })
  return fitLogistic({ x, n, p }, target, options)
}

function woeColumn(binning: Binning, column: Column): Float64Array {
  const assign = makeAssigner(binning)
  const out = new Float64Array(column.values.length)
  for (let i = 0; i < out.length; i++) out[i] = (binning.bins[assign(column.values[i] as number | string | null)] as Bin).woe
  return out
}

export type Reason = { readonly code: string; readonly en: string; readonly zh: string }
export type ScoreResult = { readonly score: number; readonly probability: number; readonly reasons: readonly Reason[] }

/** A scorecard ready to score many rows: one bin assigner per variable. */
export type CompiledScorecard = {
  readonly card: Scorecard
  readonly assigners: readonly ((value: string | number | null) => number)[]
  readonly bestPoints: readonly number[]
}

export function compileScorecard(card: Scorecard): CompiledScorecard {
  return {
    card,
    assigners: card.variables.map((v) => makeAssigner({ name: v.name, type: v.type, trend: v.trend, bins: v.bins, iv: v.iv, integerValued: v.integerValued })),
    bestPoints: card.variables.map((v) => v.bins.reduce((best, b) => (b.count > 0 && b.points > best ? b.points : best), Number.NEGATIVE_INFINITY)),
  }
}

/** Scores one row; `valueOf` gives the raw value of a variable (text from CSV, a number, or null). */
export function scoreRow(compiled: CompiledScorecard, valueOf: (name: string) => string | number | null | undefined): ScoreResult {
  const { card } = compiled
  let score = card.basePoints
  const shortfalls: { j: number; bin: PointedBin; shortfall: number }[] = []
  card.variables.forEach((v, j) => {
    const bin = v.bins[(compiled.assigners[j] as (value: string | number | null) => number)(valueOf(v.name) ?? null)] as PointedBin
    score += bin.points
    const shortfall = (compiled.bestPoints[j] as number) - bin.points
    if (shortfall > 1e-9) shortfalls.push({ j, bin, shortfall })
  })
  shortfalls.sort((a, b) => b.shortfall - a.shortfall || a.j - b.j)
  const reasons = shortfalls.slice(0, card.reasonsMax).map(({ j, bin }) => {
    const v = card.variables[j] as ScorecardVariable
    const text = describeBin(bin, v.integerValued)
    return { code: v.name, en: `${v.name}: ${text.en}`, zh: `${v.name}：${text.zh}` }
  })
  return { score, probability: sigmoid(-(score - card.offset) / card.factor), reasons }
}

/** Probabilities of bad for every row of a set of columns (the columns named by the card must be present). */
export function predictColumns(card: Scorecard, columns: readonly Column[]): Float64Array {
  const compiled = compileScorecard(card)
  const byName = new Map(columns.map((c) => [c.name, c]))
  const n = columns[0]?.values.length ?? 0
  const logit = new Float64Array(n).fill(card.intercept)
  card.variables.forEach((v, j) => {
    const column = byName.get(v.name)
    assert(column !== undefined, () => `column ${v.name} present`)
    const assign = compiled.assigners[j] as (value: string | number | null) => number
    for (let i = 0; i < n; i++) logit[i] = (logit[i] as number) + v.coefficient * (v.bins[assign(column.values[i] as number | string | null)] as PointedBin).woe
  })
  return logit.map(sigmoid)
}

/** The 0/1 target (1 = bad) from a column: text equal to `bad`, or for a numeric column the number `bad`. */
export function targetFromColumn(column: Column, bad: string): Uint8Array {
  const out = new Uint8Array(column.values.length)
  let missing = 0
  if (column.kind === 'numeric') {
    const badNumber = isNumberText(bad) ? Number(bad) : Number.NaN
    column.values.forEach((v, i) => {
      if (Number.isNaN(v)) missing++
      out[i] = v === badNumber ? 1 : 0
    })
  } else {
    column.values.forEach((v, i) => {
      if (v === null) missing++
      out[i] = v === bad ? 1 : 0
    })
  }
  if (missing > 0) throw new Error(`target column ${column.name} has ${missing} missing values`)
  return out
}

export type ModelMetrics = {
  readonly auc: number
  readonly ks: number
  readonly gini: number
  readonly brier: number
  readonly n: number
  readonly calibration: readonly CalibrationRow[]
  readonly scoreDistribution: readonly ScoreBand[]
}

/** Metrics of probabilities against labels, with the score distribution on the card's scale. */
export function evaluateScorecard(card: Scorecard, probabilities: Float64Array, labels: Uint8Array): ModelMetrics {
  const a = auc(probabilities, labels)
  const scores = Array.from(probabilities, (p) => card.offset - card.factor * Math.log(p / (1 - p)))
  return {
    auc: a,
    ks: ks(probabilities, labels),
    gini: 2 * a - 1,
    brier: brier(probabilities, labels),
    n: labels.length,
    calibration: calibrationTable(probabilities, labels),
    scoreDistribution: scoreDistribution(scores, labels, card.scaling.pointsToDoubleOdds),
  }
}

export const artefactFormat = 'puhui-scorecard'
export const artefactFormatVersion = 1

/** The model artefact: everything needed to score, plus provenance and metrics. */
export type ScorecardArtefact = {
  readonly format: typeof artefactFormat
  readonly formatVersion: typeof artefactFormatVersion
  readonly createdAt: string
  readonly trainingData: { readonly sha256: string; readonly rows: number; readonly bads: number; readonly columns: readonly string[] }
  readonly target: { readonly column: string; readonly bad: string }
  readonly excluded: readonly string[]
  readonly card: Scorecard
  readonly metrics: Record<string, unknown>
}

export function buildArtefact(input: Omit<ScorecardArtefact, 'format' | 'formatVersion'>): ScorecardArtefact {
  assert(/^[0-9a-f]{64}$/.test(input.trainingData.sha256), 'fingerprint is SHA-256 hex')
  return { format: artefactFormat, formatVersion: artefactFormatVersion, ...input }
}

/** Reads an artefact from JSON text, checking its shape. Throws an Error with a one-line reason. */
export function parseArtefact(text: string): ScorecardArtefact {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error('the model file is not JSON')
  }
  const a = value as Partial<ScorecardArtefact> | null
  if (a === null || typeof a !== 'object' || a.format !== artefactFormat) throw new Error(`the model file is not a ${artefactFormat} artefact`)
  if (a.formatVersion !== artefactFormatVersion) throw new Error(`model format version ${String(a.formatVersion)} is not supported (this build reads ${artefactFormatVersion})`)
  const card = a.card
  if (card === undefined || typeof card.intercept !== 'number' || typeof card.basePoints !== 'number' || typeof card.factor !== 'number' || typeof card.offset !== 'number' || !Array.isArray(card.variables)) {
    throw new Error('the model file has no valid scorecard')
  }
  for (const v of card.variables as ScorecardVariable[]) {
    if (typeof v.name !== 'string' || (v.type !== 'numeric' && v.type !== 'categorical') || typeof v.coefficient !== 'number' || !Array.isArray(v.bins) || !v.bins.some((b) => b.kind === 'missing')) {
      throw new Error(`the model file's variable ${String(v.name)} is malformed`)
    }
    if (v.type === 'categorical' && !v.bins.some((b) => b.kind === 'unseen')) throw new Error(`the model file's variable ${v.name} has no unseen-category bin`)
  }
  if (a.target === undefined || typeof a.target.column !== 'string' || typeof a.target.bad !== 'string') throw new Error('the model file names no target')
  return a as ScorecardArtefact
}

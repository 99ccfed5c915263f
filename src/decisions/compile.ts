/**
 * @module decisions/compile
 * Compiles a strategy document once (every expression type-checked and turned into a closure) and
 * decides applications with it. `decide` is pure and deterministic: the same compiled strategy and the
 * same input give the same decision, with a trace of every rule evaluated (the answer to "why was I
 * declined?"). No clock, no randomness, no I/O; the business date arrives as an input.
 *
 * Order of evaluation (all of it runs, so the trace is complete): inputs → knock-outs → score cut-offs
 * → referral rules → limit → pricing → term. The outcome is `declined` when any decline reason exists,
 * else `referred` when any referral reason exists, else `approved`.
 *
 * Money: inputs and the limit are numbers in major units; `convertMinorToMajor` and
 * `convertMajorToMinor` are the boundary. The limit is rounded down to the strategy's step (a whole
 * number of cents), so its conversion to bigint minor units is exact.
 */
import { assert } from '../core/assert.ts'
import { currencyScale, type Currency } from '../core/money.ts'
import {
  compileExpression, createSchema, interpretExpression, isValueOfType, type CompiledExpression, type Evaluate, type ExpressionSchema,
  formatExpressionError, type Value, type ValueType,
} from './expression.ts'
import { scoreInput, validateStrategyDocument, type OnMissingInput, type OnNull, type ReasonText, type StrategyDefinition, type StrategyError } from './strategy.ts'

export type DecisionOutcome = 'approved' | 'declined' | 'referred'
export type DecisionReason = { readonly code: string; readonly en: string; readonly zh: string; readonly rule?: string }
export type TraceStep = 'input' | 'knockout' | 'cutoff' | 'referral' | 'limit' | 'pricing' | 'term'
/**
 * passed / fired / unknown: a rule's condition was false / true / null. missing / invalid: an input was
 * absent or of the wrong type (it is then null). computed / capped / matched / unmatched: the limit,
 * pricing and term steps.
 */
export type TraceResult = 'passed' | 'fired' | 'unknown' | 'missing' | 'invalid' | 'computed' | 'capped' | 'matched' | 'unmatched'
export type TraceEntry = { readonly step: TraceStep; readonly rule: string; readonly result: TraceResult; readonly value?: Value }
export type Decision = {
  readonly outcome: DecisionOutcome
  /** Why: the decline reasons when declined, the referral reasons when referred, none when approved. */
  readonly reasons: readonly DecisionReason[]
  readonly strategy: { readonly name: string; readonly version: number | null }
  readonly score: number | null
  /** The offer (approved) or the proposed offer (referred); absent when declined or not computable. */
  readonly limitMajor?: number
  readonly annualRatePct?: string
  readonly termMonths?: number
  readonly trace: readonly TraceEntry[]
}
/** An application's input: values by declared name, flat (`{"features.gmv_6m": 1}`) or nested (`{features: {gmv_6m: 1}}`). */
export type DecisionInput = Readonly<Record<string, unknown>>

type CompiledRule = {
  readonly code: string
  readonly reason: DecisionReason
  readonly onNull: OnNull
  readonly expression: CompiledExpression
  readonly evaluate: Evaluate
  /** Frozen trace entries shared by every decision: a rule's trace costs no allocation. */
  readonly traced: { readonly passed: TraceEntry; readonly fired: TraceEntry; readonly unknown: TraceEntry }
  readonly unavailable: DecisionReason
}
type CompiledInput = { readonly name: string; readonly type: ValueType; readonly nullable: boolean; readonly path: readonly string[] | null }
export type CompiledStrategy = {
  readonly definition: StrategyDefinition
  readonly schema: ExpressionSchema
  readonly inputs: readonly CompiledInput[]
  readonly knockouts: readonly CompiledRule[]
  readonly referrals: readonly CompiledRule[]
  readonly limitFormula: CompiledExpression & { readonly run: Evaluate }
  readonly requestedTerm: (CompiledExpression & { readonly run: Evaluate }) | null
  readonly scoreSlot: number
  readonly mode: 'compiled' | 'interpreted'
}
export type CompileStrategyResult =
  | { readonly ok: true; readonly strategy: CompiledStrategy }
  | { readonly ok: false; readonly errors: readonly StrategyError[] }

/** Reasons the engine itself gives (rules give their own), in English and Chinese. */
export const systemReasons = {
  input_missing: { en: 'Information needed for an automatic decision is missing', zh: '自动审批所需信息缺失' },
  input_invalid: { en: 'Some application data is not in the expected form', zh: '部分申请数据格式不正确' },
  score_missing: { en: 'No credit score is available', zh: '暂无信用评分' },
  score_below_decline_cutoff: { en: "The credit score is below the product's minimum", zh: '信用评分低于本产品的最低要求' },
  score_in_review_band: { en: 'The credit score calls for a manual review', zh: '信用评分需人工复核' },
  limit_unavailable: { en: 'A credit limit could not be calculated', zh: '无法测算授信额度' },
  limit_below_minimum: { en: "The calculated limit is below the product's minimum", zh: '测算额度低于产品最低额度' },
  no_price_for_score: { en: 'No price is defined for this credit score', zh: '该信用评分无对应定价' },
  term_not_offered: { en: 'The requested term is not offered for this product', zh: '本产品不提供所申请的期限' },
} as const satisfies Record<string, ReasonText>
export type SystemReasonCode = keyof typeof systemReasons

const reasonOf = (code: SystemReasonCode): DecisionReason => Object.freeze({ code, ...systemReasons[code] })
const systemReason = Object.fromEntries(Object.keys(systemReasons).map((code) => [code, reasonOf(code as SystemReasonCode)])) as Record<SystemReasonCode, DecisionReason>
const traceOf = (step: TraceStep, rule: string, result: TraceResult): TraceEntry => Object.freeze({ step, rule, result })

function compileRule(errors: StrategyError[], schema: ExpressionSchema, rule: StrategyDefinition['knockouts'][number], path: string, step: TraceStep): CompiledRule | undefined {
  const compiled = compileExpression(rule.when, schema, 'boolean')
  if (!compiled.ok) {
    for (const error of compiled.errors) errors.push({ path: `${path}.when`, reason: formatExpressionError(rule.when, error) })
    return undefined
  }
  return {
    code: rule.code,
    reason: Object.freeze({ code: rule.code, en: rule.reason.en, zh: rule.reason.zh }),
    onNull: rule.onNull,
    expression: compiled.expression,
    evaluate: compiled.expression.evaluate,
    traced: { passed: traceOf(step, rule.code, 'passed'), fired: traceOf(step, rule.code, 'fired'), unknown: traceOf(step, rule.code, 'unknown') },
    unavailable: Object.freeze({
      code: 'rule_data_unavailable', rule: rule.code,
      en: `Data needed to check "${rule.code}" is unavailable`, zh: `核查“${rule.code}”所需数据不可用`,
    }),
  }
}

function compileFormula(errors: StrategyError[], schema: ExpressionSchema, source: string, path: string) {
  const compiled = compileExpression(source, schema, 'number')
  if (!compiled.ok) {
    for (const error of compiled.errors) errors.push({ path, reason: formatExpressionError(source, error) })
    return undefined
  }
  return { ...compiled.expression, run: compiled.expression.evaluate }
}

/**
 * Validates a strategy document and compiles every expression in it once. Returns all errors found,
 * each with its JSON path; never throws on a bad document.
 */
export function compileStrategy(document: unknown): CompileStrategyResult {
  const validated = validateStrategyDocument(document)
  if (!validated.ok) return validated
  const definition = validated.definition
  const schema = createSchema(definition.inputs)
  const errors: StrategyError[] = []
  const knockouts = definition.knockouts.map((rule, i) => compileRule(errors, schema, rule, `$.knockouts[${i}]`, 'knockout'))
  const referrals = definition.referrals.map((rule, i) => compileRule(errors, schema, rule, `$.referrals[${i}]`, 'referral'))
  const limitFormula = compileFormula(errors, schema, definition.limit.formula, '$.limit.formula')
  const requestedTerm = definition.terms.requested === null ? null : compileFormula(errors, schema, definition.terms.requested, '$.terms.requested')
  if (errors.length > 0 || limitFormula === undefined || requestedTerm === undefined) return { ok: false, errors }
  const scoreSlot = schema.slotByName.get(scoreInput)
  assert(scoreSlot !== undefined, 'validation guarantees a score input')
  const inputs = definition.inputs.map((input) => ({ ...input, path: input.name.includes('.') ? input.name.split('.') : null }))
  return {
    ok: true,
    strategy: {
      definition, schema, inputs, scoreSlot, limitFormula, requestedTerm, mode: 'compiled',
      knockouts: knockouts as CompiledRule[], referrals: referrals as CompiledRule[],
    },
  }
}

/**
 * The same strategy with every expression interpreted from its AST on each evaluation instead of run
 * as a closure: the benchmark's baseline. Decisions are identical; only the speed differs.
 */
export function interpretStrategy(compiled: CompiledStrategy): CompiledStrategy {
  const schema = compiled.schema
  const interpret = (expression: CompiledExpression): Evaluate => (slots) => interpretExpression(expression.ast, schema, slots)
  const rule = (r: CompiledRule): CompiledRule => ({ ...r, evaluate: interpret(r.expression) })
  return {
    ...compiled,
    mode: 'interpreted',
    knockouts: compiled.knockouts.map(rule),
    referrals: compiled.referrals.map(rule),
    limitFormula: { ...compiled.limitFormula, run: interpret(compiled.limitFormula) },
    requestedTerm: compiled.requestedTerm === null ? null : { ...compiled.requestedTerm, run: interpret(compiled.requestedTerm) },
  }
}

/** Reads a declared input: nested (`{features: {gmv_6m: 1}}`) when its first segment is an object, else flat. */
function readInput(input: DecisionInput, declared: CompiledInput): unknown {
  const path = declared.path
  if (path === null) return input[declared.name]
  let value: unknown = input[path[0] as string]
  if (typeof value !== 'object' || value === null) return input[declared.name]
  for (let i = 1; i < path.length; i++) {
    // Inherited properties read here (e.g. `constructor`) are functions or objects, which fail the type check.
    value = (value as Record<string, unknown>)[path[i] as string]
    if (i < path.length - 1 && (typeof value !== 'object' || value === null)) return undefined
  }
  return value
}

type Resolved = { readonly slots: Value[]; readonly missing: boolean; readonly invalid: boolean }

/** Reads every declared input into its slot; absent and wrongly typed values become null (and are traced). */
function resolveSlots(compiled: CompiledStrategy, input: DecisionInput, trace: TraceEntry[]): Resolved {
  const slots: Value[] = []
  let missing = false
  let invalid = false
  const object = typeof input === 'object' && input !== null ? input : {}
  for (let i = 0; i < compiled.inputs.length; i++) {
    const declared = compiled.inputs[i] as CompiledInput
    const raw = readInput(object, declared)
    if (raw === undefined || raw === null) {
      slots.push(null)
      if (!declared.nullable) { missing = true; trace.push({ step: 'input', rule: declared.name, result: 'missing' }) }
    } else if (isValueOfType(raw, declared.type)) {
      slots.push(raw as Value)
    } else {
      slots.push(null)
      invalid = true
      trace.push({ step: 'input', rule: declared.name, result: 'invalid' })
    }
  }
  return { slots, missing, invalid }
}

/** Lists the inputs that are missing (and not nullable) or of the wrong type: for a shell to answer 422. */
export function validateDecisionInput(compiled: CompiledStrategy, input: DecisionInput): { readonly name: string; readonly problem: 'missing' | 'invalid'; readonly expected: string }[] {
  const trace: TraceEntry[] = []
  resolveSlots(compiled, input, trace)
  return trace.map((entry) => {
    const declared = compiled.inputs.find((i) => i.name === entry.rule)
    assert(declared !== undefined)
    return { name: entry.rule, problem: entry.result === 'missing' ? 'missing' : 'invalid', expected: declared.type + (declared.nullable ? '?' : '') }
  })
}

function runRules(rules: readonly CompiledRule[], slots: Value[], trace: TraceEntry[], onFire: DecisionReason[], onRefer: DecisionReason[]): void {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as CompiledRule
    const value = rule.evaluate(slots)
    if (value === true) {
      trace.push(rule.traced.fired)
      onFire.push(rule.reason)
    } else if (value === false) {
      trace.push(rule.traced.passed)
    } else {
      trace.push(rule.traced.unknown)
      if (rule.onNull === 'fire') onFire.push(rule.reason)
      else if (rule.onNull === 'refer') onRefer.push(rule.unavailable)
    }
  }
}

function applyCutoffs(definition: StrategyDefinition, score: number | null, trace: TraceEntry[], declines: DecisionReason[], referrals: DecisionReason[]): void {
  const { declineBelow, referBelow } = definition.cutoffs
  if (declineBelow === null && referBelow === null) return
  if (score === null) {
    trace.push({ step: 'cutoff', rule: scoreInput, result: 'missing' })
    referrals.push(systemReason.score_missing)
    return
  }
  if (declineBelow !== null) {
    const fired = score < declineBelow
    trace.push({ step: 'cutoff', rule: 'declineBelow', result: fired ? 'fired' : 'passed', value: score })
    if (fired) { declines.push(systemReason.score_below_decline_cutoff); return }
  }
  if (referBelow !== null) {
    const fired = score < referBelow
    trace.push({ step: 'cutoff', rule: 'referBelow', result: fired ? 'fired' : 'passed', value: score })
    if (fired) referrals.push(systemReason.score_in_review_band)
  }
}

/** The limit: the formula, capped at max, rounded down to the step; null when unavailable or below min. */
function computeLimit(compiled: CompiledStrategy, slots: Value[], trace: TraceEntry[], declines: DecisionReason[], referrals: DecisionReason[]): number | null {
  const { max, min, step } = compiled.definition.limit
  const raw = compiled.limitFormula.run(slots) as number | null
  trace.push({ step: 'limit', rule: 'formula', result: raw === null ? 'unknown' : 'computed', value: raw })
  if (raw === null) { referrals.push(systemReason.limit_unavailable); return null }
  let limit = raw
  if (max !== null && limit > max) { limit = max; trace.push({ step: 'limit', rule: 'max', result: 'capped', value: max }) }
  limit = roundDownToStep(Math.max(0, limit), step)
  trace.push({ step: 'limit', rule: 'step', result: 'computed', value: limit })
  if (limit <= 0 || limit < min) {
    trace.push({ step: 'limit', rule: 'min', result: 'fired', value: min })
    declines.push(systemReason.limit_below_minimum)
    return null
  }
  return limit
}

/** Rounds a non-negative amount down to a multiple of step (a whole number of cents), exactly in cents. */
export function roundDownToStep(amount: number, step: number): number {
  assert(amount >= 0)
  assert(step > 0)
  const stepCents = Math.round(step * 100)
  // The tiny tolerance keeps 0.3 / 0.1 (= 2.9999999999999996) at 3 steps.
  const steps = Math.floor(amount / step + 1e-9)
  return (steps * stepCents) / 100
}

function findRate(definition: StrategyDefinition, score: number | null, trace: TraceEntry[], referrals: DecisionReason[]): string | null {
  if (score === null) return null
  const grid = definition.pricing.grid
  for (let i = 0; i < grid.length; i++) {
    const band = grid[i] as StrategyDefinition['pricing']['grid'][number]
    if ((band.scoreMin === null || score >= band.scoreMin) && (band.scoreMax === null || score < band.scoreMax)) {
      trace.push({ step: 'pricing', rule: `grid[${i}]`, result: 'matched', value: band.annualRatePct })
      return band.annualRatePct
    }
  }
  trace.push({ step: 'pricing', rule: 'grid', result: 'unmatched', value: score })
  referrals.push(systemReason.no_price_for_score)
  return null
}

function chooseTerm(compiled: CompiledStrategy, slots: Value[], trace: TraceEntry[], declines: DecisionReason[]): number | null {
  const { allowedMonths, defaultMonths } = compiled.definition.terms
  const requested = compiled.requestedTerm === null ? null : (compiled.requestedTerm.run(slots) as number | null)
  if (requested === null) {
    trace.push({ step: 'term', rule: 'defaultMonths', result: 'computed', value: defaultMonths })
    return defaultMonths
  }
  const allowed = allowedMonths.includes(requested)
  trace.push({ step: 'term', rule: 'requested', result: allowed ? 'matched' : 'unmatched', value: requested })
  if (allowed) return requested
  declines.push(systemReason.term_not_offered)
  return null
}

function missingInputReason(onMissing: OnMissingInput, resolved: Resolved, declines: DecisionReason[], referrals: DecisionReason[]): void {
  const target = onMissing === 'decline' ? declines : referrals
  if (resolved.missing) target.push(systemReason.input_missing)
  if (resolved.invalid) target.push(systemReason.input_invalid)
}

/**
 * Decides one application. Pure and deterministic; every rule runs and is traced.
 *
 * @example
 * const compiled = compileStrategy(document)
 * if (compiled.ok) decide(compiled.strategy, { score: 640, features: { gmv_6m: 420000 }, application: { termMonths: 12 } })
 */
export function decide(compiled: CompiledStrategy, input: DecisionInput): Decision {
  const definition = compiled.definition
  const trace: TraceEntry[] = []
  const declines: DecisionReason[] = []
  const referrals: DecisionReason[] = []
  const resolved = resolveSlots(compiled, input, trace)
  const slots = resolved.slots
  missingInputReason(definition.onMissingInput, resolved, declines, referrals)
  runRules(compiled.knockouts, slots, trace, declines, referrals)
  const score = slots[compiled.scoreSlot] as number | null
  applyCutoffs(definition, score, trace, declines, referrals)
  runRules(compiled.referrals, slots, trace, referrals, referrals)
  const limitMajor = computeLimit(compiled, slots, trace, declines, referrals)
  const annualRatePct = findRate(definition, score, trace, referrals)
  const termMonths = chooseTerm(compiled, slots, trace, declines)
  const outcome: DecisionOutcome = declines.length > 0 ? 'declined' : referrals.length > 0 ? 'referred' : 'approved'
  const base = { outcome, reasons: outcome === 'declined' ? declines : referrals, strategy: { name: definition.name, version: definition.version }, score }
  if (outcome === 'declined') return { ...base, trace }
  assert(outcome === 'referred' || (limitMajor !== null && annualRatePct !== null && termMonths !== null), 'an approval carries a full offer')
  return {
    ...base,
    ...(limitMajor === null ? {} : { limitMajor }),
    ...(annualRatePct === null ? {} : { annualRatePct }),
    ...(termMonths === null ? {} : { termMonths }),
    trace,
  }
}

/** Converts bigint minor units to a number in major units for an input (exact below 2^53 minor units). */
export function convertMinorToMajor(amountMinor: bigint, currency: Currency): number {
  const minor = Number(amountMinor)
  assert(Number.isSafeInteger(minor), 'amount beyond 2^53 minor units cannot enter a rule exactly')
  return minor / 10 ** currencyScale[currency]
}

/** Converts a limit in major units (a whole number of cents, as decide produces) to bigint minor units. */
export function convertMajorToMinor(amountMajor: number, currency: Currency): bigint {
  const scaled = amountMajor * 10 ** currencyScale[currency]
  const minor = Math.round(scaled)
  assert(Number.isSafeInteger(minor), 'amount beyond 2^53 minor units')
  assert(Math.abs(scaled - minor) < 1e-6 * Math.max(1, Math.abs(scaled)), `${amountMajor} is not a whole number of minor units`)
  return BigInt(minor)
}

/**
 * @module decisions/strategy
 * The strategy document: what a risk analyst writes (JSON), validated field by field. Errors carry a
 * JSON path (`$.knockouts[2].reason.zh`) and a reason sentence, all of them at once, so an analyst can
 * fix a document in one round. Validation here is structural (shapes, ranges, uniqueness, the rate
 * cap); compile.ts then type-checks every expression against the declared inputs.
 *
 * The reference for every field, with a complete example, is docs/strategies.md.
 */
import { assert } from '../core/assert.ts'
import { installmentsMax } from '../core/limits.ts'
import { RateDecimal } from '../core/rate.ts'
import { isValidInputName, suggestName, valueTypes, type InputDeclaration, type ValueType } from './expression.ts'

export type ReasonText = { readonly en: string; readonly zh: string }
/** What a rule does when its condition is null (unknown): pass, fire as if true, or refer for review. */
export type OnNull = 'pass' | 'fire' | 'refer'
export const onNullChoices = ['pass', 'fire', 'refer'] as const satisfies readonly OnNull[]
export type OnMissingInput = 'refer' | 'decline'

export type InputTypeText = ValueType | `${ValueType}?`
export type InputDocument = InputTypeText | { readonly type: ValueType; readonly nullable?: boolean; readonly description?: string }
export type RuleDocument = {
  readonly code: string
  readonly when: string
  readonly reason: ReasonText
  readonly onNull?: OnNull
  readonly description?: string
}
export type PriceBandDocument = { readonly scoreMin?: number; readonly scoreMax?: number; readonly annualRatePct: string }
export type StrategyDocument = {
  readonly name: string
  readonly version?: number
  readonly description?: string
  readonly inputs: Readonly<Record<string, InputDocument>>
  readonly requiredFeatures?: readonly string[]
  readonly models?: readonly { readonly name: string; readonly version?: number; readonly output: string }[]
  readonly onMissingInput?: OnMissingInput
  readonly knockouts?: readonly RuleDocument[]
  readonly cutoffs?: { readonly declineBelow?: number; readonly referBelow?: number }
  readonly referrals?: readonly RuleDocument[]
  readonly limit: { readonly formula: string; readonly max?: number; readonly min?: number; readonly step?: number }
  readonly pricing: { readonly grid: readonly PriceBandDocument[]; readonly capAnnualRatePct: string }
  readonly terms: { readonly allowedMonths: readonly number[]; readonly requested?: string; readonly defaultMonths?: number }
}

/** A validated document with defaults applied and every input declared (models and features included). */
export type StrategyDefinition = {
  readonly name: string
  readonly version: number | null
  readonly inputs: readonly InputDeclaration[]
  readonly requiredFeatures: readonly string[]
  readonly models: readonly { readonly name: string; readonly version: number | null; readonly output: string }[]
  readonly onMissingInput: OnMissingInput
  readonly knockouts: readonly Required<Omit<RuleDocument, 'description'>>[]
  readonly cutoffs: { readonly declineBelow: number | null; readonly referBelow: number | null }
  readonly referrals: readonly Required<Omit<RuleDocument, 'description'>>[]
  readonly limit: { readonly formula: string; readonly max: number | null; readonly min: number; readonly step: number }
  readonly pricing: { readonly grid: readonly { readonly scoreMin: number | null; readonly scoreMax: number | null; readonly annualRatePct: string }[]; readonly capAnnualRatePct: string }
  readonly terms: { readonly allowedMonths: readonly number[]; readonly requested: string | null; readonly defaultMonths: number }
}

export type StrategyError = { readonly path: string; readonly reason: string }
export type ValidateStrategyResult =
  | { readonly ok: true; readonly definition: StrategyDefinition }
  | { readonly ok: false; readonly errors: readonly StrategyError[] }

/** Named limits of a document. */
export const strategyInputsMax = 2_000
export const strategyRulesMax = 10_000
export const priceBandsMax = 100
export const ruleCodeLengthMax = 64
export const reasonTextLengthMax = 500
/** The input that cut-offs and the pricing grid read. A model's output or a declared number. */
export const scoreInput = 'score'
/** Feature inputs are named `features.<name>`; the data hub computes the names in requiredFeatures. */
export const featurePrefix = 'features.'

const documentKeys = ['$schema', 'name', 'version', 'description', 'inputs', 'requiredFeatures', 'models', 'onMissingInput', 'knockouts', 'cutoffs', 'referrals', 'limit', 'pricing', 'terms']
const codePattern = /^[a-z][a-z0-9_]*$/
const ratePattern = /^\d{1,4}(\.\d{1,8})?$/

type Json = Readonly<Record<string, unknown>>
type Errors = StrategyError[]

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const describeJson = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`)
const childPath = (path: string, key: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`)

function objectAt(errors: Errors, value: unknown, path: string, allowed: readonly string[]): Json | undefined {
  if (!isObject(value)) {
    errors.push({ path, reason: `must be an object, found ${describeJson(value)}` })
    return undefined
  }
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue
    const suggestion = suggestName(key, allowed)
    errors.push({ path: childPath(path, key), reason: `unknown field${suggestion === undefined ? '' : `; did you mean '${suggestion}'?`}` })
  }
  return value
}

function stringAt(errors: Errors, value: unknown, path: string, options: { optional?: boolean; lengthMax?: number } = {}): string | undefined {
  if (value === undefined && options.optional === true) return undefined
  if (typeof value !== 'string' || value.trim() === '') {
    errors.push({ path, reason: value === undefined ? 'is required' : `must be a non-empty string, found ${describeJson(value)}` })
    return undefined
  }
  if (options.lengthMax !== undefined && value.length > options.lengthMax) {
    errors.push({ path, reason: `must be at most ${options.lengthMax} characters` })
    return undefined
  }
  return value
}

function numberAt(errors: Errors, value: unknown, path: string, options: { optional?: boolean; integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (value === undefined && options.optional === true) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    errors.push({ path, reason: value === undefined ? 'is required' : `must be a number, found ${describeJson(value)}` })
    return undefined
  }
  if (options.integer === true && !Number.isInteger(value)) errors.push({ path, reason: `must be an integer, found ${value}` })
  else if (options.min !== undefined && value < options.min) errors.push({ path, reason: `must be at least ${options.min}, found ${value}` })
  else if (options.max !== undefined && value > options.max) errors.push({ path, reason: `must be at most ${options.max}, found ${value}` })
  else return value
  return undefined
}

function arrayAt(errors: Errors, value: unknown, path: string, lengthMax: number, optional = false): readonly unknown[] | undefined {
  if (value === undefined && optional) return []
  if (!Array.isArray(value)) {
    errors.push({ path, reason: value === undefined ? 'is required' : `must be an array, found ${describeJson(value)}` })
    return undefined
  }
  if (value.length > lengthMax) {
    errors.push({ path, reason: `must have at most ${lengthMax} items, found ${value.length}` })
    return undefined
  }
  return value
}

function choiceAt<T extends string>(errors: Errors, value: unknown, path: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T
  errors.push({ path, reason: `must be one of ${choices.map((choice) => `'${choice}'`).join(', ')}, found ${describeJson(value)}` })
  return fallback
}

function decimalAt(errors: Errors, value: unknown, path: string): string | undefined {
  if (typeof value !== 'string' || !ratePattern.test(value)) {
    errors.push({ path, reason: `must be a decimal string of a percentage such as "12.5", found ${describeJson(value)}` })
    return undefined
  }
  return value
}

function validateInputs(errors: Errors, value: unknown, path: string): InputDeclaration[] {
  if (!isObject(value)) {
    errors.push({ path, reason: value === undefined ? 'is required' : `must be an object of input name → type, found ${describeJson(value)}` })
    return []
  }
  const entries = Object.entries(value)
  if (entries.length > strategyInputsMax) {
    errors.push({ path, reason: `must declare at most ${strategyInputsMax} inputs` })
    return []
  }
  const declarations: InputDeclaration[] = []
  for (const [name, spec] of entries) {
    const at = childPath(path, name)
    if (!isValidInputName(name)) {
      errors.push({ path: at, reason: 'input names are dotted identifiers (letters, digits, _) and no keyword such as `and`, `in`, `null`' })
      continue
    }
    const declaration = readInputType(errors, spec, at)
    if (declaration !== undefined) declarations.push({ name, ...declaration })
  }
  return declarations
}

function readInputType(errors: Errors, spec: unknown, path: string): { type: ValueType; nullable: boolean } | undefined {
  if (typeof spec === 'string') {
    const nullable = spec.endsWith('?')
    const type = nullable ? spec.slice(0, -1) : spec
    if ((valueTypes as readonly string[]).includes(type)) return { type: type as ValueType, nullable }
  } else if (isObject(spec)) {
    const object = objectAt(errors, spec, path, ['type', 'nullable', 'description'])
    if (object === undefined) return undefined
    const type = choiceAt(errors, object.type, `${path}.type`, valueTypes, 'number')
    if (object.nullable !== undefined && typeof object.nullable !== 'boolean') errors.push({ path: `${path}.nullable`, reason: 'must be true or false' })
    if (object.type === undefined) errors.push({ path: `${path}.type`, reason: 'is required' })
    return { type, nullable: object.nullable === true }
  }
  errors.push({ path, reason: `must be one of ${valueTypes.map((t) => `'${t}'`).join(', ')}, optionally with '?' for nullable (e.g. 'number?'), found ${describeJson(spec)}` })
  return undefined
}

function validateRules(errors: Errors, value: unknown, path: string, codes: Map<string, string>): Required<Omit<RuleDocument, 'description'>>[] {
  const items = arrayAt(errors, value, path, strategyRulesMax, true) ?? []
  const rules: Required<Omit<RuleDocument, 'description'>>[] = []
  items.forEach((item, i) => {
    const at = `${path}[${i}]`
    const rule = objectAt(errors, item, at, ['code', 'when', 'reason', 'onNull', 'description'])
    if (rule === undefined) return
    const code = stringAt(errors, rule.code, `${at}.code`, { lengthMax: ruleCodeLengthMax })
    if (code !== undefined && !codePattern.test(code)) errors.push({ path: `${at}.code`, reason: 'must be snake_case: a lowercase letter, then lowercase letters, digits or _' })
    else if (code !== undefined && codes.has(code)) errors.push({ path: `${at}.code`, reason: `'${code}' is already used at ${codes.get(code) ?? ''}` })
    else if (code !== undefined) codes.set(code, `${at}.code`)
    const when = stringAt(errors, rule.when, `${at}.when`)
    const reason = validateReason(errors, rule.reason, `${at}.reason`)
    const onNull = choiceAt(errors, rule.onNull, `${at}.onNull`, onNullChoices, 'refer')
    stringAt(errors, rule.description, `${at}.description`, { optional: true })
    if (code !== undefined && when !== undefined && reason !== undefined) rules.push({ code, when, reason, onNull })
  })
  return rules
}

function validateReason(errors: Errors, value: unknown, path: string): ReasonText | undefined {
  const reason = objectAt(errors, value, path, ['en', 'zh'])
  if (reason === undefined) return undefined
  const en = stringAt(errors, reason.en, `${path}.en`, { lengthMax: reasonTextLengthMax })
  const zh = stringAt(errors, reason.zh, `${path}.zh`, { lengthMax: reasonTextLengthMax })
  return en === undefined || zh === undefined ? undefined : { en, zh }
}

function validateModels(errors: Errors, value: unknown, path: string): StrategyDefinition['models'] {
  const items = arrayAt(errors, value, path, 16, true) ?? []
  const models: { name: string; version: number | null; output: string }[] = []
  items.forEach((item, i) => {
    const at = `${path}[${i}]`
    const model = objectAt(errors, item, at, ['name', 'version', 'output'])
    if (model === undefined) return
    const name = stringAt(errors, model.name, `${at}.name`)
    const version = numberAt(errors, model.version, `${at}.version`, { optional: true, integer: true, min: 1 })
    const output = stringAt(errors, model.output, `${at}.output`)
    if (output !== undefined && !isValidInputName(output)) errors.push({ path: `${at}.output`, reason: 'must be an input name such as "score"' })
    else if (output !== undefined && models.some((m) => m.output === output)) errors.push({ path: `${at}.output`, reason: `another model already outputs '${output}'` })
    else if (name !== undefined && output !== undefined) models.push({ name, version: version ?? null, output })
  })
  return models
}

/**
 * Declares model outputs and required features that the inputs do not declare (as nullable numbers),
 * and checks the ones they do declare.
 */
function completeInputs(errors: Errors, inputs: InputDeclaration[], models: StrategyDefinition['models'], features: readonly string[]): void {
  const byName = new Map(inputs.map((input) => [input.name, input]))
  const implied = [...models.map((m, i) => ({ name: m.output, path: `$.models[${i}].output` })), ...features.map((f, i) => ({ name: featurePrefix + f, path: `$.requiredFeatures[${i}]` }))]
  for (const { name, path } of implied) {
    const declared = byName.get(name)
    if (declared === undefined) {
      const input: InputDeclaration = { name, type: 'number', nullable: true }
      inputs.push(input)
      byName.set(name, input)
    } else if (declared.type !== 'number') {
      errors.push({ path, reason: `'${name}' is declared in inputs as ${declared.type}; model outputs and features are numbers` })
    }
  }
  for (const input of inputs) {
    if (input.name.startsWith(featurePrefix) && !features.includes(input.name.slice(featurePrefix.length))) {
      errors.push({ path: childPath('$.inputs', input.name), reason: `feature inputs must be listed in requiredFeatures (add '${input.name.slice(featurePrefix.length)}') so the data hub computes them` })
    }
  }
  const score = byName.get(scoreInput)
  if (score === undefined) errors.push({ path: '$.inputs', reason: `must declare '${scoreInput}' (a number), or a model must output it: cut-offs and pricing read it` })
  else if (score.type !== 'number') errors.push({ path: childPath('$.inputs', scoreInput), reason: `'${scoreInput}' must be a number` })
}

function validateFeatures(errors: Errors, value: unknown): string[] {
  const items = arrayAt(errors, value, '$.requiredFeatures', strategyInputsMax, true) ?? []
  const features: string[] = []
  items.forEach((item, i) => {
    const name = stringAt(errors, item, `$.requiredFeatures[${i}]`)
    if (name === undefined) return
    if (!isValidInputName(featurePrefix + name) || name.includes('.')) errors.push({ path: `$.requiredFeatures[${i}]`, reason: 'must be a feature name such as "gmv_6m" (no prefix, no dots)' })
    else if (features.includes(name)) errors.push({ path: `$.requiredFeatures[${i}]`, reason: `'${name}' is listed twice` })
    else features.push(name)
  })
  return features
}

function validateCutoffs(errors: Errors, value: unknown): StrategyDefinition['cutoffs'] {
  if (value === undefined) return { declineBelow: null, referBelow: null }
  const cutoffs = objectAt(errors, value, '$.cutoffs', ['declineBelow', 'referBelow'])
  const declineBelow = numberAt(errors, cutoffs?.declineBelow, '$.cutoffs.declineBelow', { optional: true }) ?? null
  const referBelow = numberAt(errors, cutoffs?.referBelow, '$.cutoffs.referBelow', { optional: true }) ?? null
  if (declineBelow !== null && referBelow !== null && referBelow < declineBelow) {
    errors.push({ path: '$.cutoffs.referBelow', reason: `must be at least declineBelow (${declineBelow}): scores between them are referred` })
  }
  return { declineBelow, referBelow }
}

function validateLimit(errors: Errors, value: unknown): StrategyDefinition['limit'] | undefined {
  const limit = objectAt(errors, value, '$.limit', ['formula', 'max', 'min', 'step'])
  if (limit === undefined) return undefined
  const formula = stringAt(errors, limit.formula, '$.limit.formula')
  const max = numberAt(errors, limit.max, '$.limit.max', { optional: true, min: 0 })
  const min = numberAt(errors, limit.min, '$.limit.min', { optional: true, min: 0 }) ?? 0
  const step = numberAt(errors, limit.step, '$.limit.step', { optional: true, min: 0.01 }) ?? 1
  if (Math.abs(step * 100 - Math.round(step * 100)) > 1e-9) errors.push({ path: '$.limit.step', reason: 'must be a whole number of cents (a multiple of 0.01)' })
  if (max !== undefined && max < min) errors.push({ path: '$.limit.max', reason: `must be at least min (${min})` })
  return formula === undefined ? undefined : { formula, max: max ?? null, min, step }
}

function validatePricing(errors: Errors, value: unknown): StrategyDefinition['pricing'] | undefined {
  const pricing = objectAt(errors, value, '$.pricing', ['grid', 'capAnnualRatePct'])
  if (pricing === undefined) return undefined
  const cap = decimalAt(errors, pricing.capAnnualRatePct, '$.pricing.capAnnualRatePct')
  const items = arrayAt(errors, pricing.grid, '$.pricing.grid', priceBandsMax)
  if (items === undefined) return undefined
  if (items.length === 0) errors.push({ path: '$.pricing.grid', reason: 'must have at least one band' })
  const grid: StrategyDefinition['pricing']['grid'][number][] = []
  items.forEach((item, i) => {
    const at = `$.pricing.grid[${i}]`
    const band = objectAt(errors, item, at, ['scoreMin', 'scoreMax', 'annualRatePct'])
    if (band === undefined) return
    const scoreMin = numberAt(errors, band.scoreMin, `${at}.scoreMin`, { optional: true }) ?? null
    const scoreMax = numberAt(errors, band.scoreMax, `${at}.scoreMax`, { optional: true }) ?? null
    const rate = decimalAt(errors, band.annualRatePct, `${at}.annualRatePct`)
    if (scoreMin !== null && scoreMax !== null && scoreMax <= scoreMin) errors.push({ path: `${at}.scoreMax`, reason: `must be above scoreMin (${scoreMin})` })
    if (rate !== undefined && cap !== undefined && new RateDecimal(rate).gt(new RateDecimal(cap))) {
      errors.push({ path: `${at}.annualRatePct`, reason: `${rate}% is above the cap of ${cap}%: a product never prices above its cap` })
    }
    const previous = grid[grid.length - 1]
    if (previous !== undefined && (previous.scoreMax === null || scoreMin === null || scoreMin < previous.scoreMax)) {
      errors.push({ path: `${at}.scoreMin`, reason: 'bands must be in ascending score order and must not overlap (a band covers scoreMin ≤ score < scoreMax)' })
    }
    if (rate !== undefined) grid.push({ scoreMin, scoreMax, annualRatePct: rate })
  })
  return cap === undefined ? undefined : { grid, capAnnualRatePct: cap }
}

function validateTerms(errors: Errors, value: unknown): StrategyDefinition['terms'] | undefined {
  const terms = objectAt(errors, value, '$.terms', ['allowedMonths', 'requested', 'defaultMonths'])
  if (terms === undefined) return undefined
  const items = arrayAt(errors, terms.allowedMonths, '$.terms.allowedMonths', installmentsMax)
  const allowed: number[] = []
  items?.forEach((item, i) => {
    const months = numberAt(errors, item, `$.terms.allowedMonths[${i}]`, { integer: true, min: 1, max: installmentsMax })
    if (months !== undefined && allowed.includes(months)) errors.push({ path: `$.terms.allowedMonths[${i}]`, reason: `${months} is listed twice` })
    else if (months !== undefined) allowed.push(months)
  })
  if (items !== undefined && items.length === 0) errors.push({ path: '$.terms.allowedMonths', reason: 'must list at least one term' })
  const requested = stringAt(errors, terms.requested, '$.terms.requested', { optional: true }) ?? null
  const defaultMonths = numberAt(errors, terms.defaultMonths, '$.terms.defaultMonths', { optional: true, integer: true })
  if (defaultMonths !== undefined && !allowed.includes(defaultMonths)) errors.push({ path: '$.terms.defaultMonths', reason: 'must be one of allowedMonths' })
  if (allowed.length === 0) return undefined
  return { allowedMonths: [...allowed].sort((a, b) => a - b), requested, defaultMonths: defaultMonths ?? Math.max(...allowed) }
}

/**
 * Validates a parsed document (any JSON value) and returns its definition with defaults applied, or
 * every error found, each with a JSON path and a reason.
 */
export function validateStrategyDocument(document: unknown): ValidateStrategyResult {
  const errors: Errors = []
  const doc = objectAt(errors, document, '$', documentKeys)
  if (doc === undefined) return { ok: false, errors }
  const name = stringAt(errors, doc.name, '$.name', { lengthMax: 200 })
  const version = numberAt(errors, doc.version, '$.version', { optional: true, integer: true, min: 1 }) ?? null
  stringAt(errors, doc.description, '$.description', { optional: true })
  const inputs = validateInputs(errors, doc.inputs, '$.inputs')
  const requiredFeatures = validateFeatures(errors, doc.requiredFeatures)
  const models = validateModels(errors, doc.models, '$.models')
  if (isObject(doc.inputs)) completeInputs(errors, inputs, models, requiredFeatures)
  const onMissingInput = choiceAt<OnMissingInput>(errors, doc.onMissingInput, '$.onMissingInput', ['refer', 'decline'], 'refer')
  const codes = new Map<string, string>()
  const knockouts = validateRules(errors, doc.knockouts, '$.knockouts', codes)
  const cutoffs = validateCutoffs(errors, doc.cutoffs)
  const referrals = validateRules(errors, doc.referrals, '$.referrals', codes)
  if (knockouts.length + referrals.length > strategyRulesMax) errors.push({ path: '$', reason: `a strategy has at most ${strategyRulesMax} rules` })
  const limit = validateLimit(errors, doc.limit)
  const pricing = validatePricing(errors, doc.pricing)
  const terms = validateTerms(errors, doc.terms)
  if (errors.length > 0) return { ok: false, errors }
  assert(name !== undefined && limit !== undefined && pricing !== undefined && terms !== undefined, 'no errors means every required part was read')
  return { ok: true, definition: { name, version, inputs, requiredFeatures, models, onMissingInput, knockouts, cutoffs, referrals, limit, pricing, terms } }
}

/** Parses JSON text and validates it; a syntax error is reported at path `$`. */
export function parseStrategyJson(text: string): ValidateStrategyResult {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return { ok: false, errors: [{ path: '$', reason: `not valid JSON: ${(error as Error).message}` }] }
  }
  return validateStrategyDocument(document)
}

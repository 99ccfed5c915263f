/**
 * Tests of strategy documents: the SME 310 example validates and compiles; each kind of mistake is
 * reported with its JSON path and a reason; random documents and random mutations of the example never
 * crash validation or compilation (they return errors).
 */
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileStrategy } from './compile.ts'
import { parseStrategyJson, validateStrategyDocument, type StrategyDocument } from './strategy.ts'

const examplePath = path.join(import.meta.dirname, 'sme-310.strategy.json')
const exampleText = fs.readFileSync(examplePath, 'utf8')
const example = JSON.parse(exampleText) as StrategyDocument

/** A deep copy of the example with one change applied. */
function variant(change: (doc: Record<string, unknown> & { [key: string]: any }) => void): unknown { // eslint-disable-line @typescript-eslint/no-explicit-any
  const copy = structuredClone(example) as unknown as Record<string, unknown>
  change(copy)
  return copy
}
function errorsOf(document: unknown): string[] {
  const result = compileStrategy(document)
  expect(result.ok).toBe(false)
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.reason}`)
}

describe('strategy documents', () => {
  it('validates and compiles the SME 310 example', () => {
    const result = compileStrategy(example)
    if (!result.ok) throw new Error(JSON.stringify(result.errors))
    const { definition } = result.strategy
    expect(definition.knockouts.map((k) => k.code)).toContain('business_too_young')
    expect(definition.inputs.find((i) => i.name === 'score')).toEqual({ name: 'score', type: 'number', nullable: true })
    expect(definition.inputs.find((i) => i.name === 'features.gmv_6m')).toEqual({ name: 'features.gmv_6m', type: 'number', nullable: true })
    expect(definition.terms).toEqual({ allowedMonths: [3, 6, 12], requested: 'application.termMonths', defaultMonths: 12 })
    expect(definition.limit).toEqual(expect.objectContaining({ max: 1_000_000, min: 10_000, step: 1_000 }))
  })
  it('is the example printed in docs/strategies.md', () => {
    const docs = fs.readFileSync(path.join(import.meta.dirname, '../../docs/strategies.md'), 'utf8')
    const block = /```json sme-310\n([\s\S]*?)```/.exec(docs)
    expect(block?.[1]).toBeDefined()
    expect(JSON.parse(block?.[1] ?? 'null')).toEqual(example)
  })
  it('reports a JSON syntax error at $', () => {
    const result = parseStrategyJson('{"name": ')
    expect(result.ok).toBe(false)
    expect(!result.ok && result.errors[0]?.path).toBe('$')
    expect(parseStrategyJson(exampleText).ok).toBe(true)
  })
  it('reports unknown fields with a suggestion', () => {
    expect(errorsOf(variant((d) => { d.knockOuts = d.knockouts }))).toEqual(["$.knockOuts: unknown field; did you mean 'knockouts'?"])
    expect(errorsOf(variant((d) => { d.knockouts[0].whn = 'true' }))).toEqual(["$.knockouts[0].whn: unknown field; did you mean 'when'?"])
  })
  it('reports missing and mistyped fields by path', () => {
    expect(errorsOf(variant((d) => { delete d.name }))).toEqual(['$.name: is required'])
    expect(errorsOf(variant((d) => { d.knockouts[1].reason.zh = '' }))).toEqual(['$.knockouts[1].reason.zh: must be a non-empty string, found string ""'])
    expect(errorsOf(variant((d) => { d.inputs['application.amount'] = 'money' }))).toEqual([
      "$.inputs[\"application.amount\"]: must be one of 'number', 'string', 'boolean', 'date', optionally with '?' for nullable (e.g. 'number?'), found string \"money\"",
    ])
    expect(errorsOf(variant((d) => { d.terms.allowedMonths = [3, 3.5] }))).toEqual(['$.terms.allowedMonths[1]: must be an integer, found 3.5'])
    expect(errorsOf(variant((d) => { d.cutoffs = { declineBelow: 600, referBelow: 580 } }))).toEqual([
      '$.cutoffs.referBelow: must be at least declineBelow (600): scores between them are referred',
    ])
    expect(errorsOf(variant((d) => { d.knockouts[2].onNull = 'maybe' }))).toEqual(["$.knockouts[2].onNull: must be one of 'pass', 'fire', 'refer', found string \"maybe\""])
    expect(errorsOf(variant((d) => { d.limit.step = 0.005 }))).toEqual(['$.limit.step: must be at least 0.01, found 0.005'])
    expect(errorsOf(variant((d) => { d.limit.step = 0.015 }))).toEqual(['$.limit.step: must be a whole number of cents (a multiple of 0.01)'])
  })
  it('refuses duplicate rule codes and bad codes', () => {
    expect(errorsOf(variant((d) => { d.referrals[0].code = 'fraud_flag' }))).toEqual(["$.referrals[0].code: 'fraud_flag' is already used at $.knockouts[1].code"])
    expect(errorsOf(variant((d) => { d.knockouts[0].code = 'No Consent' }))).toEqual(['$.knockouts[0].code: must be snake_case: a lowercase letter, then lowercase letters, digits or _'])
  })
  it('never prices above the cap, and needs ordered, disjoint bands', () => {
    expect(errorsOf(variant((d) => { d.pricing.grid[0].annualRatePct = '24.01' }))).toEqual([
      '$.pricing.grid[0].annualRatePct: 24.01% is above the cap of 24%: a product never prices above its cap',
    ])
    expect(errorsOf(variant((d) => { d.pricing.grid[2].scoreMin = 600 }))).toEqual([
      '$.pricing.grid[2].scoreMin: bands must be in ascending score order and must not overlap (a band covers scoreMin ≤ score < scoreMax)',
    ])
    expect(errorsOf(variant((d) => { d.pricing.capAnnualRatePct = 24 }))[0]).toBe('$.pricing.capAnnualRatePct: must be a decimal string of a percentage such as "12.5", found number 24')
  })
  it('ties features and the score to declarations', () => {
    expect(errorsOf(variant((d) => { d.inputs['features.orders_6m'] = 'number?' }))).toEqual([
      "$.inputs[\"features.orders_6m\"]: feature inputs must be listed in requiredFeatures (add 'orders_6m') so the data hub computes them",
    ])
    expect(errorsOf(variant((d) => { delete d.models }))).toEqual(["$.inputs: must declare 'score' (a number), or a model must output it: cut-offs and pricing read it"])
    expect(errorsOf(variant((d) => { d.inputs.score = 'string' }))).toEqual([
      "$.models[0].output: 'score' is declared in inputs as string; model outputs and features are numbers",
      "$.inputs.score: 'score' must be a number",
    ])
  })
  it('reports expression errors at the expression, with the column', () => {
    expect(errorsOf(variant((d) => { d.knockouts[3].when = 'months_between(application.businessDate, enterprise.registerdOn) < 12' }))).toEqual([
      "$.knockouts[3].when: column 42: unknown input 'enterprise.registerdOn'; did you mean 'enterprise.registeredOn'?",
    ])
    expect(errorsOf(variant((d) => { d.referrals[1].when = 'features.refund_rate_6m' }))).toEqual(['$.referrals[1].when: column 1: expected a boolean expression, found a number'])
    expect(errorsOf(variant((d) => { d.limit.formula = 'features.gmv_6m > 0' }))).toEqual(['$.limit.formula: column 1: expected a number expression, found a boolean'])
    expect(errorsOf(variant((d) => { d.terms.requested = '"12"' }))).toEqual(['$.terms.requested: column 1: expected a number expression, found a string'])
  })
  it('reports every error at once', () => {
    const errors = errorsOf(variant((d) => { delete d.name; d.terms.allowedMonths = []; d.limit.max = -1; d.knockouts[0].when = '' }))
    expect(errors).toEqual([
      '$.name: is required',
      '$.knockouts[0].when: must be a non-empty string, found string ""',
      '$.limit.max: must be at least 0, found -1',
      '$.terms.allowedMonths: must list at least one term',
    ])
  })
})

// ---------------------------------------------------------------------------------------------------
// Fuzzing: nothing a client can send crashes validation or compilation.

const exampleKeys = (() => {
  const paths: (string | number)[][] = []
  const walk = (value: unknown, at: (string | number)[]) => {
    paths.push(at)
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...at, i]))
    else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) walk(item, [...at, key])
  }
  walk(example, [])
  return paths.filter((p) => p.length > 0)
})()

const expressionish = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('true', 'score > 600', 'application.amount * 2', 'features.gmv_6m / 0', 'nope(', 'months_between(1, 2)', 'null', '1 in []'),
)

describe('strategy fuzzing', () => {
  it('never throws on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      const result = compileStrategy(value)
      expect(result.ok).toBe(false)
    }), { numRuns: 500 })
  })
  it('never throws on mutations of the example, and errors always carry a path and a reason', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...exampleKeys), fc.oneof(fc.jsonValue({ maxDepth: 2 }), expressionish, fc.constant(undefined))), { minLength: 1, maxLength: 4 }), (mutations) => {
      const doc = structuredClone(example) as unknown as Record<string, unknown>
      for (const [at, value] of mutations) {
        let parent: unknown = doc
        for (const key of at.slice(0, -1)) parent = typeof parent === 'object' && parent !== null ? (parent as Record<string | number, unknown>)[key] : undefined
        if (typeof parent === 'object' && parent !== null) (parent as Record<string | number, unknown>)[at[at.length - 1] as string | number] = value
      }
      const result = compileStrategy(doc)
      if (!result.ok) {
        expect(result.errors.length).toBeGreaterThan(0)
        for (const error of result.errors) {
          expect(error.path.startsWith('$')).toBe(true)
          expect(error.reason.length).toBeGreaterThan(0)
        }
      }
      expect(validateStrategyDocument(doc).ok || !result.ok).toBe(true)
    }), { numRuns: 1_000 })
  })
})

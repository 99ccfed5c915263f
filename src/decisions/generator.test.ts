/**
 * The strategy generator (the benchmark's 1,000-rule strategy comes from it) and, on what it generates,
 * the properties that make the fast decision path safe: compiled and interpreted strategies decide
 * identically, the compact decision expands to exactly the trace `decide` gives, a value vector read
 * through a layout decides as the same values by name, and deciding twice gives the same decision.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compileStrategy, createInputLayout, decide, decideCompact, decideValues, expandDecision, interpretStrategy, ruleOutcome, type CompiledStrategy,
  type DecisionInput,
} from './compile.ts'
import { decisionInputOf, featureCatalogue, generateApplication, generateStrategy, seededRandom, type GeneratedApplication } from './generator.ts'

function compileOrThrow(document: unknown): CompiledStrategy {
  const result = compileStrategy(document)
  if (!result.ok) throw new Error(JSON.stringify(result.errors.slice(0, 3)))
  return result.strategy
}

describe('generateStrategy', () => {
  const document = generateStrategy({ seed: 42, rules: 300, calibrationSample: 1_000 })
  const rules = [...(document.knockouts ?? []), ...(document.referrals ?? [])]

  it('is deterministic for a seed, and another seed gives another strategy', () => {
    expect(generateStrategy({ seed: 42, rules: 300, calibrationSample: 1_000 })).toEqual(document)
    expect(generateStrategy({ seed: 43, rules: 300, calibrationSample: 1_000 }).knockouts).not.toEqual(document.knockouts)
  })

  it('declares over 100 features and the requested number of rules (plus the fixed ones), all of which compile', () => {
    expect(document.requiredFeatures?.length).toBeGreaterThanOrEqual(100)
    expect(featureCatalogue().length).toBe(document.requiredFeatures?.length)
    expect(rules.length).toBe(300 + 7 + 1)
    expect(new Set(rules.map((rule) => rule.code)).size).toBe(rules.length)
    compileOrThrow(document)
  })

  it('mixes comparisons, ranges, set membership, arithmetic, functions and combined conditions', () => {
    const texts = rules.map((rule) => rule.when)
    const share = (pattern: RegExp) => texts.filter((text) => pattern.test(text)).length / texts.length
    expect(share(/ not between /)).toBeGreaterThan(0.05)
    expect(share(/ in \[/)).toBeGreaterThan(0.05)
    expect(share(/ [/*] /)).toBeGreaterThan(0.1)
    expect(share(/ [+-] /)).toBeGreaterThan(0.05)
    expect(share(/^(abs|coalesce|max|min)\(/)).toBeGreaterThan(0.03)
    expect(share(/ and /)).toBeGreaterThan(0.1)
    expect(share(/^features\.[a-z0-9_]+ [<>] -?[0-9.]+$/)).toBeGreaterThan(0.15)
  })

  it('places thresholds so that each rule is rare and the outcomes are mixed', () => {
    const strategy = compileOrThrow(document)
    const random = seededRandom(7)
    const counts = { approved: 0, declined: 0, referred: 0 }
    let fired = 0
    const n = 400
    for (let i = 0; i < n; i++) {
      const decision = decideCompact(strategy, decisionInputOf(generateApplication(random), 640))
      counts[decision.outcome]++
      for (const outcome of decision.ruleOutcomes) if (outcome === ruleOutcome.fired) fired++
    }
    // About one rule in a thousand fires per applicant; 308 rules → well under one firing each on average.
    expect(fired / n).toBeLessThan(1.5)
    expect(counts.approved / n).toBeGreaterThan(0.4)
    expect(counts.declined).toBeGreaterThan(0)
    expect(counts.referred).toBeGreaterThan(0)
  })
})

/** Values that probe the null rules and the thresholds' edges: generated ones, nulls, wrong types, boundaries. */
function perturb(application: GeneratedApplication, edits: readonly { feature: number; value: unknown }[], names: readonly string[]): DecisionInput {
  const features: Record<string, unknown> = { ...application.features }
  for (const edit of edits) features[names[edit.feature % names.length] as string] = edit.value
  return { ...decisionInputOf(application, null), features }
}

describe('the fast decision path on generated strategies', () => {
  const names = featureCatalogue().map((spec) => spec.name)
  const strategies = [1, 2, 3].map((seed) => generateStrategy({ seed, rules: 60, calibrationSample: 300 }))
  const compiled = strategies.map(compileOrThrow)
  const interpreted = compiled.map(interpretStrategy)
  // Every number a rule mentions, to land values exactly on thresholds and bounds.
  const constants = [...new Set(strategies.flatMap((s) => [...(s.knockouts ?? []), ...(s.referrals ?? [])].flatMap((rule) => rule.when.match(/-?\d+(\.\d+)?/g) ?? []).map(Number)))]
  const edgeValue = fc.oneof(
    fc.constantFrom(...constants), fc.constant(null), fc.constant(0), fc.constant(-0), fc.constant('12'), fc.constant(Number.NaN),
    fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.constant(1e308),
  )
  // A feature set exactly to a number its rules compare it with (the boundary of `>` against `>=`).
  const aligned = [...new Set(strategies.flatMap((s) => [...(s.knockouts ?? []), ...(s.referrals ?? [])].flatMap((rule) =>
    [...rule.when.matchAll(/features\.([a-z0-9_]+) (?:[<>=!]+|not between|between) (-?[\d.]+)(?: and (-?[\d.]+))?/g)].flatMap((m) =>
      [`${m[1]}=${m[2]}`, ...(m[3] === undefined ? [] : [`${m[1]}=${m[3]}`])]))))]
    .map((text) => { const [name, value] = text.split('='); return { feature: names.indexOf(name as string), value: Number(value) } })
  const edit = fc.oneof(fc.record({ feature: fc.nat(), value: edgeValue }), fc.constantFrom(...aligned))
  const scenario = fc.record({
    strategy: fc.integer({ min: 0, max: strategies.length - 1 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    edits: fc.array(edit, { maxLength: 30 }),
    score: fc.option(fc.integer({ min: 400, max: 800 }), { nil: null }),
    dropGroup: fc.option(fc.constantFrom('features', 'loans', 'application', 'flags'), { nil: null }),
  })

  it('decides identically compiled and interpreted, expands to decide\'s trace, and is deterministic', () => {
    fc.assert(fc.property(scenario, ({ strategy, seed, edits, score, dropGroup }) => {
      const base = perturb(generateApplication(seededRandom(seed)), edits, names)
      const input: Record<string, unknown> = { ...base, score }
      if (dropGroup !== null) delete input[dropGroup]
      const c = compiled[strategy] as CompiledStrategy
      const decision = decide(c, input)
      expect(decide(interpreted[strategy] as CompiledStrategy, input)).toEqual(decision)
      expect(decide(c, input)).toEqual(decision)
      const compact = decideCompact(c, input)
      expect(expandDecision(c, compact)).toEqual(decision)
      expect(decision.trace.filter((entry) => entry.step === 'knockout' || entry.step === 'referral')).toHaveLength(compact.ruleOutcomes.length)
    }), { numRuns: 300 })
  })

  it('decides a value vector through a layout as the same values by name', () => {
    const c = compiled[0] as CompiledStrategy
    // The caller's own order (reversed), an undeclared name, and one declared input left out.
    const layoutNames = [...c.inputs.map((input) => input.name).reverse().filter((name) => name !== 'features.gmv_1m'), 'not.declared']
    const layout = createInputLayout(c, layoutNames)
    fc.assert(fc.property(scenario, ({ seed, edits, score }) => {
      const input = { ...perturb(generateApplication(seededRandom(seed)), edits, names), score } as Record<string, unknown>
      const values = layoutNames.map((name) => name.split('.').reduce<unknown>((value, part) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined), input))
      const byName = decideCompact(c, { ...input, features: { ...(input.features as object), gmv_1m: undefined } })
      expect(decideValues(c, layout, values)).toEqual(byName)
    }), { numRuns: 200 })
  })
})

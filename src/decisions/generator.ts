/**
 * @module decisions/generator
 * A seeded generator of large, realistic strategies and of applications to decide with them: the
 * benchmark's 1,000-rule strategy (bench/decisions.ts) and the property tests' random strategies come
 * from here, so "a 1,000-rule strategy" names one exact document for a given seed.
 *
 * The features are a catalogue of 30 measures over four windows (1, 3, 6 and 12 months) plus three code
 * features (123 in all): amounts with a long right tail, ratios in [0, 1], counts, trends in [−1, 1]
 * and region / merchant-category / channel codes, each missing now and then. Rules are a mix of what
 * analysts write: threshold comparisons, ranges (`not between`), set membership (numbers and strings),
 * arithmetic (ratios of two features, weighted differences, averages), functions (`abs`, `coalesce`,
 * `max`, `months_between`) and two-condition rules joined by `and`. Thresholds are not invented: each
 * is a quantile of the rule's own left-hand side over a seeded sample of applications (computed with the
 * expression compiler itself), so every rule fires for a small, known share of applicants — about
 * 1 in 1,000 — as real knock-outs do, and a realistic share of applications is approved.
 *
 * Pure and deterministic: no clock, no global randomness; the same options give the same document.
 */
import { assert } from '../core/assert.ts'
import { compileExpression, createSchema, type ExpressionSchema, type InputDeclaration, type Value } from './expression.ts'
import type { DecisionInput } from './compile.ts'
import type { InputTypeText, RuleDocument, StrategyDocument } from './strategy.ts'

/** A small seeded PRNG (mulberry32): uniform floats in [0, 1), the same sequence on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

type Random = () => number
type FeatureKind = 'amount' | 'ratio' | 'count' | 'trend' | 'code'
export type FeatureSpec = { readonly name: string; readonly kind: FeatureKind; readonly scale: number; readonly missingRate: number; readonly codes?: readonly number[] }

const amountBases = ['gmv', 'inflow', 'outflow', 'refund_amount', 'tax_paid', 'payroll', 'utility_paid', 'inventory_value', 'receivables', 'payables']
const ratioBases = ['refund_rate', 'top_buyer_share', 'repeat_buyer_rate', 'late_payment_rate', 'chargeback_rate', 'return_rate', 'cash_share', 'night_order_share']
const countBases = ['orders', 'buyers', 'counterparties', 'credit_inquiries', 'disputes', 'new_buyers', 'supplier_count']
const trendBases = ['gmv_trend', 'inflow_trend', 'orders_trend', 'margin_trend', 'buyers_trend']
const windows = ['1m', '3m', '6m', '12m'] as const
const windowMonths = { '1m': 1, '3m': 3, '6m': 6, '12m': 12 } as const
export const industries = ['retail', 'apparel', 'electronics', 'food', 'logistics', 'manufacturing', 'agriculture', 'services', 'gambling', 'crypto', 'payday_lending', 'arms']
export const provinces = ['beijing', 'shanghai', 'guangdong', 'zhejiang', 'jiangsu', 'sichuan', 'hubei', 'henan', 'shandong', 'fujian', 'yunnan', 'xinjiang']

/** The feature catalogue: 30 measures × 4 windows, then three code features (123 names). */
export function featureCatalogue(): FeatureSpec[] {
  const specs: FeatureSpec[] = []
  for (const window of windows) {
    const months = windowMonths[window]
    for (const base of amountBases) specs.push({ name: `${base}_${window}`, kind: 'amount', scale: 60_000 * months, missingRate: 0.002 })
    for (const base of ratioBases) specs.push({ name: `${base}_${window}`, kind: 'ratio', scale: 1, missingRate: 0.005 })
    for (const base of countBases) specs.push({ name: `${base}_${window}`, kind: 'count', scale: 40 * months, missingRate: 0.002 })
    for (const base of trendBases) specs.push({ name: `${base}_${window}`, kind: 'trend', scale: 1, missingRate: 0.005 })
  }
  specs.push({ name: 'region_code', kind: 'code', scale: 1, missingRate: 0.002, codes: Array.from({ length: 40 }, (_, i) => 11 + i) })
  specs.push({ name: 'mcc_code', kind: 'code', scale: 1, missingRate: 0.002, codes: Array.from({ length: 60 }, (_, i) => 5000 + i * 7) })
  specs.push({ name: 'channel_code', kind: 'code', scale: 1, missingRate: 0.0, codes: [1, 2, 3, 4, 5, 6] })
  return specs
}

/** A standard normal draw (Box–Muller). */
function normal(random: Random): number {
  const u = Math.max(random(), Number.MIN_VALUE)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

function sampleFeature(spec: FeatureSpec, random: Random, size: number): number | null {
  if (random() < spec.missingRate) return null
  switch (spec.kind) {
    // A merchant's size (lognormal around 1) scales its amounts and counts, so features correlate.
    case 'amount': return Math.round(spec.scale * size * Math.exp(0.5 * normal(random)) * 100) / 100
    case 'ratio': return Math.round(random() ** 3 * 10_000) / 10_000
    case 'count': return Math.round(spec.scale * size * Math.exp(0.4 * normal(random)))
    case 'trend': return Math.round(Math.max(-1, Math.min(1, 0.15 * normal(random))) * 10_000) / 10_000
    case 'code': {
      // Zipf-like (weight 1/(rank+1)²): a few common codes and a long tail of rare ones.
      const codes = spec.codes as readonly number[]
      return codes[Math.floor(1 / (1 - random() * 0.999) - 1) % codes.length] as number
    }
  }
}

export type GeneratedApplication = {
  readonly application: { readonly amount: number; readonly termMonths: number; readonly businessDate: string }
  readonly enterprise: { readonly registeredOn: string; readonly industry: string | null; readonly province: string }
  readonly consent: { readonly creditQuery: boolean }
  readonly flags: { readonly fraud: boolean; readonly blacklisted: boolean }
  readonly loans: { readonly currentDpd: number; readonly exposureMajor: number; readonly monthlyDebtServiceMajor: number }
  /** Raw features by name (without the `features.` prefix), as the data hub gives them. */
  readonly features: Readonly<Record<string, number | null>>
}

export const generatorBusinessDate = '2026-11-20'

/** One application with its raw features; `score` is left to the caller (a scorecard computes it). */
export function generateApplication(random: Random, catalogue: readonly FeatureSpec[] = featureCatalogue()): GeneratedApplication {
  const size = Math.exp(0.6 * normal(random))
  const features: Record<string, number | null> = {}
  for (const spec of catalogue) features[spec.name] = sampleFeature(spec, random, size)
  const ageMonths = 3 + Math.floor(random() * 150)
  const registered = new Date(Date.UTC(2026, 10 - ageMonths, 1 + Math.floor(random() * 28)))
  return {
    application: { amount: 10_000 * (1 + Math.floor(random() * 60)), termMonths: [3, 6, 12, 12, 12, 9][Math.floor(random() * 6)] as number, businessDate: generatorBusinessDate },
    enterprise: {
      registeredOn: registered.toISOString().slice(0, 10),
      // The last four industries are restricted: rare among applicants, as they are in practice.
      industry: random() < 0.02 ? null : (industries[random() < 0.004 ? 8 + Math.floor(random() * 4) : Math.floor(random() * 8)] as string),
      province: provinces[Math.floor(random() * provinces.length)] as string,
    },
    consent: { creditQuery: random() > 0.005 },
    flags: { fraud: random() < 0.003, blacklisted: random() < 0.002 },
    loans: { currentDpd: random() < 0.95 ? 0 : Math.floor(random() * 90), exposureMajor: random() < 0.6 ? 0 : Math.round(random() * 400_000), monthlyDebtServiceMajor: Math.round(random() * 8_000) },
    features,
  }
}

/** The input `decide` reads for an application and its score. */
export function decisionInputOf(application: GeneratedApplication, score: number | null): DecisionInput {
  return { ...application, score }
}

export type GenerateStrategyOptions = {
  readonly seed: number
  /** Knock-outs plus referrals (about 60 % knock-outs). */
  readonly rules: number
  readonly name?: string
  /** Applications sampled to place every threshold at a quantile of its rule's left-hand side. */
  readonly calibrationSample?: number
  /** The share of applicants each rule fires for, about. */
  readonly fireRate?: number
}

const nonFeatureInputs: Readonly<Record<string, InputTypeText>> = {
  'application.amount': 'number',
  'application.termMonths': 'number',
  'application.businessDate': 'date',
  'enterprise.registeredOn': 'date',
  'enterprise.industry': 'string?',
  'enterprise.province': 'string',
  'consent.creditQuery': 'boolean',
  'flags.fraud': 'boolean',
  'flags.blacklisted': 'boolean',
  'loans.currentDpd': 'number',
  'loans.exposureMajor': 'number',
  'loans.monthlyDebtServiceMajor': 'number',
  score: 'number?',
}

/** The fixed, hand-written part: what every SME strategy checks first (as in sme-310.strategy.json). */
const fixedKnockouts: readonly RuleDocument[] = [
  { code: 'no_credit_consent', when: 'not consent.creditQuery', reason: { en: 'We do not have your consent to check your credit data', zh: '未获得您的征信查询授权' } },
  { code: 'fraud_flag', when: 'flags.fraud', reason: { en: 'The application could not be verified', zh: '申请信息未能通过核验' } },
  { code: 'blacklisted', when: 'flags.blacklisted', reason: { en: 'The enterprise is on a restricted list', zh: '企业在限制名单内' } },
  { code: 'business_too_young', when: 'months_between(application.businessDate, enterprise.registeredOn) < 6', reason: { en: 'The business has been registered for less than 6 months', zh: '企业注册未满6个月' } },
  { code: 'currently_past_due', when: 'loans.currentDpd > 30', reason: { en: 'A current loan is more than 30 days past due', zh: '现有贷款逾期超过30天' } },
  { code: 'exposure_cap', when: 'loans.exposureMajor + application.amount > 3_000_000', reason: { en: 'Total borrowing would exceed 3,000,000 yuan', zh: '借款总额将超过300万元' } },
  { code: 'restricted_industry', when: "enterprise.industry in ['gambling', 'crypto', 'payday_lending', 'arms']", onNull: 'pass', reason: { en: 'The industry is not served by this product', zh: '本产品不服务该行业' } },
]

type Draft = { readonly lhs: string; readonly direction: 'above' | 'below' | 'outside'; readonly kind: string; readonly subject: string }
type Calibration = { readonly schema: ExpressionSchema; readonly rows: readonly Value[][] }

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T
}

/** A number written as an expression literal: rounded to 4 significant digits, no exponent. */
function literal(x: number): string {
  if (x === 0) return '0'
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x))))
  const text = (Math.round(x * 10 ** digits) / 10 ** digits).toFixed(Math.min(digits, 8))
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text
}

/** The sorted non-null values of a numeric expression over the calibration rows. */
function distribution(calibration: Calibration, source: string): number[] {
  const compiled = compileExpression(source, calibration.schema, 'number')
  assert(compiled.ok, () => `generated expression compiles: ${source}`)
  const values: number[] = []
  for (const row of calibration.rows) {
    const value = compiled.expression.evaluate(row)
    if (typeof value === 'number') values.push(value)
  }
  return values.sort((a, b) => a - b)
}

function quantile(sorted: readonly number[], p: number): number {
  assert(sorted.length > 0, 'a distribution to take a quantile of')
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(p * sorted.length)))] as number
}

/** A condition that holds for about `rate` of applicants: the draft's left-hand side against a quantile. */
function condition(calibration: Calibration, draft: Draft, rate: number): string {
  const sorted = distribution(calibration, draft.lhs)
  switch (draft.direction) {
    case 'above': return `${draft.lhs} > ${literal(quantile(sorted, 1 - rate))}`
    case 'below': return `${draft.lhs} < ${literal(quantile(sorted, rate))}`
    case 'outside': return `${draft.lhs} not between ${literal(quantile(sorted, rate / 2))} and ${literal(quantile(sorted, 1 - rate / 2))}`
  }
}

function draftRule(random: Random, catalogue: readonly FeatureSpec[]): Draft {
  const numeric = catalogue.filter((spec) => spec.kind !== 'code')
  const used = new Set<string>()
  // Distinct features within one rule (`a / a` would be a constant).
  const f = (kind?: FeatureKind): string => {
    const pool = numeric.filter((s) => (kind === undefined || s.kind === kind) && !used.has(s.name))
    const name = pick(random, pool).name
    used.add(name)
    return `features.${name}`
  }
  const roll = random()
  if (roll < 0.3) {
    const spec = pick(random, numeric)
    const direction = spec.kind === 'ratio' ? 'above' : spec.kind === 'amount' || spec.kind === 'count' ? pick(random, ['above', 'below'] as const) : 'below'
    return { lhs: `features.${spec.name}`, direction, kind: 'threshold', subject: spec.name }
  }
  if (roll < 0.45) {
    const spec = pick(random, numeric)
    return { lhs: `features.${spec.name}`, direction: 'outside', kind: 'range', subject: spec.name }
  }
  if (roll < 0.6) {
    const a = f('amount')
    const b = f('amount')
    return { lhs: `${a} / ${b}`, direction: pick(random, ['above', 'below'] as const), kind: 'ratio', subject: `${a.slice(9)}_to_${b.slice(9)}` }
  }
  if (roll < 0.72) {
    const a = f(pick(random, ['amount', 'count'] as const))
    const weight = literal(0.2 + random() * 1.6)
    const shape = pick(random, [`${a} - ${weight} * ${a.replace(/_(1m|3m|6m|12m)$/, '_12m')} / 12`, `(${a} + ${f('amount')}) / 2`, `${f('ratio')} * 100 + ${f('trend')} * 10`] as const)
    return { lhs: shape, direction: pick(random, ['above', 'below'] as const), kind: 'arithmetic', subject: a.slice(9) }
  }
  if (roll < 0.82) {
    const shape = pick(random, [`abs(${f('trend')})`, `coalesce(${f('amount')}, ${f('amount')}, 0)`, `max(${f('ratio')}, ${f('ratio')})`, `min(${f('count')}, ${f('count')})`] as const)
    return { lhs: shape, direction: shape.startsWith('min') || shape.startsWith('coalesce') ? 'below' : 'above', kind: 'function', subject: shape.slice(0, shape.indexOf('(')) }
  }
  return { lhs: f(), direction: 'above', kind: 'combined', subject: 'pair' }
}

/**
 * A set-membership rule: a province list joined with a threshold (regional policy), or a few codes of a
 * code feature among those rarer than the fire rate.
 */
function membershipRule(random: Random, catalogue: readonly FeatureSpec[], calibration: Calibration, rate: number): { when: string; subject: string } {
  if (random() < 0.3) {
    const chosen = [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(random, provinces)))]
    // Provinces are uniform: the threshold's rate makes up for the share of applicants the list selects.
    const draft = draftRule(random, catalogue)
    const threshold = condition(calibration, draft.kind === 'combined' ? { ...draft, direction: 'above' } : draft, Math.min(0.5, (rate * provinces.length) / chosen.length))
    return { when: `enterprise.province in [${chosen.map((p) => `'${p}'`).join(', ')}] and ${threshold}`, subject: `province_${draft.subject}` }
  }
  // Codes with a long tail (region, merchant category); the six channels are all common.
  const spec = pick(random, catalogue.filter((s) => s.kind === 'code' && (s.codes?.length ?? 0) > 20))
  const slot = calibration.schema.slotByName.get(`features.${spec.name}`) as number
  const counts = new Map<number, number>()
  for (const row of calibration.rows) counts.set(row[slot] as number, (counts.get(row[slot] as number) ?? 0) + 1)
  // The rarest codes whose shares add up to about the fire rate (at least the rarest one).
  const byRarity = [...(spec.codes as readonly number[])].sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || a - b)
  const rare: number[] = []
  let share = 0
  for (const code of byRarity) {
    share += (counts.get(code) ?? 0) / calibration.rows.length
    if (rare.length > 0 && share > rate) break
    rare.push(code)
  }
  const chosen = [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(random, rare)))].sort((a, b) => a - b)
  return { when: `features.${spec.name} in [${chosen.join(', ')}]`, subject: spec.name }
}

/**
 * A strategy document of `options.rules` rules (plus the seven fixed knock-outs) over the 123 features,
 * with cut-offs, a limit formula, a pricing grid by score band and allowed terms. The score is an input
 * (`score`): the bench computes it with a scorecard.
 */
export function generateStrategy(options: GenerateStrategyOptions): StrategyDocument {
  assert(Number.isInteger(options.rules) && options.rules >= 0, 'a whole number of rules')
  const random = seededRandom(options.seed)
  const catalogue = featureCatalogue()
  const inputs: Record<string, InputTypeText> = { ...nonFeatureInputs }
  for (const spec of catalogue) inputs[`features.${spec.name}`] = 'number?'
  const declarations: InputDeclaration[] = Object.entries(inputs).map(([name, text]) => ({ name, type: text.replace('?', '') as InputDeclaration['type'], nullable: text.endsWith('?') }))
  const schema = createSchema(declarations)
  const sampleRandom = seededRandom(options.seed ^ 0x5eed)
  const rows = Array.from({ length: options.calibrationSample ?? 4_000 }, () => {
    const application = generateApplication(sampleRandom, catalogue)
    return declarations.map((d) => readPath(application, d.name))
  })
  const calibration: Calibration = { schema, rows }
  const fireRate = options.fireRate ?? 0.0008
  const generated: { rule: RuleDocument; knockout: boolean }[] = []
  for (let i = 0; i < options.rules; i++) {
    const knockout = random() < 0.6
    // Most generated rules tolerate a missing feature; a few refer, fewer still treat it as a hit.
    const onNullRoll = random()
    const onNull = onNullRoll < 0.97 ? 'pass' : onNullRoll < 0.99 ? 'refer' : 'fire'
    let when: string
    let kind: string
    let subject: string
    if (random() < 0.1) {
      ({ when, subject } = membershipRule(random, catalogue, calibration, fireRate))
      kind = 'set'
    } else {
      const draft = draftRule(random, catalogue)
      kind = draft.kind
      subject = draft.subject
      if (draft.kind === 'combined') {
        // Two independent-ish conditions, each in its tail: together they fire for about `fireRate`.
        let second = draftRule(random, catalogue)
        while (second.lhs === draft.lhs) second = draftRule(random, catalogue)
        // Features correlate (a merchant's size scales them all), so tails meet more often than
        // independence predicts: each side is a little stricter than √rate.
        const each = Math.sqrt(fireRate) * 0.6
        when = `${condition(calibration, { ...draft, direction: 'above' }, each)} and ${condition(calibration, second.kind === 'combined' ? { ...second, direction: 'below' } : second, each)}`
      } else {
        when = condition(calibration, draft, fireRate)
      }
    }
    const code = `${knockout ? 'ko' : 'rf'}_${String(i).padStart(4, '0')}_${kind}_${subject}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 64)
    const what = knockout ? 'declines' : 'refers'
    generated.push({
      knockout,
      rule: {
        code, when, onNull,
        reason: { en: `Generated ${kind} rule ${i} on ${subject} ${what} the application`, zh: `生成规则${i}（${kind}，${subject}）` },
      },
    })
  }
  return {
    name: options.name ?? `generated-${options.rules}`,
    version: 1,
    description: `Generated by decisions/generator.ts (seed ${options.seed}): ${options.rules} rules over ${catalogue.length} features.`,
    inputs,
    requiredFeatures: catalogue.map((spec) => spec.name),
    onMissingInput: 'refer',
    knockouts: [...fixedKnockouts, ...generated.filter((g) => g.knockout).map((g) => g.rule)],
    cutoffs: { declineBelow: 520, referBelow: 560 },
    referrals: [
      ...generated.filter((g) => !g.knockout).map((g) => g.rule),
      { code: 'large_request', when: 'application.amount > 1_000_000', reason: { en: 'Requests above 1,000,000 yuan are reviewed by a credit officer', zh: '100万元以上的申请需信贷员审核' } },
    ],
    limit: {
      formula: 'min(1.5 * coalesce(features.gmv_6m, 0) / 6, (0.35 * coalesce(features.inflow_6m, features.gmv_6m, 0) / 6 - loans.monthlyDebtServiceMajor) * application.termMonths * 0.9, 3_000_000 - loans.exposureMajor)',
      max: 1_000_000, min: 10_000, step: 1_000,
    },
    pricing: {
      capAnnualRatePct: '24',
      grid: [
        { scoreMax: 580, annualRatePct: '18.0' },
        { scoreMin: 580, scoreMax: 620, annualRatePct: '15.4' },
        { scoreMin: 620, scoreMax: 660, annualRatePct: '12.6' },
        { scoreMin: 660, scoreMax: 700, annualRatePct: '9.9' },
        { scoreMin: 700, annualRatePct: '7.2' },
      ],
    },
    terms: { allowedMonths: [3, 6, 9, 12], requested: 'application.termMonths' },
  }
}

/** Reads `a.b.c` from nested objects; `features.x` from the raw feature record. */
function readPath(application: GeneratedApplication, name: string): Value {
  let value: unknown = application
  for (const part of name.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined
  return value === undefined ? null : (value as Value)
}

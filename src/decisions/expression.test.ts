/**
 * Tests of the rule language: semantics (precedence, null, three-valued logic, functions, dates),
 * precise errors, and fast-check properties: arbitrary text never crashes the parser or checker, and
 * random well-typed expressions evaluate to their declared type or null, the same compiled or interpreted.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compileExpression, createSchema, expressionDepthMax, expressionLengthMax, formatExpressionError, interpretExpression, isIsoDate, isValueOfType,
  monthsBetween, daysBetween, parseExpression, type InputDeclaration, type Slots, type Value, type ValueType,
} from './expression.ts'

const declarations: InputDeclaration[] = [
  { name: 'n1', type: 'number', nullable: false },
  { name: 'n2', type: 'number', nullable: true },
  { name: 's1', type: 'string', nullable: false },
  { name: 's2', type: 'string', nullable: true },
  { name: 'b1', type: 'boolean', nullable: false },
  { name: 'b2', type: 'boolean', nullable: true },
  { name: 'd1', type: 'date', nullable: false },
  { name: 'd2', type: 'date', nullable: true },
  { name: 'features.gmv_6m', type: 'number', nullable: true },
]
const schema = createSchema(declarations)
const defaults: Slots = [10, null, 'retail', null, true, null, '2026-03-31', null, 600_000]

function evaluate(source: string, slots: Slots = defaults): Value {
  const result = compileExpression(source, schema)
  if (!result.ok) throw new Error(result.errors.map((e) => formatExpressionError(source, e)).join('; '))
  const compiled = result.expression.evaluate(slots)
  expect(interpretExpression(result.expression.ast, schema, slots)).toEqual(compiled)
  return compiled
}
function errorsOf(source: string, expected?: ValueType): string[] {
  const result = compileExpression(source, schema, expected)
  expect(result.ok).toBe(false)
  return result.ok ? [] : result.errors.map((e) => formatExpressionError(source, e))
}

describe('expression semantics', () => {
  it('follows the usual precedence', () => {
    expect(evaluate('1 + 2 * 3')).toBe(7)
    expect(evaluate('(1 + 2) * 3')).toBe(9)
    expect(evaluate('-2 * 3 + 10 / 4')).toBe(-3.5)
    expect(evaluate('10 - 4 - 3')).toBe(3)
    expect(evaluate('12 / 3 / 2')).toBe(2)
    expect(evaluate('not true and false')).toBe(false)
    expect(evaluate('not (true and false)')).toBe(true)
    expect(evaluate('true or false and false')).toBe(true)
    expect(evaluate('not n1 > 5')).toBe(false)
    expect(evaluate('n1 + 1 > 10 and s1 = "retail"')).toBe(true)
  })
  it('reads inputs by dotted name, numbers with underscores and scientific notation', () => {
    expect(evaluate('features.gmv_6m / 6')).toBe(100_000)
    expect(evaluate('1_000_000 + 2.5e3 + .5')).toBe(1_002_500.5)
  })
  it('accepts the operator synonyms', () => {
    expect(evaluate('2 × 3 ÷ 4 − 1')).toBe(0.5)
    expect(evaluate('1 == 1 && 1 <> 2 || !true')).toBe(true)
  })
  it('makes any null operand null, and division by zero null', () => {
    for (const source of ['n2 + 1', '1 - n2', 'n2 * 0', '1 / n2', '-n2', 'n2 > 1', 'n2 = n2', 's2 = "x"', 'not b2', 'abs(n2)', 'round(n2, 2)',
      'min(1, n2)', 'max(n2, 1, 2)', 'clamp(n2, 0, 1)', 'clamp(5, n2, 1)', 'months_between(d1, d2)', 'n2 in [1, 2]', 'n2 between 0 and 1', 'n1 between n2 and 20']) {
      expect(evaluate(source), source).toBeNull()
    }
    expect(evaluate('1 / 0')).toBeNull()
    expect(evaluate('n1 / (n1 - 10)')).toBeNull()
    expect(evaluate('1e308 * 10')).toBeNull()
    expect(evaluate('null + 1')).toBeNull()
  })
  it('uses three-valued logic for and/or', () => {
    expect(evaluate('b2 and false')).toBe(false)
    expect(evaluate('false and b2')).toBe(false)
    expect(evaluate('b2 and true')).toBeNull()
    expect(evaluate('b2 or true')).toBe(true)
    expect(evaluate('true or b2')).toBe(true)
    expect(evaluate('b2 or false')).toBeNull()
    expect(evaluate('n2 is not null and n2 > 5')).toBe(false)
  })
  it('tests for null and coalesces', () => {
    expect(evaluate('n2 is null')).toBe(true)
    expect(evaluate('n1 is not null')).toBe(true)
    expect(evaluate('coalesce(n2, n1, 3)')).toBe(10)
    expect(evaluate('coalesce(n2, null)')).toBeNull()
    const typed = compileExpression('coalesce(n2, 0)', schema)
    expect(typed.ok && typed.expression.nullable).toBe(false)
  })
  it('supports in, not in, between, not between', () => {
    expect(evaluate('s1 in ["retail", "food"]')).toBe(true)
    expect(evaluate("s1 not in ['retail']")).toBe(false)
    expect(evaluate('n1 in [-10, 10]')).toBe(true)
    expect(evaluate('n1 in []')).toBe(false)
    expect(evaluate('n1 between 10 and 20')).toBe(true)
    expect(evaluate('n1 not between 11 and 20')).toBe(true)
    expect(evaluate('n1 between 1 and 5 or n1 between 9 and 11')).toBe(true)
    expect(evaluate('d1 between "2026-01-01" and date("2026-12-31")')).toBe(true)
    expect(evaluate('d1 in ["2026-03-31"]')).toBe(true)
  })
  it('computes the functions', () => {
    expect(evaluate('min(3, 1, 2)')).toBe(1)
    expect(evaluate('max(3, 1, 2)')).toBe(3)
    expect(evaluate('abs(-4.5)')).toBe(4.5)
    expect(evaluate('floor(-1.5)')).toBe(-2)
    expect(evaluate('ceil(1.2)')).toBe(2)
    expect(evaluate('round(1.005, 2)')).toBe(1.01)
    expect(evaluate('round(-2.5)')).toBe(-3)
    expect(evaluate('round(12345, -2)')).toBe(12300)
    expect(evaluate('clamp(15, 0, 10)')).toBe(10)
    expect(evaluate('clamp(-1, 0, 10)')).toBe(0)
    expect(evaluate('clamp(5, 10, 0)')).toBeNull()
    expect(evaluate('if(n1 > 5, "big", "small")')).toBe('big')
    expect(evaluate('if(b2, 1, 2)')).toBe(2)
    expect(evaluate('months_between(d1, "2025-03-31")')).toBe(12)
    expect(evaluate('days_between(d1, "2026-01-01")')).toBe(89)
  })
  it('counts whole months and days between dates', () => {
    expect(monthsBetween('2026-02-28', '2026-01-31')).toBe(0)
    expect(monthsBetween('2026-03-01', '2026-01-31')).toBe(1)
    expect(monthsBetween('2026-01-31', '2026-03-01')).toBe(-1)
    expect(monthsBetween('2026-01-15', '2026-01-15')).toBe(0)
    expect(monthsBetween('2027-01-14', '2026-01-15')).toBe(11)
    expect(daysBetween('2024-03-01', '2024-02-28')).toBe(2)
    expect(daysBetween('1970-01-01', '1970-01-01')).toBe(0)
    expect(daysBetween('2000-03-01', '1999-03-01')).toBe(366)
    expect(isIsoDate('2024-02-29')).toBe(true)
    expect(isIsoDate('2023-02-29')).toBe(false)
    expect(isIsoDate('2023-2-1')).toBe(false)
  })
  it('compares strings and dates in order, booleans only for equality', () => {
    expect(evaluate('"abc" < "abd"')).toBe(true)
    expect(evaluate('d1 > "2026-03-30"')).toBe(true)
    expect(evaluate('b1 = true')).toBe(true)
    expect(evaluate("'it\\'s' = \"it's\"")).toBe(true)
  })
  it('folds constants and reports the inputs it reads', () => {
    const result = compileExpression('features.gmv_6m / 6 > 1000 * 50 and n1 > 0 and features.gmv_6m > 0', schema)
    expect(result.ok && result.expression.references).toEqual(['features.gmv_6m', 'n1'])
  })
})

describe('expression errors', () => {
  it('names unknown inputs and functions with a suggestion and a position', () => {
    expect(errorsOf('n1 > 1 and features.gvm_6m > 0')).toEqual(["column 12: unknown input 'features.gvm_6m'; did you mean 'features.gmv_6m'?"])
    expect(errorsOf('mn(1, 2) > 0')).toEqual(["column 1: unknown function 'mn'; did you mean 'min'?"])
    expect(errorsOf('nothing_like_it > 0')).toEqual(["column 1: unknown input 'nothing_like_it'"])
  })
  it('reports syntax errors where they are', () => {
    expect(errorsOf('(1 + 2')).toEqual(["column 7: expected ')', found the end of the expression"])
    expect(errorsOf('1 + * 2')).toEqual(["column 5: expected a value, an input name, a function call or '(', found '*'"])
    expect(errorsOf('"abc')).toEqual(['column 1: unterminated string'])
    expect(errorsOf('n1 # 2')).toEqual(["column 4: unexpected character '#'"])
    expect(errorsOf('1 < 2 < 3')).toEqual(['column 7: comparisons do not chain: use `and` (e.g. `a < b and b < c`) or `between`'])
    expect(errorsOf('n1 is 3')).toEqual(["column 7: expected 'null', found '3'"])
    expect(errorsOf('1\n+ )')).toEqual(["line 2, column 3: expected a value, an input name, a function call or '(', found ')'"])
    expect(errorsOf('12abc')).toEqual(["column 1: a number cannot be followed by 'a'"])
  })
  it('reports type errors with the operand types', () => {
    expect(errorsOf('s1 + 1')).toEqual(["column 1: '+' needs numbers, found a string and a number"])
    expect(errorsOf('n1 = "x"')).toEqual(["column 1: '=' needs operands of one type, found a number and a string"])
    expect(errorsOf('n1 and b1')).toEqual(["column 1: 'and' needs booleans, found a number"])
    expect(errorsOf('n1 = null')).toEqual(["column 1: '=' with null is always null: write `is null` or `is not null`"])
    expect(errorsOf('b1 < true')).toEqual(["column 1: '<' does not order booleans; use = or !="])
    expect(errorsOf('n1 in [1, n2]')).toEqual(['column 11: the items of `in [...]` must be constants'])
    expect(errorsOf('round(n1, n1)')).toEqual(["column 11: 'round' takes its digits as an integer constant between -12 and 12"])
    expect(errorsOf('min()')).toEqual(["column 1: 'min' takes at least 1 argument, found 0"])
    expect(errorsOf('abs(1, 2)')).toEqual(["column 1: 'abs' takes 1 argument, found 2"])
    expect(errorsOf('d1 > "2026-02-30"')).toEqual(["column 6: '2026-02-30' is not a valid date (write YYYY-MM-DD)"])
    expect(errorsOf('months_between(d1, n1)')).toEqual(["column 20: 'months_between' needs a date here, found a number"])
    expect(errorsOf('n1 + 1', 'boolean')).toEqual(['column 1: expected a boolean expression, found a number'])
  })
  it('refuses too long and too deep expressions', () => {
    expect(errorsOf('1 + '.repeat(expressionLengthMax) + '1')[0]).toContain(`longer than ${expressionLengthMax}`)
    expect(errorsOf('('.repeat(expressionDepthMax + 5) + '1' + ')'.repeat(expressionDepthMax + 5))[0]).toContain('nests deeper')
    expect(errorsOf('-'.repeat(expressionDepthMax + 5) + '1')[0]).toContain('nests deeper')
    expect(errorsOf('1' + ' + 1'.repeat(expressionDepthMax + 5))[0]).toContain('nests deeper')
  })
})

// ---------------------------------------------------------------------------------------------------
// Properties

const tokens = ['n1', 'n2', 's1', 'b2', 'd1', 'features.gmv_6m', 'x.y', '1', '2.5', '-', '+', '*', '/', '(', ')', '[', ']', ',', '=', '<', '>=', '!=',
  'and', 'or', 'not', 'in', 'between', 'is', 'null', 'true', '"a', "'b'", 'min', 'round', 'coalesce', 'if', 'date', 'months_between', '.', '_', '×', '&&', '\\']

describe('expression fuzzing', () => {
  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (source) => {
      const result = compileExpression(source, schema)
      if (!result.ok) expect(result.errors.length).toBeGreaterThan(0)
    }), { numRuns: 2_000 })
  })
  it('never throws on token soup, and every error points inside the source', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 25 }), fc.constantFrom(' ', ''), (parts, separator) => {
      const source = parts.join(separator)
      const result = compileExpression(source, schema)
      if (result.ok) {
        expect(() => result.expression.evaluate(defaults)).not.toThrow()
      } else {
        for (const error of result.errors) expect(error.offset).toBeLessThanOrEqual(source.length)
      }
      expect(parseExpression(source).ok || !result.ok).toBe(true)
    }), { numRuns: 3_000 })
  })
})

type Typed = Record<ValueType, fc.Arbitrary<string>>
const isoDate = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))
const numberLiteral = fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }))
  .map((x) => (x < 0 || Object.is(x, -0) ? `(${String(x)})` : String(x)))
const stringLiteral = fc.constantFrom('"retail"', "'food'", '""', '"a\\"b"')
const refsOf = (type: ValueType) => declarations.filter((d) => d.type === type).map((d) => d.name)

const typedExpressions: Typed = fc.letrec<Record<ValueType, string>>((tie) => ({
  number: fc.oneof(
    { depthSize: 'small', maxDepth: 5, withCrossShrink: true },
    numberLiteral,
    fc.constantFrom(...refsOf('number')),
    fc.tuple(tie('number'), fc.constantFrom('+', '-', '*', '/'), tie('number')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('number').map((a) => `-(${a})`),
    fc.tuple(fc.constantFrom('min', 'max'), fc.array(tie('number'), { minLength: 1, maxLength: 3 })).map(([f, args]) => `${f}(${args.join(', ')})`),
    fc.tuple(fc.constantFrom('abs', 'floor', 'ceil'), tie('number')).map(([f, a]) => `${f}(${a})`),
    fc.tuple(tie('number'), fc.integer({ min: -3, max: 6 })).map(([a, d]) => `round(${a}, ${d})`),
    fc.tuple(tie('number'), tie('number'), tie('number')).map(([a, b, c]) => `clamp(${a}, ${b}, ${c})`),
    fc.tuple(tie('number'), tie('number')).map(([a, b]) => `coalesce(${a}, ${b})`),
    fc.tuple(tie('boolean'), tie('number'), tie('number')).map(([c, a, b]) => `if(${c}, ${a}, ${b})`),
    fc.tuple(fc.constantFrom('months_between', 'days_between'), tie('date'), tie('date')).map(([f, a, b]) => `${f}(${a}, ${b})`),
    fc.constant('(null + 1)'),
  ),
  boolean: fc.oneof(
    { depthSize: 'small', maxDepth: 5, withCrossShrink: true },
    fc.constantFrom('true', 'false', ...refsOf('boolean')),
    fc.tuple(tie('number'), fc.constantFrom('=', '!=', '<', '<=', '>', '>='), tie('number')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(tie('string'), fc.constantFrom('=', '!=', '<', '>='), tie('string')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(tie('date'), fc.constantFrom('=', '<=', '>'), tie('date')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(tie('boolean'), fc.constantFrom('and', 'or'), tie('boolean')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('boolean').map((a) => `(not ${a})`),
    fc.tuple(tie('number'), fc.boolean(), fc.array(numberLiteral, { maxLength: 4 })).map(([a, not, items]) => `(${a} ${not ? 'not ' : ''}in [${items.join(', ')}])`),
    fc.tuple(tie('string'), fc.array(stringLiteral, { maxLength: 3 })).map(([a, items]) => `(${a} in [${items.join(', ')}])`),
    fc.tuple(tie('number'), fc.boolean(), tie('number'), tie('number')).map(([a, not, lo, hi]) => `(${a} ${not ? 'not ' : ''}between ${lo} and ${hi})`),
    fc.tuple(fc.constantFrom('n2', 's2', 'd2', 'b2', 'features.gmv_6m'), fc.boolean()).map(([a, not]) => `(${a} is ${not ? 'not ' : ''}null)`),
  ),
  string: fc.oneof(
    { depthSize: 'small', maxDepth: 4, withCrossShrink: true },
    stringLiteral,
    fc.constantFrom(...refsOf('string')),
    fc.tuple(tie('string'), tie('string')).map(([a, b]) => `coalesce(${a}, ${b})`),
    fc.tuple(tie('boolean'), tie('string'), tie('string')).map(([c, a, b]) => `if(${c}, ${a}, ${b})`),
  ),
  date: fc.oneof(
    { depthSize: 'small', maxDepth: 4, withCrossShrink: true },
    isoDate.map((d) => `date('${d}')`),
    fc.constantFrom(...refsOf('date')),
    fc.tuple(tie('date'), tie('date')).map(([a, b]) => `coalesce(${a}, ${b})`),
  ),
}))

const slotValue = (d: InputDeclaration): fc.Arbitrary<Value> => {
  const value: fc.Arbitrary<Value> = d.type === 'number' ? fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 })
    : d.type === 'string' ? fc.constantFrom('retail', 'food', '')
      : d.type === 'boolean' ? fc.boolean() : isoDate
  return d.nullable ? fc.option(value, { nil: null }) : value
}
const slotsArbitrary = fc.tuple(...declarations.map(slotValue))

describe('well-typed expressions', () => {
  for (const type of ['number', 'boolean', 'string', 'date'] as const) {
    it(`compile and evaluate to a ${type} or null, the same compiled or interpreted`, () => {
      fc.assert(fc.property(typedExpressions[type], slotsArbitrary, (source, slots) => {
        const result = compileExpression(source, schema, type)
        if (!result.ok) throw new Error(`${source}: ${result.errors.map((e) => formatExpressionError(source, e)).join('; ')}`)
        const value = result.expression.evaluate(slots)
        expect(value === null || isValueOfType(value, type)).toBe(true)
        if (!result.expression.nullable && result.expression.type === type && type !== 'number') expect(value).not.toBeNull()
        expect(interpretExpression(result.expression.ast, schema, slots)).toEqual(value)
        expect(result.expression.evaluate(slots)).toEqual(value)
      }), { numRuns: 500 })
    })
  }
})

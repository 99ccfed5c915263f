/**
 * @module decisions/expression
 * The rule language of strategies: a small, safe, typed expression language. Source text is tokenised,
 * parsed by a Pratt parser into an AST, type-checked against a declared schema of inputs and compiled
 * to plain closures once (no `eval`, no `Function`), so a rule evaluates in well under a microsecond.
 *
 * Values are `number | string | boolean | null`; dates are ISO calendar dates (`'2026-03-31'`), kept as
 * strings (they order correctly as text) and typed `date` by the checker. Money inside rules is a
 * number in major units (yuan, not fen): the caller converts bigint minor units at the boundary and
 * converts a limit back (see `convertMajorToMinor` in compile.ts).
 *
 * Null semantics (SQL-like): any null operand makes an operator or a function null, except
 * `is null` / `is not null`, `coalesce(…)`, `if(…)` (a null condition takes the else branch) and the
 * logical operators, which use three-valued logic (`false and null` is false, `true or null` is true).
 * Division by zero and results beyond the float range are null, never Infinity or NaN.
 *
 * The full reference, with the grammar and every function, is docs/strategies.md.
 */
import { assert } from '../core/assert.ts'
import { epochDayOf } from '../core/calendar.ts'

export type ValueType = 'number' | 'string' | 'boolean' | 'date'
export const valueTypes = ['number', 'string', 'boolean', 'date'] as const satisfies readonly ValueType[]
export type Value = number | string | boolean | null
/** A static type: the checker's view of what an expression yields. `null` is the type of the literal `null`. */
export type ExpressionType = { readonly type: ValueType | 'null'; readonly nullable: boolean }
/** Input values by slot, in the order of the schema's declarations. */
export type Slots = readonly Value[]
export type Evaluate = (slots: Slots) => Value

export type InputDeclaration = { readonly name: string; readonly type: ValueType; readonly nullable: boolean }
export type ExpressionSchema = {
  readonly inputs: readonly InputDeclaration[]
  readonly slotByName: ReadonlyMap<string, number>
}
/** A precise error: where (character offset and length in the source) and what, as a sentence. */
export type ExpressionError = { readonly offset: number; readonly length: number; readonly message: string }

export type CompiledExpression = {
  readonly source: string
  readonly type: ValueType | 'null'
  readonly nullable: boolean
  /** The inputs the expression reads, in order of first use. */
  readonly references: readonly string[]
  readonly evaluate: Evaluate
  readonly ast: ExpressionNode
}
export type CompileExpressionResult =
  | { readonly ok: true; readonly expression: CompiledExpression }
  | { readonly ok: false; readonly errors: readonly ExpressionError[] }
export type ParseExpressionResult =
  | { readonly ok: true; readonly ast: ExpressionNode }
  | { readonly ok: false; readonly errors: readonly ExpressionError[] }

/** Named limits: source longer than this is refused, and so is an AST deeper than this. */
export const expressionLengthMax = 4_000
export const expressionDepthMax = 200
/** `round(x, digits)`: digits must be an integer literal in [−digitsMax, digitsMax]. */
export const roundDigitsMax = 12

// ---------------------------------------------------------------------------------------------------
// AST

export type ArithmeticOperator = '+' | '-' | '*' | '/'
export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>='
export type ExpressionNode =
  | { readonly kind: 'literal'; readonly value: Value; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'reference'; readonly name: string; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'negate' | 'not'; readonly operand: ExpressionNode; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'arithmetic'; readonly op: ArithmeticOperator; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'comparison'; readonly op: ComparisonOperator; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'logical'; readonly op: 'and' | 'or'; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'in'; readonly negated: boolean; readonly operand: ExpressionNode; readonly items: readonly ExpressionNode[]; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'between'; readonly negated: boolean; readonly operand: ExpressionNode; readonly low: ExpressionNode; readonly high: ExpressionNode; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'is_null'; readonly negated: boolean; readonly operand: ExpressionNode; readonly at: number; readonly end: number; readonly depth: number }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly ExpressionNode[]; readonly at: number; readonly end: number; readonly depth: number }

// ---------------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'number' | 'string' | 'name' | 'keyword' | 'punct' | 'end'
type Token = { readonly kind: TokenKind; readonly text: string; readonly value: Value; readonly at: number; readonly end: number }

export const keywords: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in', 'between', 'is', 'null', 'true', 'false'])
/** Spellings accepted for operators, mapped to the canonical one. */
const operatorSynonyms: Readonly<Record<string, string>> = {
  '==': '=', '<>': '!=', '×': '*', '÷': '/', '−': '-', '&&': 'and', '||': 'or', '!': 'not',
}
const twoCharOperators = new Set(['==', '!=', '<>', '<=', '>=', '&&', '||'])
const oneCharOperators = new Set(['+', '-', '*', '/', '×', '÷', '−', '(', ')', '[', ']', ',', '=', '<', '>', '!'])

class SyntaxFailure {
  readonly error: ExpressionError
  constructor(offset: number, length: number, message: string) {
    this.error = { offset, length: Math.max(1, length), message }
  }
}

const isDigit = (c: string) => c >= '0' && c <= '9'
const isNameStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_'
const isNamePart = (c: string) => isNameStart(c) || isDigit(c)

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const c = source[i] as string
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue }
    const start = i
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      i = scanNumber(source, i)
      const text = source.slice(start, i)
      const value = Number(text.replaceAll('_', ''))
      if (!Number.isFinite(value)) throw new SyntaxFailure(start, i - start, `the number ${text} is out of range`)
      tokens.push({ kind: 'number', text, value, at: start, end: i })
    } else if (c === '"' || c === "'") {
      const [value, next] = scanString(source, i)
      tokens.push({ kind: 'string', text: source.slice(start, next), value, at: start, end: next })
      i = next
    } else if (isNameStart(c)) {
      i = scanName(source, i)
      const text = source.slice(start, i)
      tokens.push({ kind: keywords.has(text) ? 'keyword' : 'name', text, value: null, at: start, end: i })
    } else {
      const two = source.slice(i, i + 2)
      const text = twoCharOperators.has(two) ? two : oneCharOperators.has(c) ? c : undefined
      if (text === undefined) throw new SyntaxFailure(i, 1, `unexpected character '${c}'`)
      i += text.length
      const canonical = operatorSynonyms[text] ?? text
      tokens.push({ kind: keywords.has(canonical) ? 'keyword' : 'punct', text: canonical, value: null, at: start, end: i })
    }
  }
  tokens.push({ kind: 'end', text: 'end of expression', value: null, at: source.length, end: source.length })
  return tokens
}

function scanNumber(source: string, from: number): number {
  let i = from
  const digits = () => {
    const begin = i
    while (isDigit(source[i] ?? '') || (source[i] === '_' && isDigit(source[i - 1] ?? '') && isDigit(source[i + 1] ?? ''))) i++
    return i > begin
  }
  digits()
  if (source[i] === '.' && isDigit(source[i + 1] ?? '')) { i++; digits() }
  if (source[i] === 'e' || source[i] === 'E') {
    const mark = i
    i++
    if (source[i] === '+' || source[i] === '-') i++
    if (!digits()) i = mark
  }
  if (isNameStart(source[i] ?? '')) throw new SyntaxFailure(from, i - from + 1, `a number cannot be followed by '${source[i]}'`)
  return i
}

function scanString(source: string, from: number): [string, number] {
  const quote = source[from]
  let i = from + 1
  let value = ''
  while (i < source.length) {
    const c = source[i] as string
    if (c === quote) return [value, i + 1]
    if (c === '\\') {
      const escaped = source[i + 1]
      const replacement = escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped === '\\' || escaped === "'" || escaped === '"' ? escaped : undefined
      if (replacement === undefined) throw new SyntaxFailure(i, 2, `unknown escape '\\${escaped ?? ''}' (use \\\\, \\', \\", \\n or \\t)`)
      value += replacement
      i += 2
    } else {
      value += c
      i++
    }
  }
  throw new SyntaxFailure(from, source.length - from, 'unterminated string')
}

function scanName(source: string, from: number): number {
  let i = from
  while (true) {
    while (isNamePart(source[i] ?? '')) i++
    if (source[i] === '.' && isNameStart(source[i + 1] ?? '')) { i++; continue }
    return i
  }
}

// ---------------------------------------------------------------------------------------------------
// Parser (Pratt). Binding powers, loosest first: or 1, and 2, not 3, comparisons/in/between/is 4,
// + - 5, * / 6, unary minus 7.

const bindingPower = { or: 1, and: 2, not: 3, comparison: 4, additive: 5, multiplicative: 6, unary: 7 } as const
const comparisonOperators: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>='])

class Parser {
  private position = 0
  private nesting = 0
  private readonly tokens: readonly Token[]
  constructor(tokens: readonly Token[]) {
    this.tokens = tokens
  }

  parseAll(): ExpressionNode {
    const node = this.parseExpression(0)
    const next = this.peek()
    if (next.kind !== 'end') throw this.unexpected(next, 'an operator or the end of the expression')
    return node
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.position + offset, this.tokens.length - 1)] as Token
  }
  private advance(): Token {
    const token = this.peek()
    if (token.kind !== 'end') this.position++
    return token
  }
  private expect(text: string): Token {
    const token = this.peek()
    if (token.text !== text || token.kind === 'string' || token.kind === 'name') throw this.unexpected(token, `'${text}'`)
    return this.advance()
  }
  private unexpected(token: Token, wanted: string): SyntaxFailure {
    const found = token.kind === 'end' ? 'the end of the expression' : `'${token.text}'`
    return new SyntaxFailure(token.at, token.end - token.at, `expected ${wanted}, found ${found}`)
  }

  private parseExpression(minPower: number): ExpressionNode {
    // Bounds the parser's own recursion (parentheses, prefixes), which node() does not see.
    if (++this.nesting > expressionDepthMax) {
      const token = this.peek()
      throw new SyntaxFailure(token.at, token.end - token.at, `the expression nests deeper than ${expressionDepthMax} levels`)
    }
    const node = this.parseLoop(minPower)
    this.nesting--
    return node
  }

  private parseLoop(minPower: number): ExpressionNode {
    let left = this.parsePrefix()
    while (true) {
      const token = this.peek()
      const power = infixPower(token, this.peek(1))
      if (power === undefined || power < minPower) return left
      if (power === bindingPower.comparison && isComparisonNode(left)) {
        throw new SyntaxFailure(token.at, token.end - token.at, 'comparisons do not chain: use `and` (e.g. `a < b and b < c`) or `between`')
      }
      left = this.parseInfix(left, power)
    }
  }

  private parsePrefix(): ExpressionNode {
    const token = this.advance()
    switch (token.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: token.value, at: token.at, end: token.end, depth: 1 }
      case 'name':
        if (this.peek().text === '(' && this.peek().kind === 'punct') return this.parseCall(token)
        return { kind: 'reference', name: token.text, at: token.at, end: token.end, depth: 1 }
      case 'keyword':
        if (token.text === 'true' || token.text === 'false') return { kind: 'literal', value: token.text === 'true', at: token.at, end: token.end, depth: 1 }
        if (token.text === 'null') return { kind: 'literal', value: null, at: token.at, end: token.end, depth: 1 }
        if (token.text === 'not') {
          const operand = this.parseExpression(bindingPower.not)
          return node({ kind: 'not', operand, at: token.at, end: operand.end, depth: 0 }, [operand])
        }
        break
      case 'punct':
        if (token.text === '-') {
          const operand = this.parseExpression(bindingPower.unary)
          return node({ kind: 'negate', operand, at: token.at, end: operand.end, depth: 0 }, [operand])
        }
        if (token.text === '(') {
          const inner = this.parseExpression(0)
          this.expect(')')
          return inner
        }
        break
      case 'end':
        break
    }
    throw this.unexpected(token, 'a value, an input name, a function call or \'(\'')
  }

  private parseCall(nameToken: Token): ExpressionNode {
    this.expect('(')
    const args: ExpressionNode[] = []
    if (this.peek().text !== ')' || this.peek().kind !== 'punct') {
      do args.push(this.parseExpression(0))
      while (this.peek().text === ',' && this.peek().kind === 'punct' && this.advance())
    }
    const close = this.expect(')')
    return node({ kind: 'call', name: nameToken.text, args, at: nameToken.at, end: close.end, depth: 0 }, args)
  }

  private parseInfix(left: ExpressionNode, power: number): ExpressionNode {
    const token = this.advance()
    const op = token.text
    if (op === 'and' || op === 'or') {
      const right = this.parseExpression(power + 1)
      return node({ kind: 'logical', op, left, right, at: left.at, end: right.end, depth: 0 }, [left, right])
    }
    if (op === '+' || op === '-' || op === '*' || op === '/') {
      const right = this.parseExpression(power + 1)
      return node({ kind: 'arithmetic', op, left, right, at: left.at, end: right.end, depth: 0 }, [left, right])
    }
    if (comparisonOperators.has(op)) {
      const right = this.parseExpression(power + 1)
      return node({ kind: 'comparison', op: op as ComparisonOperator, left, right, at: left.at, end: right.end, depth: 0 }, [left, right])
    }
    if (op === 'is') {
      const negated = this.peek().text === 'not' && this.peek().kind === 'keyword' && this.advance() !== undefined
      const last = this.expect('null')
      return node({ kind: 'is_null', negated, operand: left, at: left.at, end: last.end, depth: 0 }, [left])
    }
    const negated = op === 'not'
    const keyword = negated ? this.advance().text : op
    if (keyword === 'in') return this.parseInList(left, negated)
    assert(keyword === 'between', 'infixPower admits only in/between after not')
    const low = this.parseExpression(bindingPower.additive)
    this.expect('and')
    const high = this.parseExpression(bindingPower.additive)
    return node({ kind: 'between', negated, operand: left, low, high, at: left.at, end: high.end, depth: 0 }, [left, low, high])
  }

  private parseInList(operand: ExpressionNode, negated: boolean): ExpressionNode {
    this.expect('[')
    const items: ExpressionNode[] = []
    if (this.peek().text !== ']' || this.peek().kind !== 'punct') {
      do items.push(this.parseExpression(0))
      while (this.peek().text === ',' && this.peek().kind === 'punct' && this.advance())
    }
    const close = this.expect(']')
    return node({ kind: 'in', negated, operand, items, at: operand.at, end: close.end, depth: 0 }, [operand, ...items])
  }
}

function infixPower(token: Token, next: Token): number | undefined {
  if (token.kind === 'keyword') {
    if (token.text === 'or') return bindingPower.or
    if (token.text === 'and') return bindingPower.and
    if (token.text === 'in' || token.text === 'between' || token.text === 'is') return bindingPower.comparison
    if (token.text === 'not' && next.kind === 'keyword' && (next.text === 'in' || next.text === 'between')) return bindingPower.comparison
    return undefined
  }
  if (token.kind !== 'punct') return undefined
  if (token.text === '+' || token.text === '-') return bindingPower.additive
  if (token.text === '*' || token.text === '/') return bindingPower.multiplicative
  if (comparisonOperators.has(token.text)) return bindingPower.comparison
  return undefined
}

function isComparisonNode(n: ExpressionNode): boolean {
  return n.kind === 'comparison' || n.kind === 'in' || n.kind === 'between' || n.kind === 'is_null'
}

/** Sets the node's depth from its children and refuses trees deeper than expressionDepthMax. */
function node<T extends ExpressionNode>(n: T, children: readonly ExpressionNode[]): T {
  let depth = 0
  for (const child of children) depth = Math.max(depth, child.depth)
  if (depth + 1 > expressionDepthMax) throw new SyntaxFailure(n.at, n.end - n.at, `the expression nests deeper than ${expressionDepthMax} levels`)
  return { ...n, depth: depth + 1 }
}

/** Parses source text into an AST. Never throws: malformed text yields errors with positions. */
export function parseExpression(source: string): ParseExpressionResult {
  if (source.length > expressionLengthMax) {
    return { ok: false, errors: [{ offset: expressionLengthMax, length: source.length - expressionLengthMax, message: `the expression is longer than ${expressionLengthMax} characters` }] }
  }
  try {
    return { ok: true, ast: new Parser(tokenize(source)).parseAll() }
  } catch (failure) {
    if (failure instanceof SyntaxFailure) return { ok: false, errors: [failure.error] }
    throw failure
  }
}

// ---------------------------------------------------------------------------------------------------
// Schema

const inputNamePattern = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

/** Checks that a name can be written as a reference in an expression: dotted identifiers, no keywords. */
export function isValidInputName(name: string): boolean {
  return inputNamePattern.test(name) && !name.split('.').some((part) => keywords.has(part))
}

/** Builds the schema expressions are checked against; slots follow the order of the declarations. */
export function createSchema(inputs: readonly InputDeclaration[]): ExpressionSchema {
  const slotByName = new Map<string, number>()
  inputs.forEach((input, slot) => {
    assert(isValidInputName(input.name), () => `invalid input name ${input.name}`)
    assert(!slotByName.has(input.name), () => `input ${input.name} declared twice`)
    slotByName.set(input.name, slot)
  })
  return { inputs, slotByName }
}

// ---------------------------------------------------------------------------------------------------
// Runtime helpers shared by compiled closures and the interpreter

/** Non-finite results become null; −0 becomes 0 so that equal decisions serialise equally. */
export const finiteOrNull = (x: number): number | null => (x - x === 0 ? x + 0 : null)

export function applyArithmetic(op: ArithmeticOperator, a: number, b: number): number | null {
  switch (op) {
    case '+': return finiteOrNull(a + b)
    case '-': return finiteOrNull(a - b)
    case '*': return finiteOrNull(a * b)
    case '/': return b === 0 ? null : finiteOrNull(a / b)
  }
}

/** Rounds half away from zero at `digits` decimals (negative digits round to tens, hundreds, …). */
export function roundHalfAwayFromZero(x: number, digits: number): number | null {
  const scale = 10 ** Math.abs(digits)
  const magnitude = Math.abs(x)
  // Nudge by a few ulps so that 1.005 (stored as 1.00499999…) rounds to 1.01 as written.
  const scaled = digits >= 0 ? magnitude * scale : magnitude / scale
  const rounded = Math.round(scaled * (1 + 4 * Number.EPSILON))
  const result = digits >= 0 ? rounded / scale : rounded * scale
  return finiteOrNull(x < 0 ? -result : result)
}

const digitAt = (s: string, i: number) => s.charCodeAt(i) - 48
const yearOf = (d: string) => digitAt(d, 0) * 1000 + digitAt(d, 1) * 100 + digitAt(d, 2) * 10 + digitAt(d, 3)
const monthOf = (d: string) => digitAt(d, 5) * 10 + digitAt(d, 6)
const dayOf = (d: string) => digitAt(d, 8) * 10 + digitAt(d, 9)

/** Whole calendar months from `earlier` to `later`, truncated toward zero (Jan 31 → Feb 28 is 0). */
export function monthsBetween(later: string, earlier: string): number {
  let months = (yearOf(later) - yearOf(earlier)) * 12 + (monthOf(later) - monthOf(earlier))
  const dayDifference = dayOf(later) - dayOf(earlier)
  if (months > 0 && dayDifference < 0) months--
  else if (months < 0 && dayDifference > 0) months++
  return months
}

/** Days since 1970-01-01 of an ISO date. */
function epochDay(date: string): number {
  return epochDayOf(yearOf(date), monthOf(date), dayOf(date))
}

export function daysBetween(later: string, earlier: string): number {
  return epochDay(later) - epochDay(earlier)
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/
/** True for a valid ISO calendar date `YYYY-MM-DD` (years 0001–9999). */
export function isIsoDate(text: string): boolean {
  if (!datePattern.test(text)) return false
  const year = yearOf(text)
  const month = monthOf(text)
  const day = dayOf(text)
  if (year < 1 || month < 1 || month > 12 || day < 1) return false
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31
  return day <= daysInMonth
}

/** True when `value` is a runtime value of `type` (null is never of a type; nullability is separate). */
export function isValueOfType(value: unknown, type: ValueType): boolean {
  switch (type) {
    case 'number': return typeof value === 'number' && Number.isFinite(value)
    case 'string': return typeof value === 'string'
    case 'boolean': return typeof value === 'boolean'
    case 'date': return typeof value === 'string' && isIsoDate(value)
  }
}

// ---------------------------------------------------------------------------------------------------
// Type checker and compiler, in one pass: each node yields its static type and its closure.

type Built = {
  readonly type: ValueType | 'null'
  readonly nullable: boolean
  readonly evaluate: Evaluate
  /** True when the node reads no input: it is folded to its value at compile time. */
  readonly constant: boolean
  /** Set on a bare input reference: parents read the slot directly instead of calling a closure. */
  readonly slot?: number
  /** Set on arithmetic between two inputs or an input and a constant: a comparison fuses it into its closure. */
  readonly arithmetic?: FusedArithmetic
}
/** `s[i] op s[j]` (j set) or `s[i] op b` (b set), with `apply` the operation and its null rules. */
type FusedArithmetic = { readonly i: number; readonly j: number | undefined; readonly b: number; readonly apply: (a: number, b: number) => number | null }
type Context = { readonly schema: ExpressionSchema; readonly errors: ExpressionError[]; readonly references: string[] }

const functionNames = ['abs', 'ceil', 'clamp', 'coalesce', 'date', 'days_between', 'floor', 'if', 'max', 'min', 'months_between', 'round'] as const
export const expressionFunctions: readonly string[] = functionNames

const describeType = (t: ValueType | 'null') => (t === 'null' ? 'null' : t === 'date' ? 'a date' : `a ${t}`)

function report(ctx: Context, n: ExpressionNode, message: string): undefined {
  ctx.errors.push({ offset: n.at, length: Math.max(1, n.end - n.at), message })
  return undefined
}

/** Folds a node without inputs to a constant closure: evaluated once here, never again per decision. */
function fold(built: Omit<Built, 'constant'>, constant: boolean): Built {
  if (!constant) return { ...built, constant }
  const value = built.evaluate([])
  return { type: built.type, nullable: value === null, evaluate: () => value, constant }
}

function buildNode(ctx: Context, n: ExpressionNode): Built | undefined {
  switch (n.kind) {
    case 'literal': {
      const value = n.value
      const type: ValueType | 'null' = value === null ? 'null' : typeof value === 'number' ? 'number' : typeof value === 'string' ? 'string' : 'boolean'
      return { type, nullable: value === null, evaluate: () => value, constant: true }
    }
    case 'reference': return buildReference(ctx, n)
    case 'negate':
    case 'not': return buildUnary(ctx, n)
    case 'arithmetic': return buildArithmetic(ctx, n)
    case 'comparison': return buildComparison(ctx, n)
    case 'logical': return buildLogical(ctx, n)
    case 'in': return buildIn(ctx, n)
    case 'between': return buildBetween(ctx, n)
    case 'is_null': {
      const operand = buildNode(ctx, n.operand)
      if (operand === undefined) return undefined
      const f = operand.evaluate
      const negated = n.negated
      const slot = operand.slot
      const evaluate: Evaluate = slot !== undefined ? (s) => ((s[slot] ?? null) === null) !== negated : (s) => (f(s) === null) !== negated
      return fold({ type: 'boolean', nullable: false, evaluate }, operand.constant)
    }
    case 'call': return buildCall(ctx, n)
  }
}

function buildReference(ctx: Context, n: ExpressionNode & { kind: 'reference' }): Built | undefined {
  const slot = ctx.schema.slotByName.get(n.name)
  if (slot === undefined) {
    const suggestion = suggestName(n.name, ctx.schema.inputs.map((input) => input.name))
    return report(ctx, n, `unknown input '${n.name}'${suggestion === undefined ? '' : `; did you mean '${suggestion}'?`}`)
  }
  const declaration = ctx.schema.inputs[slot]
  assert(declaration !== undefined)
  if (!ctx.references.includes(n.name)) ctx.references.push(n.name)
  return { type: declaration.type, nullable: declaration.nullable, evaluate: (s) => s[slot] ?? null, constant: false, slot }
}

function buildUnary(ctx: Context, n: ExpressionNode & { kind: 'negate' | 'not' }): Built | undefined {
  const operand = buildNode(ctx, n.operand)
  if (operand === undefined) return undefined
  const wanted: ValueType = n.kind === 'negate' ? 'number' : 'boolean'
  if (operand.type !== wanted && operand.type !== 'null') {
    return report(ctx, n, `'${n.kind === 'negate' ? '-' : 'not'}' needs ${describeType(wanted)}, found ${describeType(operand.type)}`)
  }
  const f = operand.evaluate
  const evaluate: Evaluate = n.kind === 'negate'
    ? (s) => { const a = f(s); return a === null ? null : -(a as number) + 0 }
    : (s) => { const a = f(s); return a === null ? null : !a }
  return fold({ type: wanted, nullable: operand.nullable, evaluate }, operand.constant)
}

function buildArithmetic(ctx: Context, n: ExpressionNode & { kind: 'arithmetic' }): Built | undefined {
  const left = buildNode(ctx, n.left)
  const right = buildNode(ctx, n.right)
  if (left === undefined || right === undefined) return undefined
  if ((left.type !== 'number' && left.type !== 'null') || (right.type !== 'number' && right.type !== 'null')) {
    return report(ctx, n, `'${n.op}' needs numbers, found ${describeType(left.type)} and ${describeType(right.type)}`)
  }
  const op = n.op
  const apply = arithmeticOperations[op]
  const evaluate = specialiseArithmetic(apply, op, left, right)
  const rightConstant = right.constant ? right.evaluate([]) : undefined
  const arithmetic: FusedArithmetic | undefined = left.slot === undefined ? undefined
    : right.slot !== undefined ? { i: left.slot, j: right.slot, b: 0, apply }
      : typeof rightConstant === 'number' ? { i: left.slot, j: undefined, b: rightConstant, apply } : undefined
  const built = { type: 'number' as const, nullable: left.nullable || right.nullable || op === '/', evaluate }
  return fold(arithmetic === undefined ? built : { ...built, arithmetic }, left.constant && right.constant)
}

/** The four operations with their null rules (a non-finite result and division by zero are null). */
const arithmeticOperations: Record<ArithmeticOperator, (a: number, b: number) => number | null> = {
  '+': (a, b) => finiteOrNull(a + b),
  '-': (a, b) => finiteOrNull(a - b),
  '*': (a, b) => finiteOrNull(a * b),
  '/': (a, b) => (b === 0 ? null : finiteOrNull(a / b)),
}

/**
 * An arithmetic closure specialised to its operands' shapes: an input is read from its slot and a
 * constant captured, instead of calling a child closure for each (a child call from a shared closure
 * body cannot be inlined, so it costs a full call per operand per decision).
 */
function specialiseArithmetic(apply: (a: number, b: number) => number | null, op: ArithmeticOperator, left: Built, right: Built): Evaluate {
  const l = left.evaluate
  const r = right.evaluate
  const i = left.slot
  const j = right.slot
  const rightConstant = right.constant ? r([]) : undefined
  const leftConstant = left.constant ? l([]) : undefined
  if (typeof rightConstant === 'number' && (op !== '/' || rightConstant !== 0)) {
    const b = rightConstant
    return i !== undefined
      ? (s) => { const a = s[i] ?? null; return a === null ? null : apply(a as number, b) }
      : (s) => { const a = l(s); return a === null ? null : apply(a as number, b) }
  }
  if (typeof leftConstant === 'number' && j !== undefined) {
    const a = leftConstant
    return (s) => { const b = s[j] ?? null; return b === null ? null : apply(a, b as number) }
  }
  if (i !== undefined && j !== undefined) {
    return (s) => { const a = s[i] ?? null; if (a === null) return null; const b = s[j] ?? null; return b === null ? null : apply(a as number, b as number) }
  }
  if (j !== undefined) {
    return (s) => { const a = l(s); if (a === null) return null; const b = s[j] ?? null; return b === null ? null : apply(a as number, b as number) }
  }
  if (i !== undefined) {
    return (s) => { const a = s[i] ?? null; if (a === null) return null; const b = r(s); return b === null ? null : apply(a as number, b as number) }
  }
  if (typeof leftConstant === 'number') {
    const a = leftConstant
    return (s) => { const b = r(s); return b === null ? null : apply(a, b as number) }
  }
  return (s) => {
    const a = l(s)
    if (a === null) return null
    const b = r(s)
    return b === null ? null : apply(a as number, b as number)
  }
}

/** A string literal compared with a date is read as a date literal (and must be a valid one). */
function coerceDates(ctx: Context, nodes: readonly ExpressionNode[], built: Built[]): boolean {
  if (!built.some((b) => b.type === 'date')) return true
  let ok = true
  built.forEach((b, i) => {
    const n = nodes[i] as ExpressionNode
    if (b.type !== 'string' || !b.constant) return
    const value = b.evaluate([])
    if (typeof value === 'string' && isIsoDate(value)) built[i] = { ...b, type: 'date' }
    else ok = report(ctx, n, `'${String(value)}' is not a valid date (write YYYY-MM-DD)`) ?? false
  })
  return ok
}

/** The common type of operands that must agree, or an error; `null` agrees with any type. */
function unifyTypes(ctx: Context, n: ExpressionNode, what: string, built: readonly Built[]): ValueType | 'null' | undefined {
  let type: ValueType | 'null' = 'null'
  for (const b of built) {
    if (b.type === 'null') continue
    if (type !== 'null' && b.type !== type) return report(ctx, n, `${what} needs operands of one type, found ${describeType(type)} and ${describeType(b.type)}`)
    type = b.type
  }
  return type
}

function buildComparison(ctx: Context, n: ExpressionNode & { kind: 'comparison' }): Built | undefined {
  const left = buildNode(ctx, n.left)
  const right = buildNode(ctx, n.right)
  if (left === undefined || right === undefined) return undefined
  if (left.type === 'null' || right.type === 'null') {
    return report(ctx, n, `'${n.op}' with null is always null: write \`is null\` or \`is not null\``)
  }
  const built = [left, right]
  if (!coerceDates(ctx, [n.left, n.right], built)) return undefined
  const type = unifyTypes(ctx, n, `'${n.op}'`, built)
  if (type === undefined) return undefined
  if (type === 'boolean' && n.op !== '=' && n.op !== '!=') return report(ctx, n, `'${n.op}' does not order booleans; use = or !=`)
  const [l, r] = built as [Built, Built]
  const c = r.constant ? r.evaluate([]) : undefined
  // Specialised closures for the common shapes (input vs constant, anything vs constant): one call per
  // comparison instead of three, and no comparator call, which matters with thousands of rules.
  const fused = l.arithmetic
  const evaluate: Evaluate = c === null ? () => null
    : c !== undefined && l.slot !== undefined ? compareSlotToConstant[n.op](l.slot, c)
      : typeof c === 'number' && fused !== undefined && fused.j !== undefined ? compareSlotPairToConstant[n.op](fused.i, fused.j, fused.apply, c)
        : typeof c === 'number' && fused !== undefined ? compareSlotAndConstantToConstant[n.op](fused.i, fused.b, fused.apply, c)
          : c !== undefined ? compareToConstant[n.op](l.evaluate, c)
            : compareAny[n.op](l.evaluate, r.evaluate)
  return fold({ type: 'boolean', nullable: left.nullable || right.nullable, evaluate }, left.constant && right.constant)
}

type NonNull = number | string | boolean
type Comparison<A, B> = Record<ComparisonOperator, (a: A, b: B) => Evaluate>
const compareSlotToConstant: Comparison<number, NonNull> = {
  '=': (i, c) => (s) => { const a = s[i] ?? null; return a === null ? null : a === c },
  '!=': (i, c) => (s) => { const a = s[i] ?? null; return a === null ? null : a !== c },
  '<': (i, c) => (s) => { const a = s[i] ?? null; return a === null ? null : a < c },
  '<=': (i, c) => (s) => { const a = s[i] ?? null; return a === null ? null : a <= c },
  '>': (i, c) => (s) => { const a = s[i] ?? null; return a === null ? null : a > c },
  '>=': (i, c) => (s) => { const a = s[i] ?? null; return a === null ? null : a >= c },
}
type Apply = (a: number, b: number) => number | null
type FusedComparison<A> = Record<ComparisonOperator, (i: number, a: A, apply: Apply, c: number) => Evaluate>
/** `s[i] op s[j]` compared with a constant, in one closure (e.g. a ratio of two features against a threshold). */
const compareSlotPairToConstant: FusedComparison<number> = {
  '=': (i, j, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const b = s[j] ?? null; if (b === null) return null; const x = f(a as number, b as number); return x === null ? null : x === c },
  '!=': (i, j, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const b = s[j] ?? null; if (b === null) return null; const x = f(a as number, b as number); return x === null ? null : x !== c },
  '<': (i, j, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const b = s[j] ?? null; if (b === null) return null; const x = f(a as number, b as number); return x === null ? null : x < c },
  '<=': (i, j, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const b = s[j] ?? null; if (b === null) return null; const x = f(a as number, b as number); return x === null ? null : x <= c },
  '>': (i, j, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const b = s[j] ?? null; if (b === null) return null; const x = f(a as number, b as number); return x === null ? null : x > c },
  '>=': (i, j, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const b = s[j] ?? null; if (b === null) return null; const x = f(a as number, b as number); return x === null ? null : x >= c },
}
/** `s[i] op b` compared with a constant, in one closure. */
const compareSlotAndConstantToConstant: FusedComparison<number> = {
  '=': (i, b, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const x = f(a as number, b); return x === null ? null : x === c },
  '!=': (i, b, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const x = f(a as number, b); return x === null ? null : x !== c },
  '<': (i, b, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const x = f(a as number, b); return x === null ? null : x < c },
  '<=': (i, b, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const x = f(a as number, b); return x === null ? null : x <= c },
  '>': (i, b, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const x = f(a as number, b); return x === null ? null : x > c },
  '>=': (i, b, f, c) => (s) => { const a = s[i] ?? null; if (a === null) return null; const x = f(a as number, b); return x === null ? null : x >= c },
}
const compareToConstant: Comparison<Evaluate, NonNull> = {
  '=': (f, c) => (s) => { const a = f(s); return a === null ? null : a === c },
  '!=': (f, c) => (s) => { const a = f(s); return a === null ? null : a !== c },
  '<': (f, c) => (s) => { const a = f(s); return a === null ? null : a < c },
  '<=': (f, c) => (s) => { const a = f(s); return a === null ? null : a <= c },
  '>': (f, c) => (s) => { const a = f(s); return a === null ? null : a > c },
  '>=': (f, c) => (s) => { const a = f(s); return a === null ? null : a >= c },
}
const compareAny: Comparison<Evaluate, Evaluate> = {
  '=': (f, g) => (s) => { const a = f(s); if (a === null) return null; const b = g(s); return b === null ? null : a === b },
  '!=': (f, g) => (s) => { const a = f(s); if (a === null) return null; const b = g(s); return b === null ? null : a !== b },
  '<': (f, g) => (s) => { const a = f(s); if (a === null) return null; const b = g(s); return b === null ? null : a < b },
  '<=': (f, g) => (s) => { const a = f(s); if (a === null) return null; const b = g(s); return b === null ? null : a <= b },
  '>': (f, g) => (s) => { const a = f(s); if (a === null) return null; const b = g(s); return b === null ? null : a > b },
  '>=': (f, g) => (s) => { const a = f(s); if (a === null) return null; const b = g(s); return b === null ? null : a >= b },
}
/** The interpreter's comparators (the compiler specialises them into the closures above). */
const comparators: Record<ComparisonOperator, (a: NonNull, b: NonNull) => boolean> = {
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
}

function buildLogical(ctx: Context, n: ExpressionNode & { kind: 'logical' }): Built | undefined {
  const left = buildNode(ctx, n.left)
  const right = buildNode(ctx, n.right)
  if (left === undefined || right === undefined) return undefined
  for (const b of [left, right]) {
    if (b.type !== 'boolean' && b.type !== 'null') return report(ctx, n, `'${n.op}' needs booleans, found ${describeType(b.type)}`)
  }
  const l = left.evaluate
  const r = right.evaluate
  // Three-valued (Kleene) logic: a decisive operand wins over an unknown one.
  const evaluate: Evaluate = n.op === 'and'
    ? (s) => { const a = l(s); if (a === false) return false; const b = r(s); if (b === false) return false; return a === null || b === null ? null : true }
    : (s) => { const a = l(s); if (a === true) return true; const b = r(s); if (b === true) return true; return a === null || b === null ? null : false }
  return fold({ type: 'boolean', nullable: left.nullable || right.nullable, evaluate }, left.constant && right.constant)
}

function buildIn(ctx: Context, n: ExpressionNode & { kind: 'in' }): Built | undefined {
  const operand = buildNode(ctx, n.operand)
  const items = n.items.map((item) => buildNode(ctx, item))
  if (operand === undefined || items.some((item) => item === undefined)) return undefined
  const built = [operand, ...(items as Built[])]
  if (!coerceDates(ctx, [n.operand, ...n.items], built)) return undefined
  for (let i = 1; i < built.length; i++) {
    const item = built[i] as Built
    const itemNode = n.items[i - 1] as ExpressionNode
    if (!item.constant) return report(ctx, itemNode, 'the items of `in [...]` must be constants')
    if (item.evaluate([]) === null) return report(ctx, itemNode, '`in [...]` cannot list null: write `is null`')
  }
  if (unifyTypes(ctx, n, '`in`', built) === undefined) return undefined
  const values = [...new Set(built.slice(1).map((item) => item.evaluate([])))]
  const set = new Set(values)
  const f = operand.evaluate
  const negated = n.negated
  const slot = operand.slot
  // A short list is scanned (cheaper than hashing); a long one is a Set.
  const has = values.length <= 8 ? (a: Value) => values.includes(a) : (a: Value) => set.has(a)
  const evaluate: Evaluate = slot !== undefined
    ? (s) => { const a = s[slot] ?? null; return a === null ? null : has(a) !== negated }
    : (s) => { const a = f(s); return a === null ? null : has(a) !== negated }
  return fold({ type: 'boolean', nullable: operand.nullable, evaluate }, operand.constant)
}

function buildBetween(ctx: Context, n: ExpressionNode & { kind: 'between' }): Built | undefined {
  const parts = [n.operand, n.low, n.high].map((part) => buildNode(ctx, part))
  if (parts.some((part) => part === undefined)) return undefined
  const built = parts as Built[]
  if (!coerceDates(ctx, [n.operand, n.low, n.high], built)) return undefined
  const type = unifyTypes(ctx, n, '`between`', built)
  if (type === undefined) return undefined
  if (type === 'boolean') return report(ctx, n, '`between` does not order booleans')
  const [f, lo, hi] = built.map((b) => b.evaluate) as [Evaluate, Evaluate, Evaluate]
  const negated = n.negated
  const [operand, lowBuilt, highBuilt] = built as [Built, Built, Built]
  if (operand.slot !== undefined && lowBuilt.constant && highBuilt.constant) {
    const slot = operand.slot
    const low = lowBuilt.evaluate([])
    const high = highBuilt.evaluate([])
    const evaluateConstant: Evaluate = low === null || high === null ? () => null
      : (s) => { const a = s[slot] ?? null; return a === null ? null : (a >= low && a <= high) !== negated }
    return fold({ type: 'boolean', nullable: operand.nullable || low === null || high === null, evaluate: evaluateConstant }, false)
  }
  const evaluate: Evaluate = (s) => {
    const a = f(s)
    if (a === null) return null
    const low = lo(s)
    const high = hi(s)
    return low === null || high === null ? null : (a >= low && a <= high) !== negated
  }
  return fold({ type: 'boolean', nullable: built.some((b) => b.nullable), evaluate }, built.every((b) => b.constant))
}

const callArity: Readonly<Record<string, readonly [number, number]>> = {
  abs: [1, 1], ceil: [1, 1], floor: [1, 1], clamp: [3, 3], coalesce: [1, 64], date: [1, 1], days_between: [2, 2],
  if: [3, 3], max: [1, 64], min: [1, 64], months_between: [2, 2], round: [1, 2],
}

function buildCall(ctx: Context, n: ExpressionNode & { kind: 'call' }): Built | undefined {
  const arity = callArity[n.name]
  if (arity === undefined) {
    const suggestion = suggestName(n.name, functionNames)
    return report(ctx, n, `unknown function '${n.name}'${suggestion === undefined ? '' : `; did you mean '${suggestion}'?`}`)
  }
  const [low, high] = arity
  if (n.args.length < low || n.args.length > high) {
    const expected = low === high ? `${low}` : high === 64 ? `at least ${low}` : `${low} or ${high}`
    return report(ctx, n, `'${n.name}' takes ${expected} argument${low === 1 && high !== 2 ? '' : 's'}, found ${n.args.length}`)
  }
  const args = n.args.map((arg) => buildNode(ctx, arg))
  if (args.some((arg) => arg === undefined)) return undefined
  const built = buildFunction(ctx, n, args as Built[])
  return built === undefined ? undefined : fold(built, (args as Built[]).every((arg) => arg.constant))
}

function requireArguments(ctx: Context, n: ExpressionNode & { kind: 'call' }, args: readonly Built[], type: ValueType): boolean {
  for (const [i, arg] of args.entries()) {
    if (arg.type !== type && arg.type !== 'null') {
      return report(ctx, n.args[i] as ExpressionNode, `'${n.name}' needs ${describeType(type)} here, found ${describeType(arg.type)}`) ?? false
    }
  }
  return true
}

const numberFunctions: Readonly<Record<string, (x: number) => number>> = { abs: Math.abs, ceil: Math.ceil, floor: Math.floor }

function buildFunction(ctx: Context, n: ExpressionNode & { kind: 'call' }, args: Built[]): Omit<Built, 'constant'> | undefined {
  const fs = args.map((arg) => arg.evaluate)
  const anyNullable = args.some((arg) => arg.nullable)
  switch (n.name) {
    case 'abs':
    case 'ceil':
    case 'floor': {
      if (!requireArguments(ctx, n, args, 'number')) return undefined
      const [f] = fs as [Evaluate]
      const g = numberFunctions[n.name] as (x: number) => number
      const slot = (args[0] as Built).slot
      const evaluate: Evaluate = slot !== undefined
        ? (s) => { const a = s[slot] ?? null; return a === null ? null : g(a as number) + 0 }
        : (s) => { const a = f(s); return a === null ? null : g(a as number) + 0 }
      return { type: 'number', nullable: anyNullable, evaluate }
    }
    case 'min':
    case 'max': {
      if (!requireArguments(ctx, n, args, 'number')) return undefined
      const pick = n.name === 'min' ? Math.min : Math.max
      return { type: 'number', nullable: anyNullable, evaluate: buildVariadic(fs, pick, args.map((arg) => arg.slot)) }
    }
    case 'round': return buildRound(ctx, n, args)
    case 'clamp': {
      if (!requireArguments(ctx, n, args, 'number')) return undefined
      const [f, lo, hi] = fs as [Evaluate, Evaluate, Evaluate]
      const evaluate: Evaluate = (s) => {
        const x = f(s) as number | null
        const low = lo(s) as number | null
        const high = hi(s) as number | null
        return x === null || low === null || high === null || low > high ? null : Math.min(Math.max(x, low), high)
      }
      return { type: 'number', nullable: true, evaluate }
    }
    case 'coalesce': {
      const type = unifyTypes(ctx, n, "'coalesce'", args)
      if (type === undefined) return undefined
      const evaluate: Evaluate = (s) => {
        for (const f of fs) { const value = f(s); if (value !== null) return value }
        return null
      }
      return { type, nullable: args.every((arg) => arg.nullable), evaluate }
    }
    case 'if': return buildIf(ctx, n, args)
    case 'date': {
      const [arg] = args as [Built]
      const value = arg.constant ? arg.evaluate([]) : undefined
      if (typeof value !== 'string') return report(ctx, n, "'date' takes a constant string, e.g. date('2026-01-31')")
      if (!isIsoDate(value)) return report(ctx, n, `'${value}' is not a valid date (write YYYY-MM-DD)`)
      return { type: 'date', nullable: false, evaluate: () => value }
    }
    case 'months_between':
    case 'days_between': {
      if (!coerceDates(ctx, n.args, args) || !requireArguments(ctx, n, args, 'date')) return undefined
      const [a, b] = args.map((arg) => arg.evaluate) as [Evaluate, Evaluate]
      const between = n.name === 'months_between' ? monthsBetween : daysBetween
      return { type: 'number', nullable: anyNullable, evaluate: (s) => { const x = a(s); if (x === null) return null; const y = b(s); return y === null ? null : between(x as string, y as string) } }
    }
  }
  assert(false, () => `function ${n.name} has an arity but no implementation`)
}

function buildVariadic(fs: readonly Evaluate[], pick: (a: number, b: number) => number, slots: readonly (number | undefined)[]): Evaluate {
  const [i, j] = slots
  if (fs.length === 2 && i !== undefined && j !== undefined) {
    return (s) => { const a = s[i] ?? null; if (a === null) return null; const b = s[j] ?? null; return b === null ? null : pick(a as number, b as number) }
  }
  if (fs.length === 2) {
    const [f, g] = fs as [Evaluate, Evaluate]
    return (s) => { const a = f(s); if (a === null) return null; const b = g(s); return b === null ? null : pick(a as number, b as number) }
  }
  return (s) => {
    let result = f0(s)
    if (result === null) return null
    for (let i = 1; i < fs.length; i++) {
      const value = (fs[i] as Evaluate)(s)
      if (value === null) return null
      result = pick(result as number, value as number)
    }
    return result
  }
  function f0(s: Slots) { return (fs[0] as Evaluate)(s) }
}

function buildRound(ctx: Context, n: ExpressionNode & { kind: 'call' }, args: Built[]): Omit<Built, 'constant'> | undefined {
  if (!requireArguments(ctx, n, args, 'number')) return undefined
  const [x, digitsArg] = args as [Built, Built | undefined]
  const digits = digitsArg === undefined ? 0 : digitsArg.constant ? digitsArg.evaluate([]) : undefined
  if (typeof digits !== 'number' || !Number.isInteger(digits) || Math.abs(digits) > roundDigitsMax) {
    return report(ctx, n.args[1] ?? n, `'round' takes its digits as an integer constant between -${roundDigitsMax} and ${roundDigitsMax}`)
  }
  const f = x.evaluate
  return { type: 'number', nullable: x.nullable, evaluate: (s) => { const a = f(s); return a === null ? null : roundHalfAwayFromZero(a as number, digits) } }
}

function buildIf(ctx: Context, n: ExpressionNode & { kind: 'call' }, args: Built[]): Omit<Built, 'constant'> | undefined {
  const [condition, whenTrue, whenFalse] = args as [Built, Built, Built]
  if (condition.type !== 'boolean' && condition.type !== 'null') return report(ctx, n.args[0] as ExpressionNode, `'if' needs a boolean condition, found ${describeType(condition.type)}`)
  const type = unifyTypes(ctx, n, "'if'", [whenTrue, whenFalse])
  if (type === undefined) return undefined
  const [c, t, f] = args.map((arg) => arg.evaluate) as [Evaluate, Evaluate, Evaluate]
  return { type, nullable: whenTrue.nullable || whenFalse.nullable, evaluate: (s) => (c(s) === true ? t(s) : f(s)) }
}

/** The closest known name within edit distance 2 (for "did you mean"), if any. */
export function suggestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    if (Math.abs(candidate.length - name.length) >= bestDistance) continue
    const distance = editDistance(name, candidate)
    if (distance < bestDistance) { best = candidate; bestDistance = distance }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] as number
}

/**
 * Type-checks an AST against the schema and compiles it to a closure. `expected` is the type the
 * caller needs (a rule needs a boolean, a limit formula a number); `null`-typed expressions pass.
 */
export function compileAst(source: string, ast: ExpressionNode, schema: ExpressionSchema, expected?: ValueType): CompileExpressionResult {
  const ctx: Context = { schema, errors: [], references: [] }
  const built = buildNode(ctx, ast)
  if (built === undefined || ctx.errors.length > 0) {
    assert(ctx.errors.length > 0, 'a failed build reports an error')
    return { ok: false, errors: ctx.errors }
  }
  if (expected !== undefined && built.type !== expected && built.type !== 'null') {
    return { ok: false, errors: [{ offset: ast.at, length: Math.max(1, ast.end - ast.at), message: `expected ${describeType(expected)} expression, found ${describeType(built.type)}` }] }
  }
  return { ok: true, expression: { source, type: built.type, nullable: built.nullable, references: ctx.references, evaluate: built.evaluate, ast } }
}

/**
 * Parses, type-checks and compiles source text. Never throws on bad input: errors carry positions.
 *
 * @example
 * const schema = createSchema([{ name: 'features.gmv_6m', type: 'number', nullable: true }])
 * const result = compileExpression('features.gmv_6m / 6 >= 50000', schema, 'boolean')
 * if (result.ok) result.expression.evaluate([420000]) // true
 */
export function compileExpression(source: string, schema: ExpressionSchema, expected?: ValueType): CompileExpressionResult {
  const parsed = parseExpression(source)
  if (!parsed.ok) return parsed
  return compileAst(source, parsed.ast, schema, expected)
}

/** "column 14: unknown input …" — one line for people; offsets are 0-based, columns 1-based. */
export function formatExpressionError(source: string, error: ExpressionError): string {
  const before = source.slice(0, error.offset)
  const line = before.split('\n').length
  const column = error.offset - before.lastIndexOf('\n')
  return line > 1 ? `line ${line}, column ${column}: ${error.message}` : `column ${column}: ${error.message}`
}

// ---------------------------------------------------------------------------------------------------
// The interpreter: walks a checked AST on every evaluation. It is the benchmark's baseline ("the same
// strategy interpreted without compilation") and the tests' oracle for the compiler.

/** Evaluates a type-checked AST directly. Only call it on an AST that compileAst accepted. */
export function interpretExpression(n: ExpressionNode, schema: ExpressionSchema, slots: Slots): Value {
  const walk = (m: ExpressionNode): Value => interpretExpression(m, schema, slots)
  switch (n.kind) {
    case 'literal': return n.value
    case 'reference': return slots[schema.slotByName.get(n.name) as number] ?? null
    case 'negate': { const a = walk(n.operand); return a === null ? null : -(a as number) + 0 }
    case 'not': { const a = walk(n.operand); return a === null ? null : !a }
    case 'arithmetic': { const a = walk(n.left); const b = walk(n.right); return a === null || b === null ? null : applyArithmetic(n.op, a as number, b as number) }
    case 'comparison': { const a = walk(n.left); const b = walk(n.right); return a === null || b === null ? null : comparators[n.op](a, b) }
    case 'logical': {
      const a = walk(n.left)
      const b = walk(n.right)
      if (n.op === 'and') return a === false || b === false ? false : a === null || b === null ? null : true
      return a === true || b === true ? true : a === null || b === null ? null : false
    }
    case 'in': { const a = walk(n.operand); return a === null ? null : n.items.some((item) => walk(item) === a) !== n.negated }
    case 'between': {
      const a = walk(n.operand); const low = walk(n.low); const high = walk(n.high)
      return a === null || low === null || high === null ? null : (a >= low && a <= high) !== n.negated
    }
    case 'is_null': return (walk(n.operand) === null) !== n.negated
    case 'call': return interpretCall(n, n.args.map(walk))
  }
}

function interpretCall(n: ExpressionNode & { kind: 'call' }, args: readonly Value[]): Value {
  const [a, b, c] = args
  switch (n.name) {
    case 'abs': case 'ceil': case 'floor': return a === null ? null : (numberFunctions[n.name] as (x: number) => number)(a as number) + 0
    case 'min': case 'max': return args.includes(null) ? null : (n.name === 'min' ? Math.min : Math.max)(...(args as number[]))
    case 'round': return a === null ? null : roundHalfAwayFromZero(a as number, (b ?? 0) as number)
    case 'clamp': return a === null || b === null || c === null || (b as number) > (c as number) ? null : Math.min(Math.max(a as number, b as number), c as number)
    case 'coalesce': return args.find((value) => value !== null) ?? null
    case 'if': return a === true ? (b ?? null) : (c ?? null)
    case 'date': return a ?? null
    case 'months_between': return a === null || b === null ? null : monthsBetween(a as string, b as string)
    case 'days_between': return a === null || b === null ? null : daysBetween(a as string, b as string)
  }
  assert(false, () => `unknown function ${n.name} in a checked AST`)
}

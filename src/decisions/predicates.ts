/**
 * @module decisions/predicates
 * The most common rule shapes compiled to flat records instead of closure trees: an input compared with a
 * number; an input between two numbers; an input in a list; `is null`; two inputs (or an input and a
 * number) combined by + − × ÷ and compared with a number; the average-like `(a op b) op k` compared with a
 * number; abs / ceil / floor of an input, min / max of inputs, coalesce of inputs (and a constant), and
 * months_between / days_between of two date inputs, each compared with a number; and `and` / `or` of two
 * such leaves. A strategy's rule loop evaluates these records with one monomorphic function
 * (`evaluatePredicate`, a switch on the record's kind, every input resolved to its slot and every constant
 * folded) instead of calling a closure per node, whose targets change from rule to rule. Anything else
 * (`if`, `clamp`, deeper arithmetic, string and date comparisons, …) stays a closure. On the generated
 * 1,000-rule strategy (decisions/generator.ts) nine rules in ten take this path.
 *
 * A record is only made from an expression the compiler has accepted (types checked, so the input of a
 * numeric comparison holds a number or null), and `evaluatePredicate` follows the language's null rules
 * exactly as the closures and the interpreter do; the compiled-against-interpreted property test
 * (generator.test.ts) checks it on generated strategies, with inputs set exactly on the thresholds.
 */
import { daysBetween, finiteOrNull, monthsBetween, type ExpressionNode, type ExpressionSchema, type Slots, type Value } from './expression.ts'

const kinds = {
  compare: 0, between: 1, in: 2, arithmeticPair: 3, arithmeticConstant: 4, isNull: 5, and: 6, or: 7, unary: 8, minMax: 9, coalesce: 10, dates: 11, pairThenConstant: 12,
} as const
const unaryCodes: Readonly<Record<string, number>> = { abs: 0, ceil: 1, floor: 2 }
const comparisonCodes = { '=': 0, '!=': 1, '<': 2, '<=': 3, '>': 4, '>=': 5 } as const
const arithmeticCodes = { '+': 0, '-': 1, '*': 2, '/': 3 } as const

/** One shape for every kind (unused fields are 0 / empty), so property reads stay monomorphic. */
export type Predicate = {
  readonly kind: number
  /** Comparison operator code. */
  readonly op: number
  /** Arithmetic operator code; for functions, which one (abs 0 / ceil 1 / floor 2; min 0 / max 1; months 0 / days 1). */
  readonly arithmetic: number
  /** The second arithmetic operator of `(a op b) op2 k`. */
  readonly arithmetic2: number
  readonly i: number
  readonly j: number
  /** The arithmetic's constant operand. */
  readonly b: number
  /** The comparison's constant, or the low bound of `between`. */
  readonly c: number
  /** The high bound of `between`. */
  readonly d: number
  readonly negated: boolean
  readonly values: readonly Value[]
  /** The inputs of min / max / coalesce, in order; coalesce's constant last argument, if any, in `fallback`. */
  readonly slots: readonly number[]
  readonly fallback: number | null
  readonly left: Predicate | null
  readonly right: Predicate | null
}

const blank: Predicate = { kind: 0, op: 0, arithmetic: 0, arithmetic2: 0, i: 0, j: 0, b: 0, c: 0, d: 0, negated: false, values: [], slots: [], fallback: null, left: null, right: null }

/** A number constant as the compiler folds it: a literal, or a negated literal (−0 becomes 0). */
function numberConstant(n: ExpressionNode): number | undefined {
  if (n.kind === 'literal') return typeof n.value === 'number' ? n.value : undefined
  if (n.kind === 'negate' && n.operand.kind === 'literal' && typeof n.operand.value === 'number') return -n.operand.value + 0
  return undefined
}

function numberSlot(n: ExpressionNode, schema: ExpressionSchema): number | undefined {
  if (n.kind !== 'reference') return undefined
  const slot = schema.slotByName.get(n.name)
  return slot !== undefined && schema.inputs[slot]?.type === 'number' ? slot : undefined
}

/**
 * The record for an accepted boolean expression of one of the shapes above, or undefined (the rule
 * then runs as its closure).
 */
export function predicateOf(n: ExpressionNode, schema: ExpressionSchema): Predicate | undefined {
  switch (n.kind) {
    case 'comparison': {
      const c = numberConstant(n.right)
      if (c === undefined) return undefined
      const op = comparisonCodes[n.op]
      const i = numberSlot(n.left, schema)
      if (i !== undefined) return { ...blank, kind: kinds.compare, op, i, c }
      if (n.left.kind === 'call') return callPredicateOf(n.left, schema, op, c)
      if (n.left.kind !== 'arithmetic') return undefined
      const inner = n.left.left
      if (inner.kind === 'arithmetic') {
        // (a op b) op2 k, e.g. the average of two inputs.
        const x = numberSlot(inner.left, schema)
        const y = numberSlot(inner.right, schema)
        const k = numberConstant(n.left.right)
        if (x === undefined || y === undefined || k === undefined) return undefined
        return { ...blank, kind: kinds.pairThenConstant, op, arithmetic: arithmeticCodes[inner.op], arithmetic2: arithmeticCodes[n.left.op], i: x, j: y, b: k, c }
      }
      const a = numberSlot(n.left.left, schema)
      if (a === undefined) return undefined
      const arithmetic = arithmeticCodes[n.left.op]
      const j = numberSlot(n.left.right, schema)
      if (j !== undefined) return { ...blank, kind: kinds.arithmeticPair, op, arithmetic, i: a, j, c }
      const b = numberConstant(n.left.right)
      return b === undefined ? undefined : { ...blank, kind: kinds.arithmeticConstant, op, arithmetic, i: a, b, c }
    }
    case 'between': {
      const i = numberSlot(n.operand, schema)
      const c = numberConstant(n.low)
      const d = numberConstant(n.high)
      return i === undefined || c === undefined || d === undefined ? undefined : { ...blank, kind: kinds.between, i, c, d, negated: n.negated }
    }
    case 'in': {
      if (n.operand.kind !== 'reference') return undefined
      const i = schema.slotByName.get(n.operand.name)
      const values: Value[] = []
      for (const item of n.items) {
        const value = item.kind === 'literal' ? item.value : numberConstant(item)
        if (value === undefined || value === null) return undefined
        if (!values.includes(value)) values.push(value)
      }
      return i === undefined ? undefined : { ...blank, kind: kinds.in, i, values, negated: n.negated }
    }
    case 'is_null': {
      if (n.operand.kind !== 'reference') return undefined
      const i = schema.slotByName.get(n.operand.name)
      return i === undefined ? undefined : { ...blank, kind: kinds.isNull, i, negated: n.negated }
    }
    case 'logical': {
      const left = predicateOf(n.left, schema)
      const right = left === undefined ? undefined : predicateOf(n.right, schema)
      if (left === undefined || right === undefined || left.left !== null || right.left !== null) return undefined
      return { ...blank, kind: n.op === 'and' ? kinds.and : kinds.or, left, right }
    }
    default:
      return undefined
  }
}

/** `f(inputs…) op c` for abs / ceil / floor, min / max, coalesce (inputs, then an optional constant) and the date functions. */
function callPredicateOf(n: ExpressionNode & { kind: 'call' }, schema: ExpressionSchema, op: number, c: number): Predicate | undefined {
  const unary = unaryCodes[n.name]
  if (unary !== undefined) {
    const i = n.args[0] === undefined ? undefined : numberSlot(n.args[0], schema)
    return i === undefined ? undefined : { ...blank, kind: kinds.unary, op, arithmetic: unary, i, c }
  }
  if (n.name === 'months_between' || n.name === 'days_between') {
    const [later, earlier] = n.args.map((arg) => dateSlot(arg, schema))
    if (n.args.length !== 2 || later === undefined || earlier === undefined) return undefined
    return { ...blank, kind: kinds.dates, op, arithmetic: n.name === 'months_between' ? 0 : 1, i: later, j: earlier, c }
  }
  if (n.name !== 'min' && n.name !== 'max' && n.name !== 'coalesce') return undefined
  const last = n.args.at(-1)
  const fallback = n.name === 'coalesce' && last !== undefined ? numberConstant(last) ?? null : null
  const slots: number[] = []
  for (const arg of fallback === null ? n.args : n.args.slice(0, -1)) {
    const slot = numberSlot(arg, schema)
    if (slot === undefined) return undefined
    slots.push(slot)
  }
  if (slots.length === 0) return undefined
  return n.name === 'coalesce' ? { ...blank, kind: kinds.coalesce, op, slots, fallback, c } : { ...blank, kind: kinds.minMax, op, arithmetic: n.name === 'min' ? 0 : 1, slots, c }
}

function dateSlot(n: ExpressionNode, schema: ExpressionSchema): number | undefined {
  if (n.kind !== 'reference') return undefined
  const slot = schema.slotByName.get(n.name)
  return slot !== undefined && schema.inputs[slot]?.type === 'date' ? slot : undefined
}

function compare(op: number, x: number, c: number): boolean {
  switch (op) {
    case 0: return x === c
    case 1: return x !== c
    case 2: return x < c
    case 3: return x <= c
    case 4: return x > c
    default: return x >= c
  }
}

function arithmetic(op: number, a: number, b: number): number | null {
  switch (op) {
    case 0: return finiteOrNull(a + b)
    case 1: return finiteOrNull(a - b)
    case 2: return finiteOrNull(a * b)
    default: return b === 0 ? null : finiteOrNull(a / b)
  }
}

/** Evaluates a record on the slots: true, false or null (unknown), as the expression would. */
export function evaluatePredicate(p: Predicate, s: Slots): boolean | null {
  switch (p.kind) {
    case kinds.compare: {
      const a = s[p.i] ?? null
      return a === null ? null : compare(p.op, a as number, p.c)
    }
    case kinds.between: {
      const a = s[p.i] ?? null
      return a === null ? null : ((a as number) >= p.c && (a as number) <= p.d) !== p.negated
    }
    case kinds.in: {
      const a = s[p.i] ?? null
      return a === null ? null : p.values.includes(a) !== p.negated
    }
    case kinds.arithmeticPair: {
      const a = s[p.i] ?? null
      if (a === null) return null
      const b = s[p.j] ?? null
      if (b === null) return null
      const x = arithmetic(p.arithmetic, a as number, b as number)
      return x === null ? null : compare(p.op, x, p.c)
    }
    case kinds.arithmeticConstant: {
      const a = s[p.i] ?? null
      if (a === null) return null
      const x = arithmetic(p.arithmetic, a as number, p.b)
      return x === null ? null : compare(p.op, x, p.c)
    }
    case kinds.isNull: return ((s[p.i] ?? null) === null) !== p.negated
    case kinds.unary: {
      const a = s[p.i] ?? null
      if (a === null) return null
      const x = (p.arithmetic === 0 ? Math.abs(a as number) : p.arithmetic === 1 ? Math.ceil(a as number) : Math.floor(a as number)) + 0
      return compare(p.op, x, p.c)
    }
    case kinds.minMax: {
      const slots = p.slots
      let x = s[slots[0] as number] ?? null
      if (x === null) return null
      for (let k = 1; k < slots.length; k++) {
        const a = s[slots[k] as number] ?? null
        if (a === null) return null
        x = p.arithmetic === 0 ? Math.min(x as number, a as number) : Math.max(x as number, a as number)
      }
      return compare(p.op, x as number, p.c)
    }
    case kinds.coalesce: {
      const slots = p.slots
      let x: number | null = p.fallback
      for (let k = 0; k < slots.length; k++) {
        const a = s[slots[k] as number] ?? null
        if (a !== null) { x = a as number; break }
      }
      return x === null ? null : compare(p.op, x, p.c)
    }
    case kinds.dates: {
      const later = s[p.i] ?? null
      if (later === null) return null
      const earlier = s[p.j] ?? null
      if (earlier === null) return null
      return compare(p.op, p.arithmetic === 0 ? monthsBetween(later as string, earlier as string) : daysBetween(later as string, earlier as string), p.c)
    }
    case kinds.pairThenConstant: {
      const a = s[p.i] ?? null
      if (a === null) return null
      const b = s[p.j] ?? null
      if (b === null) return null
      const y = arithmetic(p.arithmetic, a as number, b as number)
      if (y === null) return null
      const x = arithmetic(p.arithmetic2, y, p.b)
      return x === null ? null : compare(p.op, x, p.c)
    }
    case kinds.and: {
      // Three-valued: a false side decides; else an unknown side makes the whole unknown.
      const a = evaluateLeaf(p.left as Predicate, s)
      if (a === false) return false
      const b = evaluateLeaf(p.right as Predicate, s)
      if (b === false) return false
      return a === null || b === null ? null : true
    }
    default: {
      const a = evaluateLeaf(p.left as Predicate, s)
      if (a === true) return true
      const b = evaluateLeaf(p.right as Predicate, s)
      if (b === true) return true
      return a === null || b === null ? null : false
    }
  }
}

/** A leaf (never `and` / `or`: predicateOf nests one level only); the commonest, an input against a number, inline. */
function evaluateLeaf(p: Predicate, s: Slots): boolean | null {
  if (p.kind === kinds.compare) {
    const a = s[p.i] ?? null
    return a === null ? null : compare(p.op, a as number, p.c)
  }
  return evaluatePredicate(p, s)
}

/**
 * The commonest records — an input against a number, an input [not] between two numbers, a ratio or
 * difference of two inputs against a number — as columns, one block per operator: a block runs as one
 * tight loop over typed arrays (no record to load, no switch per rule), the code a processor runs fastest.
 */
export type ThresholdBlock = {
  /** kinds.compare, kinds.between or kinds.arithmeticPair (`s[i] arithmetic s[j] op low`). */
  readonly kind: number
  readonly op: number
  readonly arithmetic: number
  readonly negated: boolean
  readonly slots: Int32Array
  readonly others: Int32Array
  readonly low: Float64Array
  readonly high: Float64Array
  /** The rule index of each entry. */
  readonly rules: Int32Array
}

/** Splits records into threshold blocks and the rest (positions into `predicates`), keeping the rest's order. */
export function thresholdBlocks(predicates: readonly Predicate[], ruleIndexes: ArrayLike<number>): { blocks: ThresholdBlock[]; rest: number[] } {
  const groups = new Map<string, number[]>()
  const rest: number[] = []
  predicates.forEach((p, k) => {
    if (p.kind !== kinds.compare && p.kind !== kinds.between && p.kind !== kinds.arithmeticPair) { rest.push(k); return }
    const key = `${p.kind}:${p.op}:${p.arithmetic}:${p.negated}`
    const group = groups.get(key) ?? []
    group.push(k)
    groups.set(key, group)
  })
  const blocks = [...groups.values()].map((members): ThresholdBlock => {
    const first = predicates[members[0] as number] as Predicate
    return {
      kind: first.kind, op: first.op, arithmetic: first.arithmetic, negated: first.negated,
      slots: Int32Array.from(members, (k) => (predicates[k] as Predicate).i),
      others: Int32Array.from(members, (k) => (predicates[k] as Predicate).j),
      low: Float64Array.from(members, (k) => (predicates[k] as Predicate).c),
      high: Float64Array.from(members, (k) => (predicates[k] as Predicate).d),
      rules: Int32Array.from(members, (k) => ruleIndexes[k] as number),
    }
  })
  return { blocks, rest }
}

/**
 * Runs a block: writes fired (1) / unknown (2) into `outcomes` at offset + rule index (passed stays 0)
 * and returns the rule indexes that did not pass, appended to `hits` (allocated on the first one).
 */
export function runThresholdBlock(block: ThresholdBlock, s: Slots, outcomes: Uint8Array, offset: number, hits: number[] | null): number[] | null {
  const { slots, low, high, rules, op } = block
  if (block.kind === kinds.between) {
    const negated = block.negated
    for (let k = 0; k < slots.length; k++) {
      const a = s[slots[k] as number] ?? null
      let outcome: number
      if (a === null) outcome = 2
      else if (((a as number) >= (low[k] as number) && (a as number) <= (high[k] as number)) !== negated) outcome = 1
      else continue
      const i = rules[k] as number
      outcomes[offset + i] = outcome
      ;(hits ??= []).push(i)
    }
    return hits
  }
  if (block.kind === kinds.arithmeticPair) {
    const others = block.others
    const operation = block.arithmetic
    for (let k = 0; k < slots.length; k++) {
      const a = s[slots[k] as number] ?? null
      const b = a === null ? null : s[others[k] as number] ?? null
      const x = b === null ? null : arithmetic(operation, a as number, b as number)
      let outcome: number
      if (x === null) outcome = 2
      else if (compare(op, x, low[k] as number)) outcome = 1
      else continue
      const i = rules[k] as number
      outcomes[offset + i] = outcome
      ;(hits ??= []).push(i)
    }
    return hits
  }
  for (let k = 0; k < slots.length; k++) {
    const a = s[slots[k] as number] ?? null
    let outcome: number
    if (a === null) outcome = 2
    else if (compare(op, a as number, low[k] as number)) outcome = 1
    else continue
    const i = rules[k] as number
    outcomes[offset + i] = outcome
    ;(hits ??= []).push(i)
  }
  return hits
}

/**
 * @module loans/cob-kernel
 * The exact-decimal arithmetic of one accrual day (`roundWithCarry(counter, computeDailyInterest(…))`, also the
 * penalty day) written as plain SQL expressions, so the set-based close of business pays a few numeric operations
 * per row instead of several PL/pgSQL calls (2–5 µs each). The result equals decimal.js at 34 significant digits,
 * half-even, to the last digit:
 *
 *   exact = sig34(sig34(base × rate) ÷ 100 ÷ Y)     cum = sig34(sig34(acc + carry) + exact)
 *   rounded = round_mode(cum)                        carry' = cum − rounded
 *
 * How, without a function call:
 * - the rate is split once per loan into an integer and a power of ten (rate = rn ÷ 10^k, so exact = base × rn ÷ Y
 *   × 10^−(k+2)); with base < 10^15 and rn < 10^19 the product has at most 34 digits, so the first two steps are
 *   exact;
 * - the quotient is rounded to 34 significant digits by integer division by Y (a one-digit divisor for numeric, the
 *   fast case) and the exact remainder, as `puhui_div34` does; its exponent is estimated in float8 and corrected by
 *   one either way (exact comparisons);
 * - sig34 of a sum whose integer part has d digits rounds to 34 − d decimals; d comes from the bigint integer part,
 *   and a tie (the dropped part exactly one half) is told exactly with `min_scale`;
 * - rounding to minor units is done inline for a non-negative value.
 * Outside those ranges (values below one, amounts of 10^15 minor units or more, rates of more than 19 digits) the
 * row falls back to the exact PL/pgSQL helpers of migration 0009, so every row is exact; the fast path covers the
 * portfolio's ordinary rows. test/cob.test.ts checks the kernel against decimal.js, fast path and fallback.
 *
 * The steps are stacked subqueries kept apart by `puhui_fence` (not merged), so each intermediate column is computed
 * once, and parallel-safe, so PostgreSQL may run them in parallel workers.
 */

/** Column names of the input a daily step reads. */
export type DailyStepColumns = {
  /** Prefix of the columns the step adds (`${p}rounded`, `${p}carry` are the results). */
  readonly prefix: string
  /** Input columns passed through to the output (the step's own inputs are not, unless listed). */
  readonly keep: readonly string[]
  /** When false the results are null. */
  readonly active: string
  /** Rounded total of the counter (bigint) and its unrounded remainder (numeric, |carry| < 1). */
  readonly acc: string
  readonly carry: string
  /** Balance the day's interest runs on (bigint, ≥ 0). */
  readonly base: string
  /** The annual rate in percent (numeric, already what decimal.js holds), its split (`rateSplitSql`), the year length (int). */
  readonly rate: string
  readonly rn: string
  readonly rk: string
  readonly rf: string
  readonly ydays: string
  /** Minor-unit rounding mode (text: half_even, half_up, down, up). */
  readonly mode: string
}

/**
 * Per-loan constants of a rate for `dailyStepSql`: `${p}rn` (the rate's digits as an integer: rate = rn ÷ 10^k),
 * `${p}rk` (k + 2, the shift of ÷ 100 included) and `${p}rf` (float estimate of rn ÷ Y, for the exponent only).
 */
export function rateSplitSql(rate: string, ydays: string, p: string): string {
  return `trunc((${rate}) * puhui_p10(min_scale(${rate}))) as ${p}rn, min_scale(${rate}) + 2 as ${p}rk,
    trunc((${rate}) * puhui_p10(min_scale(${rate})))::float8 / (${ydays}) as ${p}rf`
}

/** x rounded half-even to `l` decimals (x, l: column names; x has more than l decimals). */
function halfEven(x: string, l: string): string {
  return `case when min_scale(2 * abs(${x} - trunc(${x}, ${l}))) <= ${l} and min_scale(trunc(${x}, ${l}) * 0.5) <= ${l}
    then trunc(${x}, ${l}) else round(${x}, ${l}) end`
}

/** A non-negative numeric rounded to a whole number with a named mode (decimal.js semantics). */
export function roundMinorSql(x: string, mode: string): string {
  return `case ${mode} when 'down' then trunc(${x}) when 'up' then ceil(${x}) when 'half_up' then round(${x})
    else trunc(${x}) + case when ${x} - trunc(${x}) > 0.5 or (${x} - trunc(${x}) = 0.5 and mod(trunc(${x}), 2) = 1) then 1 else 0 end end`
}

/**
 * Wraps `input` (a SELECT) with one daily step: the output has the `keep` columns, `${p}rounded` (bigint) and
 * `${p}carry` (numeric), null when not active. Six stacked layers, each carrying only the columns still needed
 * (a layer costs about 0.2 µs a row, more with every column it carries); cheap subexpressions are repeated
 * rather than given a layer of their own.
 */
export function dailyStepSql(input: string, c: DailyStepColumns): string {
  const p = c.prefix
  let carried: string[] = [...new Set([...c.keep, c.active, c.acc, c.carry, c.base, c.rate, c.rn, c.rk, c.rf, c.ydays, c.mode])]
  let query = input
  const layer = (columns: Record<string, string>, drop: readonly string[] = []) => {
    const keep = carried.filter((name) => !drop.includes(name))
    // puhui_fence (migration 0011) on the first new column keeps this step a subquery of its own (computed once per
    // row) while letting it run in parallel workers; the planner inlines it to the bare expression.
    const added = Object.entries(columns).map(([name, expression], index) => `${index === 0 ? `puhui_fence(${expression})` : expression} as ${name}`)
    query = `select ${[...keep.map((name) => `z.${name}`), ...added].join(', ')}
      from (${query}) z`
    carried = [...keep, ...Object.keys(columns)]
  }
  const [acc, carry, base, rn, rk, rf, y] = [c.acc, c.carry, c.base, c.rn, c.rk, c.rf, c.ydays].map((name) => `z.${name}`) as [string, string, string, string, string, string, string]
  const fast = `${base} > 0 and ${rn} > 0`
  const n = `(${base}::numeric * ${rn})`
  const s0 = `(33 - floor(log(${base}::float8 * ${rf}))::int)`
  const t1 = `(${acc} - (${carry} < 0)::int)`
  const l1 = `(34 - length(${t1}::text))`
  const x1 = `(${acc}::numeric + ${carry})`
  // The quotient's first estimate (34 digits if the float exponent was right), and sig34(acc + carry).
  layer({
    [`${p}n`]: `case when ${fast} then ${n} end`,
    [`${p}s0`]: `case when ${fast} then ${s0} end`,
    [`${p}qt0`]: `case when ${fast} then div(${n} * puhui_p10(${s0}), ${y}) end`,
    [`${p}ok`]: `${base} < 1e15 and ${rn} < 1e19 and ${acc} < 1e15`,
    [`${p}a`]: `case when ${t1} >= 1 then (case when min_scale(${x1}) <= ${l1} then ${x1} else ${halfEven(x1, l1)} end) when ${acc} = 0 then ${carry} end`,
  })
  // The exponent corrected by one if the float estimate was off next to a power of ten.
  const [qt0, sz0] = [`z.${p}qt0`, `z.${p}s0`]
  const s = `case when ${qt0} < 1e33 then ${sz0} + 1 when ${qt0} >= 1e34 then ${sz0} - 1 else ${sz0} end`
  layer({
    [`${p}s`]: s,
    [`${p}qt`]: `case when ${qt0} < 1e33 or ${qt0} >= 1e34 then div(z.${p}n * puhui_p10(${s}), ${y}) else ${qt0} end`,
  }, [`${p}s0`, `${p}qt0`])
  // The quotient rounded half-even at its 34th digit (exact remainder), then added: x2 = sig34(acc + carry) + exact.
  const r = `(z.${p}n * puhui_p10(z.${p}s) - z.${p}qt * ${y})`
  layer({
    [`${p}x2`]: `z.${p}a + case when z.${p}n is not null then (z.${p}qt + case when 2 * ${r} > ${y} or (2 * ${r} = ${y} and mod(z.${p}qt, 2) = 1) then 1 else 0 end)
      * puhui_p10(-z.${p}s - ${rk}) else 0 end`,
  }, [`${p}n`, `${p}s`, `${p}qt`, `${p}a`, ...[c.rn, c.rk, c.rf].filter((name) => !c.keep.includes(name))])
  layer({ [`${p}l2`]: `case when z.${p}x2 >= 1 and z.${p}x2 < 1e18 then 34 - length(trunc(z.${p}x2)::bigint::text) end` })
  const exact = `puhui_sig34(puhui_sig34(${acc} + ${carry}) + puhui_div34(puhui_sig34(puhui_sig34(${base} * z.${c.rate}) * 0.01), ${y}))`
  const [x2, l2] = [`z.${p}x2`, `z.${p}l2`]
  layer({
    [`${p}cum`]: `case when not z.${c.active} then null
      when z.${p}ok and ${l2} is not null then (case when min_scale(${x2}) <= ${l2} then ${x2} else ${halfEven(x2, l2)} end)
      else ${exact} end`,
  }, [`${p}x2`, `${p}l2`, `${p}ok`, ...[c.active, c.acc, c.carry, c.base, c.rate, c.ydays].filter((name) => !c.keep.includes(name))])
  // cum ≥ 1 has at most 33 decimals, so cum − rounded is exact; below one it may not be (the PL/pgSQL path).
  const cum = `z.${p}cum`
  const rounded = `(case when ${cum} >= 0 then ${roundMinorSql(cum, `z.${c.mode}`)} else puhui_round_minor(${cum}, z.${c.mode}) end)`
  layer({
    [`${p}rounded`]: `${rounded}::bigint`,
    [`${p}carry`]: `case when ${cum} >= 1 then ${cum} - ${rounded} else puhui_sig34(${cum} - ${rounded}) end`,
  }, [`${p}cum`, ...(c.keep.includes(c.mode) ? [] : [c.mode])])
  return query
}

/**
 * @module core/assert
 * Assertions for invariants. A failed assertion is a bug: it crashes the request (500) and is logged,
 * and domain code never catches it. Expected business outcomes are returned values, not exceptions.
 *
 * @example
 * assert(debit.currency === credit.currency, 'currencies checked before posting')
 */
export class AssertionError extends Error {
  override name = 'AssertionError'
}

/** `message` may be a function, for hot paths: a template string would be built on every call, passing or not. */
export function assert(condition: unknown, message: string | (() => string) = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'function' ? message() : message)
}

/** Compile-time exhaustiveness: call in the `default` branch of a switch over a union. */
export function assertNever(value: never, message = 'unexpected value'): never {
  throw new AssertionError(`${message}: ${String(value)}`)
}

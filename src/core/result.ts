/**
 * @module core/result
 * Commands return a status union (highest-precedence check first) instead of throwing for expected
 * business outcomes. `Ok` carries the value of the happy path.
 */
export type Ok<T> = { readonly status: 'ok'; readonly value: T }
export type Failure<S extends string> = { readonly status: S; readonly detail?: string }
export type Result<T, S extends string> = Ok<T> | Failure<S>

export function ok<T>(value: T): Ok<T> {
  return { status: 'ok', value }
}
export function fail<S extends string>(status: S, detail?: string): Failure<S> {
  return detail === undefined ? { status } : { status, detail }
}

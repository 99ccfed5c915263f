/**
 * @module core/clock
 * The wall clock, passed in. Code never calls `new Date()` or `Date.now()` to decide anything a test
 * must pin; it asks the Clock it was given. A tenant's business date is separate and lives in the DB.
 */
export type Clock = { now(): Date }

export const systemClock: Clock = { now: () => new Date() }

/** A clock that stands still until moved; for tests. */
export function fixedClock(start: Date): Clock & { advance(ms: number): void } {
  let current = start.getTime()
  return {
    now: () => new Date(current),
    advance: (ms: number) => {
      current += ms
    },
  }
}

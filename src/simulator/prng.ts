/**
 * @module simulator/prng
 * The simulator's seeded pseudo-random numbers (pure; never Math.random). xoshiro128** (Blackman and
 * Vigna, 2018: 128-bit state, period 2^128 − 1, passes BigCrush) seeded by splitmix32 (the 32-bit
 * variant of Steele, Lea and Flood's SplitMix, used here only to spread a seed over the four state words).
 *
 * Streams are keyed, not consumed in order: `streamOf(seed, firm, month, purpose)` gives the same
 * numbers whatever other firms or months were drawn first, so a simulation is the same whether its
 * firms are processed in order, in chunks or in parallel.
 */

/** splitmix32: one step of the 32-bit SplitMix mixer; returns the next state and a well-mixed output. */
export function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0
  let z = next
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  z ^= z >>> 16
  return { state: next, value: z >>> 0 }
}

/** Mixes several unsigned 32-bit keys into one seed (order matters: (1, 2) ≠ (2, 1)). */
export function mixKeys(keys: readonly number[]): number {
  let h = 0x2545f491
  for (const key of keys) {
    h = splitmix32((h ^ (key >>> 0)) | 0).value
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0
  }
  return h >>> 0
}

export type Random = {
  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Standard normal (Box–Muller; one of the pair is discarded to keep streams simple). */
  normal(): number
  /** True with probability p. */
  chance(p: number): boolean
  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k))

/**
 * xoshiro128** from a 32-bit seed.
 * @example const r = createRandom(42); r.next() // the same number for seed 42, every time
 */
export function createRandom(seed: number): Random {
  let sm = seed | 0
  const words: number[] = []
  for (let i = 0; i < 4; i++) {
    const step = splitmix32(sm)
    sm = step.state
    words.push(step.value | 0)
  }
  let [a, b, c, d] = words as [number, number, number, number]
  if ((a | b | c | d) === 0) a = 1 // the all-zero state is the one state xoshiro cannot leave
  const nextUint = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
    const t = b << 9
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 11)
    return result
  }
  const next = () => nextUint() / 4294967296
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      const u = 1 - next() // (0, 1]: log is finite
      const v = next()
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list')
      return items[Math.floor(next() * items.length)] as T
    },
  }
}

/** Purposes of the keyed streams (a new purpose never shifts the numbers of an old one). */
export const streamPurposes = { population: 1, month: 2, behaviour: 3, history: 4, owners: 5 } as const
export type StreamPurpose = keyof typeof streamPurposes

/** The stream of one firm, month and purpose under a seed. */
export function streamOf(seed: number, firm: number, month: number, purpose: StreamPurpose): Random {
  return createRandom(mixKeys([seed, firm, month + 1_000, streamPurposes[purpose]]))
}

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isValidUscc, usccCheckCharacter } from './uscc.ts'

describe('unified social credit code', () => {
  it('accepts published codes', () => {
    // Codes printed on public business licences.
    expect(isValidUscc('91350100M000100Y43')).toBe(true)
    expect(isValidUscc('91110000802100433B')).toBe(true)
    expect(isValidUscc('914403001922038216')).toBe(true)
  })
  it('rejects a wrong check character, bad alphabet and bad length', () => {
    expect(isValidUscc('91350100M000100Y44')).toBe(false)
    expect(isValidUscc('91350100M000100Y4')).toBe(false)
    expect(isValidUscc('91350100O000100Y43')).toBe(false)
  })
  it('detects every single-character substitution', () => {
    const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY'
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 30 }), (position, shift) => {
        const base = '91350100M000100Y4'
        const chars = [...base]
        const original = alphabet.indexOf(chars[position] as string)
        chars[position] = alphabet[(original + shift) % 31] as string
        const changed = chars.join('')
        return usccCheckCharacter(changed) !== usccCheckCharacter(base) || changed.slice(2, 8).match(/^\d{6}$/) === null
      }),
    )
  })
})

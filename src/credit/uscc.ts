/**
 * @module credit/uscc
 * The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a 31-symbol
 * alphabet (no I, O, S, V, Z); the last is a check character over the first 17.
 */
const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const

/**
 * The check character for the first 17 characters, or undefined if one is outside the alphabet.
 * @example usccCheckCharacter('91350100M000100Y4') // '3'
 */
export function usccCheckCharacter(first17: string): string | undefined {
  if (first17.length !== 17) return undefined
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const value = alphabet.indexOf(first17[i] as string)
    if (value < 0) return undefined
    sum += value * (weights[i] as number)
  }
  return alphabet[(31 - (sum % 31)) % 31]
}

export function isValidUscc(code: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(code)) return false
  return usccCheckCharacter(code.slice(0, 17)) === code[17]
}

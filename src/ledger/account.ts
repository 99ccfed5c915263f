/**
 * @module ledger/account
 * Pure decisions for creating ledger accounts: client-chosen ids, so a retry answers `exists` and a
 * different definition under the same id answers `exists_with_different_<field>`.
 */
import type { Account, AccountFlags } from './transfer.ts'

export type AccountInput = { id: string; currency: string; code: number; flags: AccountFlags; owner: string | null; userData: bigint }

export const accountStatuses = [
  'created',
  'exists',
  'flags_are_mutually_exclusive',
  'exists_with_different_currency',
  'exists_with_different_code',
  'exists_with_different_flags',
  'exists_with_different_owner',
  'exists_with_different_user_data',
] as const
export type AccountStatus = (typeof accountStatuses)[number]

export type StoredAccount = Account & { userData: bigint }

export function decideAccounts(existing: ReadonlyMap<string, StoredAccount>, inputs: readonly AccountInput[]): { statuses: AccountStatus[]; created: AccountInput[] } {
  const inBatch = new Map<string, AccountInput>()
  const statuses: AccountStatus[] = []
  const created: AccountInput[] = []
  for (const input of inputs) {
    const stored = existing.get(input.id) ?? inBatch.get(input.id)
    if (stored !== undefined) {
      statuses.push(compare(input, stored))
      continue
    }
    if (input.flags.debitsMustNotExceedCredits && input.flags.creditsMustNotExceedDebits) {
      statuses.push('flags_are_mutually_exclusive')
      continue
    }
    inBatch.set(input.id, input)
    statuses.push('created')
    created.push(input)
  }
  return { statuses, created }
}

function compare(input: AccountInput, stored: Pick<StoredAccount, 'currency' | 'code' | 'flags' | 'owner' | 'userData'>): AccountStatus {
  if (input.currency !== stored.currency) return 'exists_with_different_currency'
  if (input.code !== stored.code) return 'exists_with_different_code'
  if (input.flags.debitsMustNotExceedCredits !== stored.flags.debitsMustNotExceedCredits || input.flags.creditsMustNotExceedDebits !== stored.flags.creditsMustNotExceedDebits) return 'exists_with_different_flags'
  if (input.owner !== stored.owner) return 'exists_with_different_owner'
  if (input.userData !== stored.userData) return 'exists_with_different_user_data'
  return 'exists'
}

export function flagsToBits(flags: AccountFlags): number {
  return (flags.debitsMustNotExceedCredits ? 1 : 0) | (flags.creditsMustNotExceedDebits ? 2 : 0)
}

export function flagsFromBits(bits: number): AccountFlags {
  return { debitsMustNotExceedCredits: (bits & 1) !== 0, creditsMustNotExceedDebits: (bits & 2) !== 0 }
}

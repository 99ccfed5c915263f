/**
 * @module core/ids
 * Ids are UUIDv7, made in the application (time-ordered, so B-tree inserts stay local, and no reliance
 * on a database sequence or on PostgreSQL 18's uuidv7(): our SQL also runs on PostgreSQL 15 and on
 * distributed Postgres-compatible engines). An IdSource is passed in so tests can pin ids.
 */
import { v7 } from 'uuid'

export type IdSource = { next(): string }

export const uuidv7Source: IdSource = { next: () => v7() }

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export function isUuid(value: string): boolean {
  return uuidPattern.test(value)
}

/**
 * @module cli/ingest
 * `puhui ingest`: a CSV file of one source into the data hub, in batches of one transaction each, with
 * the file's name and SHA-256 as provenance and a progress bar on stderr. Row numbers in errors count
 * data rows from 1 (the header is not a row).
 */
import crypto from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { systemActor } from '../access/index.ts'
import { loadConfig } from '../config.ts'
import { systemClock } from '../core/clock.ts'
import { uuidv7Source } from '../core/ids.ts'
import { ingestRecords, isSource, type IngestStatus } from '../credit/index.ts'
import { inTenant, type Database } from '../db/database.ts'
import { loadKeyring } from '../keys/index.ts'
import { parseCsv } from '../scoring/index.ts'
import { startProgress } from './progress.ts'

const rowsPerBatch = 5_000
const errorsShownMax = 100

export type IngestSummary = {
  source: string
  file: string
  sha256: string
  rows: number
  created: number
  exists: number
  rejected: Partial<Record<IngestStatus, number>>
  errors: { row: number; externalId: string | null; status: IngestStatus; field?: string; message?: string }[]
}

export async function ingestCsvFile(database: Database, tenantId: string, source: string, file: string): Promise<IngestSummary> {
  if (!isSource(source)) throw new Error(`unknown source ${source}`)
  const bytes = await readFile(file).catch((error: Error) => {
    throw new Error(`cannot read ${file}: ${error.message}`)
  })
  const table = parseCsv(bytes.toString('utf8'))
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex')
  const config = loadConfig()
  const deps = { clock: systemClock, ids: uuidv7Source, keyring: loadKeyring({ keyDir: config.keyDir, signingKeyFile: config.signingKeyFile, dataKeyFile: config.dataKeyFile }) }
  const summary: IngestSummary = { source, file: path.basename(file), sha256, rows: table.rows.length, created: 0, exists: 0, rejected: {}, errors: [] }
  const progress = startProgress(`ingesting ${source}`, table.rows.length)
  for (let start = 0; start < table.rows.length; start += rowsPerBatch) {
    const rows = table.rows.slice(start, start + rowsPerBatch).map((cells) => Object.fromEntries(table.header.map((name, i) => [name, cells[i] ?? null]).filter(([, value]) => value !== null)))
    const results = await inTenant(database.db, tenantId, (trx) =>
      ingestRecords(trx, deps, { tenantId, source, rows, provenance: { actor: systemActor, channel: 'file', file: `${path.basename(file)} sha256:${sha256}` } }),
    )
    for (const result of results) {
      if (result.status === 'created') summary.created++
      else if (result.status === 'exists') summary.exists++
      else {
        summary.rejected[result.status] = (summary.rejected[result.status] ?? 0) + 1
        const row = start + result.index + 1
        for (const error of result.errors ?? [{ field: undefined, message: undefined }]) {
          if (summary.errors.length < errorsShownMax) summary.errors.push({ row, externalId: result.externalId, status: result.status, ...(error.field === undefined ? {} : { field: error.field, message: error.message }) })
        }
      }
    }
    progress.tick(rows.length)
  }
  progress.stop()
  return summary
}

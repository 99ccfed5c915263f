/**
 * Where the public credit data sets live (../shared/data beside the repository, as the team's
 * machines lay it out; PUHUI_SHARED_DATA_DIR overrides), for tests and benchmarks that use real data.
 */
import fs from 'node:fs'
import path from 'node:path'

export function sharedDataDir(): string {
  const candidates = [process.env.PUHUI_SHARED_DATA_DIR, path.join(import.meta.dirname, '..', '..', '..', 'shared', 'data'), '/work/shared/data'].filter((c): c is string => c !== undefined && c !== '')
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'german_credit_g.csv')))
  if (found === undefined) throw new Error(`the public credit data sets were not found (looked in ${candidates.join(', ')}); set PUHUI_SHARED_DATA_DIR`)
  return found
}

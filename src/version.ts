/**
 * @module version
 * The package version, read once from package.json.
 */
import fs from 'node:fs'

export const version: string = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

/**
 * Tidiness checks over the source tree (TigerBeetle's tidy.zig in spirit): import direction, no float
 * parsing near money, no leftover FIXME. Each failure says why the rule exists.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const srcDir = import.meta.dirname
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
}
const files = sourceFiles(srcDir)
const rel = (file: string) => path.relative(srcDir, file)
const importsOf = (file: string) => [...fs.readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string)

describe('tidy', () => {
  it('core/ imports no I/O: no db/, http/, cli/, node:* (time and ids are passed in)', () => {
    const offenders = files
      .filter((file) => rel(file).startsWith('core/') && !file.endsWith('.test.ts'))
      .flatMap((file) => importsOf(file).filter((spec) => spec.startsWith('node:') || /\/(db|http|cli)\//.test(spec)).map((spec) => `${rel(file)} imports ${spec}`))
    expect(offenders).toEqual([])
  })
  it('nothing imports http/ or cli/ except themselves and the entry points', () => {
    const offenders = files
      .filter((file) => !/^(http|cli)\//.test(rel(file)) && !['server.ts'].includes(rel(file)))
      .flatMap((file) => importsOf(file).filter((spec) => /(^|\/)(http|cli)\//.test(spec)).map((spec) => `${rel(file)} imports ${spec}`))
    expect(offenders).toEqual([])
  })
  it('modules import other modules only through their index.ts', () => {
    const modules = ['access', 'loans', 'ledger', 'credit', 'scoring', 'decisions']
    const offenders = files.flatMap((file) => {
      const own = rel(file).split('/')[0]
      return importsOf(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => path.relative(srcDir, path.resolve(path.dirname(file), spec)))
        .filter((target) => {
          const [module, ...rest] = target.split('/')
          return module !== own && modules.includes(module ?? '') && rest.join('/') !== 'index.ts'
        })
        .map((target) => `${rel(file)} reaches into ${target}`)
    })
    expect(offenders).toEqual([])
  })
  it('no parseFloat or Number( in ledger/ and loans/ (money is bigint, rates decimal.js)', () => {
    const offenders = files.filter((file) => /^(ledger|loans)\//.test(rel(file)) && !file.endsWith('.test.ts') && /parseFloat\(|\bNumber\(/.test(fs.readFileSync(file, 'utf8'))).map(rel)
    expect(offenders).toEqual([])
  })
  it('no FIXME left behind', () => {
    expect(files.filter((file) => file !== import.meta.filename && fs.readFileSync(file, 'utf8').includes('FIX' + 'ME')).map(rel)).toEqual([])
  })
})

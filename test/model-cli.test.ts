/**
 * `puhui model train | eval | score` as processes on the German credit data (../shared/data): the
 * single-line JSON contracts (exact keys), NDJSON scoring with row 1 = first data row, exit codes, and
 * one-line errors with nothing on stdout. None of these commands may start a database.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedDataDir } from './support/shared-data.ts'

const bin = path.join(import.meta.dirname, '..', 'bin', 'puhui.js')
const germanFile = path.join(sharedDataDir(), 'german_credit_g.csv')
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'puhui-model-cli-'))
const modelFile = path.join(dataDir, 'german.json')

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PUHUI_DATA_DIR: dataDir, PUHUI_LOG_LEVEL: 'warn', DATABASE_URL: '' },
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function singleJsonLine(stdout: string): Record<string, unknown> {
  expect(stdout.endsWith('\n')).toBe(true)
  expect(stdout.trim().split('\n')).toHaveLength(1)
  return JSON.parse(stdout) as Record<string, unknown>
}

function expectOneLineError(result: ReturnType<typeof cli>, text: string) {
  expect(result.status).toBe(1)
  expect(result.stdout).toBe('')
  expect(result.stderr.trim().split('\n')).toHaveLength(1)
  expect(result.stderr.startsWith('puhui: ')).toBe(true)
  expect(result.stderr).toContain(text)
}

let trained: Record<string, unknown>

beforeAll(() => {
  const result = cli(['model', 'train', '--data', germanFile, '--target', 'class', '--bad', 'bad', '--exclude', 'personal_status,foreign_worker', '--out', modelFile])
  expect(result.status, result.stderr).toBe(0)
  trained = singleJsonLine(result.stdout)
})
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('puhui model train', () => {
  it('prints {"auc","ks","gini","n","variables","cvAuc"} and writes a versioned artefact with the data fingerprint', () => {
    expect(Object.keys(trained)).toEqual(['auc', 'ks', 'gini', 'n', 'variables', 'cvAuc'])
    expect(trained.n).toBe(1000)
    expect(trained.auc).toBeGreaterThan(0.75)
    expect(trained.cvAuc).toBeGreaterThan(0.74)
    expect(trained.gini).toBeCloseTo(2 * (trained.auc as number) - 1, 5)
    expect(Number.isInteger(trained.variables) && (trained.variables as number) > 0).toBe(true)
    const artefact = JSON.parse(fs.readFileSync(modelFile, 'utf8')) as { format: string; formatVersion: number; trainingData: { sha256: string; rows: number }; target: unknown; excluded: string[]; card: { variables: { name: string }[] } }
    expect(artefact.format).toBe('puhui-scorecard')
    expect(artefact.formatVersion).toBe(1)
    expect(artefact.trainingData.sha256).toBe(createHash('sha256').update(fs.readFileSync(germanFile)).digest('hex'))
    expect(artefact.target).toEqual({ column: 'class', bad: 'bad' })
    expect(artefact.excluded).toEqual(['personal_status', 'foreign_worker'])
    expect(artefact.card.variables.map((v) => v.name)).not.toContain('personal_status')
    expect(fs.existsSync(path.join(dataDir, 'pg'))).toBe(false)
  })
  it('fails with one line on stderr and nothing on stdout: unknown target, unknown --exclude, missing file, wrong --bad', () => {
    expectOneLineError(cli(['model', 'train', '--data', germanFile, '--target', 'nope', '--bad', 'bad', '--out', path.join(dataDir, 'x.json')]), '"nope"')
    expectOneLineError(cli(['model', 'train', '--data', germanFile, '--target', 'class', '--bad', 'bad', '--exclude', 'ghost', '--out', path.join(dataDir, 'x.json')]), '"ghost"')
    expectOneLineError(cli(['model', 'train', '--data', path.join(dataDir, 'missing.csv'), '--target', 'class', '--bad', 'bad', '--out', path.join(dataDir, 'x.json')]), 'cannot read --data')
    expectOneLineError(cli(['model', 'train', '--data', germanFile, '--target', 'class', '--bad', 'awful', '--out', path.join(dataDir, 'x.json')]), 'awful')
    expect(fs.existsSync(path.join(dataDir, 'x.json'))).toBe(false)
  })
})

describe('puhui model eval', () => {
  it('prints {"auc","ks","gini","n"} with the model\'s target, bad as the positive class', () => {
    const result = cli(['model', 'eval', '--model', modelFile, '--data', germanFile])
    expect(result.status, result.stderr).toBe(0)
    const metrics = singleJsonLine(result.stdout)
    expect(Object.keys(metrics)).toEqual(['auc', 'ks', 'gini', 'n'])
    expect(metrics.auc).toBe(trained.auc)
    expect(metrics.n).toBe(1000)
    const flipped = singleJsonLine(cli(['model', 'eval', '--model', modelFile, '--data', germanFile, '--target', 'class', '--bad', 'good']).stdout)
    expect(flipped.auc).toBeCloseTo(1 - (metrics.auc as number), 5)
  })
  it('fails with one line for a missing model file or a data file without the target', () => {
    expectOneLineError(cli(['model', 'eval', '--model', path.join(dataDir, 'none.json'), '--data', germanFile]), 'cannot read --model')
    const noTarget = path.join(dataDir, 'no-target.csv')
    fs.writeFileSync(noTarget, 'duration,age\n12,30\n')
    expectOneLineError(cli(['model', 'eval', '--model', modelFile, '--data', noTarget]), '"class"')
  })
})

describe('puhui model score', () => {
  it('prints one {"row","score","probability","reasons"} per data row, row 1 first', () => {
    const result = cli(['model', 'score', '--model', modelFile, '--data', germanFile])
    expect(result.status, result.stderr).toBe(0)
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { row: number; score: number; probability: number; reasons: { code: string; en: string; zh: string }[] })
    expect(lines).toHaveLength(1000)
    lines.forEach((line, i) => {
      expect(Object.keys(line)).toEqual(['row', 'score', 'probability', 'reasons'])
      expect(line.row).toBe(i + 1)
      expect(line.probability > 0 && line.probability < 1).toBe(true)
      for (const reason of line.reasons) expect(Object.keys(reason)).toEqual(['code', 'en', 'zh'])
    })
    // Higher score = lower probability of bad.
    const sorted = [...lines].sort((a, b) => a.score - b.score)
    expect((sorted[0] as { probability: number }).probability).toBeGreaterThan((sorted[999] as { probability: number }).probability)
  })
  it('scores rows with missing values and unseen categories', () => {
    const header = fs.readFileSync(germanFile, 'utf8').split('\n')[0] as string
    const columns = header.split(',').length
    const file = path.join(dataDir, 'odd.csv')
    fs.writeFileSync(file, `${header}\n${Array.from({ length: columns }, () => 'NA').join(',')}\n${Array.from({ length: columns }, () => '"never seen"').join(',')}\n`)
    const result = cli(['model', 'score', '--model', modelFile, '--data', file])
    expect(result.status, result.stderr).toBe(0)
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { row: number; score: number })
    expect(lines.map((l) => l.row)).toEqual([1, 2])
    expect(lines.every((l) => Number.isFinite(l.score))).toBe(true)
  })
  it('fails with one line when a model column is missing from the data', () => {
    const file = path.join(dataDir, 'thin.csv')
    fs.writeFileSync(file, 'duration\n12\n')
    expectOneLineError(cli(['model', 'score', '--model', modelFile, '--data', file]), 'not in')
  })
})

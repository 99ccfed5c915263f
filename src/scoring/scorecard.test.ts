/**
 * The scorecard end to end: points scaling, scoring with reason codes, the artefact round trip, and
 * cross-validated AUC on the real German credit data (../shared/data).
 */
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sharedDataDir } from '../../test/support/shared-data.ts'
import { detectColumns, parseCsv, type Column } from './csv.ts'
import { crossValidate, meanAndSd } from './cv.ts'
import { auc } from './metrics.ts'
import {
  buildArtefact, compileScorecard, oddsAtScore, parseArtefact, predictColumns, probabilityAtScore, scaleConstants, scoreRow, targetFromColumn,
  trainScorecard, type Scaling,
} from './scorecard.ts'

const germanFile = path.join(sharedDataDir(), 'german_credit_g.csv')
const german = (() => {
  const columns = detectColumns(parseCsv(fs.readFileSync(germanFile, 'utf8')))
  const target = targetFromColumn(columns.find((c) => c.name === 'class') as Column, 'bad')
  return { features: columns.filter((c) => c.name !== 'class'), target }
})()

function subset(column: Column, rows: Int32Array): Column {
  return column.kind === 'numeric'
    ? { kind: 'numeric', name: column.name, values: Float64Array.from(rows, (i) => column.values[i] as number) }
    : { kind: 'categorical', name: column.name, values: Array.from(rows, (i) => column.values[i] ?? null) }
}

describe('points scaling', () => {
  it('gives baseOdds at baseScore and exactly doubles the odds every pointsToDoubleOdds points', () => {
    fc.assert(
      fc.property(
        fc.record({ baseScore: fc.integer({ min: 300, max: 900 }), baseOdds: fc.double({ min: 0.5, max: 200, noNaN: true }), pointsToDoubleOdds: fc.integer({ min: 5, max: 80 }) }),
        fc.double({ min: 200, max: 1000, noNaN: true }),
        (scaling: Scaling, score) => {
          expect(oddsAtScore(scaling, scaling.baseScore) / scaling.baseOdds).toBeCloseTo(1, 12)
          const ratio = oddsAtScore(scaling, score + scaling.pointsToDoubleOdds) / oddsAtScore(scaling, score)
          expect(ratio).toBeCloseTo(2, 12)
          const p = probabilityAtScore(scaling, score)
          expect(p * (1 + oddsAtScore(scaling, score))).toBeCloseTo(1, 12) // p = 1 / (1 + good:bad odds)
        },
      ),
      { numRuns: 200 },
    )
    const { factor, offset } = scaleConstants({ baseScore: 600, baseOdds: 50, pointsToDoubleOdds: 20 })
    expect(factor).toBeCloseTo(28.8539, 4)
    expect(offset).toBeCloseTo(487.1229, 4)
  })
})

describe('trainScorecard on German credit', () => {
  const card = trainScorecard({ columns: german.features, target: german.target })
  it('reaches a cross-validated AUC of at least 0.75 (5 folds, seeded)', () => {
    const aucs = crossValidate(german.target, 5, 1, 11, (train, test) => {
      const fold = trainScorecard({ columns: german.features.map((c) => subset(c, train)), target: Uint8Array.from(train, (i) => german.target[i] as number) })
      return auc(predictColumns(fold, german.features.map((c) => subset(c, test))), Uint8Array.from(test, (i) => german.target[i] as number))
    })
    expect(meanAndSd(aucs).mean).toBeGreaterThanOrEqual(0.75)
  })
  it('has positive coefficients, and the points sum reproduces the probability', () => {
    expect(card.variables.length).toBeGreaterThan(3)
    for (const v of card.variables) expect(v.coefficient).toBeGreaterThan(0)
    const compiled = compileScorecard(card)
    const probabilities = predictColumns(card, german.features)
    for (const i of [0, 1, 2, 500, 999]) {
      const result = scoreRow(compiled, (name) => german.features.find((c) => c.name === name)?.values[i] ?? null)
      expect(result.probability).toBeCloseTo(probabilities[i] as number, 12)
      expect(result.probability).toBeCloseTo(probabilityAtScore(card.scaling, result.score), 12)
    }
  })
  it('gives reason codes for the largest shortfalls, in English and Chinese, and scores unseen and missing values', () => {
    const compiled = compileScorecard(card)
    const worst: Record<string, string | number | null> = {}
    for (const v of card.variables) {
      const bin = v.bins.filter((b) => b.count > 0).sort((a, b) => a.points - b.points)[0]
      worst[v.name] = bin?.kind === 'categories' ? (bin.categories[0] as string) : bin?.kind === 'range' ? (bin.high ?? (bin.low as number) + 1) : null
    }
    const result = scoreRow(compiled, (name) => worst[name] ?? null)
    expect(result.reasons).toHaveLength(card.reasonsMax)
    for (const reason of result.reasons) {
      expect(Object.keys(reason)).toEqual(['code', 'en', 'zh'])
      expect(reason.en.startsWith(`${reason.code}: `)).toBe(true)
      expect(reason.zh.startsWith(`${reason.code}：`)).toBe(true)
    }
    const blank = scoreRow(compiled, () => 'a value never seen')
    expect(Number.isFinite(blank.score)).toBe(true)
    expect(scoreRow(compiled, () => null).probability).toBeGreaterThan(0)
  })
  it('round-trips through the JSON artefact and refuses other files', () => {
    const artefact = buildArtefact({
      createdAt: '2026-01-01T00:00:00.000Z',
      trainingData: { sha256: 'a'.repeat(64), rows: 1000, bads: 300, columns: german.features.map((c) => c.name) },
      target: { column: 'class', bad: 'bad' },
      excluded: [],
      card,
      metrics: {},
    })
    const back = parseArtefact(JSON.stringify(artefact))
    expect(back.formatVersion).toBe(1)
    expect(Array.from(predictColumns(back.card, german.features))).toEqual(Array.from(predictColumns(card, german.features)))
    expect(() => parseArtefact('{}')).toThrow('not a puhui-scorecard artefact')
    expect(() => parseArtefact('nope')).toThrow('not JSON')
    expect(() => parseArtefact(JSON.stringify({ ...artefact, formatVersion: 9 }))).toThrow('version 9')
  })
})

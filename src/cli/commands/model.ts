/**
 * @module cli/commands/model
 * `puhui model train | eval | score`: the scorecard trainer on CSV files. No database is opened.
 *
 * - `model train --data FILE.csv --target COL --bad VALUE [--exclude COL,…] --out MODEL.json`
 *   writes the artefact and prints one line of JSON: {"auc","ks","gini","n","variables","cvAuc"}
 *   (training-set metrics, `variables` = number of scorecard variables, `cvAuc` = seeded stratified
 *   5-fold cross-validated AUC, null when a class has fewer than 5 rows).
 * - `model eval --model MODEL.json --data FILE.csv [--target COL] [--bad VALUE]` prints
 *   {"auc","ks","gini","n"}; the target and bad value default to the model's; bad is the positive class.
 * - `model score --model MODEL.json --data FILE.csv` prints NDJSON, one
 *   {"row","score","probability","reasons"} per data row; `row` counts from 1 (the first row after the
 *   header), `score` is rounded to 0.01 points, `probability` (of bad) to 6 significant digits.
 *
 * CSV: a header row; "", NA, ? and NULL are missing. File I/O and hashing happen here; the trainer in
 * scoring/ is pure. Errors are thrown as one-line Error messages that main.ts prints as `puhui: …`.
 */
import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import {
  auc, buildArtefact, compileScorecard, crossValidate, defaultScorecardOptions, detectColumns, evaluateScorecard, ks, meanAndSd,
  isNumberText, parseArtefact, parseCsv, predictColumns, scoreRow, targetFromColumn, trainScorecard, type Column, type CsvTable, type ScorecardArtefact,
} from '../../scoring/index.ts'
import { startProgress } from '../progress.ts'

const cvFolds = 5
const cvSeed = 1

async function readData(file: string): Promise<{ bytes: Buffer; table: CsvTable; columns: Column[] }> {
  const bytes = await readFile(file).catch((error: Error) => {
    throw new Error(`cannot read --data ${file}: ${error.message}`)
  })
  let table: CsvTable
  try {
    table = parseCsv(bytes.toString('utf8'))
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  if (table.rows.length === 0) throw new Error(`${file} has no data rows`)
  return { bytes, table, columns: detectColumns(table) }
}

/**
 * The model's variables as columns of the kind the model was trained on, from the raw text (a
 * categorical variable whose new values happen to look numeric stays categorical, and non-numeric
 * text in a numeric variable reads as missing).
 */
function modelColumns(table: CsvTable, artefact: ScorecardArtefact, file: string): Column[] {
  return artefact.card.variables.map((v) => {
    const c = table.header.indexOf(v.name)
    if (c < 0) throw new Error(`column "${v.name}" used by the model is not in ${file}`)
    if (v.type === 'numeric') {
      return { kind: 'numeric', name: v.name, values: Float64Array.from(table.rows, (row) => {
        const text = row[c] ?? null
        return text !== null && isNumberText(text) ? Number(text) : Number.NaN
      }) }
    }
    return { kind: 'categorical', name: v.name, values: table.rows.map((row) => row[c] ?? null) }
  })
}

async function readModel(file: string): Promise<ScorecardArtefact> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new Error(`cannot read --model ${file}: ${error.message}`)
  })
  try {
    return parseArtefact(text)
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
}

function columnOrThrow(columns: readonly Column[], name: string, file: string, role: string): Column {
  const column = columns.find((c) => c.name === name)
  if (column === undefined) throw new Error(`${role} column "${name}" is not in ${file} (columns: ${columns.map((c) => c.name).join(', ')})`.slice(0, 400))
  return column
}

function targetOrThrow(column: Column, bad: string): Uint8Array {
  const target = targetFromColumn(column, bad)
  let bads = 0
  for (const t of target) bads += t
  if (bads === 0) throw new Error(`no row has ${column.name} = ${bad}: check --bad`)
  if (bads === target.length) throw new Error(`every row has ${column.name} = ${bad}: the data need good rows too`)
  return target
}

function subset(column: Column, rows: Int32Array): Column {
  return column.kind === 'numeric'
    ? { kind: 'numeric', name: column.name, values: Float64Array.from(rows, (i) => column.values[i] as number) }
    : { kind: 'categorical', name: column.name, values: Array.from(rows, (i) => column.values[i] ?? null) }
}

function crossValidatedAuc(features: readonly Column[], target: Uint8Array, tick: () => void): number | null {
  let bads = 0
  for (const t of target) bads += t
  if (bads < cvFolds || target.length - bads < cvFolds) return null
  const aucs = crossValidate(target, cvFolds, 1, cvSeed, (train, test) => {
    const card = trainScorecard({ columns: features.map((c) => subset(c, train)), target: Uint8Array.from(train, (i) => target[i] as number) }, defaultScorecardOptions)
    tick()
    return auc(predictColumns(card, features.map((c) => subset(c, test))), Uint8Array.from(test, (i) => target[i] as number))
  })
  return meanAndSd(aucs).mean
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('train, evaluate and apply credit scorecards on CSV files (no database)')

  model
    .command('train')
    .description('train a WoE logistic scorecard; writes the model JSON and prints {"auc","ks","gini","n","variables","cvAuc"}')
    .requiredOption('--data <file>', 'training data, CSV with a header row ("", NA, ? and NULL are missing)')
    .requiredOption('--target <column>', 'the outcome column')
    .requiredOption('--bad <value>', 'the value of the target column that means bad (the positive class)')
    .option('--exclude <columns>', 'comma-separated columns to leave out (ids, protected attributes)')
    .requiredOption('--out <file>', 'where to write the model JSON')
    .action(async (options: { data: string; target: string; bad: string; exclude?: string; out: string }) => {
      const { bytes, columns } = await readData(options.data)
      const targetColumn = columnOrThrow(columns, options.target, options.data, 'target')
      const exclude = (options.exclude ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
      for (const name of exclude) columnOrThrow(columns, name, options.data, '--exclude')
      const target = targetOrThrow(targetColumn, options.bad)
      const features = columns.filter((c) => c.name !== options.target && !exclude.includes(c.name))
      if (features.length === 0) throw new Error('no feature columns left after --target and --exclude')
      const progress = startProgress('training', cvFolds + 1)
      let card
      let cvAuc: number | null
      try {
        card = trainScorecard({ columns: features, target }, defaultScorecardOptions)
        progress.tick()
        cvAuc = crossValidatedAuc(features, target, () => progress.tick())
      } finally {
        progress.stop()
      }
      const metrics = evaluateScorecard(card, predictColumns(card, features), target)
      const summary = { auc: round6(metrics.auc), ks: round6(metrics.ks), gini: round6(metrics.gini), n: metrics.n, variables: card.variables.length, cvAuc: cvAuc === null ? null : round6(cvAuc) }
      const artefact = buildArtefact({
        createdAt: new Date().toISOString(),
        trainingData: { sha256: createHash('sha256').update(bytes).digest('hex'), rows: target.length, bads: target.reduce((s, t) => s + t, 0), columns: columns.map((c) => c.name) },
        target: { column: options.target, bad: options.bad },
        excluded: exclude,
        card,
        metrics: { ...metrics, cvAuc, cvFolds, cvSeed },
      })
      await writeFile(options.out, `${JSON.stringify(artefact, null, 1)}\n`).catch((error: Error) => {
        throw new Error(`cannot write --out ${options.out}: ${error.message}`)
      })
      process.stdout.write(`${JSON.stringify(summary)}\n`)
    })

  model
    .command('eval')
    .description('evaluate a model on labelled data; prints {"auc","ks","gini","n"} (bad = positive class)')
    .requiredOption('--model <file>', 'the model JSON from `model train`')
    .requiredOption('--data <file>', 'CSV with the model\'s columns and the target')
    .option('--target <column>', 'the outcome column (default: the model\'s)')
    .option('--bad <value>', 'the bad value of the target (default: the model\'s)')
    .action(async (options: { model: string; data: string; target?: string; bad?: string }) => {
      const artefact = await readModel(options.model)
      const { table, columns } = await readData(options.data)
      const targetName = options.target ?? artefact.target.column
      const target = targetOrThrow(columnOrThrow(columns, targetName, options.data, 'target'), options.bad ?? artefact.target.bad)
      const probabilities = predictColumns(artefact.card, modelColumns(table, artefact, options.data))
      const a = auc(probabilities, target)
      process.stdout.write(`${JSON.stringify({ auc: round6(a), ks: round6(ks(probabilities, target)), gini: round6(2 * a - 1), n: target.length })}\n`)
    })

  model
    .command('score')
    .description('score every row; prints NDJSON {"row","score","probability","reasons"} per row, row 1 = first data row')
    .requiredOption('--model <file>', 'the model JSON from `model train`')
    .requiredOption('--data <file>', 'CSV with the model\'s columns (others are ignored)')
    .action(async (options: { model: string; data: string }) => {
      const artefact = await readModel(options.model)
      const { table } = await readData(options.data)
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0) // the reader (e.g. `head`) has had enough
        throw error
      })
      const byName = new Map(modelColumns(table, artefact, options.data).map((c) => [c.name, c]))
      const compiled = compileScorecard(artefact.card)
      const n = table.rows.length
      const lines: string[] = []
      for (let i = 0; i < n; i++) {
        const result = scoreRow(compiled, (name) => byName.get(name)?.values[i] ?? null)
        lines.push(JSON.stringify({ row: i + 1, score: Math.round(result.score * 100) / 100, probability: Number(result.probability.toPrecision(6)), reasons: result.reasons }))
        if (lines.length === 4096) {
          process.stdout.write(`${lines.join('\n')}\n`)
          lines.length = 0
        }
      }
      if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`)
    })
}

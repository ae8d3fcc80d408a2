import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import type { Batch, Field } from '../data/batch.js'
import { openFileSource } from '../data/sources/file-source.js'
import { openDuckDb } from '../infra/duckdb.js'
import { createModel } from '../models/catalog.js'
import type { AnyEstimator } from '../models/estimator.js'
import { GbdtClassifier, GbdtRegressor } from '../models/trees/gbdt.js'
import { RandomForestClassifier } from '../models/trees/random-forest.js'
import { autoPipeline } from '../preprocess/auto-pipeline.js'
import { Passthrough } from '../preprocess/passthrough.js'
import { Pipeline } from '../preprocess/pipeline.js'
import { importModelFile } from '../registry/import.js'
import type { Manifest } from '../registry/manifest.js'
import { openRegistry } from '../registry/registry.js'
import { writeSyntheticFlights } from '../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { PART_ROWS, type ScoreToFileOptions, scoreToFile } from './batch-score.js'
import { predictBody, type ServableModel } from './predictor.js'

const ROWS = 3_000
const FEATURES = ['date', 'distance', 'origin', 'destination']
const XGB_FIXTURES = new URL('../../test/fixtures/xgboost/', import.meta.url)

let tmp: TempHome
let flights: string
let flightsCsv: string
let all: Batch

beforeAll(async () => {
  tmp = await createTempHome('batch-score')
  flights = join(tmp.path, 'flights.parquet')
  flightsCsv = join(tmp.path, 'flights.csv')
  await writeSyntheticFlights(flights, { rows: ROWS, seed: 3 })
  await writeSyntheticFlights(flightsCsv, { rows: ROWS, seed: 3, format: 'csv' })
  all = await readAll(flights, [...FEATURES, 'delay'])
})
afterAll(async () => {
  await tmp?.remove()
})

async function readAll(path: string, columns: readonly string[]): Promise<Batch> {
  const source = await openFileSource({ path, columns, batchSize: 1 << 20 })
  try {
    for await (const batch of source) return batch
  } finally {
    await source.close()
  }
  throw new Error(`${path} is empty`)
}

/** Rows of a Parquet/CSV file as plain JS values (timestamps as epoch ms, integers as numbers). */
async function readRows(path: string, select = '*'): Promise<Record<string, unknown>[]> {
  const db = await openDuckDb()
  try {
    const reader = await db.connection.runAndReadAll(`SELECT ${select} FROM '${path}'`)
    return reader
      .getRowObjectsJS()
      .map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [
            k,
            typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : v,
          ]),
        ),
      )
  } finally {
    await db.close()
  }
}

async function describeColumns(path: string): Promise<[string, string][]> {
  const db = await openDuckDb()
  try {
    const reader = await db.connection.runAndReadAll(`DESCRIBE SELECT * FROM '${path}'`)
    return reader.getRowsJS().map((row) => [String(row[0]), String(row[1])])
  } finally {
    await db.close()
  }
}

function labelsOf(kind: 'boolean' | 'numeric'): Float64Array {
  const delay = all.columns.get('delay')
  if (delay === undefined || delay.type === 'string') throw new Error('no delay')
  return kind === 'boolean' ? delay.values.map((d) => (d > 15 ? 1 : 0)) : delay.values.slice()
}

/** A fitted model of `kind` on the flights features, as the registry would hand it out. */
function servable(kind: string, params: Record<string, unknown> = {}): ServableModel {
  const pipeline = autoPipeline({ fields: SCHEMA }, FEATURES)
  pipeline.partialFit(all)
  const X = pipeline.transform(all)
  const model = createModel(kind, params)
  let target: Manifest['target']
  if (model.task === 'clustering') model.partialFit(X)
  else if (model.task === 'classification') {
    model.partialFit(X, labelsOf('boolean'), { classes: [0, 1] })
    target = { expression: 'delay > 15', kind: 'boolean' }
  } else {
    model.partialFit(X, labelsOf('numeric'))
    target = { expression: 'delay', kind: 'numeric' }
  }
  const manifest = { task: model.task, target } as unknown as Manifest
  return { name: kind, version: 1, manifest, pipeline, model }
}

const SCHEMA: readonly Field[] = [
  { name: 'date', type: 'timestamp', nullable: true },
  { name: 'distance', type: 'int', nullable: true },
  { name: 'origin', type: 'string', nullable: true },
  { name: 'destination', type: 'string', nullable: true },
]

/** A tree model on numeric features (distance, the hour) through a passthrough pipeline. */
function treeServable(model: AnyEstimator, fit: (X: Parameters<GbdtClassifier['fit']>[0]) => void): ServableModel {
  const inputs = [
    { name: 'distance', type: 'int', nullable: true },
    { name: 'date', type: 'timestamp', nullable: true },
  ] as const
  const pipeline = new Pipeline({ inputs: [...inputs], steps: [new Passthrough({ columns: ['distance', 'date'] })] })
  fit(pipeline.transform(all))
  const manifest = { task: model.task, target: { expression: 'delay > 15', kind: 'boolean' } } as unknown as Manifest
  return { name: model.kind, version: 1, manifest, pipeline, model }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.includes('.tmp-'))
}

/** `scoreToFile` rejects with `code` and `message`, and `out` is as it was: absent, or (an input file) unchanged. */
async function expectFailure(options: ScoreToFileOptions, code: string, message: RegExp): Promise<void> {
  const fingerprint = (path: string) =>
    !existsSync(path) ? undefined : statSync(path).isDirectory() ? 'a folder' : sha256(path)
  const before = fingerprint(options.out)
  const error = await scoreToFile(options).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isScalemlError(error, code as never), String(error)).toBe(true)
  expect((error as Error).message).toMatch(message)
  expect(fingerprint(options.out)).toBe(before)
  expect(leftovers(tmp.path)).toEqual([])
}

describe('scoreToFile', () => {
  it('writes the answers of the HTTP predictor, row for row, after every input column by default', async () => {
    const s = servable('sgd-classifier', { shuffle: false })
    const out = join(tmp.path, 'sgd.parquet')
    const summary = await scoreToFile({ model: s, data: flights, out })
    expect(summary).toMatchObject({ rows: ROWS, format: 'parquet', out, model: { name: 'sgd-classifier' } })
    expect(summary.columns).toEqual(['date', 'delay', 'distance', 'origin', 'destination', 'probability', 'label'])
    // Kept columns keep the data's own types; predictions are DOUBLE and a boolean target's label BOOLEAN.
    expect(await describeColumns(out)).toEqual([
      ['date', 'TIMESTAMP'],
      ['delay', 'BIGINT'],
      ['distance', 'BIGINT'],
      ['origin', 'VARCHAR'],
      ['destination', 'VARCHAR'],
      ['probability', 'DOUBLE'],
      ['label', 'BOOLEAN'],
    ])
    const written = await readRows(out)
    const input = await readRows(flights)
    expect(written.map(({ probability: _p, label: _l, ...rest }) => rest)).toEqual(input)
    const instances = await readRows(flights, 'epoch_ms(date) AS date, distance, origin, destination')
    const { predictions } = predictBody(s, { instances })
    expect(written.map((r) => ({ probability: r['probability'], label: r['label'] }))).toEqual(predictions)
    expect(new Set(written.map((r) => r['label']))).toEqual(new Set([true, false]))
    expect(leftovers(tmp.path)).toEqual([])
  })

  it('writes CSV with the same values, and reads CSV data like Parquet data', async () => {
    const s = servable('sgd-classifier', { shuffle: false })
    const parquet = join(tmp.path, 'same.parquet')
    const csv = join(tmp.path, 'same.csv')
    await scoreToFile({ model: s, data: flights, out: parquet, columns: ['origin'] })
    const summary = await scoreToFile({ model: s, data: flightsCsv, out: csv, columns: ['origin'] })
    expect(summary.format).toBe('csv')
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe('origin,probability,label')
    // DuckDB writes the shortest decimal that reads back as the same double.
    expect(await readRows(csv)).toEqual(await readRows(parquet))
  })

  it('gives byte-identical files on a re-run and whatever the batch size, rows in data order across part files', async () => {
    const s = servable('sgd-classifier', { shuffle: false })
    const big = join(tmp.path, 'big.parquet')
    const rows = 2 * PART_ROWS + 12_345 // three part files
    await writeSyntheticFlights(big, { rows, seed: 5 })
    for (const ext of ['parquet', 'csv']) {
      const a = join(tmp.path, `a.${ext}`)
      const b = join(tmp.path, `b.${ext}`)
      await scoreToFile({ model: s, data: big, out: a, columns: ['date', 'origin'] })
      await scoreToFile({ model: s, data: big, out: b, columns: ['date', 'origin'], batchSize: 4_099 })
      expect(sha256(b)).toBe(sha256(a))
      await scoreToFile({ model: s, data: big, out: b, columns: ['date', 'origin'] })
      expect(sha256(b)).toBe(sha256(a))
    }
    // Rows at the part boundaries carry their own inputs and their own predictions.
    const picks = [0, PART_ROWS - 1, PART_ROWS, 2 * PART_ROWS, rows - 1]
    const where = `WHERE rn IN (${picks.join(', ')}) ORDER BY rn`
    const db = await openDuckDb()
    const read = async (sql: string): Promise<Record<string, unknown>[]> =>
      (await db.connection.runAndReadAll(sql)).getRowObjectsJS().map((r) => ({ ...r, rn: Number(r['rn']) }))
    const inputs = await read(
      `SELECT * FROM (SELECT CAST(epoch_ms(date) AS DOUBLE) AS date, CAST(distance AS DOUBLE) AS distance, origin, destination, row_number() OVER () - 1 AS rn FROM '${big}') ${where}`,
    )
    const written = await read(
      `SELECT * FROM (SELECT CAST(epoch_ms(date) AS DOUBLE) AS date, origin, probability, label, row_number() OVER () - 1 AS rn FROM '${join(tmp.path, 'a.parquet')}') ${where}`,
    )
    await db.close()
    const { predictions } = predictBody(s, { instances: inputs })
    expect(
      written.map((r) => ({ date: r['date'], origin: r['origin'], probability: r['probability'], label: r['label'] })),
    ).toEqual(inputs.map((r, i) => ({ date: r['date'], origin: r['origin'], ...predictions[i] })))
  })

  it('writes the same bytes whatever the number of scoring threads, predictions and contributions', async () => {
    const y = labelsOf('boolean')
    const model = new GbdtClassifier({ nEstimators: 10, maxLeaves: 8, seed: 2 })
    const s = treeServable(model as unknown as AnyEstimator, (X) => model.fit(X, y))
    for (const contributions of [false, true]) {
      const one = join(tmp.path, `threads-1-${contributions}.parquet`)
      const single = await scoreToFile({ model: s, data: flights, out: one, contributions, threads: 1, batchSize: 700 })
      expect(single.threads).toBe(1)
      // Starting threads under tsx costs ~1 s each: two helpers once, one once.
      const threads = contributions ? 3 : 2
      const out = join(tmp.path, `threads-${threads}-${contributions}.parquet`)
      const summary = await scoreToFile({ model: s, data: flights, out, contributions, threads, batchSize: 700 })
      // Every batch was split: the helper threads did score rows.
      expect(summary.threads).toBe(threads)
      expect(sha256(out)).toBe(sha256(one))
    }
    await expectFailure(
      { model: s, data: flights, out: join(tmp.path, 'x.parquet'), threads: 0 },
      'INVALID_ARGUMENT',
      /threads/,
    )
  })

  it('keeps the columns asked for, in that order, or none', async () => {
    const s = servable('sgd-classifier', { shuffle: false })
    const out = join(tmp.path, 'kept.parquet')
    const kept = await scoreToFile({ model: s, data: flights, out, columns: ['destination', 'date'] })
    expect(kept.columns).toEqual(['destination', 'date', 'probability', 'label'])
    expect((await describeColumns(out)).map(([name]) => name)).toEqual(kept.columns)
    const none = await scoreToFile({ model: s, data: flights, out, columns: [] })
    expect(none.columns).toEqual(['probability', 'label'])
    expect((await readRows(out)).length).toBe(ROWS)
  })

  it('writes each model kind the way the predictor answers it', async () => {
    const instances = await readRows(flights, 'epoch_ms(date) AS date, distance, origin, destination')
    for (const [kind, params, columns] of [
      [
        'perceptron',
        { shuffle: false },
        [
          ['score', 'DOUBLE'],
          ['label', 'BOOLEAN'],
        ],
      ],
      ['sgd-regressor', { shuffle: false }, [['value', 'DOUBLE']]],
      [
        'minibatch-kmeans',
        { nClusters: 3, seed: 1 },
        [
          ['cluster', 'BIGINT'],
          ['distance', 'DOUBLE'],
        ],
      ],
    ] as const) {
      const s = servable(kind, params)
      const out = join(tmp.path, `${kind}.parquet`)
      await scoreToFile({ model: s, data: flights, out, columns: [] })
      expect(await describeColumns(out)).toEqual(columns)
      expect(await readRows(out)).toEqual(predictBody(s, { instances: instances.slice(0, 10_000) }).predictions)
    }
  })

  it('writes an empty file with the output columns for data without rows', async () => {
    const empty = join(tmp.path, 'empty.parquet')
    const db = await openDuckDb()
    await db.connection.run(`COPY (SELECT * FROM '${flights}' LIMIT 0) TO '${empty}' (FORMAT parquet)`)
    await db.close()
    const out = join(tmp.path, 'empty-scores.csv')
    const summary = await scoreToFile({ model: servable('sgd-regressor'), data: empty, out, columns: ['origin'] })
    expect(summary.rows).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe('origin,value\n')
  })

  it('replaces an existing output file', async () => {
    const out = join(tmp.path, 'replace.csv')
    writeFileSync(out, 'old content\n')
    await scoreToFile({ model: servable('sgd-regressor'), data: flights, out, columns: [] })
    expect(readFileSync(out, 'utf8').startsWith('value\n')).toBe(true)
  })

  it('resolves a registry reference', async () => {
    const home = join(tmp.path, 'home')
    const registry = await openRegistry({ home })
    const s = servable('sgd-regressor')
    await registry.register('delays', {
      task: 'regression',
      modelKind: s.model.kind,
      inputSchema: s.pipeline.inputSchema.fields,
      target: { expression: 'delay', kind: 'numeric' },
      features: FEATURES,
      pipeline: s.pipeline,
      model: s.model,
    })
    await registry.close()
    const out = join(tmp.path, 'ref.parquet')
    const summary = await scoreToFile({ model: 'delays:1', registry: { home }, data: flights, out, columns: [] })
    expect(summary.model).toEqual({ name: 'delays', version: 1 })
    const direct = join(tmp.path, 'direct.parquet')
    await scoreToFile({ model: s, data: flights, out: direct, columns: [] })
    expect(await readRows(out)).toEqual(await readRows(direct))
  })

  it('reports progress per batch with the Parquet row count, then the write', async () => {
    const events: unknown[] = []
    const out = join(tmp.path, 'progress.parquet')
    await scoreToFile({
      model: servable('sgd-regressor'),
      data: flights,
      out,
      batchSize: 1_000,
      onProgress: (e) => events.push(e),
    })
    expect(events).toEqual([
      { phase: 'score', rows: 1_000, totalRows: ROWS },
      { phase: 'score', rows: 2_000, totalRows: ROWS },
      { phase: 'score', rows: 3_000, totalRows: ROWS },
      { phase: 'write', rows: 3_000 },
    ])
  })

  it('stops when aborted, leaving neither the output nor temporary files', async () => {
    const controller = new AbortController()
    const out = join(tmp.path, 'aborted.parquet')
    const error = await scoreToFile({
      model: servable('sgd-regressor'),
      data: flights,
      out,
      batchSize: 100,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect((error as Error).name).toBe('AbortError')
    expect(readdirSync(tmp.path)).not.toContain('aborted.parquet')
    expect(leftovers(tmp.path)).toEqual([])
  })

  it('refuses bad input before writing anything, naming what is wrong', async () => {
    const s = servable('sgd-classifier', { shuffle: false })
    const out = (name: string) => join(tmp.path, name)
    const base = { model: s, data: flights }
    await expectFailure({ ...base, out: out('x.json') }, 'INVALID_ARGUMENT', /must end in \.parquet or \.csv/)
    await expectFailure({ ...base, out: join(tmp.path, 'no', 'x.csv') }, 'INVALID_ARGUMENT', /folder does not exist/)
    await expectFailure({ ...base, out: flights }, 'INVALID_ARGUMENT', /is one of the input files/)
    await mkdir(join(tmp.path, 'folder.parquet'), { recursive: true })
    await expectFailure({ ...base, out: join(tmp.path, 'folder.parquet') }, 'INVALID_ARGUMENT', /it is a folder/)
    await expectFailure({ ...base, out: out('x.csv'), columns: ['nope'] }, 'UNKNOWN_COLUMN', /unknown column 'nope'/)
    await expectFailure({ ...base, out: out('x.csv'), columns: ['origin', 'origin'] }, 'INVALID_ARGUMENT', /twice/)
    await expectFailure(
      { ...base, out: out('x.csv'), contributions: true },
      'UNSUPPORTED_OPERATION',
      /need a tree model .* is a 'sgd-classifier'/,
    )
    await expectFailure(
      { model: 'nope', registry: { home: join(tmp.path, 'empty-home') }, data: flights, out: out('x.csv') },
      'MODEL_NOT_FOUND',
      /No model named 'nope'/,
    )
    await expectFailure(
      { ...base, data: join(tmp.path, 'none-*.parquet'), out: out('x.csv') },
      'SOURCE_NOT_FOUND',
      /no file matches/,
    )

    const db = await openDuckDb()
    const renamed = join(tmp.path, 'renamed.parquet')
    const retyped = join(tmp.path, 'retyped.parquet')
    const clash = join(tmp.path, 'clash.parquet')
    await db.connection.run(
      `COPY (SELECT date, distance AS miles, origin, destination FROM '${flights}') TO '${renamed}' (FORMAT parquet)`,
    )
    await db.connection.run(
      `COPY (SELECT date, CAST(distance AS VARCHAR) AS distance, 7 AS origin, destination FROM '${flights}') TO '${retyped}' (FORMAT parquet)`,
    )
    await db.connection.run(`COPY (SELECT *, delay > 15 AS label FROM '${flights}') TO '${clash}' (FORMAT parquet)`)
    await db.close()
    await expectFailure(
      { ...base, data: renamed, out: out('x.csv') },
      'UNKNOWN_COLUMN',
      /lacks the input column 'distance' of model sgd-classifier:1 .* the data has date, miles, origin, destination/,
    )
    await expectFailure(
      { ...base, data: retyped, out: out('x.csv') },
      'INVALID_DATA',
      /'distance' is VARCHAR in the data; model sgd-classifier:1 takes it as a number \(int\); 'origin' is INTEGER in the data; .* as a string/,
    )
    await expectFailure({ ...base, data: clash, out: out('x.csv') }, 'INVALID_ARGUMENT', /two columns named 'label'/)
    // Keeping the other columns resolves the clash.
    const ok = await scoreToFile({ ...base, data: clash, out: out('ok.csv'), columns: ['origin'] })
    expect(ok.columns).toEqual(['origin', 'probability', 'label'])
  })
})

describe('scoreToFile with contributions', () => {
  it('writes TreeSHAP contributions of a GBDT classifier that sum to its margin', async () => {
    const y = labelsOf('boolean')
    const model = new GbdtClassifier({ nEstimators: 20, maxLeaves: 8, seed: 1 })
    const s = treeServable(model as unknown as AnyEstimator, (X) => model.fit(X, y))
    const out = join(tmp.path, 'gbdt-contribs.parquet')
    const summary = await scoreToFile({
      model: s,
      data: flights,
      out,
      columns: [],
      contributions: true,
      batchSize: 999,
    })
    expect(summary.columns).toEqual(['probability', 'label', 'contrib_distance', 'contrib_date', 'contrib_bias'])
    const rows = await readRows(out)
    const margins = model.decisionFunction(s.pipeline.transform(all))
    let worst = 0
    rows.forEach((row, r) => {
      const sum = Number(row['contrib_distance']) + Number(row['contrib_date']) + Number(row['contrib_bias'])
      worst = Math.max(worst, Math.abs(sum - margins[r]!))
      expect(row['probability']).toBeCloseTo(1 / (1 + Math.exp(-margins[r]!)), 12)
    })
    expect(worst).toBeLessThan(1e-6)
    // Both features matter somewhere: the contributions are not all zero.
    expect(rows.some((row) => row['contrib_date'] !== 0)).toBe(true)
    expect(rows.some((row) => row['contrib_distance'] !== 0)).toBe(true)
  })

  it('sums to the prediction of a GBDT regressor and to the positive-class probability of a random forest', async () => {
    const regressor = new GbdtRegressor({ nEstimators: 15, maxLeaves: 8, seed: 1 })
    const forest = new RandomForestClassifier({ nEstimators: 5, maxDepth: 6, seed: 1 })
    for (const [model, fit, raw] of [
      [regressor, (X: Parameters<GbdtClassifier['fit']>[0]) => regressor.fit(X, labelsOf('numeric')), 'value'],
      [forest, (X: Parameters<GbdtClassifier['fit']>[0]) => forest.fit(X, labelsOf('boolean')), 'probability'],
    ] as const) {
      const s = treeServable(model as unknown as AnyEstimator, fit)
      const out = join(tmp.path, `${model.kind}-contribs.csv`)
      await scoreToFile({ model: s, data: flights, out, columns: [], contributions: true })
      for (const row of await readRows(out)) {
        const sum = Number(row['contrib_distance']) + Number(row['contrib_date']) + Number(row['contrib_bias'])
        expect(Math.abs(sum - Number(row[raw]))).toBeLessThan(1e-6)
      }
    }
  })

  interface Expected {
    rows: number
    cols: number
    X: (number | null)[]
    margin: number[]
    pred: number[]
    contribs: number[]
  }

  for (const [name, classes] of [
    ['binary-logistic-categorical', 1],
    ['multi-softprob', 3],
  ] as const) {
    it(`matches xgboost's pred_contribs (1e-5) and predict (1e-6) for the imported ${name} fixture`, async () => {
      const home = join(tmp.path, `xgb-${name}`)
      const registry = await openRegistry({ home })
      await registry.register(
        name,
        await importModelFile('xgboost-json', new URL(`${name}.model.json`, XGB_FIXTURES).pathname),
      )
      const names = (await registry.show(name)).inputSchema.map((f) => f.name)
      await registry.close()
      const expected = JSON.parse(readFileSync(new URL(`${name}.expected.json`, XGB_FIXTURES), 'utf8')) as Expected
      // The fixture rows as a CSV file: missing values are empty fields, read as nulls.
      const data = join(tmp.path, `${name}.csv`)
      const lines = [names.join(',')]
      for (let r = 0; r < expected.rows; r++) {
        lines.push(
          expected.X.slice(r * expected.cols, (r + 1) * expected.cols)
            .map((v) => (v === null ? '' : String(v)))
            .join(','),
        )
      }
      writeFileSync(data, `${lines.join('\n')}\n`)
      const out = join(tmp.path, `${name}-scores.parquet`)
      const summary = await scoreToFile({
        model: name,
        registry: { home },
        data,
        out,
        columns: [],
        contributions: true,
      })
      const width = names.length + 1
      const contribNames = Array.from({ length: classes }, (_, k) =>
        [...names, 'bias'].map((f) => (classes === 1 ? `contrib_${f}` : `contrib_${k}_${f}`)),
      ).flat()
      expect(summary.columns).toEqual(['probability', 'label', ...contribNames])
      const rows = await readRows(out)
      expect(rows.length).toBe(expected.rows)
      let worstContrib = 0
      let worstPred = 0
      rows.forEach((row, r) => {
        contribNames.forEach((column, j) => {
          worstContrib = Math.max(
            worstContrib,
            Math.abs(Number(row[column]) - expected.contribs[r * classes * width + j]!),
          )
        })
        if (classes === 1) worstPred = Math.max(worstPred, Math.abs(Number(row['probability']) - expected.pred[r]!))
        else {
          const p = expected.pred.slice(r * classes, (r + 1) * classes)
          const best = p.indexOf(Math.max(...p))
          expect(row['label']).toBe(best)
          worstPred = Math.max(worstPred, Math.abs(Number(row['probability']) - p[best]!))
        }
      })
      expect(worstContrib).toBeLessThan(1e-5)
      expect(worstPred).toBeLessThan(1e-6)
    })
  }
})

/**
 * The flights GBDT of the tree-inference bench: 100 trees trained once by the built CLI on flights-3m (the recipe of
 * the serving bench and the README: date, distance, origin, destination → `delay > 15`, holdout by date), kept in
 * `.bench-data/trees/home`; and the model's feature rows for the first rows of the file, through the model's own
 * pipeline (what `scaleml predict` feeds the trees).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { openFileSource } from '../../src/data/sources/file-source.js'
import { openDuckDb } from '../../src/infra/duckdb.js'
import { treeEnsembleOf } from '../../src/models/trees/ensemble-of.js'
import type { TreeEnsemble } from '../../src/models/trees/tree-ensemble.js'
import { openRegistry } from '../../src/registry/registry.js'
import { loadServableModel } from '../../src/serve/model-loader.js'
import type { ServableModel } from '../../src/serve/predictor.js'
import { BENCH_DATA, CLI, flightsParquet } from '../lib/peers.js'

/** Where the bench keeps its registry and files. */
export const TREES_DATA = join(BENCH_DATA, 'trees')
/** The registry home of the bench model. */
export const TREES_HOME = join(TREES_DATA, 'home')
/** The registered name of the flights GBDT. */
export const FLIGHTS_GBDT = 'bench-trees-gbdt'

/** Trains and registers the flights GBDT unless it is registered already (or `retrain`). */
export function ensureFlightsModel(retrain: boolean): void {
  const list = spawnSync(process.execPath, [CLI, 'models', 'list', '--home', TREES_HOME, '--json'], {
    encoding: 'utf8',
  })
  const have = list.status === 0 && list.stdout.includes(`"${FLIGHTS_GBDT}"`)
  if (have && !retrain) return
  mkdirSync(TREES_HOME, { recursive: true })
  process.stderr.write(`training ${FLIGHTS_GBDT} (100 trees, once; --retrain to redo)\n`)
  const args = [
    CLI,
    'train',
    '--data',
    flightsParquet(),
    '--target',
    'delay > 15',
    '--features',
    'date,distance,origin,destination',
    '--holdout',
    'time:date:0.1',
    '--model',
    'gbdt',
    '--param',
    'nEstimators=100',
    '--register',
    FLIGHTS_GBDT,
    '--home',
    TREES_HOME,
  ]
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] })
  if (result.status !== 0) throw new Error(`scaleml train ${FLIGHTS_GBDT} failed (exit ${result.status})`)
}

/** The registered flights GBDT, loaded as `scaleml predict` loads it, and its ensemble. */
export async function loadFlightsModel(): Promise<{ servable: ServableModel; ensemble: TreeEnsemble }> {
  const registry = await openRegistry({ home: TREES_HOME })
  try {
    const servable = await loadServableModel(registry, FLIGHTS_GBDT)
    const ensemble = treeEnsembleOf(servable.model)
    if (ensemble === undefined) throw new Error(`${FLIGHTS_GBDT} is not a tree model`)
    return { servable, ensemble }
  } finally {
    await registry.close()
  }
}

/** The model's feature rows (row-major float32) of the first `rows` rows of flights-3m. */
export async function flightsFeatureRows(servable: ServableModel, rows: number): Promise<Float32Array> {
  const source = await openFileSource({
    path: flightsParquet(),
    columns: servable.pipeline.inputSchema.fields.map((f) => f.name),
    batchSize: 65_536,
  })
  const width = servable.pipeline.outputNames().length
  const X = new Float32Array(rows * width)
  let at = 0
  try {
    for await (const batch of source) {
      const part = servable.pipeline.transform(batch).data
      const take = Math.min(part.length, X.length - at)
      X.set(part.subarray(0, take), at)
      at += take
      if (at === X.length) break
    }
  } finally {
    await source.close()
  }
  if (at < X.length) throw new Error(`flights-3m has fewer than ${rows} rows`)
  return X
}

/** A Parquet file of the first `rows` rows of flights-3m (written once), for the slower end-to-end runs. */
export async function flightsHead(rows: number): Promise<string> {
  const out = join(TREES_DATA, `flights-head-${rows}.parquet`)
  if (existsSync(out)) return out
  mkdirSync(TREES_DATA, { recursive: true })
  const db = await openDuckDb({ threads: 1 })
  try {
    await db.connection.run(
      `COPY (SELECT * FROM read_parquet('${flightsParquet()}') LIMIT ${rows}) TO '${out}' (FORMAT parquet)`,
    )
  } finally {
    await db.close()
  }
  return out
}

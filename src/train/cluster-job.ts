/**
 * A clustering job (`scaleml train --model minibatch-kmeans`, no target): fit the preprocessing in one streaming
 * pass, then `partialFit` the clusterer on mini-batches for N passes, and report the inertia on the holdout (or the
 * training rows). Memory is O(batch).
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { DenseMatrix } from '../core/matrix.js'
import { parseParamAssignments } from '../core/params.js'
import type { Field } from '../data/batch.js'
import { fingerprintFiles } from '../data/fingerprint.js'
import type { Source } from '../data/source.js'
import { describeFile, openFileSource } from '../data/sources/file-source.js'
import { filterRows, isHoldoutRow, parseHoldout, resolveTimeCutoff } from '../data/split.js'
import { modelEntry } from '../models/catalog.js'
import type { Clusterer } from '../models/estimator.js'
import { autoPipeline } from '../preprocess/auto-pipeline.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import type { ProgressListener } from './progress.js'

/** What to cluster. */
export interface ClusterJobOptions {
  readonly data: string
  /** Feature columns (default: every readable column). */
  readonly features?: readonly string[]
  /** A clustering model of the catalog (`minibatch-kmeans`). */
  readonly model: string
  readonly params?: Readonly<Record<string, unknown>>
  readonly paramAssignments?: readonly string[]
  readonly epochs?: number
  /** Rows read per batch (memory). */
  readonly batchSize?: number
  /** Rows per `partialFit` call (scikit-learn's MiniBatchKMeans `batch_size`; default 1024). */
  readonly miniBatchRows?: number
  /** `time:<column>:<fraction>` or `random:<fraction>`: rows scored for the reported inertia. */
  readonly holdout?: string
  readonly seed?: number
  readonly onProgress?: ProgressListener
}

/** A fitted clusterer with what its artifact needs. */
export interface ClusterJobResult {
  readonly modelKind: string
  readonly task: 'clustering'
  readonly model: Clusterer
  readonly pipeline: Pipeline
  readonly inputSchema: readonly Field[]
  readonly features: readonly string[]
  readonly params: Readonly<Record<string, unknown>>
  /** `inertia` and `meanSquaredDistance` over the holdout (or the training rows without one). */
  readonly metrics: Readonly<Record<string, number>>
  readonly holdout?: { readonly spec: string; readonly rows: number }
  readonly lineage: {
    readonly dataFingerprint: string
    readonly dataDescription: string
    readonly rows: number
    readonly seed: number
    readonly epochs: number
  }
  readonly seconds: number
  readonly timings: { readonly fitPipeline: number; readonly train: number; readonly evaluate: number }
}

/** Runs a clustering job end to end. */
export async function clusterJob(options: ClusterJobOptions): Promise<ClusterJobResult> {
  const started = performance.now()
  const epochs = options.epochs ?? 1
  const seed = options.seed ?? 0
  const batchSize = options.batchSize ?? 65_536
  const miniBatchRows = options.miniBatchRows ?? 1024
  for (const [flag, value] of [
    ['--epochs', epochs],
    ['--batch-size', batchSize],
    ['mini-batch rows', miniBatchRows],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ScalemlError('INVALID_ARGUMENT', `${flag} must be a whole number ≥ 1; got ${value}.`)
    }
  }
  const entry = modelEntry(options.model)
  if (entry.task !== 'clustering') {
    throw new ScalemlError('INVALID_ARGUMENT', `'${options.model}' is a ${entry.task} model; it needs --target.`)
  }
  const params = {
    seed,
    ...(options.params ?? {}),
    ...parseParamAssignments(options.model, entry.constraints, options.paramAssignments ?? []),
  }
  entry.validate(params)
  const model = entry.create(params) as Clusterer

  const { schema } = await describeFile(options.data)
  const features = options.features?.length ? [...options.features] : schema.fields.map((f) => f.name)
  const pipeline = autoPipeline(schema, features)

  let testWhere: string | undefined
  let trainWhere: string | undefined
  let keepTrain: ((row: number) => boolean) | undefined
  let keepTest: ((row: number) => boolean) | undefined
  if (options.holdout) {
    const spec = parseHoldout(options.holdout)
    if (spec.kind === 'time') {
      const cut = await resolveTimeCutoff(options.data, spec.column, spec.fraction)
      trainWhere = cut.trainWhere
      testWhere = cut.testWhere
    } else {
      keepTrain = (i) => !isHoldoutRow(seed, i, spec.fraction)
      keepTest = (i) => isHoldoutRow(seed, i, spec.fraction)
    }
  }
  const open = async (where: string | undefined, keep: ((row: number) => boolean) | undefined): Promise<Source> => {
    const source = await openFileSource({
      path: options.data,
      columns: features,
      batchSize,
      ...(where === undefined ? {} : { where }),
    })
    return keep ? filterRows(source, keep) : source
  }
  const train = await open(trainWhere, keepTrain)
  const test = options.holdout ? await open(testWhere, keepTest) : undefined
  try {
    const fitStarted = performance.now()
    let rows = 0
    for await (const batch of train) {
      pipeline.partialFit(batch)
      rows += batch.length
      options.onProgress?.({ phase: 'fit-pipeline', rows })
    }
    if (rows === 0) throw new ScalemlError('EMPTY_SOURCE', `No training rows in ${options.data}.`)

    const trainStarted = performance.now()
    let buffer: Float32Array = new Float32Array(0)
    const featuresOf = (batch: Parameters<Pipeline['transform']>[0]): DenseMatrix => {
      const X = pipeline.transform(batch, buffer)
      if (X.data.buffer !== buffer.buffer) buffer = X.data
      return X
    }
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let seen = 0
      for await (const batch of train) {
        const X = featuresOf(batch)
        for (let start = 0; start < X.rows; start += miniBatchRows) {
          const end = Math.min(start + miniBatchRows, X.rows)
          // Row-major rows are contiguous, so a mini-batch is a view, not a copy.
          model.partialFit({ data: X.data.subarray(start * X.cols, end * X.cols), rows: end - start, cols: X.cols })
        }
        seen += batch.length
        options.onProgress?.({ phase: 'train', epoch, epochs, rows: seen, totalRows: rows })
      }
    }

    const evaluateStarted = performance.now()
    let inertia = 0
    let scored = 0
    for await (const batch of test ?? train) {
      if (batch.length === 0) continue
      inertia += model.inertia(featuresOf(batch))
      scored += batch.length
      options.onProgress?.({ phase: 'evaluate', rows: scored })
    }
    const metrics: Record<string, number> = scored > 0 ? { inertia, meanSquaredDistance: inertia / scored } : {}
    return {
      modelKind: options.model,
      task: 'clustering',
      model,
      pipeline,
      inputSchema: pipeline.inputSchema.fields,
      features,
      params: model.params,
      metrics,
      ...(options.holdout ? { holdout: { spec: options.holdout, rows: scored } } : {}),
      lineage: {
        dataFingerprint: await fingerprintFiles(options.data),
        dataDescription: options.data,
        rows,
        seed,
        epochs,
      },
      seconds: (performance.now() - started) / 1000,
      timings: {
        fitPipeline: (trainStarted - fitStarted) / 1000,
        train: (evaluateStarted - trainStarted) / 1000,
        evaluate: (performance.now() - evaluateStarted) / 1000,
      },
    }
  } finally {
    await train.close()
    await test?.close()
  }
}

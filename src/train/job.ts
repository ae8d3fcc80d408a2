/**
 * A whole training job as a library call: resolve target and features against the data, split off a holdout,
 * fit the preprocessing in one streaming pass, train for N passes, evaluate on the holdout. The result holds
 * everything an artifact needs; registering it is the caller's business (the registry sits above this layer).
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { validateParams } from '../core/params.js'
import type { Field, Schema } from '../data/batch.js'
import { fingerprintFiles } from '../data/fingerprint.js'
import type { Source } from '../data/source.js'
import { describeFile, openFileSource } from '../data/sources/file-source.js'
import { filterRows, isHoldoutRow, parseHoldout, resolveTimeCutoff } from '../data/split.js'
import { MODEL_CATALOG, createModel } from '../models/catalog.js'
import type { SupervisedEstimator } from '../models/estimator.js'
import { autoPipeline } from '../preprocess/auto-pipeline.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import { evaluateStream } from './evaluate.js'
import { extractLabels } from './labels.js'
import { fitStream } from './loop.js'
import type { ProgressListener } from './progress.js'
import { TARGET_COLUMN, resolveTarget } from './target.js'

/** What to train. Mirrors `scaleml train` flags. */
export interface TrainJobOptions {
  /** File or glob (Parquet, CSV). */
  readonly data: string
  /** A column name or a SQL expression over the columns (`delay > 15`). */
  readonly target: string
  /** Feature columns; default: every column the target does not read. */
  readonly features?: readonly string[]
  /** Model name from the catalog; default: `sgd-classifier` for boolean targets, `sgd-regressor` otherwise. */
  readonly model?: string
  /** Hyperparameters (already parsed). */
  readonly params?: Readonly<Record<string, unknown>>
  readonly epochs?: number
  readonly batchSize?: number
  /** `time:<column>:<fraction>` or `random:<fraction>`; none → no holdout metrics. */
  readonly holdout?: string
  readonly seed?: number
  readonly onProgress?: ProgressListener
}

/** A trained model with everything its artifact needs. */
export interface TrainJobResult {
  readonly modelKind: string
  readonly task: 'classification' | 'regression'
  readonly model: SupervisedEstimator
  readonly pipeline: Pipeline
  readonly inputSchema: readonly Field[]
  readonly features: readonly string[]
  readonly target: { readonly expression: string; readonly kind: 'boolean' | 'numeric' }
  readonly params: Readonly<Record<string, unknown>>
  readonly metrics: Readonly<Record<string, number>>
  readonly holdout?: { readonly spec: string; readonly rows: number; readonly cutoff?: string }
  readonly lineage: {
    readonly dataFingerprint: string
    readonly dataDescription: string
    readonly rows: number
    readonly seed: number
    readonly epochs: number
  }
  readonly seconds: number
}

/** Runs a training job end to end. */
export async function trainJob(options: TrainJobOptions): Promise<TrainJobResult> {
  const started = performance.now()
  const epochs = options.epochs ?? 1
  const seed = options.seed ?? 0
  const batchSize = options.batchSize ?? 65_536
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `--epochs must be a whole number ≥ 1; got ${epochs}.`)
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `--batch-size must be a whole number ≥ 1; got ${batchSize}.`)
  }
  const { schema, rows: totalRows } = await describeFile(options.data)
  const target = resolveTarget(options.target, schema)
  const features = options.features?.length
    ? [...options.features]
    : schema.fields.map((f) => f.name).filter((name) => !target.columns.includes(name))
  if (features.length === 0) {
    throw new ScalemlError('INVALID_ARGUMENT', `No features left: the target '${target.expression}' reads every column.`)
  }
  for (const name of features) {
    if (target.columns.includes(name)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `The feature '${name}' is read by the target '${target.expression}'; training on it would leak the label.`,
      )
    }
  }
  const pipeline = autoPipeline(schema, features)

  const split = await planSplit(options, schema, seed, totalRows)
  const open = (where: string | undefined): Promise<Source> =>
    Promise.resolve(
      openFileSource({
        path: options.data,
        columns: features,
        expressions: [{ name: TARGET_COLUMN, sql: target.sql }],
        ...(where === undefined ? {} : { where }),
        batchSize,
      }),
    )
  const trainSource = split.wrapTrain(await open(split.trainWhere))
  const testSource = split.hasTest ? split.wrapTest(await open(split.testWhere)) : undefined

  try {
    const targetField = (await trainSource.schema()).fields.find((f) => f.name === TARGET_COLUMN)
    if (!targetField) throw new ScalemlError('INVALID_EXPRESSION', `The target '${target.expression}' produced no column.`)
    if (targetField.type === 'string' || targetField.type === 'timestamp') {
      throw new ScalemlError(
        'INVALID_EXPRESSION',
        `The target '${target.expression}' is of type ${targetField.type}; it must be a boolean (classification) or a number (regression).`,
      )
    }
    const targetKind = targetField.type === 'bool' ? 'boolean' : 'numeric'
    const modelKind = options.model ?? (targetKind === 'boolean' ? 'sgd-classifier' : 'sgd-regressor')
    const model = createModel(modelKind, { seed, ...(options.params ?? {}) }) as SupervisedEstimator
    // Parameters are checked now rather than on the first partialFit, which comes after a full pass over the data.
    validateParams(modelKind, MODEL_CATALOG[modelKind as keyof typeof MODEL_CATALOG].constraints, model.params)

    // Pass 1: preprocessing statistics and the label values, in one streaming read.
    const labelValues = new Set<number>()
    let trainRows = 0
    const fitTotal = split.expectedTrainRows
    for await (const raw of trainSource) {
      const { batch, y } = extractLabels(raw, TARGET_COLUMN)
      pipeline.partialFit(batch)
      if (model.task === 'classification') collectLabels(y, labelValues, target.expression)
      trainRows += batch.length
      options.onProgress?.({ phase: 'fit-pipeline', rows: trainRows, totalRows: fitTotal })
    }
    if (trainRows === 0) {
      throw new ScalemlError('EMPTY_SOURCE', `No training rows with a non-null target in ${options.data}${split.describe}.`)
    }
    const classes = model.task === 'classification' ? checkClasses(labelValues, target.expression, targetKind) : undefined

    await fitStream(model, pipeline, trainSource, {
      epochs,
      targetColumn: TARGET_COLUMN,
      ...(classes ? { classes } : {}),
      totalRows: trainRows,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    })

    let metrics: Record<string, number> = {}
    let holdoutRows = 0
    if (testSource) {
      const evaluation = await evaluateStream(model, pipeline, testSource, {
        targetColumn: TARGET_COLUMN,
        totalRows: Math.max(totalRows - trainRows, 0),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      })
      metrics = evaluation.metrics
      holdoutRows = evaluation.rows
      if (holdoutRows === 0) {
        throw new ScalemlError('EMPTY_SOURCE', `The holdout '${options.holdout}' selected no rows with a non-null target.`)
      }
    }

    return {
      modelKind,
      task: model.task,
      model,
      pipeline,
      inputSchema: pipeline.inputSchema.fields,
      features,
      target: { expression: target.expression, kind: targetKind },
      params: model.params,
      metrics,
      ...(options.holdout
        ? {
            holdout: {
              spec: options.holdout,
              rows: holdoutRows,
              ...(split.cutoff === undefined ? {} : { cutoff: new Date(split.cutoff).toISOString() }),
            },
          }
        : {}),
      lineage: {
        dataFingerprint: await fingerprintFiles(options.data),
        dataDescription: options.data,
        rows: trainRows,
        seed,
        epochs,
      },
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    await trainSource.close()
    await testSource?.close()
  }
}

interface SplitPlan {
  readonly trainWhere?: string
  readonly testWhere?: string
  readonly cutoff?: number
  readonly expectedTrainRows: number
  readonly describe: string
  readonly hasTest: boolean
  wrapTrain(source: Source): Source
  wrapTest(source: Source): Source
}

async function planSplit(options: TrainJobOptions, schema: Schema, seed: number, totalRows: number): Promise<SplitPlan> {
  const identity = (s: Source) => s
  if (!options.holdout) {
    return { expectedTrainRows: totalRows, describe: '', hasTest: false, wrapTrain: identity, wrapTest: identity }
  }
  const spec = parseHoldout(options.holdout)
  if (spec.kind === 'random') {
    return {
      expectedTrainRows: Math.round(totalRows * (1 - spec.fraction)),
      describe: ` after holding out ${spec.fraction} at random`,
      wrapTrain: (s) => filterRows(s, (i) => !isHoldoutRow(seed, i, spec.fraction)),
      wrapTest: (s) => filterRows(s, (i) => isHoldoutRow(seed, i, spec.fraction)),
      hasTest: true,
    }
  }
  const cut = await resolveTimeCutoff(options.data, spec.column, spec.fraction)
  const isTime = schema.fields.find((f) => f.name === spec.column)?.type === 'timestamp'
  return {
    trainWhere: cut.trainWhere,
    testWhere: cut.testWhere,
    ...(isTime ? { cutoff: cut.cutoff } : {}),
    expectedTrainRows: cut.rows - cut.testRows,
    describe: ` before ${isTime ? new Date(cut.cutoff).toISOString() : cut.cutoff}`,
    hasTest: true,
    wrapTrain: identity,
    wrapTest: identity,
  }
}

const MAX_CLASSES = 1000

function collectLabels(y: Float64Array, into: Set<number>, expression: string): void {
  for (let i = 0; i < y.length; i++) {
    into.add(y[i]!)
    if (into.size > MAX_CLASSES) {
      throw new ScalemlError(
        'INVALID_DATA',
        `The target '${expression}' takes more than ${MAX_CLASSES} distinct values; a classifier needs a categorical label (use a regressor for a numeric target).`,
      )
    }
  }
}

function checkClasses(values: Set<number>, expression: string, kind: 'boolean' | 'numeric'): number[] {
  const classes = [...values].sort((a, b) => a - b)
  if (classes.length < 2) {
    const only = classes[0]
    const shown = kind === 'boolean' ? String(only === 1) : String(only)
    throw new ScalemlError(
      'INVALID_DATA',
      `The target '${expression}' is ${shown} for every training row; a classifier needs at least two classes.`,
    )
  }
  return classes
}

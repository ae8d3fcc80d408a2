/**
 * A whole training job as a library call: resolve target and features against the data, split off a holdout,
 * fit the preprocessing in one streaming pass, train for N passes, evaluate on the holdout. The result holds
 * everything an artifact needs; registering it is the caller's business (the registry sits above this layer).
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { parseParamAssignments } from '../core/params.js'
import type { Field, Schema } from '../data/batch.js'
import { findNonNumeric } from '../data/checks.js'
import { fingerprintFiles } from '../data/fingerprint.js'
import type { Source } from '../data/source.js'
import { describeFile, openFileSource } from '../data/sources/file-source.js'
import { filterRows, isHoldoutRow, parseHoldout, resolveTimeCutoff } from '../data/split.js'
import { modelEntry } from '../models/catalog.js'
import type { SupervisedEstimator } from '../models/estimator.js'
import { autoPipeline } from '../preprocess/auto-pipeline.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import { evaluateStream } from './evaluate.js'
import { extractLabels } from './labels.js'
import { fitStream } from './loop.js'
import type { ProgressListener } from './progress.js'
import { quoteIdent, resolveTarget, TARGET_COLUMN } from './target.js'

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
  /**
   * Hyperparameters as `key=value` text (CLI `--param`; camelCase or snake_case keys), parsed with the constraint
   * table of the model finally chosen. Applied over `params`.
   */
  readonly paramAssignments?: readonly string[]
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
  /** Wall time of the whole job. */
  readonly seconds: number
  /** Wall time of each phase: the preprocessing pass, the training epochs, the holdout evaluation. */
  readonly timings: { readonly fitPipeline: number; readonly train: number; readonly evaluate: number }
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
  const specs = (options.features?.length ? options.features : undefined)?.map(parseFeatureSpec)
  const features = specs
    ? specs.map((f) => f.name)
    : schema.fields.map((f) => f.name).filter((name) => !target.columns.includes(name))
  if (features.length === 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `No features left: the target '${target.expression}' reads every column.`,
    )
  }
  for (const name of features) {
    if (target.columns.includes(name)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `The feature '${name}' is read by the target '${target.expression}'; training on it would leak the label.`,
      )
    }
    if (!schema.fields.some((f) => f.name === name)) {
      throw new ScalemlError(
        'UNKNOWN_COLUMN',
        `The feature '${name}' is not a column of ${options.data}. Columns: ${schema.fields.map((f) => f.name).join(', ')}.`,
      )
    }
  }
  const casts = await declaredTypeCasts(options.data, schema, specs ?? [])

  const split = await planSplit(options, schema, seed, totalRows)
  const open = (where: string | undefined): Promise<Source> =>
    Promise.resolve(
      openFileSource({
        path: options.data,
        columns: features.filter((name) => !casts.some((c) => c.name === name)),
        expressions: [...casts, { name: TARGET_COLUMN, sql: target.sql }],
        ...(where === undefined ? {} : { where }),
        batchSize,
      }),
    )
  const trainSource = split.wrapTrain(await open(split.trainWhere))
  const testSource = split.hasTest ? split.wrapTest(await open(split.testWhere)) : undefined

  try {
    const sourceSchema = await trainSource.schema()
    const pipeline = autoPipeline(sourceSchema, features)
    const targetField = sourceSchema.fields.find((f) => f.name === TARGET_COLUMN)
    if (!targetField)
      throw new ScalemlError('INVALID_EXPRESSION', `The target '${target.expression}' produced no column.`)
    if (targetField.type === 'string' || targetField.type === 'timestamp') {
      throw new ScalemlError(
        'INVALID_EXPRESSION',
        `The target '${target.expression}' is of type ${targetField.type}; it must be a boolean (classification) or a number (regression).`,
      )
    }
    const targetKind = targetField.type === 'bool' ? 'boolean' : 'numeric'
    const modelKind = options.model ?? (targetKind === 'boolean' ? 'sgd-classifier' : 'sgd-regressor')
    const entry = modelEntry(modelKind)
    const params = {
      seed,
      ...(options.params ?? {}),
      ...parseParamAssignments(modelKind, entry.constraints, options.paramAssignments ?? []),
    }
    // Checked now rather than on the first partialFit, which comes only after a full pass over the data.
    entry.validate(params)
    const model = entry.create(params)

    const fitStarted = performance.now()
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
      throw new ScalemlError(
        'EMPTY_SOURCE',
        `No training rows with a non-null target in ${options.data}${split.describe}.`,
      )
    }
    const classes =
      model.task === 'classification' ? checkClasses(labelValues, target.expression, targetKind) : undefined

    const trainStarted = performance.now()
    await fitStream(model, pipeline, trainSource, {
      epochs,
      targetColumn: TARGET_COLUMN,
      ...(classes ? { classes } : {}),
      totalRows: trainRows,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    })

    const evaluateStarted = performance.now()
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
        throw new ScalemlError(
          'EMPTY_SOURCE',
          `The holdout '${options.holdout}' selected no rows with a non-null target.`,
        )
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
      timings: {
        fitPipeline: (trainStarted - fitStarted) / 1000,
        train: (evaluateStarted - trainStarted) / 1000,
        evaluate: (performance.now() - evaluateStarted) / 1000,
      },
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

async function planSplit(
  options: TrainJobOptions,
  schema: Schema,
  seed: number,
  totalRows: number,
): Promise<SplitPlan> {
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

/** How a feature is to be treated when its file type says otherwise: `distance:numeric`, `airline_id:categorical`. */
export type FeatureKind = 'numeric' | 'categorical'

/** A feature name with an optional declared kind. */
export interface FeatureSpec {
  readonly name: string
  readonly kind?: FeatureKind
}

/** Parses `name` or `name:numeric|categorical`. */
export function parseFeatureSpec(spec: string): FeatureSpec {
  const colon = spec.lastIndexOf(':')
  if (colon > 0) {
    const kind = spec.slice(colon + 1)
    if (kind === 'numeric' || kind === 'categorical') return { name: spec.slice(0, colon), kind }
  }
  return { name: spec }
}

/**
 * Columns whose declared kind differs from the file's type become computed columns: a string column declared
 * numeric is cast to DOUBLE after checking every value is a number (else INVALID_DATA naming the row and value);
 * a number declared categorical is read as text.
 */
async function declaredTypeCasts(
  data: string,
  schema: Schema,
  specs: readonly FeatureSpec[],
): Promise<{ name: string; sql: string }[]> {
  const casts: { name: string; sql: string }[] = []
  for (const spec of specs) {
    const field = schema.fields.find((f) => f.name === spec.name)
    if (!field || !spec.kind) continue
    const ident = quoteIdent(field.name)
    if (spec.kind === 'numeric') {
      if (field.type === 'string') {
        const bad = await findNonNumeric(data, field.name)
        if (bad) {
          throw new ScalemlError(
            'INVALID_DATA',
            `The feature '${field.name}' is declared numeric but row ${bad.row} of ${data} holds ${JSON.stringify(bad.value)}, which is not a number.`,
            [
              {
                code: 'invalid_type',
                path: ['row', bad.row, field.name],
                message: 'expected a number',
                received: bad.value,
              },
            ],
          )
        }
        casts.push({ name: field.name, sql: `CAST(${ident} AS DOUBLE)` })
      } else if (field.type === 'timestamp') {
        casts.push({ name: field.name, sql: `CAST(epoch_ms(${ident}) AS DOUBLE)` })
      }
    } else if (field.type !== 'string') {
      casts.push({ name: field.name, sql: `CAST(${ident} AS VARCHAR)` })
    }
  }
  return casts
}

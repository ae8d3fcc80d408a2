/**
 * The rows a search trains and validates on, loaded once into memory: the training side of the data (the
 * `--holdout` rows are never read, so the final holdout stays unseen by the search), optionally a uniform or
 * stratified sample of it, turned into model features by the same automatic pipeline `scaleml train` fits
 * (`preprocess/auto-pipeline.ts`; 'trees' encoding for tree models), with labels, each row's index in the data
 * (for the streaming holdout), and an optional group column. Arrays can live in SharedArrayBuffers so worker
 * threads read one copy.
 *
 * The pipeline's statistics (means, category lists) are fitted on all loaded rows, validation folds included, and
 * tree bins likewise: scikit-learn would refit them inside each fold. They carry no label information, and every
 * candidate is compared on the same footing; the refit of the winner fits its own on all training rows.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { type Batch, type Field, takeRows } from '../data/batch.js'
import { fingerprintFiles } from '../data/fingerprint.js'
import type { Source } from '../data/source.js'
import { describeFile, type FileSource, openFileSource } from '../data/sources/file-source.js'
import { detectFormat } from '../data/sources/files.js'
import { isHoldoutRow, parseHoldout, resolveTimeCutoff } from '../data/split.js'
import { resolveModelName, supervisedModelEntry } from '../models/catalog.js'
import { acceptsSparse } from '../models/estimator.js'
import { autoPipeline } from '../preprocess/auto-pipeline.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import { checkFiniteFeatures } from '../train/checks.js'
import { extractLabels } from '../train/labels.js'
import { ROW_INDEX_COLUMN, type RowFilter, scanRows, type TrainingRows } from '../train/rows.js'
import { resolveTarget, TARGET_COLUMN } from '../train/target.js'
import { categoricalOutputs } from '../train/tree-fit.js'
import { stratifiedSample, uniformSample } from './sampling.js'

/** Features of every loaded row: dense row-major, or ELLPACK sparse rows (see `core/matrix.ts`). */
export type FeatureBlock =
  | { readonly kind: 'dense'; readonly rows: number; readonly cols: number; readonly data: Float32Array }
  | {
      readonly kind: 'sparse'
      readonly rows: number
      readonly cols: number
      readonly nnzPerRow: number
      readonly indices: Int32Array
      readonly values: Float32Array
    }

/** What a trial needs of the data (plain data and typed arrays: it travels to worker threads). */
export interface ObjectiveData {
  readonly task: 'classification' | 'regression'
  /** Sorted class labels (classifiers). */
  readonly classes?: readonly number[]
  readonly X: FeatureBlock
  readonly y: Float64Array
  /** Output columns holding category codes (tree models). */
  readonly categoricalFeatures: readonly number[]
  readonly featureNames: readonly string[]
}

/** The loaded rows and what they came from. */
export interface TuningData extends ObjectiveData {
  /** The catalog model the family or name resolved to. */
  readonly modelKind: string
  readonly target: { readonly expression: string; readonly kind: 'boolean' | 'numeric' }
  readonly features: readonly string[]
  readonly inputSchema: readonly Field[]
  readonly pipeline: Pipeline
  /** Each loaded row's index in the data. */
  readonly rowIndex: Float64Array
  /** Each loaded row's group (`groups` column), for group k-fold. */
  readonly groups?: readonly (number | string)[]
  /** Rows of the training side before sampling. */
  readonly trainingRows: number
  readonly dataFingerprint: string
}

/** Options of {@link loadTuningData}. */
export interface LoadTuningDataOptions {
  readonly data: string
  /** A column or a SQL expression (`delay > 15`). */
  readonly target: string
  /** Feature columns; default every column the target does not read (and not the group column). */
  readonly features?: readonly string[]
  /** A catalog model name or family (`gbdt`); default sgd by the target's type. */
  readonly model?: string
  /** `time:<column>:<fraction>` or `random:<fraction>`: rows never loaded (the final holdout, as `scaleml train`). */
  readonly holdout?: string
  /** Seed of the random holdout (the same rows as `scaleml train --seed`) and of the sample. */
  readonly seed?: number
  /** Load a sample: a fraction in (0, 1], stratified by a column (the target's column or `target` for the label). */
  readonly sample?: { readonly fraction: number; readonly stratify?: string }
  /** A column whose values are the groups of group k-fold. */
  readonly groups?: string
  /** Rows per read (default 65,536). */
  readonly batchSize?: number
  /** Allocate the arrays in SharedArrayBuffers (for worker threads). */
  readonly shared?: boolean
}

function float32(n: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n)
}
function float64(n: number, shared: boolean): Float64Array {
  return shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n)
}
function int32(n: number, shared: boolean): Int32Array {
  return shared ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n)
}

/** A pass over a source's rows, filtered (a `Source` for the stratified sampler). */
function rowsSource(data: TrainingRows, keep: RowFilter | undefined, description: string): Source {
  return {
    description,
    schema: () => data.source.schema(),
    close: async () => {},
    [Symbol.asyncIterator]: () => scanRows(data, keep),
  }
}

/**
 * Reads the training rows of `options.data` (or a sample of them) into memory as model features.
 *
 * @throws ScalemlError UNKNOWN_COLUMN, INVALID_ARGUMENT (holdout, sample, a feature the target reads),
 *   INVALID_EXPRESSION (target), INVALID_DATA (one class only, non-finite features), EMPTY_SOURCE.
 * @example
 * const data = await loadTuningData({ data: 'flights.parquet', target: 'delay > 15', model: 'gbdt', sample: { fraction: 0.1 } })
 */
export async function loadTuningData(options: LoadTuningDataOptions): Promise<TuningData> {
  const seed = options.seed ?? 0
  const batchSize = options.batchSize ?? 65_536
  const shared = options.shared ?? false
  const { schema } = await describeFile(options.data)
  const columns = schema.fields.map((f) => f.name)
  const target = resolveTarget(options.target, schema)
  const features = options.features?.length
    ? [...options.features]
    : columns.filter((name) => !target.columns.includes(name) && name !== options.groups)
  for (const name of [...features, ...(options.groups === undefined ? [] : [options.groups])]) {
    if (!columns.includes(name)) {
      throw new ScalemlError(
        'UNKNOWN_COLUMN',
        `The column '${name}' is not a column of ${options.data}. Columns: ${columns.join(', ')}.`,
      )
    }
  }
  const leaking = features.find((name) => target.columns.includes(name))
  if (leaking !== undefined) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The feature '${leaking}' is read by the target '${target.expression}'; training on it would leak the label.`,
    )
  }
  if (features.length === 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `No features left: the target '${target.expression}' reads every column.`,
    )
  }

  let where: string | undefined
  let holdoutKeep: RowFilter | undefined
  if (options.holdout) {
    const spec = parseHoldout(options.holdout)
    if (spec.kind === 'random') holdoutKeep = (i) => !isHoldoutRow(seed, i, spec.fraction)
    else where = (await resolveTimeCutoff(options.data, spec.column, spec.fraction)).trainWhere
  }
  const stratifyColumn =
    options.sample?.stratify === undefined
      ? undefined
      : options.sample.stratify === 'target' || options.sample.stratify === target.expression
        ? TARGET_COLUMN
        : options.sample.stratify
  if (stratifyColumn !== undefined && stratifyColumn !== TARGET_COLUMN && !columns.includes(stratifyColumn)) {
    throw new ScalemlError(
      'UNKNOWN_COLUMN',
      `--stratify names '${stratifyColumn}', which is not a column of ${options.data}. Columns: ${columns.join(', ')} (or 'target' for the label).`,
    )
  }
  const extra = [options.groups, stratifyColumn].filter(
    (c): c is string => c !== undefined && c !== TARGET_COLUMN && !features.includes(c),
  )
  const indexed = detectFormat(options.data).kind === 'parquet'
  const open = (cols: readonly string[]): Promise<FileSource> =>
    openFileSource({
      path: options.data,
      columns: [...cols],
      expressions: [{ name: TARGET_COLUMN, sql: target.sql }],
      ...(where === undefined ? {} : { where }),
      ...(indexed ? { rowIndexColumn: ROW_INDEX_COLUMN } : {}),
      batchSize,
    })
  const source = await open([...features, ...extra])
  try {
    const sourceSchema = await source.schema()
    const targetField = sourceSchema.fields.find((f) => f.name === TARGET_COLUMN)
    if (targetField === undefined || targetField.type === 'string' || targetField.type === 'timestamp') {
      throw new ScalemlError(
        'INVALID_EXPRESSION',
        `The target '${target.expression}' must be a boolean (classification) or a number (regression).`,
      )
    }
    const targetKind = targetField.type === 'bool' ? 'boolean' : 'numeric'
    const task = targetKind === 'boolean' ? 'classification' : 'regression'
    const modelKind = resolveModelName(
      options.model ?? (task === 'classification' ? 'sgd-classifier' : 'sgd-regressor'),
      task,
    )
    const entry = supervisedModelEntry(modelKind)
    if (entry.task !== task) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${modelKind} is a ${entry.task} model, but the target '${target.expression}' is ${targetKind}.`,
      )
    }
    const trees = entry.training === 'fit'
    const data: TrainingRows = { source, indexed, targetColumn: TARGET_COLUMN, batchSize }

    let sampleKeep: RowFilter | undefined
    if (options.sample !== undefined && stratifyColumn === undefined)
      sampleKeep = uniformSample({ fraction: options.sample.fraction, seed })
    else if (options.sample !== undefined && stratifyColumn !== undefined) {
      const light = await open(stratifyColumn === TARGET_COLUMN ? [] : [stratifyColumn])
      try {
        const sample = await stratifiedSample(rowsSource({ ...data, source: light }, holdoutKeep, options.data), {
          column: stratifyColumn,
          fraction: options.sample.fraction,
          seed,
          rowIndexColumn: ROW_INDEX_COLUMN,
        })
        sampleKeep = sample.keep
      } finally {
        await light.close()
      }
    }

    // One pass: collect the selected rows' raw columns (the sample is what fits in memory).
    const batches: Batch[] = []
    let trainingRows = 0
    const numericFeatures = trees
      ? []
      : features.filter((name) => {
          const type = sourceSchema.fields.find((f) => f.name === name)?.type
          return type !== undefined && type !== 'string'
        })
    for await (const raw of scanRows(data, holdoutKeep)) {
      trainingRows += raw.length
      const selected = sampleKeep === undefined ? raw : selectByIndex(raw, sampleKeep)
      if (selected === undefined) continue
      if (numericFeatures.length > 0) checkFiniteFeatures(selected, numericFeatures, options.data)
      batches.push(selected)
    }
    const n = batches.reduce((s, b) => s + b.length, 0)
    if (n === 0) {
      throw new ScalemlError(
        'EMPTY_SOURCE',
        `No rows with a non-null target to tune on in ${options.data}${options.holdout ? ` outside the holdout '${options.holdout}'` : ''}${options.sample ? ` in a ${options.sample.fraction} sample` : ''}.`,
      )
    }
    const pipeline = autoPipeline(sourceSchema, features, trees ? { encoding: 'trees' } : {})
    for (const batch of batches) pipeline.partialFit(batch)
    const sparse = !trees && pipeline.supportsSparse && acceptsSparse(entry.create({}))
    const cols = pipeline.nFeatures
    const y = float64(n, shared)
    const rowIndex = float64(n, shared)
    const groups: (number | string)[] | undefined = options.groups === undefined ? undefined : []
    let X: FeatureBlock
    if (sparse) {
      const nnz = pipeline.nnzPerRow
      const indices = int32(n * nnz, shared)
      const values = float32(n * nnz, shared)
      X = { kind: 'sparse', rows: n, cols, nnzPerRow: nnz, indices, values }
    } else {
      X = { kind: 'dense', rows: n, cols, data: float32(n * cols, shared) }
    }
    let at = 0
    for (const raw of batches) {
      const { batch, y: labels } = extractLabels(raw, TARGET_COLUMN)
      if (X.kind === 'sparse') {
        const rows = pipeline.transformSparse(batch)
        X.indices.set(rows.indices.subarray(0, batch.length * X.nnzPerRow), at * X.nnzPerRow)
        X.values.set(rows.values.subarray(0, batch.length * X.nnzPerRow), at * X.nnzPerRow)
      } else {
        X.data.set(pipeline.transform(batch).data.subarray(0, batch.length * cols), at * cols)
      }
      y.set(labels, at)
      const index = batch.columns.get(ROW_INDEX_COLUMN)
      if (index !== undefined && index.type !== 'string') rowIndex.set(index.values.subarray(0, batch.length), at)
      if (groups !== undefined) {
        const column = batch.columns.get(options.groups!)!
        for (let i = 0; i < batch.length; i++) {
          groups.push(
            column.type === 'string'
              ? (column.dictionary[column.codes[i]!] ?? '')
              : column.nulls?.[i] === 1
                ? Number.NaN
                : column.values[i]!,
          )
        }
      }
      at += batch.length
    }
    let classes: number[] | undefined
    if (task === 'classification') {
      classes = [...new Set(y)].sort((a, b) => a - b)
      if (classes.length < 2) {
        throw new ScalemlError(
          'INVALID_DATA',
          `The target '${target.expression}' takes one value on every loaded row; a classifier needs at least two classes.`,
        )
      }
    }
    return {
      task,
      ...(classes === undefined ? {} : { classes }),
      X,
      y,
      categoricalFeatures: trees ? categoricalOutputs(pipeline) : [],
      featureNames: pipeline.outputNames(),
      modelKind,
      target: { expression: target.expression, kind: targetKind },
      features,
      inputSchema: pipeline.inputSchema.fields,
      pipeline,
      rowIndex,
      ...(groups === undefined ? {} : { groups }),
      trainingRows,
      dataFingerprint: await fingerprintFiles(options.data),
    }
  } finally {
    await source.close()
  }
}

function selectByIndex(batch: Batch, keep: RowFilter): Batch | undefined {
  const index = batch.columns.get(ROW_INDEX_COLUMN)
  if (index === undefined || index.type === 'string') return batch
  const picked: number[] = []
  for (let i = 0; i < batch.length; i++) if (keep(index.values[i]!)) picked.push(i)
  if (picked.length === 0) return undefined
  if (picked.length === batch.length) return batch
  return takeRows(batch, picked)
}

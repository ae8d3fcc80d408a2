/**
 * Training a tree model (gradient boosting, random forest) on a stream: the trees need every row at once, so the
 * rows are reduced to one byte per feature first. Pass 1 sketches each feature's quantiles (mergeable, bounded
 * memory) to choose at most 255 bins; pass 2 writes every row's bins into one column-major `Uint8Array`; then the
 * model grows its trees on the bins alone. Memory is `rows × features` bytes plus one batch — a quarter of the
 * float32 rows, an eighth of float64 — plus the model's per-row training state (margins, gradients, row lists).
 *
 * External memory (gradient boosting): when forced (`externalMemory`), when the estimated in-memory training
 * footprint exceeds `memoryBudget`, or when the bins would not fit one buffer, pass 2 writes the bins and labels
 * straight to chunk files on disk (models/trees/external/) instead, and the model trains over them with its per-row
 * state on disk too; memory then holds one batch, one chunk of each per-row array and the histograms, whatever the
 * row count. The files go in a temporary folder (under `spillDir`, default the OS temp folder) removed at the end.
 * @module
 */
import { formatByteSize } from '../core/byte-size.js'
import { ScalemlError } from '../core/errors.js'
import type { Batch } from '../data/batch.js'
import type { BinMapper, BinnedData, BinningOptions } from '../models/trees/binning.js'
import { DatasetSketch } from '../models/trees/binning.js'
import { ExternalRows } from '../models/trees/external/external-rows.js'
import { planTrainingMemory, type TrainingMemoryPlan } from '../models/trees/external/memory-plan.js'
import type { GbdtEvalSet, GbdtExternalFitOptions } from '../models/trees/gbdt.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import { extractLabels } from './labels.js'
import type { ProgressListener } from './progress.js'

/** Binned rows above this many bytes are refused (a `Uint8Array` holds at most 2^31 − 1 bytes on 64-bit Node 20). */
export const MAX_BINNED_BYTES = 2 ** 31 - 1

/** What a tree model needs to be trained by {@link fitTreeModel}. */
export interface FittableTreeModel {
  readonly kind: string
  readonly task: 'classification' | 'regression'
  /** Hyperparameters (`subsample`, `maxLeaves` size the memory estimate). */
  readonly params?: Readonly<Record<string, unknown>>
  /** Training over rows on disk, for models that support external memory (GBDT). */
  fitExternal?(rows: ExternalRows, options: GbdtExternalFitOptions): void
  fitBinned(
    binned: BinnedData,
    y: Float64Array,
    options: {
      classes?: readonly number[]
      featureNames?: readonly string[]
      evalSet?: GbdtEvalSet
      onIteration?: (event: { iteration: number }) => void
    },
  ): void
}

/** A pass over labelled rows: called once per pass, each call a fresh read in the same order. */
export type RowPass = () => AsyncIterable<Batch>

/** Options of {@link fitTreeModel}. */
export interface TreeFitOptions {
  /** The fitted preprocessing (its 'ordinal' steps give the categorical features). */
  readonly pipeline: Pipeline
  /** The training rows, each pass in the same order. */
  readonly rows: RowPass
  /** Rows per training pass, as counted when the pipeline was fitted. */
  readonly trainRows: number
  readonly targetColumn: string
  /** What the rows are, for messages (`data.parquet (train < 2001-06-13)`). */
  readonly dataLabel: string
  readonly classes?: readonly number[]
  /** Rows that score each boosting round, for early stopping (GBDT only). */
  readonly evalRows?: RowPass
  /** Rounds of the model (progress total); default: unknown. */
  readonly rounds?: number
  readonly seed?: number
  readonly onProgress?: ProgressListener
  /** Bytes training may use for its per-row arrays; above the estimate, external memory (GBDT). */
  readonly memoryBudget?: number
  /** true: external memory whatever the estimate (GBDT only); false: never. Default: by `memoryBudget`. */
  readonly externalMemory?: boolean
  /** Folder under which external memory creates its temporary folder (default: the OS temp folder). */
  readonly spillDir?: string
}

/** What {@link fitTreeModel} did. */
export interface TreeFitResult {
  /** Bins per feature (value bins plus the missing bin), in pipeline output order. */
  readonly binsPerFeature: readonly number[]
  /** Rows binned for evaluation rounds. */
  readonly evalRows: number
  /** Bytes of binned training rows. */
  readonly binnedBytes: number
  /**
   * Set when training ran in external memory: rows per chunk, and bytes on disk during training (bins, labels and the
   * per-row state of the training and validation rows).
   */
  readonly externalMemory?: { readonly chunkRows: number; readonly spillBytes: number }
  /** Wall seconds of the two passes over the data and of growing the trees. */
  readonly seconds: { readonly sketch: number; readonly bin: number; readonly grow: number }
}

/**
 * Fits `model` on the training rows in two streaming passes and one in-memory growth.
 *
 * @example
 * await fitTreeModel(new GbdtClassifier(), { pipeline, rows: () => scanRows(data), trainRows, targetColumn, dataLabel })
 */
export async function fitTreeModel(model: FittableTreeModel, options: TreeFitOptions): Promise<TreeFitResult> {
  const { pipeline, trainRows } = options
  const nFeatures = pipeline.nFeatures
  const bytes = trainRows * nFeatures
  // Planned before the passes so that a model without external memory fails fast; sized again with the real bins.
  let plan = memoryPlan(model, options)
  if (!plan.external && bytes > MAX_BINNED_BYTES) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${model.kind} would bin ${trainRows.toLocaleString('en-US')} rows × ${nFeatures} features = ${(bytes / 2 ** 30).toFixed(1)} GiB, above the 2 GiB a single binned buffer holds; train on a sample or fewer features${model.fitExternal ? ', or leave external memory on' : ''}.`,
    )
  }
  const binning: BinningOptions = { categoricalFeatures: categoricalOutputs(pipeline), seed: options.seed ?? 0 }
  let buffer: Float32Array = new Float32Array(0)
  const transform = (batch: Batch) => {
    const X = pipeline.transform(batch, buffer)
    if (X.data.buffer !== buffer.buffer) buffer = X.data
    return X
  }

  const sketchStarted = performance.now()
  const sketch = new DatasetSketch(nFeatures, binning)
  let seen = 0
  for await (const raw of options.rows()) {
    const { batch } = extractLabels(raw, options.targetColumn)
    if (batch.length === 0) continue
    sketch.partialFit(transform(batch))
    seen += batch.length
    options.onProgress?.({ phase: 'sketch', rows: seen, totalRows: trainRows })
  }
  const mapper = sketch.toBinMapper()
  if (plan.external) plan = memoryPlan(model, options, mapper.totalBins)
  if (plan.external) {
    return fitExternal(model as FittableTreeModel & Required<Pick<FittableTreeModel, 'fitExternal'>>, {
      ...options,
      mapper,
      transform,
      chunkRows: plan.chunkRows,
      seen,
      sketchStarted,
    })
  }

  const binStarted = performance.now()
  const binned = mapper.allocate(trainRows)
  const y = new Float64Array(trainRows)
  let offset = 0
  for await (const raw of options.rows()) {
    const { batch, y: labels } = extractLabels(raw, options.targetColumn)
    if (batch.length === 0) continue
    if (offset + batch.length > trainRows) throw changedBetweenPasses(options.dataLabel, trainRows, '>')
    mapper.binRows(transform(batch), binned, offset)
    y.set(labels, offset)
    offset += batch.length
    options.onProgress?.({ phase: 'bin', rows: offset, totalRows: trainRows })
  }
  if (offset !== trainRows || seen !== trainRows) throw changedBetweenPasses(options.dataLabel, trainRows, offset)

  let evalSet: GbdtEvalSet | undefined
  let evalRows = 0
  if (options.evalRows) {
    const parts: { X: Float32Array; y: Float64Array; rows: number }[] = []
    for await (const raw of options.evalRows()) {
      const { batch, y: labels } = extractLabels(raw, options.targetColumn)
      if (batch.length === 0) continue
      const X = transform(batch)
      parts.push({ X: X.data.slice(0, X.rows * X.cols), y: labels.slice(), rows: X.rows })
      evalRows += X.rows
    }
    if (evalRows > 0) {
      const evalBinned = mapper.allocate(evalRows)
      const evalY = new Float64Array(evalRows)
      let at = 0
      for (const part of parts) {
        mapper.binRows({ rows: part.rows, cols: nFeatures, data: part.X }, evalBinned, at)
        evalY.set(part.y, at)
        at += part.rows
      }
      evalSet = { binned: evalBinned, y: evalY }
    }
  }

  const growStarted = performance.now()
  model.fitBinned(binned, y, {
    ...(options.classes ? { classes: options.classes } : {}),
    featureNames: pipeline.outputNames(),
    ...(evalSet ? { evalSet } : {}),
    onIteration: ({ iteration }) =>
      options.onProgress?.({
        phase: 'boost',
        rows: iteration + 1,
        unit: 'trees',
        ...(options.rounds === undefined ? {} : { totalRows: options.rounds }),
      }),
  })
  const done = performance.now()
  return {
    binsPerFeature: mapper.features.map((f) => f.nBins + 1),
    evalRows,
    binnedBytes: bytes,
    seconds: {
      sketch: (binStarted - sketchStarted) / 1000,
      bin: (growStarted - binStarted) / 1000,
      grow: (done - growStarted) / 1000,
    },
  }
}

/**
 * In memory or external memory for `model`: by `externalMemory`, else by the budget, else external only when the bins
 * would not fit one buffer. Models without external memory (random forests) refuse to exceed a budget.
 */
function memoryPlan(model: FittableTreeModel, options: TreeFitOptions, totalBins?: number): TrainingMemoryPlan {
  const nFeatures = options.pipeline.nFeatures
  const classes = options.classes?.length ?? 0
  const params = model.params ?? {}
  const numberOr = (v: unknown, fallback: number | null): number | null => (typeof v === 'number' ? v : fallback)
  const plan = planTrainingMemory(
    {
      nRows: options.trainRows,
      nFeatures,
      nOutputs: model.task === 'classification' && classes > 2 ? classes : 1,
      subsample: numberOr(params['subsample'], 1) ?? 1,
      maxLeaves: numberOr(params['maxLeaves'], null),
      ...(totalBins === undefined ? {} : { totalBins }),
    },
    {
      ...(options.memoryBudget === undefined ? {} : { memoryBudget: options.memoryBudget }),
      ...(options.externalMemory === undefined ? {} : { externalMemory: options.externalMemory }),
    },
  )
  const tooBig = options.trainRows * nFeatures > MAX_BINNED_BYTES && options.externalMemory !== false
  const external = plan.external || (tooBig && model.fitExternal !== undefined)
  if (external && model.fitExternal === undefined) {
    throw new ScalemlError(
      'UNSUPPORTED_OPERATION',
      options.externalMemory
        ? `${model.kind} trains in memory only; external memory (--external-memory) is for gradient boosting (--model gbdt).`
        : `${model.kind} would need about ${formatByteSize(plan.inMemoryBytes)} in memory, above the memory budget of ${formatByteSize(plan.memoryBudget ?? 0)}, and trains in memory only; raise --memory-budget, train on a sample, or use --model gbdt (which trains in external memory above the budget).`,
    )
  }
  return { ...plan, external }
}

/** Pass 2 into chunk files, then the model's external-memory training; the files are removed whatever happens. */
async function fitExternal(
  model: FittableTreeModel & Required<Pick<FittableTreeModel, 'fitExternal'>>,
  options: TreeFitOptions & {
    readonly mapper: BinMapper
    readonly transform: (batch: Batch) => { data: Float32Array; rows: number; cols: number }
    readonly chunkRows: number
    readonly seen: number
    readonly sketchStarted: number
  },
): Promise<TreeFitResult> {
  const { mapper, transform, trainRows } = options
  const spill = { chunkRows: options.chunkRows, ...(options.spillDir === undefined ? {} : { dir: options.spillDir }) }
  const binStarted = performance.now()
  const rows = ExternalRows.create(mapper, spill)
  let evalRows: ExternalRows | undefined
  try {
    for await (const raw of options.rows()) {
      const { batch, y: labels } = extractLabels(raw, options.targetColumn)
      if (batch.length === 0) continue
      if (rows.nRows + batch.length > trainRows) throw changedBetweenPasses(options.dataLabel, trainRows, '>')
      rows.append(transform(batch), labels)
      options.onProgress?.({ phase: 'bin', rows: rows.nRows, totalRows: trainRows })
    }
    rows.finish()
    if (rows.nRows !== trainRows || options.seen !== trainRows) {
      throw changedBetweenPasses(options.dataLabel, trainRows, rows.nRows)
    }
    if (options.evalRows) {
      const evalPart = ExternalRows.create(mapper, spill)
      evalRows = evalPart
      for await (const raw of options.evalRows()) {
        const { batch, y: labels } = extractLabels(raw, options.targetColumn)
        if (batch.length > 0) evalPart.append(transform(batch), labels)
      }
      evalPart.finish()
    }
    const growStarted = performance.now()
    let spillBytes = 0
    model.fitExternal(rows, {
      ...(options.classes ? { classes: options.classes } : {}),
      featureNames: options.pipeline.outputNames(),
      ...(evalRows !== undefined && evalRows.nRows > 0 ? { evalRows } : {}),
      onIteration: ({ iteration }) => {
        // The per-row state files exist only while the model trains.
        if (iteration === 0) spillBytes = rows.folder.bytes() + (evalRows?.folder.bytes() ?? 0)
        options.onProgress?.({
          phase: 'boost',
          rows: iteration + 1,
          unit: 'trees',
          ...(options.rounds === undefined ? {} : { totalRows: options.rounds }),
        })
      },
    })
    const done = performance.now()
    return {
      binsPerFeature: mapper.features.map((f) => f.nBins + 1),
      evalRows: evalRows?.nRows ?? 0,
      binnedBytes: trainRows * mapper.nFeatures,
      externalMemory: { chunkRows: rows.chunkRows, spillBytes },
      seconds: {
        sketch: (binStarted - options.sketchStarted) / 1000,
        bin: (growStarted - binStarted) / 1000,
        grow: (done - growStarted) / 1000,
      },
    }
  } finally {
    rows.remove()
    evalRows?.remove()
  }
}

/** Output columns of the pipeline's ordinal-encoded (categorical) steps. */
export function categoricalOutputs(pipeline: Pipeline): number[] {
  const out: number[] = []
  let at = 0
  for (const step of pipeline.steps) {
    if (step.kind === 'ordinal') for (let k = 0; k < step.nOutputs; k++) out.push(at + k)
    at += step.nOutputs
  }
  return out
}

function changedBetweenPasses(data: string, expected: number, got: number | '>'): ScalemlError {
  return new ScalemlError(
    'INVALID_DATA',
    `${data} changed while training: the first pass read ${expected.toLocaleString('en-US')} labelled rows, a later pass ${got === '>' ? 'more' : got.toLocaleString('en-US')}. Tree models read the data several times; keep it unchanged until training ends.`,
  )
}

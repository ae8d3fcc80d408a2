/**
 * A whole training job as a library call: resolve target and features against the data, split off a holdout (and
 * a validation split), fit the preprocessing in one streaming pass, train for N epochs over the rows in a seeded
 * shuffled order, score every epoch and stop early when asked, checkpoint along the way, evaluate on the holdout.
 * The result holds everything an artifact needs; registering it is the caller's business (the registry sits above
 * this layer).
 * @module
 */

import type { JsonValue } from '../core/codec.js'
import { ScalemlError } from '../core/errors.js'
import { type Constraints, int, oneOf, parseParamAssignments, real, validateParams } from '../core/params.js'
import type { Batch, Field, Schema } from '../data/batch.js'
import { findNonNumeric } from '../data/checks.js'
import { fingerprintFiles } from '../data/fingerprint.js'
import {
  DEFAULT_WORKER_AFTER_ROWS,
  describeFile,
  type FileSource,
  openFileSource,
  type ReaderMode,
} from '../data/sources/file-source.js'
import { detectFormat } from '../data/sources/files.js'
import { isHoldoutRow, parseHoldout, resolveTimeCutoff } from '../data/split.js'
import { resolveModelName, supervisedModelEntry, supervisedModelFromJSON } from '../models/catalog.js'
import type { EstimatorJSON, SupervisedEstimator } from '../models/estimator.js'
import { checkMemoryBudget } from '../models/trees/external/memory-plan.js'
import { autoPipeline } from '../preprocess/auto-pipeline.js'
import { Pipeline } from '../preprocess/pipeline.js'
import {
  type CheckpointPosition,
  checkIdentity,
  type LossAccumulator,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint.js'
import { checkFiniteFeatures, checkLabelsIn, IMPUTE_MODES, type ImputeMode } from './checks.js'
import {
  type EarlyStoppingRule,
  type EarlyStoppingState,
  initialEarlyStopping,
  updateEarlyStopping,
} from './early-stopping.js'
import { classScores, evaluateStream } from './evaluate.js'
import { createFeaturizer, type Features, partialFitOn, predictOn } from './features.js'
import { extractLabels } from './labels.js'
import type { EpochSummary, ProgressListener } from './progress.js'
import { epochBatches, ROW_INDEX_COLUMN, type RowFilter, scanRows, type TrainingRows } from './rows.js'
import { mixSeed, SHUFFLE_MODES, type ShuffleMode } from './shuffle.js'
import { quoteIdent, resolveTarget, TARGET_COLUMN } from './target.js'
import { type FittableTreeModel, fitTreeModel, type RowPass, type TreeFitResult } from './tree-fit.js'

/** What to train. Mirrors `scaleml train` flags. */
export interface TrainJobOptions {
  /** File or glob (Parquet, CSV). */
  readonly data: string
  /** A column name or a SQL expression over the columns (`delay > 15`). */
  readonly target: string
  /** Feature columns; default: every column the target does not read. */
  readonly features?: readonly string[]
  /** String features to hash into this many columns instead of one-hot encoding (`--hash origin:2^18`). */
  readonly hash?: ReadonlyMap<string, number>
  /** Model name from the catalog; default: `sgd-classifier` for boolean targets, `sgd-regressor` otherwise. */
  readonly model?: string
  /** Hyperparameters (already parsed). */
  readonly params?: Readonly<Record<string, unknown>>
  /**
   * Hyperparameters as `key=value` text (CLI `--param`; camelCase or snake_case keys), parsed with the constraint
   * table of the model finally chosen. Applied over `params`.
   */
  readonly paramAssignments?: readonly string[]
  /** Passes over the training rows (default 1); the most, with early stopping. */
  readonly epochs?: number
  /** Rows per batch, one `partialFit` each (default 65,536). Memory is proportional to it. */
  readonly batchSize?: number
  /** `time:<column>:<fraction>` or `random:<fraction>`; none → no holdout metrics. */
  readonly holdout?: string
  /** Seed of the splits, the shuffles and the model (default 0). */
  readonly seed?: number
  /**
   * Order of the training rows (default `'segments'`, see {@link ShuffleMode}). flights-3m is sorted by date and
   * SGD on a sorted stream fits the last weeks it saw: with default SGD params and a `time:date:0.1` holdout, AUC
   * after 1 and 3 epochs is 0.616 and 0.630 in file order, 0.645 and 0.674 with segments (seeds 1 and 2: 0.656 /
   * 0.666 and 0.669 / 0.670). Segment reads are pruned to their row groups but decode more than they return: an
   * epoch there takes about 15% longer than in file order.
   */
  readonly shuffle?: ShuffleMode
  /** Rows per segment for `shuffle: 'segments'` (default: `batchSize`). */
  readonly segmentRows?: number
  /**
   * Batches (`shuffle: 'window'`) or segments (`'segments'`) whose rows are permuted together (default 8). Memory
   * holds that many batches or segments of raw columns.
   */
  readonly shuffleWindow?: number
  /**
   * Stop when the epoch score has not improved by `tol` for `nIterNoChange` epochs (scikit-learn's rule). The
   * score is AUC (classifiers) or R² (regressors) on the validation rows — the `validationFraction` split if set,
   * else the holdout — or, with neither, the mean training loss. Default false. scikit-learn scores classifiers by
   * accuracy; AUC is used here because it does not depend on a threshold: on imbalanced labels (flights: 77% on
   * time) accuracy stays near the base rate while the ranking improves, so it would stop training too early.
   */
  readonly earlyStopping?: boolean
  /**
   * Fraction of the training rows (after the holdout) set aside, by a seeded hash of the row index, to score each
   * epoch; in (0, 1). Default: none, and the holdout scores the epochs when there is one (one prediction pass over
   * it per epoch; the last one is the reported holdout evaluation).
   */
  readonly validationFraction?: number
  /** Epochs without improvement that stop training (default 5). */
  readonly nIterNoChange?: number
  /** Least improvement of the epoch score that counts (default 1e-3). */
  readonly tol?: number
  /** Folder for checkpoints (created if missing). Default: no checkpoints. */
  readonly checkpointDir?: string
  /** Also checkpoint after every this many batches (default 0: only at the end of each epoch). */
  readonly checkpointEvery?: number
  /**
   * Continue from the checkpoint in `checkpointDir` (start afresh when there is none). The result is bit for bit
   * the model an uninterrupted run gives. Without it, an existing checkpoint is an error rather than overwritten.
   * `epochs` may differ from the first run's, to train on.
   */
  readonly resume?: boolean
  /** What to impute (default 'nulls'; see {@link ImputeMode}). */
  readonly impute?: ImputeMode
  /**
   * The classes a classifier's labels take (default: those found in the training rows). A training label outside
   * them is an error naming the row.
   */
  readonly classes?: readonly number[]
  /**
   * Tree models: bytes training may use for its per-row arrays (bins, margins, gradients, row lists); above the
   * estimate, gradient boosting trains in external memory (CLI `--memory-budget 512MiB`). Default: no budget.
   */
  readonly memoryBudget?: number
  /** Gradient boosting: train in external memory whatever the estimate (CLI `--external-memory`). */
  readonly externalMemory?: boolean
  /** Folder for external memory's temporary files (default: the OS temp folder; CLI `--spill-dir`). */
  readonly spillDir?: string
  readonly onProgress?: ProgressListener
}

/** How the epochs went. */
export interface TrainingSummary {
  readonly shuffle: ShuffleMode
  /** Epochs trained to the end (fewer than asked when early stopping ended the run). */
  readonly epochsCompleted: number
  readonly stoppedEarly: boolean
  /** The score of each epoch, when epochs were scored. */
  readonly scores?: {
    readonly metric: 'auc' | 'r2' | 'trainingLoss'
    readonly on: 'holdout' | 'validation-fraction' | 'training'
    readonly values: readonly number[]
  }
  /** Rows set aside by `validationFraction`. */
  readonly validationRows?: number
  /** Where this run started, when it resumed from a checkpoint. */
  readonly resumedFrom?: { readonly epoch: number; readonly block: number; readonly batch: number }
  /** How a tree model was trained. */
  readonly trees?: TreeTrainingSummary
}

/** How a tree model was trained: its bins, its rounds, the time of each step. */
export interface TreeTrainingSummary {
  /** Bins per feature (value bins plus the missing bin), in feature order. */
  readonly binsPerFeature: readonly number[]
  /** Memory of the binned training rows. */
  readonly binnedBytes: number
  /** Set when boosting ran in external memory: rows per chunk and bytes on disk during training. */
  readonly externalMemory?: { readonly chunkRows: number; readonly spillBytes: number }
  /** Rows that scored each round (early stopping). */
  readonly evalRows?: number
  /** Boosting rounds trained, and the best one (0-based) kept (gradient boosting). */
  readonly rounds?: number
  readonly bestIteration?: number
  readonly seconds: { readonly sketch: number; readonly bin: number; readonly grow: number }
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
    /** Epochs trained. */
    readonly epochs: number
    readonly shuffle: ShuffleMode
  }
  readonly training: TrainingSummary
  /** Wall time of the whole job. */
  readonly seconds: number
  /**
   * Wall time of each phase: the preprocessing pass, the training epochs, and evaluation (the holdout and the
   * per-epoch scoring passes).
   */
  readonly timings: { readonly fitPipeline: number; readonly train: number; readonly evaluate: number }
}

/** The training-loop options of {@link TrainJobOptions}, as a constraint table (C2). */
export const TRAIN_LOOP_CONSTRAINTS: Constraints<{
  shuffle: ShuffleMode
  segmentRows: number
  shuffleWindow: number
  validationFraction: number
  nIterNoChange: number
  tol: number
  checkpointEvery: number
  impute: ImputeMode
}> = {
  shuffle: oneOf(...SHUFFLE_MODES),
  segmentRows: int({ min: 1, max: 1 << 24 }),
  shuffleWindow: int({ min: 1, max: 1024 }),
  validationFraction: real({ min: 0, max: 1, closed: 'neither' }),
  nIterNoChange: int({ min: 1 }),
  tol: real({}),
  checkpointEvery: int({ min: 0 }),
  impute: oneOf(...IMPUTE_MODES),
}

/** Salt of the validation split's hash, so it is independent of a random holdout drawn with the same seed. */
const VALIDATION_SALT = 0x76616c69

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
  const loop = {
    shuffle: options.shuffle ?? 'segments',
    segmentRows: options.segmentRows ?? batchSize,
    shuffleWindow: options.shuffleWindow ?? 8,
    validationFraction: options.validationFraction,
    nIterNoChange: options.nIterNoChange ?? 5,
    tol: options.tol ?? 1e-3,
    checkpointEvery: options.checkpointEvery ?? 0,
    impute: options.impute ?? 'nulls',
  }
  validateParams('trainJob', TRAIN_LOOP_CONSTRAINTS, loop)
  if (options.resume && options.checkpointDir === undefined) {
    throw new ScalemlError('INVALID_ARGUMENT', '--resume needs --checkpoint-dir: the folder to resume from.')
  }
  if (loop.checkpointEvery > 0 && options.checkpointDir === undefined) {
    throw new ScalemlError('INVALID_ARGUMENT', '--checkpoint-every needs --checkpoint-dir: the folder to write to.')
  }
  const declaredClasses = options.classes === undefined ? undefined : checkDeclaredClasses(options.classes)

  const { schema, rows: totalRows } = await describeFile(options.data)
  const indexed = detectFormat(options.data).kind === 'parquet'
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
  const validationFraction = loop.validationFraction
  const isValidation: RowFilter | undefined =
    validationFraction === undefined
      ? undefined
      : (i) => isHoldoutRow(mixSeed(seed, VALIDATION_SALT), i, validationFraction)
  const trainKeep = both(split.trainKeep, isValidation && ((i) => !isValidation(i)))
  const validationKeep = isValidation && both(split.trainKeep, isValidation)

  const open = (where: string | undefined, reader?: ReaderMode): Promise<FileSource> =>
    openFileSource({
      ...(reader === undefined ? {} : { reader }),
      path: options.data,
      columns: features.filter((name) => !casts.some((c) => c.name === name)),
      expressions: [...casts, { name: TARGET_COLUMN, sql: target.sql }],
      ...(where === undefined ? {} : { where }),
      ...(indexed ? { rowIndexColumn: ROW_INDEX_COLUMN } : {}),
      batchSize,
    })
  // Training reads its rows at least twice (preprocessing, then each epoch): a large source in file order reads on a
  // worker thread from the start, so reading overlaps the work of every pass. Segment reads are not streamed (they
  // gather a block of segments before learning) and stay on this thread.
  const readsInWorker =
    (options.shuffle ?? 'segments') !== 'segments' && split.expectedTrainRows >= DEFAULT_WORKER_AFTER_ROWS
  const trainSource = await open(split.trainWhere, readsInWorker ? 'worker' : undefined)
  let testSource: FileSource | undefined
  try {
    testSource = split.hasTest ? await open(split.testWhere) : undefined
  } catch (error) {
    await trainSource.close()
    throw error
  }

  try {
    const sourceSchema = await trainSource.schema()
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
    const modelKind = resolveModelName(
      options.model ?? (targetKind === 'boolean' ? 'sgd-classifier' : 'sgd-regressor'),
      targetKind === 'boolean' ? 'classification' : 'regression',
    )
    const entry = supervisedModelEntry(modelKind)
    const trees = entry.training === 'fit'
    if (trees) {
      checkTreeOptions(modelKind, options, epochs, entry.defaults)
      if (options.memoryBudget !== undefined) checkMemoryBudget(options.memoryBudget, 'memoryBudget (--memory-budget)')
    } else if (options.memoryBudget !== undefined || options.externalMemory || options.spillDir !== undefined) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${modelKind} learns batch by batch and holds one batch at a time already; --memory-budget, --external-memory and --spill-dir are for tree models (gbdt). Drop them.`,
      )
    }
    const given = {
      ...(options.params ?? {}),
      ...parseParamAssignments(modelKind, entry.constraints, options.paramAssignments ?? []),
    }
    // When the loop already shuffles rows, the model's own within-batch shuffle (scikit-learn's `shuffle=True`)
    // would only permute them a second time; it stays off unless the user sets it.
    const loopShuffles = loop.shuffle !== 'none' && 'shuffle' in entry.defaults && !('shuffle' in given)
    // `--early-stopping` on boosted trees stops after `nIterNoChange` rounds without a better validation loss.
    const treeStopping =
      trees && options.earlyStopping && !('earlyStoppingRounds' in given)
        ? { earlyStoppingRounds: options.nIterNoChange ?? DEFAULT_TREE_STOPPING_ROUNDS }
        : {}
    const params = { seed, ...(loopShuffles ? { shuffle: false } : {}), ...treeStopping, ...given }
    // Checked now rather than on the first partialFit, which comes only after a full pass over the data.
    entry.validate(params)
    let model = entry.create(params)
    if (declaredClasses !== undefined && model.task !== 'classification') {
      throw new ScalemlError('INVALID_ARGUMENT', `classes are for classifiers; ${modelKind} is a regressor.`)
    }
    // Tree models take NaN as a missing value (each split learns where it goes) and ±Infinity as ordinary values.
    const finiteColumns =
      loop.impute === 'all' || trees
        ? []
        : features.filter((name) => {
            const type = sourceSchema.fields.find((f) => f.name === name)?.type
            return type !== undefined && type !== 'string'
          })
    const data: TrainingRows = { source: trainSource, indexed, targetColumn: TARGET_COLUMN, batchSize }
    const dataLabel = `${options.data}${split.describe}`

    const dataFingerprint = await fingerprintFiles(options.data)
    const checkpointDir = options.checkpointDir
    const identity: Record<string, JsonValue> = {
      dataFingerprint,
      target: target.expression,
      features: (options.features ?? features).map(String),
      modelKind,
      params: toJsonValue(model.params),
      seed,
      batchSize,
      holdout: options.holdout ?? null,
      shuffle: loop.shuffle,
      segmentRows: loop.segmentRows,
      shuffleWindow: loop.shuffleWindow,
      validationFraction: loop.validationFraction ?? null,
      earlyStopping: options.earlyStopping ? { nIterNoChange: loop.nIterNoChange, tol: loop.tol } : false,
      impute: loop.impute,
      classes: declaredClasses ?? null,
    }
    const checkpoint = checkpointDir === undefined ? undefined : await readCheckpoint(checkpointDir)
    if (checkpoint !== undefined && checkpointDir !== undefined) {
      if (!options.resume) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `${checkpointDir} already holds a checkpoint (epoch ${checkpoint.position.epoch}); pass --resume to continue it, or remove the folder to start over.`,
        )
      }
      checkIdentity(checkpointDir, checkpoint.identity, identity)
    }

    // The validation rows score the epochs; without them the holdout does, when there is one.
    const scoring = (validationKeep ? 'validation-fraction' : testSource ? 'holdout' : undefined) as
      | 'validation-fraction'
      | 'holdout'
      | undefined
    const higherIsBetter = scoring !== undefined
    const rule: EarlyStoppingRule | undefined = options.earlyStopping
      ? { nIterNoChange: loop.nIterNoChange, tol: loop.tol, higherIsBetter }
      : undefined

    const fitStarted = performance.now()
    let pipeline: Pipeline
    let classes: readonly number[] | undefined
    // Rows per class over the training side, for classWeight 'balanced' (empty when resuming: the model already
    // resolved its weights on its first partialFit and keeps them in its JSON).
    const labelCounts = new Map<number, number>()
    let trainRows: number
    let position: CheckpointPosition
    let stopping: EarlyStoppingState | undefined = rule && initialEarlyStopping(rule)
    let trainingLoss: LossAccumulator = { sum: 0, rows: 0 }
    const scores: number[] = []
    if (checkpoint !== undefined) {
      pipeline = Pipeline.fromJSON(checkpoint.pipeline)
      model = supervisedModelFromJSON(checkpoint.model as EstimatorJSON)
      classes = checkpoint.classes ?? undefined
      trainRows = checkpoint.trainRows
      position = checkpoint.position
      stopping = checkpoint.earlyStopping ?? stopping
      trainingLoss = checkpoint.trainingLoss
      scores.push(...checkpoint.scores)
    } else {
      pipeline = autoPipeline(sourceSchema, features, {
        ...(options.hash ? { hashed: options.hash } : {}),
        ...(trees ? { encoding: 'trees' as const } : {}),
      })
      // Pass 1: preprocessing statistics and the label values, in one streaming read in file order.
      trainRows = 0
      for await (const batch of scanRows(data, trainKeep)) {
        if (finiteColumns.length > 0) checkFiniteFeatures(batch, finiteColumns, options.data)
        const { y } = extractLabels(batch, TARGET_COLUMN)
        if (model.task === 'classification') {
          collectLabels(y, labelCounts, target.expression)
          if (declaredClasses !== undefined)
            checkLabelsIn(batch, y, declaredClasses, {
              target: target.expression,
              data: options.data,
              why: 'declared for this job',
            })
        }
        pipeline.partialFit(batch)
        trainRows += batch.length
        options.onProgress?.({ phase: 'fit-pipeline', rows: trainRows, totalRows: split.expectedTrainRows })
      }
      if (trainRows === 0) {
        throw new ScalemlError(
          'EMPTY_SOURCE',
          `No training rows with a non-null target in ${options.data}${split.describe}${
            validationFraction === undefined ? '' : ` after setting aside ${validationFraction} for validation`
          }.`,
        )
      }
      classes =
        model.task === 'classification'
          ? (declaredClasses ?? checkClasses(new Set(labelCounts.keys()), target.expression, targetKind))
          : undefined
      position = { epoch: 1, block: 0, batch: 0, epochsCompleted: 0, rowsInEpoch: 0, stopped: false }
    }
    const resumedFrom =
      checkpoint === undefined ? undefined : { epoch: position.epoch, block: position.block, batch: position.batch }

    const pipelineJSON = pipeline.toJSON()
    const save = async (at: CheckpointPosition): Promise<void> => {
      if (checkpointDir === undefined) return
      await writeCheckpoint(checkpointDir, {
        identity,
        position: at,
        trainRows,
        classes: classes ?? null,
        earlyStopping: stopping ?? null,
        trainingLoss,
        scores,
        pipeline: pipelineJSON,
        model: model.toJSON(),
      })
    }

    const evaluateOn = (rows: AsyncIterable<Batch>, label: string, total?: number) =>
      evaluateStream(model, pipeline, rows, {
        targetColumn: TARGET_COLUMN,
        target: target.expression,
        label,
        finiteColumns,
        ...(total === undefined ? {} : { totalRows: total }),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      })
    const holdoutLabel = `the holdout '${options.holdout}' of ${options.data}`
    const evaluateHoldout = () =>
      evaluateOn(
        scanRows({ ...data, source: testSource! }, split.testKeep),
        holdoutLabel,
        Math.max(totalRows - trainRows, 0),
      )

    const trainStarted = performance.now()
    let holdout: Awaited<ReturnType<typeof evaluateStream>> | undefined
    let validationRows: number | undefined
    let epochsCompleted = position.epochsCompleted
    let stopped = position.stopped
    let sinceCheckpoint = 0
    let scoringSeconds = 0
    const featurizer = createFeaturizer(pipeline, model)
    const denseBytes = batchSize * pipeline.nFeatures * 4
    if (!featurizer.sparse && denseBytes > DENSE_BATCH_LIMIT_BYTES) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${modelKind} takes dense rows only, and ${pipeline.nFeatures.toLocaleString('en-US')} features × ${batchSize.toLocaleString('en-US')} rows would need ${(denseBytes / 2 ** 30).toFixed(1)} GiB per batch; lower --batch-size, hash into fewer columns, or use a model that takes sparse rows (sgd-classifier, sgd-regressor, perceptron, passive-aggressive-*).`,
      )
    }
    const trackLoss = rule !== undefined && scoring === undefined && !trees
    const fitOptions = classes ? { classes, ...(labelCounts.size > 0 ? { classCounts: labelCounts } : {}) } : {}
    let treeFit: TreeFitResult | undefined
    if (trees) {
      const stoppingRounds = model.params['earlyStoppingRounds']
      const evalRows: RowPass | undefined =
        stoppingRounds === null || stoppingRounds === undefined
          ? undefined
          : validationKeep
            ? () => scanRows(data, validationKeep)
            : testSource
              ? () => scanRows({ ...data, source: testSource! }, split.testKeep)
              : undefined
      if (stoppingRounds !== null && stoppingRounds !== undefined && evalRows === undefined) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `Early stopping of ${modelKind} scores each round on validation rows: pass --validation-fraction or --holdout.`,
        )
      }
      treeFit = await fitTreeModel(model as unknown as FittableTreeModel, {
        pipeline,
        rows: () => scanRows(data, trainKeep),
        trainRows,
        targetColumn: TARGET_COLUMN,
        dataLabel,
        ...(classes ? { classes } : {}),
        ...(evalRows ? { evalRows } : {}),
        rounds: Number(model.params['nEstimators']),
        seed,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.memoryBudget === undefined ? {} : { memoryBudget: options.memoryBudget }),
        ...(options.externalMemory === undefined ? {} : { externalMemory: options.externalMemory }),
        ...(options.spillDir === undefined ? {} : { spillDir: options.spillDir }),
      })
      epochsCompleted = 1
      const boosted = model as unknown as { nRounds?: number }
      stopped = typeof boosted.nRounds === 'number' && boosted.nRounds < Number(model.params['nEstimators'])
    }
    for (let epoch = position.epoch; epoch <= epochs && !stopped && !trees; epoch++) {
      const epochStarted = performance.now()
      const resuming = epoch === position.epoch
      let rowsInEpoch = resuming ? position.rowsInEpoch : 0
      const plan = {
        mode: loop.shuffle,
        seed,
        epoch,
        segmentRows: loop.segmentRows,
        shuffleWindow: loop.shuffleWindow,
        ...(resuming ? { from: { block: position.block, batch: position.batch } } : {}),
      }
      for await (const planned of epochBatches(data, trainKeep, plan)) {
        const { batch, y } = extractLabels(planned.batch, TARGET_COLUMN)
        const X = featurizer.transform(batch)
        if (trackLoss && model.isFitted) trainingLoss = addLoss(trainingLoss, model, X, y)
        partialFitOn(model, X, y, fitOptions)
        rowsInEpoch += batch.length
        options.onProgress?.({ phase: 'train', epoch, epochs, rows: rowsInEpoch, totalRows: trainRows })
        if (loop.checkpointEvery > 0 && ++sinceCheckpoint >= loop.checkpointEvery) {
          sinceCheckpoint = 0
          await save({
            epoch,
            block: planned.block,
            batch: planned.index + 1,
            epochsCompleted: epoch - 1,
            rowsInEpoch,
            stopped: false,
          })
        }
      }
      epochsCompleted = epoch

      let summary: EpochSummary = { epoch, stop: false, rows: rowsInEpoch, seconds: 0 }
      let score: number | undefined
      const scoringStarted = performance.now()
      const metric = model.task === 'classification' ? 'auc' : 'r2'
      if (scoring === 'validation-fraction') {
        const result = await evaluateOn(scanRows(data, validationKeep), `the validation rows of ${dataLabel}`)
        if (result.rows === 0) {
          throw new ScalemlError(
            'EMPTY_SOURCE',
            `validationFraction ${validationFraction} set aside no rows with a non-null target in ${dataLabel}; raise it or use more data.`,
          )
        }
        validationRows = result.rows
        score = result.metrics[metric]!
        summary = { ...summary, metric, score, on: scoring }
      } else if (scoring === 'holdout') {
        holdout = await evaluateHoldout()
        score = holdout.metrics[metric]
        if (score !== undefined) summary = { ...summary, metric, score, on: scoring }
      } else if (trackLoss) {
        score = trainingLoss.rows > 0 ? trainingLoss.sum / trainingLoss.rows : Number.NaN
        trainingLoss = { sum: 0, rows: 0 }
        summary = { ...summary, metric: 'trainingLoss', score, on: 'training' }
      }
      if (score !== undefined) scores.push(score)
      scoringSeconds += (performance.now() - scoringStarted) / 1000
      if (rule !== undefined && stopping !== undefined && score !== undefined) {
        const next = updateEarlyStopping(rule, stopping, score)
        stopping = next.state
        stopped = next.stop
        summary = {
          ...summary,
          best: stopping.best,
          epochsWithoutImprovement: stopping.epochsWithoutImprovement,
          stop: stopped,
        }
      }
      summary = { ...summary, seconds: (performance.now() - epochStarted) / 1000 }
      options.onProgress?.({
        phase: 'train',
        epoch,
        epochs,
        rows: rowsInEpoch,
        totalRows: trainRows,
        epochEnd: summary,
      })
      await save({ epoch: epoch + 1, block: 0, batch: 0, epochsCompleted: epoch, rowsInEpoch: 0, stopped })
      sinceCheckpoint = 0
      // The holdout scored above is the final one only if no epoch follows.
      if (epoch < epochs && !stopped) holdout = undefined
    }

    const evaluateStarted = performance.now()
    let metrics: Record<string, number> = {}
    let holdoutRows = 0
    if (testSource) {
      const evaluation = holdout ?? (await evaluateHoldout())
      metrics = evaluation.metrics
      holdoutRows = evaluation.rows
      if (holdoutRows === 0) {
        throw new ScalemlError(
          'EMPTY_SOURCE',
          `The holdout '${options.holdout}' selected no rows with a non-null target.`,
        )
      }
    }

    const scoredOn = scoring ?? (trackLoss ? 'training' : undefined)
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
        dataFingerprint,
        dataDescription: options.data,
        rows: trainRows,
        seed,
        epochs: epochsCompleted,
        shuffle: trees ? 'none' : loop.shuffle,
      },
      training: {
        shuffle: trees ? 'none' : loop.shuffle,
        epochsCompleted,
        stoppedEarly: stopped,
        ...(scoredOn === undefined
          ? {}
          : {
              scores: {
                metric: scoredOn === 'training' ? 'trainingLoss' : model.task === 'classification' ? 'auc' : 'r2',
                on: scoredOn,
                values: scores,
              },
            }),
        ...(validationRows === undefined ? {} : { validationRows }),
        ...(resumedFrom === undefined ? {} : { resumedFrom }),
        ...(treeFit === undefined ? {} : { trees: treeSummary(model, treeFit) }),
      },
      seconds: (performance.now() - started) / 1000,
      timings: {
        fitPipeline: (trainStarted - fitStarted) / 1000,
        train: (evaluateStarted - trainStarted) / 1000 - scoringSeconds,
        evaluate: (performance.now() - evaluateStarted) / 1000 + scoringSeconds,
      },
    }
  } finally {
    await trainSource.close()
    await testSource?.close()
  }
}

/** Rounds without a better validation loss that stop boosting under `--early-stopping` (XGBoost users' usual 10). */
const DEFAULT_TREE_STOPPING_ROUNDS = 10

/** Refuses the options of incremental training that have no meaning for a tree model. */
function checkTreeOptions(
  modelKind: string,
  options: TrainJobOptions,
  epochs: number,
  defaults: Readonly<Record<string, unknown>>,
): void {
  const why = `${modelKind} grows its trees on all training rows at once`
  if (options.checkpointDir !== undefined || options.resume) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${why}; --checkpoint-dir and --resume are for incremental learners. Drop them.`,
    )
  }
  if (epochs !== 1) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${why}; --epochs is for incremental learners. Set the number of trees with --param n_estimators=<n>.`,
    )
  }
  if (options.earlyStopping && !('earlyStoppingRounds' in defaults)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${modelKind} has no early stopping (its trees are independent); drop --early-stopping.`,
    )
  }
}

/** The tree part of a training summary. */
function treeSummary(model: SupervisedEstimator, fit: TreeFitResult): TreeTrainingSummary {
  const boosted = model as unknown as { nRounds?: number; bestIteration?: number }
  return {
    binsPerFeature: fit.binsPerFeature,
    binnedBytes: fit.binnedBytes,
    ...(fit.externalMemory === undefined ? {} : { externalMemory: fit.externalMemory }),
    ...(fit.evalRows > 0 ? { evalRows: fit.evalRows } : {}),
    ...(typeof boosted.nRounds === 'number' ? { rounds: boosted.nRounds } : {}),
    ...(typeof boosted.bestIteration === 'number' ? { bestIteration: boosted.bestIteration } : {}),
    seconds: fit.seconds,
  }
}

/** Both filters (either may be absent). */
function both(a: RowFilter | undefined, b: RowFilter | undefined): RowFilter | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return (i) => a(i) && b(i)
}

/**
 * Adds the loss of the batch under the current model, before it learns from it (scikit-learn sums each row's loss
 * just before its update): log loss for classifiers with probabilities, the error rate for the others, the squared
 * error for regressors.
 */
function addLoss(into: LossAccumulator, model: SupervisedEstimator, X: Features, y: Float64Array): LossAccumulator {
  let sum = into.sum
  if (model.task === 'classification') {
    const { proba, calibrated } = classScores(model, X)
    const k = model.classes.length
    if (calibrated) {
      for (let i = 0; i < y.length; i++) {
        const c = model.classes.indexOf(y[i]!)
        const p = k === 2 && proba.length === y.length ? (c === 1 ? proba[i]! : 1 - proba[i]!) : proba[i * k + c]!
        sum -= Math.log(Math.min(Math.max(p, 1e-15), 1))
      }
    } else {
      const predicted = predictOn(model, X)
      for (let i = 0; i < y.length; i++) if (predicted[i] !== y[i]) sum += 1
    }
  } else {
    const predicted = predictOn(model, X)
    for (let i = 0; i < y.length; i++) {
      const d = predicted[i]! - y[i]!
      sum += d * d
    }
  }
  return { sum, rows: into.rows + y.length }
}

function checkDeclaredClasses(classes: readonly number[]): number[] {
  const sorted = [...new Set(classes)].sort((a, b) => a - b)
  if (sorted.length < 2 || !sorted.every((c) => Number.isFinite(c))) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `classes must be at least two distinct finite numbers; got [${classes.join(', ')}].`,
    )
  }
  return sorted
}

/** Params as JSON (they are JSON-like by contract; non-finite numbers become strings so they compare). */
function toJsonValue(value: unknown): JsonValue {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? 'null',
  ) as JsonValue
}

interface SplitPlan {
  readonly trainWhere?: string
  readonly testWhere?: string
  /** Rows of the training side by row index (a random holdout). */
  readonly trainKeep?: RowFilter
  readonly testKeep?: RowFilter
  readonly cutoff?: number
  readonly expectedTrainRows: number
  readonly describe: string
  readonly hasTest: boolean
}

async function planSplit(
  options: TrainJobOptions,
  schema: Schema,
  seed: number,
  totalRows: number,
): Promise<SplitPlan> {
  if (!options.holdout) {
    return { expectedTrainRows: totalRows, describe: '', hasTest: false }
  }
  const spec = parseHoldout(options.holdout)
  if (spec.kind === 'random') {
    return {
      expectedTrainRows: Math.round(totalRows * (1 - spec.fraction)),
      describe: ` after holding out ${spec.fraction} at random`,
      trainKeep: (i) => !isHoldoutRow(seed, i, spec.fraction),
      testKeep: (i) => isHoldoutRow(seed, i, spec.fraction),
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
  }
}

const MAX_CLASSES = 1000
/** The largest dense feature block one batch may need (models without sparse input). */
const DENSE_BATCH_LIMIT_BYTES = 2 ** 30

function collectLabels(y: Float64Array, into: Map<number, number>, expression: string): void {
  for (let i = 0; i < y.length; i++) {
    const label = y[i]!
    into.set(label, (into.get(label) ?? 0) + 1)
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

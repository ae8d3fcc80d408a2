/**
 * `scaleml train`: train a model out-of-core on a file or glob and register it.
 * @module
 */
import type { Command } from 'commander'
import { formatByteSize, parseByteSize } from '../../core/byte-size.js'
import { ScalemlError } from '../../core/errors.js'
import { MODEL_CATALOG, MODEL_FAMILIES, modelEntry } from '../../models/catalog.js'
import { IMPUTE_MODES, type ImputeMode } from '../../train/checks.js'
import { clusterJob } from '../../train/cluster-job.js'
import { trainJob } from '../../train/job.js'
import type { EpochSummary } from '../../train/progress.js'
import { SHUFFLE_MODES, type ShuffleMode } from '../../train/shuffle.js'
import { formatNumber, printJson } from '../output.js'
import { createProgress } from '../progress.js'
import { registerTrained } from '../register-trained.js'
import { addRegistryOptions, collect, parseInteger, registryOptionsFrom } from './shared.js'

interface TrainFlags {
  data: string
  target?: string
  features?: string
  model?: string
  param: string[]
  hash: string[]
  epochs: string
  batchSize: string
  holdout?: string
  seed: string
  shuffle: string
  segmentRows?: string
  shuffleWindow?: string
  earlyStopping?: boolean
  validationFraction?: string
  nIterNoChange?: string
  tol: string
  checkpointDir?: string
  checkpointEvery: string
  resume?: boolean
  impute: string
  classes?: string
  memoryBudget?: string
  externalMemory?: boolean
  spillDir?: string
  register?: string
  home?: string
  registry?: string
  json?: boolean
}

/** Adds `train` to the program. */
export function registerTrainCommand(program: Command): void {
  addRegistryOptions(program.command('train'))
    .description('Train a model out-of-core on a Parquet/CSV file or glob, evaluate it on a holdout, and register it.')
    .requiredOption('--data <path|glob>', 'Parquet or CSV file(s) to stream')
    .option(
      '--target <column|expression>',
      'label column or SQL expression, e.g. "delay > 15" (required, except for clustering models)',
    )
    .option('--features <a,b,c>', 'feature columns (default: every column the target does not read)')
    .option(
      '--model <name>',
      `model: ${[...Object.keys(MODEL_FAMILIES), ...Object.keys(MODEL_CATALOG)].join(' | ')} (default: sgd by target type; a family picks its classifier or regressor by the target)`,
    )
    .option(
      '--hash <column:n>',
      'hash a string feature into n columns (a number or 2^k) instead of one-hot encoding it, repeatable; e.g. origin:2^18',
      collect,
      [],
    )
    .option('--param <key=value>', 'hyperparameter, repeatable (camelCase or snake_case keys)', collect, [])
    .option('--epochs <n>', 'passes over the training data', '1')
    .option('--batch-size <n>', 'rows per batch (memory is proportional to it)', '65536')
    .option('--holdout <spec>', 'time:<column>:<fraction> (last fraction by time) or random:<fraction>')
    .option('--seed <n>', 'random seed for shuffling and splits', '0')
    .option(
      '--shuffle <mode>',
      `row order: ${SHUFFLE_MODES.join(' | ')}. segments: read segments of --segment-rows rows in a new random order each epoch and permute the rows of every --shuffle-window of them together (Parquet; CSV permutes within batches); window: permute the rows of --shuffle-window consecutive batches; none: file order`,
      'segments',
    )
    .option('--segment-rows <n>', 'rows per segment for --shuffle segments (default: --batch-size)')
    .option(
      '--shuffle-window <n>',
      'batches (--shuffle window) or segments (--shuffle segments) whose rows are permuted together (default 8)',
    )
    .option(
      '--early-stopping',
      'stop when the epoch score (AUC or R² on --validation-fraction rows, else on the holdout, else the training loss) has not improved by --tol for --n-iter-no-change epochs',
    )
    .option(
      '--validation-fraction <f>',
      'fraction in (0, 1) of the training rows set aside to score each epoch (default: score on the holdout)',
    )
    .option(
      '--n-iter-no-change <n>',
      'epochs (tree models: boosting rounds) without improvement that stop training with --early-stopping (default 5; trees 10)',
    )
    .option('--tol <t>', 'least improvement of the epoch score that counts, with --early-stopping', '0.001')
    .option('--checkpoint-dir <dir>', 'write checkpoints to this folder at the end of every epoch')
    .option('--checkpoint-every <n>', 'also checkpoint every n batches (0: only at epoch ends)', '0')
    .option(
      '--resume',
      'continue from the checkpoint in --checkpoint-dir (same data, target, features, model, params and seed); the result equals an uninterrupted run',
    )
    .option(
      '--impute <what>',
      `${IMPUTE_MODES.join(' | ')}: nulls fills nulls with the training mean and rejects NaN/±Infinity in numeric features (naming the row); all also imputes NaN/±Infinity`,
      'nulls',
    )
    .option('--classes <a,b,...>', 'the labels a classifier may see (default: those in the training rows)')
    .option(
      '--memory-budget <size>',
      'tree models: memory for the per-row training arrays, e.g. 512MiB or 2GiB; gbdt trains in external memory (per-row state in temporary files) when its estimate is above it',
    )
    .option('--external-memory', 'gbdt: train in external memory whatever the estimate (same model, bounded memory)')
    .option('--spill-dir <dir>', 'folder for the temporary files of external memory (default: the OS temp folder)')
    .option('--register <name>', 'register the model under this name (default: derived from the data file)')
    .option('--json', 'print one JSON object with the result instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n  scaleml train --data flights.parquet --target "delay > 15" --features date,distance,origin,destination \\\n    --holdout time:date:0.1 --epochs 3 --register flights-delay\n' +
        '  scaleml train --data flights.parquet --target "delay > 15" --holdout time:date:0.1 --epochs 20 \\\n' +
        '    --early-stopping --validation-fraction 0.1 --checkpoint-dir ckpt --checkpoint-every 10   # then add --resume after a crash\n' +
        '  scaleml train --data big.parquet --target "delay > 15" --model gbdt --memory-budget 512MiB   # external memory above it',
    )
    .action(async (flags: TrainFlags) => {
      const modelName = flags.model
      // Family names (gbdt, random-forest, …) resolve by the target inside trainJob; anything else must be known.
      if (modelName !== undefined && !Object.hasOwn(MODEL_FAMILIES, modelName)) modelEntry(modelName)
      if (modelName !== undefined && MODEL_CATALOG[modelName as keyof typeof MODEL_CATALOG]?.task === 'clustering') {
        if (flags.target !== undefined) {
          throw new ScalemlError(
            'INVALID_ARGUMENT',
            `${modelName} is a clustering model: it learns without a target; drop --target.`,
          )
        }
        await trainClusterer(flags, modelName)
        return
      }
      if (flags.target === undefined) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `--target is required: a label column or a SQL expression such as "delay > 15" (clustering models such as minibatch-kmeans need none).`,
        )
      }
      const target = flags.target
      const progress = createProgress(!flags.json)
      const started = performance.now()
      let result: Awaited<ReturnType<typeof trainJob>>
      try {
        result = await trainJob({
          data: flags.data,
          target,
          ...(flags.features
            ? {
                features: flags.features
                  .split(',')
                  .map((f) => f.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(modelName ? { model: modelName } : {}),
          paramAssignments: flags.param,
          ...(flags.hash.length > 0 ? { hash: parseHashFlags(flags.hash) } : {}),
          epochs: parseInteger('--epochs', flags.epochs),
          batchSize: parseInteger('--batch-size', flags.batchSize),
          ...(flags.holdout ? { holdout: flags.holdout } : {}),
          seed: parseInteger('--seed', flags.seed),
          shuffle: parseChoice('--shuffle', flags.shuffle, SHUFFLE_MODES) as ShuffleMode,
          ...(flags.segmentRows === undefined
            ? {}
            : { segmentRows: parseInteger('--segment-rows', flags.segmentRows) }),
          ...(flags.shuffleWindow === undefined
            ? {}
            : { shuffleWindow: parseInteger('--shuffle-window', flags.shuffleWindow) }),
          ...(flags.earlyStopping ? { earlyStopping: true } : {}),
          ...(flags.validationFraction === undefined
            ? {}
            : { validationFraction: parseReal('--validation-fraction', flags.validationFraction) }),
          ...(flags.nIterNoChange === undefined
            ? {}
            : { nIterNoChange: parseInteger('--n-iter-no-change', flags.nIterNoChange) }),
          tol: parseReal('--tol', flags.tol),
          ...(flags.checkpointDir === undefined ? {} : { checkpointDir: flags.checkpointDir }),
          checkpointEvery: parseInteger('--checkpoint-every', flags.checkpointEvery),
          ...(flags.resume ? { resume: true } : {}),
          impute: parseChoice('--impute', flags.impute, IMPUTE_MODES) as ImputeMode,
          ...(flags.classes === undefined
            ? {}
            : { classes: flags.classes.split(',').map((c) => parseReal('--classes', c.trim())) }),
          ...(flags.memoryBudget === undefined
            ? {}
            : { memoryBudget: parseByteSize(flags.memoryBudget, '--memory-budget') }),
          ...(flags.externalMemory ? { externalMemory: true } : {}),
          ...(flags.spillDir === undefined ? {} : { spillDir: flags.spillDir }),
          onProgress: (e) => {
            progress.update(e)
            if (e.epochEnd && !flags.json) {
              progress.stop()
              process.stderr.write(`${describeEpoch(e.epochEnd, e.epochs)}\n`)
            }
          },
        })
      } finally {
        progress.stop()
      }
      const name = flags.register ?? defaultModelName(flags.data)
      const ref = await registerTrained(registryOptionsFrom(flags), name, result)
      const seconds = (performance.now() - started) / 1000
      const rowsSeen = result.lineage.rows * result.lineage.epochs
      const summary = {
        model: ref,
        metrics: result.metrics,
        rows: result.lineage.rows,
        holdoutRows: result.holdout?.rows ?? 0,
        epochs: result.lineage.epochs,
        training: result.training,
        seconds,
        timings: result.timings,
        rowsPerSecond: rowsSeen / result.timings.train,
        peakRssBytes: peakRssBytes(),
      }
      if (flags.json) {
        printJson(summary)
        return
      }
      process.stdout.write(
        `registered ${ref.name}:${ref.version} (${result.modelKind}, ${result.features.length} features)\n`,
      )
      process.stdout.write(
        `trained on ${formatNumber(summary.rows)} rows × ${summary.epochs} epoch(s) in ${seconds.toFixed(1)} s (${formatNumber(Math.round(summary.rowsPerSecond))} rows/s), peak RSS ${(summary.peakRssBytes / 1048576).toFixed(0)} MiB\n`,
      )
      if (result.training.resumedFrom) {
        const r = result.training.resumedFrom
        process.stdout.write(`resumed from epoch ${r.epoch}, block ${r.block}, batch ${r.batch}\n`)
      }
      const trees = result.training.trees
      if (trees) {
        const s = trees.seconds
        const rounds = trees.rounds === undefined ? '' : `, ${trees.rounds} rounds (best ${trees.bestIteration! + 1})`
        const where =
          trees.externalMemory === undefined
            ? ''
            : `, external memory (${formatByteSize(trees.externalMemory.spillBytes)} on disk, chunks of ${formatNumber(trees.externalMemory.chunkRows)} rows)`
        process.stdout.write(
          `trees: sketch ${s.sketch.toFixed(1)} s, bin ${s.bin.toFixed(1)} s (${(trees.binnedBytes / 1048576).toFixed(0)} MiB), grow ${s.grow.toFixed(1)} s${rounds}${where}\n`,
        )
      } else if (result.training.stoppedEarly) {
        process.stdout.write(`early stopping after epoch ${result.training.epochsCompleted}\n`)
      }
      if (result.holdout) {
        const m = Object.entries(result.metrics)
          .map(([k, v]) => `${k} ${formatNumber(v)}`)
          .join(', ')
        process.stdout.write(`holdout (${result.holdout.spec}, ${formatNumber(result.holdout.rows)} rows): ${m}\n`)
      }
    })
}

/** One line per epoch: its score and where early stopping stands. */
function describeEpoch(summary: EpochSummary, epochs: number | undefined): string {
  const parts = [`epoch ${summary.epoch}${epochs === undefined ? '' : `/${epochs}`}`]
  if (summary.metric !== undefined && summary.score !== undefined) {
    const name = summary.metric === 'trainingLoss' ? 'training loss' : `${summary.on} ${summary.metric}`
    parts.push(`${name} ${formatNumber(summary.score)}`)
  }
  if (summary.best !== undefined) {
    parts.push(`best ${formatNumber(summary.best)}, ${summary.epochsWithoutImprovement} epoch(s) without improvement`)
  }
  if (summary.stop) parts.push('early stopping')
  parts.push(`${summary.seconds.toFixed(1)} s`)
  return parts.join(' · ')
}

function parseChoice(flag: string, raw: string, choices: readonly string[]): string {
  if (!choices.includes(raw)) {
    throw new ScalemlError('INVALID_ARGUMENT', `${flag} expects one of ${choices.join(', ')}; got '${raw}'.`)
  }
  return raw
}

function parseReal(flag: string, raw: string): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw)
  if (!Number.isFinite(value)) throw new ScalemlError('INVALID_ARGUMENT', `${flag} expects a number; got '${raw}'.`)
  return value
}

/** Peak resident set size of this process, in bytes. */
export function peakRssBytes(): number {
  // maxRSS is in kilobytes on Linux.
  return process.resourceUsage().maxRSS * 1024
}

function defaultModelName(data: string): string {
  const base = data.split(/[\\/]/).pop() ?? 'model'
  const stem = base.replace(/\.(parquet|csv|tsv|csv\.gz)$/i, '').replace(/[*?[\]{}]/g, '')
  const name = stem
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
  return name.length > 0 ? name.slice(0, 64) : 'model'
}

/** `scaleml train --model <clustering model>`: no target; the holdout reports inertia. */
async function trainClusterer(flags: TrainFlags, modelName: string): Promise<void> {
  const progress = createProgress(!flags.json)
  let result: Awaited<ReturnType<typeof clusterJob>>
  try {
    result = await clusterJob({
      data: flags.data,
      model: modelName,
      ...(flags.features
        ? {
            features: flags.features
              .split(',')
              .map((f) => f.trim())
              .filter(Boolean),
          }
        : {}),
      paramAssignments: flags.param,
      epochs: parseInteger('--epochs', flags.epochs),
      batchSize: parseInteger('--batch-size', flags.batchSize),
      ...(flags.holdout ? { holdout: flags.holdout } : {}),
      seed: parseInteger('--seed', flags.seed),
      onProgress: (e) => progress.update(e),
    })
  } finally {
    progress.stop()
  }
  const ref = await registerTrained(registryOptionsFrom(flags), flags.register ?? defaultModelName(flags.data), result)
  const summary = {
    model: ref,
    metrics: result.metrics,
    rows: result.lineage.rows,
    holdoutRows: result.holdout?.rows ?? 0,
    epochs: result.lineage.epochs,
    seconds: result.seconds,
    timings: result.timings,
    rowsPerSecond: (result.lineage.rows * result.lineage.epochs) / result.timings.train,
    peakRssBytes: peakRssBytes(),
  }
  if (flags.json) {
    printJson(summary)
    return
  }
  process.stdout.write(
    `registered ${ref.name}:${ref.version} (${result.modelKind}, ${result.features.length} features)\n`,
  )
  const m = Object.entries(result.metrics)
    .map(([k, v]) => `${k} ${formatNumber(v)}`)
    .join(', ')
  process.stdout.write(
    `trained on ${formatNumber(summary.rows)} rows × ${summary.epochs} epoch(s) in ${summary.seconds.toFixed(1)} s; ${result.holdout ? `holdout (${formatNumber(summary.holdoutRows)} rows)` : 'training rows'}: ${m}\n`,
  )
}

/** `origin:2^18` / `origin:4096` → column → hashed width. */
export function parseHashFlags(values: readonly string[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const value of values) {
    const colon = value.lastIndexOf(':')
    const column = value.slice(0, colon)
    const text = value.slice(colon + 1).trim()
    const power = /^2\^(\d{1,2})$/.exec(text)
    const width = power ? 2 ** Number(power[1]) : /^\d+$/.test(text) ? Number(text) : Number.NaN
    if (colon <= 0 || !Number.isInteger(width) || width < 1 || width > 2 ** 31 - 1) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `--hash expects <column>:<n> with n a whole number or 2^k up to 2^31-1 (e.g. origin:2^18); got '${value}'.`,
      )
    }
    out.set(column, width)
  }
  return out
}

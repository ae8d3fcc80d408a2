/**
 * `scaleml train`: train a model out-of-core on a file or glob and register it.
 * @module
 */
import type { Command } from 'commander'
import { ScalemlError } from '../../core/errors.js'
import { MODEL_CATALOG } from '../../models/catalog.js'
import { trainJob } from '../../train/job.js'
import { formatNumber, printJson } from '../output.js'
import { createProgress } from '../progress.js'
import { registerTrained } from '../register-trained.js'
import { collect, parseInteger, resolveHome } from './shared.js'

interface TrainFlags {
  data: string
  target: string
  features?: string
  model?: string
  param: string[]
  epochs: string
  batchSize: string
  holdout?: string
  seed: string
  register?: string
  home?: string
  json?: boolean
}

/** Adds `train` to the program. */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('Train a model out-of-core on a Parquet/CSV file or glob, evaluate it on a holdout, and register it.')
    .requiredOption('--data <path|glob>', 'Parquet or CSV file(s) to stream')
    .requiredOption('--target <column|expression>', 'label column or SQL expression, e.g. "delay > 15"')
    .option('--features <a,b,c>', 'feature columns (default: every column the target does not read)')
    .option('--model <name>', `model: ${Object.keys(MODEL_CATALOG).join(' | ')} (default: by target type)`)
    .option('--param <key=value>', 'hyperparameter, repeatable (camelCase or snake_case keys)', collect, [])
    .option('--epochs <n>', 'passes over the training data', '1')
    .option('--batch-size <n>', 'rows per batch (memory is proportional to it)', '65536')
    .option('--holdout <spec>', 'time:<column>:<fraction> (last fraction by time) or random:<fraction>')
    .option('--seed <n>', 'random seed for shuffling and splits', '0')
    .option('--register <name>', 'register the model under this name (default: derived from the data file)')
    .option('--home <dir>', 'registry folder (default: $SCALEML_HOME or ./.scaleml)')
    .option('--json', 'print one JSON object with the result instead of text')
    .addHelpText(
      'after',
      '\nExample:\n  scaleml train --data flights.parquet --target "delay > 15" --features date,distance,origin,destination \\\n    --holdout time:date:0.1 --epochs 3 --register flights-delay',
    )
    .action(async (flags: TrainFlags) => {
      const modelName = flags.model
      if (modelName !== undefined && !(modelName in MODEL_CATALOG)) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `Unknown model '${modelName}'. Known models: ${Object.keys(MODEL_CATALOG).join(', ')}.`,
        )
      }
      const progress = createProgress(!flags.json)
      const started = performance.now()
      let result: Awaited<ReturnType<typeof trainJob>>
      try {
        result = await trainJob({
          data: flags.data,
          target: flags.target,
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
          epochs: parseInteger('--epochs', flags.epochs),
          batchSize: parseInteger('--batch-size', flags.batchSize),
          ...(flags.holdout ? { holdout: flags.holdout } : {}),
          seed: parseInteger('--seed', flags.seed),
          onProgress: (e) => progress.update(e),
        })
      } finally {
        progress.stop()
      }
      const name = flags.register ?? defaultModelName(flags.data)
      const ref = await registerTrained(resolveHome(flags.home), name, result)
      const seconds = (performance.now() - started) / 1000
      const rowsSeen = result.lineage.rows * result.lineage.epochs
      const summary = {
        model: ref,
        metrics: result.metrics,
        rows: result.lineage.rows,
        holdoutRows: result.holdout?.rows ?? 0,
        epochs: result.lineage.epochs,
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
      if (result.holdout) {
        const m = Object.entries(result.metrics)
          .map(([k, v]) => `${k} ${formatNumber(v)}`)
          .join(', ')
        process.stdout.write(`holdout (${result.holdout.spec}, ${formatNumber(result.holdout.rows)} rows): ${m}\n`)
      }
    })
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

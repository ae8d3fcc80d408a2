/**
 * `scaleml predict`: score a Parquet/CSV file (or glob) with a registered model into a Parquet or CSV file.
 * @module
 */
import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import { ScalemlError } from '../../core/errors.js'
import { type ScoreProgress, type ScoreSummary, scoreToFile } from '../../serve/batch-score.js'
import { formatNumber, printJson } from '../output.js'
import { addRegistryOptions, parseInteger, type RegistryFlags, registryOptionsFrom } from './shared.js'
import { peakRssBytes } from './train.js'

interface PredictFlags extends RegistryFlags {
  model: string
  data: string
  out: string
  /** A comma-separated list; `false` with `--no-columns`; absent for the default (every column). */
  columns?: string | false
  contributions?: boolean
  batchSize: string
  threads?: string
  json?: boolean
}

/** Exit status after a signal, as shells report a command the signal ended: 128 + the signal's number. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const

/** Adds `predict` to the program. */
export function registerPredictCommand(program: Command): void {
  const command = program
    .command('predict')
    .description(
      'Score a Parquet/CSV file or glob with a registered model into one Parquet or CSV file, streaming; the file ' +
        'appears only once complete, so an interrupted run leaves nothing at --out.',
    )
    .requiredOption('--model <ref>', 'model reference: name (latest), name:version or name@alias')
    .requiredOption('--data <path|glob>', 'Parquet or CSV file(s) holding the model inputs')
    .requiredOption('--out <file>', 'output file; .parquet or .csv picks the format (an existing file is replaced)')
    .option('--columns <a,b,…>', 'input columns to copy into the output before the predictions (default: all)')
    .option('--no-columns', 'write the prediction columns only')
    .option(
      '--contributions',
      'add TreeSHAP contributions per feature (contrib_<feature>, contrib_bias; tree models only)',
    )
    .option('--batch-size <n>', 'rows per batch', '65536')
    .option('--threads <n>', 'threads that score, this one included (default: 2 for tree models on 2+ cores, else 1)')
    .option('--json', 'print one JSON object')
  addRegistryOptions(command).action(async (flags: PredictFlags) => {
    const columns = parseColumns(flags.columns)
    const batchSize = parseInteger('--batch-size', flags.batchSize)
    const progress = createScoreProgress(!flags.json)
    const controller = new AbortController()
    let received: keyof typeof SIGNAL_EXIT = 'SIGINT'
    const interrupt = (signal: keyof typeof SIGNAL_EXIT) => {
      received = signal
      controller.abort()
    }
    process.once('SIGINT', interrupt)
    process.once('SIGTERM', interrupt)
    let summary: ScoreSummary
    try {
      summary = await scoreToFile({
        model: flags.model,
        registry: registryOptionsFrom(flags),
        data: flags.data,
        out: flags.out,
        ...(columns === undefined ? {} : { columns }),
        contributions: flags.contributions === true,
        batchSize,
        ...(flags.threads === undefined ? {} : { threads: parseInteger('--threads', flags.threads) }),
        onProgress: (event) => progress.update(event),
        signal: controller.signal,
      })
    } catch (error) {
      if (!controller.signal.aborted) throw error
      // Stop the bar first so the message starts on its own line.
      progress.stop()
      process.stderr.write(`interrupted (${received}): nothing was written to ${flags.out}\n`)
      process.exitCode = SIGNAL_EXIT[received]
      return
    } finally {
      progress.stop()
      process.off('SIGINT', interrupt)
      process.off('SIGTERM', interrupt)
    }
    const peak = peakRssBytes()
    if (flags.json) {
      printJson({ ...summary, peakRssBytes: peak })
      return
    }
    process.stdout.write(
      `${summary.model.name}:${summary.model.version} scored ${formatNumber(summary.rows)} rows of ${flags.data} ` +
        `into ${summary.out} in ${summary.seconds.toFixed(1)} s (${formatNumber(Math.round(summary.rowsPerSecond))} rows/s), ` +
        `peak RSS ${(peak / 1048576).toFixed(0)} MiB\n` +
        `  columns: ${summary.columns.join(', ')}\n`,
    )
  })
}

function parseColumns(raw: string | false | undefined): string[] | undefined {
  if (raw === undefined) return undefined
  if (raw === false) return []
  const names = raw.split(',').map((name) => name.trim())
  if (names.some((name) => name === '')) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `--columns expects a comma-separated list of column names like 'id,date'; got '${raw}'. Use --no-columns to keep none.`,
    )
  }
  return names
}

interface ScoreProgressDisplay {
  update(event: ScoreProgress): void
  stop(): void
}

/**
 * A bar on stderr when it is a TTY (rows, rows/s, ETA; a count without percentage for CSV, whose row count is not
 * known before reading), else nothing.
 */
function createScoreProgress(enabled: boolean): ScoreProgressDisplay {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} }
  const bar = new cliProgress.SingleBar(
    {
      format: ' {phase} |{bar}| {percentage}% · {value}/{total} rows · {speed} rows/s · ETA {eta_formatted}',
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 50,
      fps: 5,
      formatValue: (v, _o, type) =>
        type === 'value' || type === 'total' ? Number(v).toLocaleString('en-US') : String(v),
    },
    cliProgress.Presets.shades_classic,
  )
  let started: number | undefined
  return {
    update(event) {
      if (event.phase === 'write') {
        // The final COPY reports no progress of its own: say what is happening instead of a bar stuck at 100%.
        if (started !== undefined) bar.stop()
        started = undefined
        process.stderr.write(' writing the output file…\n')
        return
      }
      const total = event.totalRows ?? Math.max(event.rows, 1)
      if (started === undefined) {
        started = performance.now()
        bar.start(total, 0, { phase: 'score', speed: '0' })
      }
      if (event.totalRows === undefined) bar.setTotal(total)
      const seconds = (performance.now() - started) / 1000
      bar.update(Math.min(event.rows, total), {
        speed: seconds > 0 ? Math.round(event.rows / seconds).toLocaleString('en-US') : '0',
      })
    },
    stop() {
      if (started !== undefined) bar.stop()
      started = undefined
    },
  }
}

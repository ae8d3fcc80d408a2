/**
 * A progress bar on a TTY (rows, rows/s, ETA) and nothing otherwise, so `--json` output and CI logs stay clean.
 * @module
 */
import cliProgress from 'cli-progress'
import type { ProgressEvent } from '../train/progress.js'

const PHASE_LABEL = {
  'fit-pipeline': 'fit preprocessing',
  train: 'train',
  evaluate: 'evaluate',
  sketch: 'sketch bin boundaries',
  bin: 'bin rows',
  boost: 'grow trees',
} as const

/** A progress display that consumes training progress events. */
export interface ProgressDisplay {
  update(event: ProgressEvent): void
  stop(): void
}

/** Creates a progress bar on stderr when it is a TTY and `enabled`; otherwise a no-op display. */
export function createProgress(enabled: boolean): ProgressDisplay {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} }
  const bar = new cliProgress.SingleBar(
    {
      format: ' {phase} |{bar}| {percentage}% · {value}/{total} {unit} · {speed} {unit}/s · ETA {eta_formatted}',
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 50,
      fps: 5,
      formatValue: (v, _o, type) =>
        type === 'value' || type === 'total' ? Number(v).toLocaleString('en-US') : String(v),
    },
    cliProgress.Presets.shades_classic,
  )
  let key = ''
  let started = 0
  return {
    update(event) {
      const label =
        event.phase === 'train' ? `${PHASE_LABEL.train} epoch ${event.epoch}/${event.epochs}` : PHASE_LABEL[event.phase]
      const total = event.totalRows ?? Math.max(event.rows, 1)
      if (label !== key) {
        if (key !== '') bar.stop()
        key = label
        started = performance.now()
        bar.start(total, 0, { phase: label.padEnd(22), speed: '0', unit: event.unit ?? 'rows' })
      }
      const seconds = (performance.now() - started) / 1000
      bar.update(Math.min(event.rows, total), {
        speed: seconds > 0 ? Math.round(event.rows / seconds).toLocaleString('en-US') : '0',
      })
    },
    stop() {
      if (key !== '') bar.stop()
      key = ''
    },
  }
}

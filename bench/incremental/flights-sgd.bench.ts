/**
 * bench/incremental: the flights task out-of-core, scaleml `train` vs scikit-learn `SGDClassifier.partial_fit`
 * (pandas chunks of 100k + an incremental StandardScaler pass), same features and hyper-parameters, same run.
 *
 *   npm run bench:incremental -- [--epochs 1,3] [--repeat 10] [--extra "--param average=1"]
 *
 * Needs Debian's python3-sklearn, python3-pandas, python3-scipy (it installs nothing; it says what is missing).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BENCH_DATA,
  CLI,
  count,
  fixed,
  flightsCsv,
  flightsParquet,
  mib,
  PYTHON,
  printMarkdownTable,
  requirePython,
  runJson,
} from '../lib/peers.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1]! : fallback
}
const epochList = arg('--epochs', '1,3').split(',').map(Number)
/** How many copies of flights-3m the memory comparison streams (0 skips it). */
const repeat = Number(arg('--repeat', '10'))
/** Extra `scaleml train` flags, e.g. `--extra "--param average=1"` for the best-default run. */
const extra = arg('--extra', '').split(' ').filter(Boolean)

requirePython(['sklearn', 'pandas', 'scipy'], ['python3-sklearn', 'python3-pandas', 'python3-scipy'])
const csv = await flightsCsv()
const peerScript = fileURLToPath(new URL('./sklearn_sgd.py', import.meta.url))
const rows: (string | number)[][] = []

for (const epochs of epochList) {
  const home = mkdtempSync(join(tmpdir(), 'scaleml-bench-'))
  try {
    const ours = await runJson(process.execPath, [
      CLI,
      'train',
      '--data',
      flightsParquet(),
      '--target',
      'delay > 15',
      '--features',
      'date,distance,origin,destination',
      '--holdout',
      'time:date:0.1',
      '--epochs',
      String(epochs),
      '--register',
      'bench',
      '--home',
      home,
      '--json',
      ...extra,
    ])
    const peer = await runJson(PYTHON, [peerScript, csv, String(epochs)])
    const metrics = ours.metrics as Record<string, number>
    rows.push(
      [
        'scaleml',
        epochs,
        count(ours.rowsPerSecond),
        fixed(ours.seconds, 1),
        mib(ours.peakRssBytes),
        fixed(metrics.auc, 4),
        fixed(metrics.logLoss, 4),
      ],
      [
        'scikit-learn',
        epochs,
        count(peer.rowsPerSecond),
        fixed(peer.seconds, 1),
        mib(peer.peakRssBytes),
        fixed(peer.auc, 4),
        fixed(peer.logLoss, 4),
      ],
      [
        'ratio (scaleml / sklearn)',
        epochs,
        fixed((ours.rowsPerSecond as number) / (peer.rowsPerSecond as number), 2),
        fixed((ours.seconds as number) / (peer.seconds as number), 2),
        fixed((ours.peakRssBytes as number) / (peer.peakRssBytes as number), 2),
        `Δ ${fixed(metrics.auc! - (peer.auc as number), 4)}`,
        `Δ ${fixed(metrics.logLoss! - (peer.logLoss as number), 4)}`,
      ],
    )
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

const memoryRows: (string | number)[][] = []
if (repeat > 1) {
  // The same rows 1× and repeat× (symlinked copies read as one glob), random holdout: peak RSS must not follow the data.
  const dir = join(BENCH_DATA, 'repeat')
  mkdirSync(dir, { recursive: true })
  for (let i = 0; i < repeat; i++) {
    const link = join(dir, `flights-${String(i).padStart(2, '0')}.parquet`)
    if (!existsSync(link)) symlinkSync(flightsParquet(), link)
  }
  for (const [label, data] of [
    ['1×', join(dir, 'flights-00.parquet')],
    [`${repeat}×`, join(dir, '*.parquet')],
  ] as const) {
    const home = mkdtempSync(join(tmpdir(), 'scaleml-bench-'))
    try {
      const out = await runJson(process.execPath, [
        CLI,
        'train',
        '--data',
        data,
        '--target',
        'delay > 15',
        '--features',
        'date,distance,origin,destination',
        '--holdout',
        'random:0.1',
        '--epochs',
        '1',
        '--register',
        'bench',
        '--home',
        home,
        '--json',
        ...extra,
      ])
      memoryRows.push([label, count(out.rows), count(out.rowsPerSecond), mib(out.peakRssBytes)])
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  }
}

process.stdout.write(
  '\nflights-3m, train < 2001-06-13 (2,697,270 rows), test ≥ 2001-06-13 (302,730 rows), label delay > 15\n',
)
process.stdout.write('rows/s = training rows × epochs / time of the epoch passes (read + transform + learn)\n\n')
printMarkdownTable(['run', 'epochs', 'rows/s', 'process s', 'peak RSS MiB', 'holdout AUC', 'holdout log-loss'], rows)
if (memoryRows.length > 0) {
  process.stdout.write(`\nscaleml peak RSS with the data streamed 1× and ${repeat}× (random:0.1 holdout, 1 epoch)\n\n`)
  printMarkdownTable(['data', 'training rows', 'rows/s', 'peak RSS MiB'], memoryRows)
}

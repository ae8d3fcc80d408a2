/**
 * bench/serving: `scaleml serve` under load on loopback, side by side with the server a Python team would deploy
 * (FastAPI + uvicorn + scikit-learn, bench/serving/fastapi_app.py) and a Fastify constant-response floor
 * (bench/serving/fastify-floor.ts), in the same run, with the same request bodies.
 *
 *   npm run build && npx tsx bench/serving/serving.bench.ts [--duration 10] [--warmup 2] [--workers 1]
 *     [--only floor,fastapi,scaleml] [--connections 1,16,64] [--batch-connections 16] [--retrain]
 *     [--serve-args "…"] [--batching-on-args "…"] [--batching-off-args "…"] [--no-python] [--max-minutes 30]
 *
 * Cases: single-row predict at 1, 16 and 64 connections and 100-row batch requests, for the flights SGD model and a
 * 100-tree GBDT (trained once into .bench-data/serving/home, `--retrain` to redo), with and without micro-batching
 * when `scaleml serve --help` shows flags for it (else one mode, with a note). The FastAPI baseline serves an
 * SGDClassifier(log_loss) on the same features; the floor answers a fixed JSON. Every server gets the same number
 * of processes (`--workers`, default 1; scaleml only if `serve` has `--workers`, else a note). autocannon runs in
 * this process: on a 2-core machine the load generator shares the cores with the server, as with wrk.
 *
 * Prints a Markdown table (req/s and predictions/s of 2xx answers; p50/p99/max latency of 2xx answers in ms) and the
 * issue-6 targets; writes the figures as JSON under .bench-data/serving/. Exits 2 when the build or the Python peer
 * is missing (`--no-python` runs without the peer), 3 when it passes `--max-minutes`. Servers are always stopped.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  BENCH_DATA,
  CLI,
  count,
  fixed,
  flightsCsv,
  flightsParquet,
  PYTHON,
  printMarkdownTable,
  ROOT,
} from '../lib/peers.js'
import { requestBodies } from './data.js'
import { type LoadResult, runLoad } from './load.js'
import { type ChildServer, freePort, installCleanup, startServer } from './servers.js'

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    workers: { type: 'string', default: '1' },
    only: { type: 'string', default: 'floor,fastapi,scaleml' },
    connections: { type: 'string', default: '1,16,64' },
    'batch-connections': { type: 'string', default: '16' },
    retrain: { type: 'boolean', default: false },
    'serve-args': { type: 'string', default: '' },
    'batching-on-args': { type: 'string' },
    'batching-off-args': { type: 'string' },
    'no-python': { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '30' },
  },
})
const DURATION = Number(flags.duration)
const WARMUP = Number(flags.warmup)
const WORKERS = Number(flags.workers)
const ONLY = new Set(flags.only.split(','))
const CONNECTIONS = flags.connections.split(',').map(Number)
const BATCH_CONNECTIONS = Number(flags['batch-connections'])
const BATCH_ROWS = 100
const SERVING = join(BENCH_DATA, 'serving')
const HOME = join(SERVING, 'home')
const MODELS = { sgd: 'bench-serving-sgd', gbdt: 'bench-serving-gbdt' } as const
const FASTAPI_MODEL = join(SERVING, 'fastapi-sgd.pkl')
const FASTAPI_APP_DIR = join(ROOT, 'bench', 'serving')
const split = (text: string | undefined) => (text ?? '').split(' ').filter(Boolean)

const notes: string[] = []
const note = (text: string) => {
  notes.push(text)
  process.stderr.write(`note: ${text}\n`)
}
const log = (text: string) => process.stderr.write(`${text}\n`)

// ---- preconditions ----------------------------------------------------------------------------------------------

if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  process.stderr.write('Build scaleml first: npm run build\n')
  process.exit(2)
}
let runFastapi = ONLY.has('fastapi')
if (runFastapi) {
  const check = spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn, pydantic, sklearn, numpy, scipy, pandas'], {
    encoding: 'utf8',
  })
  if (check.status !== 0) {
    const message =
      `The FastAPI baseline runs under ${PYTHON} and needs fastapi, uvicorn, pydantic, scikit-learn, numpy, scipy ` +
      'and pandas.\nInstall them with: apt-get update && apt-get install -y python3-fastapi python3-uvicorn ' +
      'python3-sklearn python3-pandas python3-scipy\n(or point SCALEML_BENCH_PYTHON at an interpreter that has ' +
      `them; --no-python runs the rest without the baseline)\n${check.stderr ?? ''}`
    if (!flags['no-python']) {
      process.stderr.write(message)
      process.exit(2)
    }
    note('FastAPI baseline skipped: its Python modules are missing (--no-python).')
    runFastapi = false
  }
}
const maxMinutes = Number(flags['max-minutes'])
installCleanup(maxMinutes * 60_000)
mkdirSync(SERVING, { recursive: true })
const started = Date.now()
const loadBefore = loadavg()

// ---- what `scaleml serve` can do (the runtime grows while this bench exists) ---------------------------------------

const serveHelp = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' }).stdout ?? ''
const hasFlag = (flag: string) => new RegExp(`(^|\\s|,)${flag}(\\s|,|=|$)`, 'm').test(serveHelp)
interface Mode {
  readonly label: string
  readonly args: readonly string[]
}
const modes: Mode[] = []
{
  const off =
    flags['batching-off-args'] !== undefined
      ? split(flags['batching-off-args'])
      : hasFlag('--no-batching')
        ? ['--no-batching']
        : hasFlag('--no-micro-batching')
          ? ['--no-micro-batching']
          : hasFlag('--max-batch-size')
            ? ['--max-batch-size', '1']
            : undefined
  const on = flags['batching-on-args'] !== undefined ? split(flags['batching-on-args']) : []
  if (off === undefined) {
    modes.push({ label: 'n/a', args: [] })
    note(
      '`scaleml serve --help` shows no micro-batching flag (--no-batching, --max-batch-size): single-row cases run ' +
        "once with the server's default; pass --batching-off-args to name the flag.",
    )
  } else {
    modes.push({ label: on.length ? `on (${on.join(' ')})` : 'on (default)', args: on })
    modes.push({ label: `off (${off.join(' ')})`, args: off })
  }
}
const commonServeArgs: string[] = [...split(flags['serve-args'])]
if (hasFlag('--workers')) commonServeArgs.push('--workers', String(WORKERS))
else if (WORKERS !== 1) note(`scaleml serve has no --workers: it runs 1 process; the peers run ${WORKERS}.`)
else note('scaleml serve has no --workers flag: 1 process, as the peers.')
// The model is what is measured, not the cache: off unless `--serve-args` turns it on.
if (hasFlag('--cache') && !commonServeArgs.includes('--cache')) commonServeArgs.push('--cache', 'off')
else if (!hasFlag('--cache'))
  note('scaleml serve has no --cache flag: the cache hits column shows whether one answered.')

// ---- models and data ------------------------------------------------------------------------------------------------

function registered(): Set<string> {
  const list = spawnSync(process.execPath, [CLI, 'models', 'list', '--home', HOME, '--json'], { encoding: 'utf8' })
  if (list.status !== 0) return new Set()
  try {
    const parsed = JSON.parse(list.stdout) as { models: { name: string }[] }
    return new Set(parsed.models.map((m) => m.name))
  } catch {
    return new Set()
  }
}

function trainScaleml(name: string, extra: readonly string[]): void {
  log(`training ${name} (once; --retrain to redo)`)
  const result = spawnSync(
    process.execPath,
    [
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
      ...extra,
      '--register',
      name,
      '--home',
      HOME,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  )
  if (result.status !== 0) throw new Error(`scaleml train ${name} failed (exit ${result.status})`)
}

if (ONLY.has('scaleml')) {
  const have = flags.retrain ? new Set<string>() : registered()
  if (!have.has(MODELS.sgd)) trainScaleml(MODELS.sgd, [])
  if (!have.has(MODELS.gbdt)) trainScaleml(MODELS.gbdt, ['--model', 'gbdt', '--param', 'nEstimators=100'])
}
if (runFastapi && (flags.retrain || !existsSync(FASTAPI_MODEL))) {
  const csv = await flightsCsv()
  log('training the FastAPI baseline model (once; --retrain to redo)')
  const result = spawnSync(PYTHON, [join(FASTAPI_APP_DIR, 'fastapi_app.py'), 'train', csv, FASTAPI_MODEL, '500000'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (result.status !== 0) throw new Error(`training the FastAPI model failed (exit ${result.status})`)
}

log('reading request bodies from flights-3m')
// Hundreds, not thousands: autocannon serializes every body once per connection before the clock starts (20,000
// bodies × 64 connections stalled the load generator for seconds). With the cache off, which rows are sent does
// not change the work.
const bodies = await requestBodies({ singles: 512, batches: 64, batchRows: BATCH_ROWS })

// ---- running cases --------------------------------------------------------------------------------------------------

interface Case {
  readonly server: string
  readonly model: string
  readonly batching: string
  readonly connections: number
  readonly rows: number
  readonly result: LoadResult
  /** Mean rows per model call over the case, from /metrics (scaleml only, when it exports them). */
  readonly meanBatch?: number
  /** Share of predictions answered by the cache over the case, from /metrics. */
  readonly cacheHitRatio?: number
}
const cases: Case[] = []

/** Sums of the /metrics samples we read, for one model. */
async function scrape(server: ChildServer, model: string): Promise<Map<string, number> | undefined> {
  try {
    const response = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(2000) })
    if (!response.ok) return undefined
    const sums = new Map<string, number>()
    for (const line of (await response.text()).split('\n')) {
      const m = /^(scaleml_[a-z_]+)\{([^}]*)\} (\S+)$/.exec(line)
      if (!m || !m[2]!.includes(`model="${model}"`)) continue
      sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[3]))
    }
    return sums
  } catch {
    return undefined
  }
}

function remainingOk(): boolean {
  // Leave room for the last case and the shutdown before the hard limit.
  return Date.now() - started < maxMinutes * 60_000 - (DURATION + WARMUP + 30) * 1000
}

async function measure(
  server: ChildServer,
  meta: { server: string; model: string; batching: string },
  connections: number,
  rows: number,
): Promise<void> {
  if (!remainingOk()) {
    note(`skipped ${meta.server} ${meta.model} ${connections} conn × ${rows} rows: time limit.`)
    return
  }
  const list = rows === 1 ? bodies.single : bodies.batch
  const path = `/v1/models/${meta.model}/predict`
  if (WARMUP > 0) {
    await runLoad({ url: server.url, path, bodies: list, rowsPerRequest: rows, connections, durationS: WARMUP })
  }
  const before = await scrape(server, meta.model)
  const result = await runLoad({
    url: server.url,
    path,
    bodies: list,
    rowsPerRequest: rows,
    connections,
    durationS: DURATION,
  })
  const after = await scrape(server, meta.model)
  const delta = (name: string) =>
    before && after?.has(name) ? (after.get(name) ?? 0) - (before.get(name) ?? 0) : undefined
  const batchRows = delta('scaleml_batch_size_rows_sum')
  const batchCalls = delta('scaleml_batch_size_rows_count')
  const hits = delta('scaleml_prediction_cache_hits_total')
  const misses = delta('scaleml_prediction_cache_misses_total')
  const entry: Case = {
    ...meta,
    connections,
    rows,
    result,
    ...(batchRows !== undefined && batchCalls ? { meanBatch: batchRows / batchCalls } : {}),
    ...(hits !== undefined && misses !== undefined && hits + misses > 0
      ? { cacheHitRatio: hits / (hits + misses) }
      : {}),
  }
  cases.push(entry)
  if (result.seconds > DURATION * 1.2 + 1) {
    note(
      `${meta.server} ${meta.model} ${connections} conn × ${rows} rows ran ${result.seconds.toFixed(1)} s instead of ` +
        `${DURATION} s: the load generator was starved of CPU, so that row understates the server.`,
    )
  }
  const bad = result.non2xx + result.errors
  log(
    `${meta.server.padEnd(8)} ${meta.model.padEnd(18)} batching ${meta.batching.padEnd(14)} ${String(connections).padStart(2)} conn × ${String(rows).padStart(3)} rows: ${count(result.requestsPerSecond)} req/s, p99 ${fixed(result.p99Ms, 2)} ms${bad ? `, failed: ${failures(result)}` : ''}`,
  )
}

async function withServer(start: () => Promise<ChildServer>, body: (server: ChildServer) => Promise<void>) {
  const server = await start()
  try {
    await body(server)
  } finally {
    await server.stop()
  }
}

const sampleBody = bodies.single[0]!

if (ONLY.has('floor')) {
  const port = await freePort()
  await withServer(
    () =>
      startServer({
        name: 'fastify floor',
        command: process.execPath,
        args: [
          '--import',
          'tsx',
          join(ROOT, 'bench', 'serving', 'fastify-floor.ts'),
          '--port',
          String(port),
          '--workers',
          String(WORKERS),
        ],
        port,
        cwd: ROOT,
        ready: { path: '/healthz' },
        timeoutMs: 30_000,
      }),
    async (server) => {
      const meta = { server: 'fastify floor', model: MODELS.sgd, batching: 'n/a' }
      for (const c of CONNECTIONS) await measure(server, meta, c, 1)
      await measure(server, meta, BATCH_CONNECTIONS, BATCH_ROWS)
    },
  )
}

let fastapiVersions: unknown
if (runFastapi) {
  const port = await freePort()
  await withServer(
    () =>
      startServer({
        name: 'fastapi',
        command: PYTHON,
        args: [
          '-m',
          'uvicorn',
          'fastapi_app:app',
          '--app-dir',
          FASTAPI_APP_DIR,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--workers',
          String(WORKERS),
          '--no-access-log',
          '--log-level',
          'warning',
        ],
        env: { SCALEML_BENCH_FASTAPI_MODEL: FASTAPI_MODEL, SCALEML_BENCH_MODEL_NAME: MODELS.sgd },
        port,
        ready: { path: `/v1/models/${MODELS.sgd}/predict`, body: sampleBody },
        timeoutMs: 180_000,
      }),
    async (server) => {
      fastapiVersions = await (await fetch(`${server.url}/versions`)).json()
      const meta = { server: 'fastapi', model: MODELS.sgd, batching: 'n/a' }
      for (const c of CONNECTIONS) await measure(server, meta, c, 1)
      await measure(server, meta, BATCH_CONNECTIONS, BATCH_ROWS)
    },
  )
}

if (ONLY.has('scaleml')) {
  for (const mode of modes) {
    const port = await freePort()
    await withServer(
      () =>
        startServer({
          name: 'scaleml',
          command: process.execPath,
          args: [CLI, 'serve', '--port', String(port), '--home', HOME, ...commonServeArgs, ...mode.args],
          port,
          cwd: ROOT,
          ready: { path: `/v1/models/${MODELS.gbdt}/predict`, body: sampleBody },
          timeoutMs: 120_000,
        }),
      async (server) => {
        for (const model of [MODELS.sgd, MODELS.gbdt]) {
          const meta = { server: 'scaleml', model, batching: mode.label }
          for (const c of CONNECTIONS) await measure(server, meta, c, 1)
          // Batch requests are measured in every mode: the micro-batcher may merge them too.
          await measure(server, meta, BATCH_CONNECTIONS, BATCH_ROWS)
        }
      },
    )
  }
}

// ---- report ----------------------------------------------------------------------------------------------------------

const loadAfter = loadavg()
process.stdout.write(
  `\n## Serving benchmark (${new Date().toISOString().slice(0, 10)})\n\n` +
    `${cpus().length} cores, Node ${process.version}, ${WORKERS} server process(es) each, autocannon in the bench ` +
    `process, ${DURATION} s per case after ${WARMUP} s warm-up; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, ` +
    `after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}.\n` +
    `scaleml serve ${ONLY.has('scaleml') ? commonServeArgs.join(' ') || '(no extra flags)' : 'not run'}; ` +
    `FastAPI peer ${JSON.stringify(fastapiVersions ?? 'not run')}.\n\n`,
)
printMarkdownTable(
  [
    'server',
    'model',
    'micro-batching',
    'conns',
    'rows/req',
    'req/s',
    'predictions/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'failed',
    'rows/model call',
    'cache hits',
  ],
  cases.map((c) => [
    c.server,
    c.server === 'fastapi' ? 'SGDClassifier(log_loss)' : c.server === 'fastify floor' ? '(constant)' : c.model,
    c.batching,
    c.connections,
    c.rows,
    count(c.result.requestsPerSecond),
    count(c.result.predictionsPerSecond),
    fixed(c.result.p50Ms, 2),
    fixed(c.result.p99Ms, 2),
    fixed(c.result.maxMs, 1),
    failures(c.result),
    c.meanBatch === undefined ? 'n/a' : fixed(c.meanBatch, 1),
    c.cacheHitRatio === undefined ? 'n/a' : `${(100 * c.cacheHitRatio).toFixed(0)}%`,
  ]),
)

function failures(result: LoadResult): string {
  const parts = Object.entries(result.statuses).map(([status, n]) => `${n}× ${status}`)
  if (result.timeouts > 0) parts.push(`${result.timeouts} timeouts`)
  if (result.errors > result.timeouts) parts.push(`${result.errors - result.timeouts} connection errors`)
  return parts.length ? parts.join(', ') : '0'
}

const find = (server: string, model: string, connections: number, rows: number, batching?: string) =>
  cases.find(
    (c) =>
      c.server === server &&
      c.model === model &&
      c.connections === connections &&
      c.rows === rows &&
      (batching === undefined || c.batching === batching),
  )
const targets: (string | number)[][] = []
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'met' : 'not met')
const top = Math.max(...CONNECTIONS)
for (const model of [MODELS.sgd, MODELS.gbdt]) {
  const kind = model === MODELS.sgd ? 'linear' : 'GBDT'
  for (const mode of modes) {
    const ours = find('scaleml', model, top, 1, mode.label)
    const peer = find('fastapi', MODELS.sgd, top, 1)
    const floor = find('fastify floor', MODELS.sgd, top, 1)
    if (ours && peer) {
      const ratio = ours.result.requestsPerSecond / peer.result.requestsPerSecond
      targets.push([
        `single-row ${kind} at ${top} conns ≥ 5× FastAPI req/s, p99 < 10 ms (batching ${mode.label})`,
        `${fixed(ratio, 2)}×, p99 ${fixed(ours.result.p99Ms, 2)} ms`,
        kind === 'linear' ? verdict(ratio >= 5 && ours.result.p99Ms < 10) : '(for information)',
      ])
    }
    if (ours && floor) {
      const share = ours.result.requestsPerSecond / floor.result.requestsPerSecond
      targets.push([
        `single-row ${kind} req/s ≥ 75% of the Fastify floor at ${top} conns (batching ${mode.label})`,
        `${(100 * share).toFixed(0)}%`,
        kind === 'linear' ? verdict(share >= 0.75) : '(for information)',
      ])
    }
  }
  const batch = find('scaleml', model, BATCH_CONNECTIONS, BATCH_ROWS)
  if (batch) {
    targets.push([
      `≥ 200,000 predictions/s with ${BATCH_ROWS}-row batches (${kind})`,
      count(batch.result.predictionsPerSecond),
      kind === 'linear' ? verdict(batch.result.predictionsPerSecond >= 200_000) : '(for information)',
    ])
  }
}
if (targets.length > 0) {
  process.stdout.write('\nIssue-6 targets (this run, this machine):\n\n')
  printMarkdownTable(['target', 'measured', 'verdict'], targets)
}
if (notes.length > 0) process.stdout.write(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`)

const out = join(SERVING, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
writeFileSync(
  out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      cores: cpus().length,
      node: process.version,
      workers: WORKERS,
      durationS: DURATION,
      loadBefore,
      loadAfter,
      serveArgs: commonServeArgs,
      modes,
      fastapi: fastapiVersions,
      cases,
      notes,
    },
    null,
    2,
  ),
)
process.stderr.write(`\nfigures written to ${out} (${((Date.now() - started) / 60_000).toFixed(1)} min)\n`)

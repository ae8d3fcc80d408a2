/**
 * A quick A/B driver for the single-row predict path: the Fastify floor and one or two `scaleml serve` builds run
 * side by side (all started once), and short autocannon runs hit them in turn, round after round, so that the noise
 * of a shared 2-core machine falls on every server alike. Prints the median and best req/s of each server per
 * connection count, each scaleml build's share of the floor, and the server's CPU time per answered request (user +
 * system, from /proc: on a shared machine it moves far less than req/s does).
 *
 *   npm run build && npx tsx bench/serving/ab.bench.ts --home .bench-data/serving/home [--model bench-serving-sgd]
 *     [--baseline-cli /path/to/other/bin/scaleml.js] [--connections 1,16,64] [--rounds 5] [--duration 5]
 *     [--serve-args "--workers 1 --cache off"] [--rows 1]
 *
 * The model must already be registered in `--home` (serving.bench.ts trains `bench-serving-sgd` there). Servers are
 * idle while another one is measured; each is warmed before the first round.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CLI, fixed, printMarkdownTable, ROOT } from '../lib/peers.js'
import { requestBodies } from './data.js'
import { type LoadResult, runLoad } from './load.js'
import { type ChildServer, freePort, installCleanup, startServer } from './servers.js'

const { values: flags } = parseArgs({
  options: {
    home: { type: 'string', default: join(ROOT, '.bench-data', 'serving', 'home') },
    model: { type: 'string', default: 'bench-serving-sgd' },
    'baseline-cli': { type: 'string' },
    connections: { type: 'string', default: '1,16,64' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    rows: { type: 'string', default: '1' },
    'serve-args': { type: 'string', default: '--workers 1 --cache off' },
    'no-floor': { type: 'boolean', default: false },
  },
})
const CONNECTIONS = flags.connections.split(',').map(Number)
const ROUNDS = Number(flags.rounds)
const DURATION = Number(flags.duration)
const ROWS = Number(flags.rows)
const serveArgs = flags['serve-args'].split(' ').filter(Boolean)
installCleanup(60 * 60_000)

const bodies = await requestBodies({ singles: 512, batches: ROWS > 1 ? 64 : 0, batchRows: Math.max(ROWS, 1) })
const list = ROWS === 1 ? bodies.single : bodies.batch
const path = `/v1/models/${flags.model}/predict`

interface Entry {
  readonly name: string
  readonly server: ChildServer
}
const servers: Entry[] = []
const scaleml = async (name: string, cli: string) => {
  const port = await freePort()
  const server = await startServer({
    name,
    command: process.execPath,
    args: [cli, 'serve', '--port', String(port), '--home', flags.home, '--model', flags.model, ...serveArgs],
    port,
    cwd: ROOT,
    ready: { path, body: list[0]! },
    timeoutMs: 60_000,
  })
  servers.push({ name, server })
}
try {
  if (!flags['no-floor']) {
    const port = await freePort()
    const server = await startServer({
      name: 'floor',
      command: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'bench', 'serving', 'fastify-floor.ts'), '--port', String(port)],
      port,
      cwd: ROOT,
      ready: { path: '/healthz' },
      timeoutMs: 30_000,
    })
    servers.push({ name: 'floor', server })
  }
  if (flags['baseline-cli'] !== undefined) await scaleml('baseline', flags['baseline-cli'])
  await scaleml('scaleml', CLI)

  const results = new Map<string, (LoadResult & { cpuUs: number })[]>()
  const load = async (entry: Entry, connections: number, durationS: number) => {
    const before = cpuSeconds(entry.server.pid)
    const result = await runLoad({
      url: entry.server.url,
      path,
      bodies: list,
      rowsPerRequest: ROWS,
      connections,
      durationS,
    })
    const cpuUs = ((cpuSeconds(entry.server.pid) - before) * 1e6) / result.ok
    return { ...result, cpuUs }
  }
  for (const entry of servers) await load(entry, 16, 2)
  for (let round = 0; round < ROUNDS; round++) {
    for (const connections of CONNECTIONS) {
      // Alternate the order each round so neither server always runs right after the other.
      const order = round % 2 === 0 ? servers : [...servers].reverse()
      for (const entry of order) {
        const result = await load(entry, connections, DURATION)
        const key = `${entry.name}\u0000${connections}`
        results.set(key, [...(results.get(key) ?? []), result])
        process.stderr.write(
          `round ${round + 1} ${entry.name.padEnd(8)} ${String(connections).padStart(2)} conn: ${Math.round(result.requestsPerSecond)} req/s, ${fixed(result.cpuUs, 1)} µs CPU/req, p99 ${fixed(result.p99Ms, 2)} ms${result.non2xx + result.errors ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}\n`,
        )
      }
    }
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  }
  const rows: (string | number)[][] = []
  for (const connections of CONNECTIONS) {
    const floor = results.get(`floor\u0000${connections}`)
    const floorMedian = floor === undefined ? undefined : median(floor.map((r) => r.requestsPerSecond))
    for (const entry of servers) {
      const runs = results.get(`${entry.name}\u0000${connections}`)!
      const rps = runs.map((r) => r.requestsPerSecond)
      const med = median(rps)
      rows.push([
        entry.name,
        connections,
        Math.round(med),
        Math.round(Math.max(...rps)),
        fixed(median(runs.map((r) => r.p99Ms)), 2),
        fixed(median(runs.map((r) => r.cpuUs)), 1),
        floorMedian === undefined || entry.name === 'floor' ? '' : `${((100 * med) / floorMedian).toFixed(0)}%`,
      ])
    }
  }
  process.stdout.write(
    `\n${ROUNDS} rounds × ${DURATION} s, ${ROWS} row(s) per request, scaleml serve ${serveArgs.join(' ')}\n\n`,
  )
  printMarkdownTable(
    ['server', 'conns', 'median req/s', 'best req/s', 'median p99 ms', 'median CPU µs/req', 'of floor (median)'],
    rows,
  )
} finally {
  for (const { server } of servers) await server.stop()
}

/** User + system CPU seconds of process `pid` so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    // utime and stime, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

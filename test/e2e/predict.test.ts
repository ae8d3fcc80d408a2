/**
 * `scaleml predict`: batch scoring from the command line — the output equals the HTTP predictor's answers, re-runs
 * are byte-identical, and a killed or interrupted run leaves no file at `--out`.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDuckDb } from '../../src/infra/duckdb.js'
import { openRegistry } from '../../src/registry/registry.js'
import { loadServableModel } from '../../src/serve/model-loader.js'
import { predictBody } from '../../src/serve/predictor.js'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { CLI, hasStackTrace, runCli } from '../helpers/cli.js'

const ROWS = 5_000
/** Large enough that scoring it in small batches takes seconds, so a kill lands mid-way. */
const BIG_ROWS = 1_500_000

let tmp: TempHome
let home: string
let data: string
let dataCsv: string
let big: string

beforeAll(async () => {
  tmp = await createTempHome('predict')
  home = join(tmp.path, 'home')
  data = join(tmp.path, 'flights.parquet')
  dataCsv = join(tmp.path, 'flights.csv')
  big = join(tmp.path, 'big.parquet')
  await writeSyntheticFlights(data, { rows: ROWS, seed: 21 })
  await writeSyntheticFlights(dataCsv, { rows: ROWS, seed: 21, format: 'csv' })
  await writeSyntheticFlights(big, { rows: BIG_ROWS, seed: 22 })
  const train = await runCli([
    'train',
    '--data',
    data,
    '--target',
    'delay > 15',
    '--features',
    'date,distance,origin,destination',
    '--register',
    'delays',
    '--home',
    home,
    '--json',
  ])
  expect(train.code, train.stderr).toBe(0)
})

afterAll(async () => {
  await tmp?.remove()
})

function predict(args: readonly string[]) {
  return runCli(['predict', '--model', 'delays', '--home', home, ...args])
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

async function readRows(path: string, select = '*'): Promise<Record<string, unknown>[]> {
  const db = await openDuckDb()
  try {
    const rows = (await db.connection.runAndReadAll(`SELECT ${select} FROM '${path}'`)).getRowObjectsJS()
    return rows.map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
    )
  } finally {
    await db.close()
  }
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.includes('.tmp-'))
}

describe('scaleml predict', () => {
  it('scores Parquet and CSV into Parquet and CSV with the answers the HTTP predictor gives', async () => {
    const registry = await openRegistry({ home })
    const servable = await loadServableModel(registry, 'delays')
    await registry.close()
    const instances = await readRows(data, 'epoch_ms(date) AS date, distance, origin, destination')
    const expected = predictBody(servable, { instances }).predictions

    for (const [input, out] of [
      [data, join(tmp.path, 'scores.parquet')],
      [dataCsv, join(tmp.path, 'scores.csv')],
    ] as const) {
      const run = await predict(['--data', input, '--out', out, '--columns', 'origin,distance', '--json'])
      expect(run.code, run.stderr).toBe(0)
      const summary = JSON.parse(run.stdout)
      expect(summary).toMatchObject({
        model: { name: 'delays', version: 1 },
        rows: ROWS,
        out,
        columns: ['origin', 'distance', 'probability', 'label'],
      })
      expect(summary.seconds).toBeGreaterThan(0)
      expect(summary.rowsPerSecond).toBeGreaterThan(0)
      expect(summary.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024)
      const rows = await readRows(out)
      expect(rows.map((r) => ({ probability: r['probability'], label: r['label'] }))).toEqual(expected)
      expect(rows.map((r) => [r['origin'], r['distance']])).toEqual(instances.map((r) => [r['origin'], r['distance']]))
    }
    expect(readFileSync(join(tmp.path, 'scores.csv'), 'utf8').split('\n')[0]).toBe('origin,distance,probability,label')
    expect(leftovers(tmp.path)).toEqual([])
  })

  it('gives byte-identical output when run again', async () => {
    for (const ext of ['parquet', 'csv']) {
      const first = join(tmp.path, `first.${ext}`)
      const second = join(tmp.path, `second.${ext}`)
      expect((await predict(['--data', data, '--out', first])).code).toBe(0)
      expect((await predict(['--data', data, '--out', second, '--batch-size', '999'])).code).toBe(0)
      expect(sha256(second)).toBe(sha256(first))
    }
  })

  it('gives byte-identical output on flights-3m whatever the batch size', async () => {
    // Part files of a batch-dependent size once made DuckDB lay out the Parquet pages differently at this size.
    const flights3m = fileURLToPath(
      new URL('../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url),
    )
    const outs = ['65536', '10000'].map((batchSize) => join(tmp.path, `flights-3m-${batchSize}.parquet`))
    for (const [i, out] of outs.entries()) {
      const run = await predict(['--data', flights3m, '--out', out, '--batch-size', i === 0 ? '65536' : '10000'])
      expect(run.code, run.stderr).toBe(0)
    }
    expect(sha256(outs[1]!)).toBe(sha256(outs[0]!))
  })

  it('prints a one-line summary without --json, and keeps no input column with --no-columns', async () => {
    const out = join(tmp.path, 'plain.csv')
    const run = await predict(['--data', data, '--out', out, '--no-columns'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^delays:1 scored 5,000 rows of .* into .*plain\.csv in [\d.]+ s \([\d,]+ rows\/s\)/)
    expect(run.stdout).toContain('columns: probability, label')
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('probability,label')
  })

  for (const [phase, ready] of [
    // Scoring: the first part file exists.
    ['while scoring', (temp: string) => existsSync(`${temp}.parts`) && readdirSync(`${temp}.parts`).length > 0],
    // Writing: the final COPY has started filling the temporary output file.
    ['while writing the file', (temp: string) => (statSync(temp, { throwIfNoEntry: false })?.size ?? 0) > 0],
  ] as const) {
    it(`leaves no file at --out when killed with SIGKILL ${phase}`, async () => {
      const dir = join(tmp.path, `kill-${phase.replaceAll(' ', '-')}`)
      await mkdir(dir)
      const out = join(dir, 'scores.parquet')
      const child = spawn(
        process.execPath,
        [CLI, 'predict', '--model', 'delays', '--home', home, '--data', big, '--out', out, '--batch-size', '4096'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      )
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
      })
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      )
      const deadline = Date.now() + 60_000
      let killed = false
      while (Date.now() < deadline && child.exitCode === null) {
        const temp = readdirSync(dir).find((name) => /\.tmp-\d+-[0-9a-f]+$/.test(name))
        if (temp !== undefined && ready(join(dir, temp))) {
          child.kill('SIGKILL')
          killed = true
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      expect(killed, `never saw the run ${phase}; stderr: ${stderr}`).toBe(true)
      expect(await exited).toBe('SIGKILL')
      expect(existsSync(out)).toBe(false)
      // What a kill leaves is named as temporary, next to the output.
      expect(readdirSync(dir).every((name) => name.startsWith('scores.parquet.tmp-'))).toBe(true)
    })
  }

  it('removes its temporary files and writes nothing when interrupted (SIGINT), exiting 130', async () => {
    const dir = join(tmp.path, 'interrupted')
    await mkdir(dir)
    const out = join(dir, 'scores.parquet')
    const child = spawn(
      process.execPath,
      [CLI, 'predict', '--model', 'delays', '--home', home, '--data', big, '--out', out, '--batch-size', '4096'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    while (child.exitCode === null && !readdirSync(dir).some((name) => name.endsWith('.parts'))) {
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    child.kill('SIGINT')
    expect(await exited, stderr).toBe(130)
    expect(stderr).toContain('interrupted (SIGINT): nothing was written to')
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses bad input with a clear error, a non-zero exit and no output file', async () => {
    const db = await openDuckDb()
    const renamed = join(tmp.path, 'renamed.parquet')
    const retyped = join(tmp.path, 'retyped.csv')
    await db.connection.run(
      `COPY (SELECT date, distance AS miles, origin, destination FROM '${data}') TO '${renamed}' (FORMAT parquet)`,
    )
    await db.connection.run(
      `COPY (SELECT date, 'far' AS distance, origin, destination FROM '${data}') TO '${retyped}' (FORMAT csv, HEADER)`,
    )
    await db.close()
    const readOnly = join(tmp.path, 'read-only')
    await mkdir(readOnly, { mode: 0o555 })
    const out = join(tmp.path, 'bad.parquet')
    const cases: [string[], number, RegExp, string?][] = [
      [['--model', 'nope', '--data', data, '--out', out], 6, /MODEL_NOT_FOUND.*No model named 'nope'/],
      [['--data', renamed, '--out', out], 3, /UNKNOWN_COLUMN.*lacks the input column 'distance' of model delays:1/],
      [['--data', retyped, '--out', out], 3, /INVALID_DATA.*'distance' is VARCHAR in the data; model delays:1 takes/],
      [['--data', data, '--out', join(tmp.path, 'missing', 'x.csv')], 2, /Cannot write .*: its folder does not exist/],
      [['--data', data, '--out', join(tmp.path, 'x.txt')], 2, /must end in \.parquet or \.csv/],
      [['--data', data, '--out', out, '--contributions'], 2, /need a tree model .*'sgd-classifier'/],
      [['--data', data, '--out', out, '--columns', 'origin,,date'], 2, /--columns expects a comma-separated list/],
      [['--data', data, '--out', out, '--columns', 'origin,label'], 3, /unknown column 'label'/],
      [['--data', join(tmp.path, 'nothing-*.parquet'), '--out', out], 4, /SOURCE_NOT_FOUND/],
    ]
    // Root ignores folder permissions, so the read-only case only runs where they apply.
    if (process.getuid?.() !== 0) {
      cases.push([['--data', data, '--out', join(readOnly, 'x.csv')], 2, /its folder is not writable/])
    }
    for (const [args, code, says] of cases) {
      const run = await runCli([
        'predict',
        '--home',
        home,
        ...(args[0] === '--model' ? [] : ['--model', 'delays']),
        ...args,
      ])
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(code)
      expect(run.stderr.replace(/\n/g, ' ')).toMatch(says)
      expect(hasStackTrace(run.stderr)).toBe(false)
      expect(existsSync(out)).toBe(false)
    }
    expect(leftovers(tmp.path)).toEqual([])
  })

  it('replaces an existing output file', async () => {
    const out = join(tmp.path, 'existing.csv')
    writeFileSync(out, 'stale\n')
    const run = await predict(['--data', data, '--out', out, '--no-columns'])
    expect(run.code, run.stderr).toBe(0)
    expect(readFileSync(out, 'utf8').split('\n').length).toBe(ROWS + 2)
  })
})

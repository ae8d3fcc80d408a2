import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRegistry } from '../../src/registry/registry.js'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { hasStackTrace, runCli } from '../helpers/cli.js'

let tmp: TempHome
let data: string
let home: string

beforeAll(async () => {
  tmp = await createTempHome('cli-train')
  data = join(tmp.path, 'flights.parquet')
  home = join(tmp.path, 'home')
  await writeSyntheticFlights(data, { rows: 30_000, seed: 11 })
  const first = await train(['--epochs', '2'])
  expect(first.code, first.stderr).toBe(0)
})

afterAll(async () => {
  await tmp?.remove()
})

function train(extra: readonly string[], overrides: { data?: string; target?: string } = {}) {
  return runCli([
    'train',
    '--data',
    overrides.data ?? data,
    '--target',
    overrides.target ?? 'delay > 15',
    '--holdout',
    'time:date:0.1',
    '--register',
    'delays',
    '--home',
    home,
    '--json',
    ...extra,
  ])
}

async function versionsOnDisk(): Promise<number[]> {
  const registry = await openRegistry({ home })
  try {
    return await registry.store.versions('delays')
  } finally {
    await registry.close()
  }
}

describe('scaleml train', () => {
  it('trains, evaluates on the holdout, registers, and prints one JSON object', async () => {
    const run = await train(['--features', 'date,distance,origin,destination'])
    expect(run.code, run.stderr).toBe(0)
    const out = JSON.parse(run.stdout)
    expect(out.model).toEqual({ name: 'delays', version: 2 })
    expect(out.metrics.auc).toBeGreaterThan(0.6)
    expect(out.metrics.auc).toBeLessThanOrEqual(1)
    expect(out.metrics.logLoss).toBeGreaterThan(0)
    expect(out.rows + out.holdoutRows).toBe(30_000)
    expect(out.rowsPerSecond).toBeGreaterThan(0)
    expect(out.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024)
  })

  it('lists and shows what it registered', async () => {
    const list = await runCli(['models', 'list', '--home', home, '--json'])
    expect(list.code, list.stderr).toBe(0)
    const models = JSON.parse(list.stdout).models
    expect(models).toHaveLength(1)
    expect(models[0]).toMatchObject({ name: 'delays', latestVersion: 2, versions: [1, 2] })

    const show = await runCli(['models', 'show', 'delays:1', '--home', home, '--json'])
    expect(show.code, show.stderr).toBe(0)
    const manifest = JSON.parse(show.stdout)
    expect(manifest).toMatchObject({ name: 'delays', version: 1, task: 'classification', modelKind: 'sgd-classifier' })
    expect(manifest.target).toEqual({ expression: 'delay > 15', kind: 'boolean' })
    expect(manifest.features).toEqual(['date', 'distance', 'origin', 'destination'])
    expect(manifest.lineage).toMatchObject({ seed: 0, epochs: 2 })
    expect(manifest.lineage.dataFingerprint).toMatch(/^[0-9a-f]{64}$/)
    expect(manifest.files.length).toBeGreaterThan(0)
  })

  it('evaluates a registered model on data, with the stored target or an override', async () => {
    const run = await runCli(['evaluate', '--model', 'delays:1', '--data', data, '--home', home, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const out = JSON.parse(run.stdout)
    expect(out).toMatchObject({
      model: { name: 'delays', version: 1 },
      target: 'delay > 15',
      task: 'classification',
      rows: 30_000,
    })
    expect(out.metrics.auc).toBeGreaterThan(0.6)
    const cells = out.confusionMatrix.counts.flat() as number[]
    expect(cells.reduce((a, b) => a + b, 0)).toBe(30_000)
    expect(out.confusionMatrix.classes).toEqual([0, 1])
    const stricter = await runCli([
      'evaluate',
      '--model',
      'delays',
      '--data',
      data,
      '--target',
      'delay > 60',
      '--home',
      home,
      '--json',
    ])
    expect(stricter.code, stricter.stderr).toBe(0)
    expect(JSON.parse(stricter.stdout).target).toBe('delay > 60')

    const unknown = await runCli(['evaluate', '--model', 'dleays', '--data', data, '--home', home])
    expect(unknown.code).toBe(6)
    expect(unknown.stderr).toMatch(/No model named 'dleays'.*Did you mean 'delays'/)
    expect(hasStackTrace(unknown.stderr)).toBe(false)
  })

  it('trains a clustering model without a target and evaluates its inertia', async () => {
    const run = await runCli([
      'train',
      '--data',
      data,
      '--model',
      'minibatch-kmeans',
      '--features',
      'distance,origin',
      '--param',
      'n_clusters=4',
      '--holdout',
      'random:0.1',
      '--register',
      'routes',
      '--home',
      home,
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    const out = JSON.parse(run.stdout)
    expect(out.model).toEqual({ name: 'routes', version: 1 })
    expect(out.metrics.inertia).toBeGreaterThan(0)
    expect(out.rows + out.holdoutRows).toBe(30_000)
    const evaluated = await runCli(['evaluate', '--model', 'routes', '--data', data, '--home', home, '--json'])
    expect(evaluated.code, evaluated.stderr).toBe(0)
    const report = JSON.parse(evaluated.stdout)
    expect(report).toMatchObject({ task: 'clustering', rows: 30_000 })
    expect(report.metrics.meanSquaredDistance).toBeCloseTo(report.metrics.inertia / 30_000, 9)

    const noTarget = await runCli(['train', '--data', data, '--home', home])
    expect(noTarget.code).toBe(2)
    expect(noTarget.stderr).toMatch(/--target is required/)
  })

  it('hashes a high-cardinality string feature with --hash column:2^k', async () => {
    const run = await train([
      '--features',
      'date,distance,origin,destination',
      '--hash',
      'origin:2^12',
      '--register',
      'hashed',
    ])
    expect(run.code, run.stderr).toBe(0)
    const out = JSON.parse(run.stdout)
    expect(out.metrics.auc).toBeGreaterThan(0.6)
    const show = await runCli(['models', 'show', `hashed:${out.model.version}`, '--home', home, '--json'])
    const steps = JSON.parse(show.stdout).pipeline.steps as { kind: string; column?: string; nFeatures?: number }[]
    expect(steps.find((s) => s.column === 'origin')).toMatchObject({ kind: 'feature-hasher', nFeatures: 4096 })
    expect(steps.find((s) => s.column === 'destination')).toMatchObject({ kind: 'one-hot' })
    const bad = await train(['--hash', 'origin:2^40'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--hash expects <column>:<n>.*got 'origin:2\^40'/)
    const notString = await train(['--features', 'distance,origin', '--hash', 'distance:64'])
    expect(notString.code).toBe(2)
    expect(notString.stderr).toMatch(/"distance" is int; only string features can be hashed/)
  })

  it('inspects data in one pass', async () => {
    const run = await runCli(['data', 'inspect', data, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout)
    expect(report.rows).toBe(30_000)
    expect(report.columns.map((c: { name: string }) => c.name)).toEqual([
      'date',
      'delay',
      'distance',
      'origin',
      'destination',
    ])
    const origin = report.columns.find((c: { name: string }) => c.name === 'origin')
    expect(origin.type).toBe('string')
    expect(Math.abs(origin.distinct - 50)).toBeLessThanOrEqual(2)
    const text = await runCli(['data', 'inspect', data])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/30,000 rows, 5 columns/)
  })

  it('prints help for every command', async () => {
    for (const args of [
      ['--help'],
      ['train', '--help'],
      ['serve', '--help'],
      ['models', 'list', '--help'],
      ['data', 'inspect', '--help'],
    ]) {
      const run = await runCli(args)
      expect(run.code, args.join(' ')).toBe(0)
      expect(run.stdout).toContain('Usage: scaleml')
    }
  })
})

describe('bad input: a clear message naming the thing, a non-zero exit, nothing registered lost', () => {
  const cases: {
    name: string
    args: () => Promise<readonly string[]> | readonly string[]
    target?: string
    exit: number
    says: RegExp
  }[] = [
    {
      name: 'missing file',
      args: () => ['--data', join(tmp.path, 'nope.parquet')],
      exit: 4,
      says: /no file matches '.*nope\.parquet'/,
    },
    { name: 'unknown column', args: () => ['--features', 'distance,carrier'], exit: 3, says: /carrier/ },
    { name: 'target expression that fails', args: () => [], target: 'delay >>> 15', exit: 3, says: /delay >>> 15/ },
    { name: 'target naming a missing column', args: () => [], target: 'dleay > 15', exit: 3, says: /dleay/ },
    {
      name: 'invalid parameter',
      args: () => ['--param', 'alpha=-1'],
      exit: 2,
      says: /'alpha' parameter .* must be a float in the range \[0, inf\)/,
    },
    { name: 'unknown parameter', args: () => ['--param', 'n_trees=5'], exit: 2, says: /no parameter 'n_trees'/ },
    { name: 'malformed holdout', args: () => ['--holdout', 'time:date'], exit: 2, says: /invalid holdout 'time:date'/ },
    { name: 'unknown model', args: () => ['--model', 'xgb'], exit: 2, says: /Unknown model 'xgb'/ },
    {
      name: 'non-numeric feature declared numeric',
      args: async () => {
        const csv = join(tmp.path, 'mixed.csv')
        const rows = ['delay,distance,origin']
        for (let i = 0; i < 50; i++) rows.push(`${i % 30},${i === 37 ? 'n/a' : 100 + i},SFO`)
        await writeFile(csv, `${rows.join('\n')}\n`)
        return ['--data', csv, '--features', 'distance:numeric,origin', '--holdout', 'random:0.2']
      },
      exit: 3,
      says: /'distance' is declared numeric but row 38 of .*mixed\.csv holds "n\/a"/,
    },
  ]

  for (const c of cases) {
    it(c.name, async () => {
      const before = await versionsOnDisk()
      const extra = await c.args()
      const dataIndex = extra.indexOf('--data')
      const run = await train(dataIndex >= 0 ? [...extra.slice(0, dataIndex), ...extra.slice(dataIndex + 2)] : extra, {
        ...(dataIndex >= 0 ? { data: extra[dataIndex + 1]! } : {}),
        ...(c.target ? { target: c.target } : {}),
      })
      expect(run.code, run.stderr).toBe(c.exit)
      expect(run.stderr).toMatch(c.says)
      expect(run.stderr).toMatch(/^error \[[A-Z_]+\]: /)
      expect(hasStackTrace(run.stderr)).toBe(false)
      expect(await versionsOnDisk()).toEqual(before)
    })
  }
})

/**
 * `scaleml tune` as a user runs it (the built CLI as a child process, `npm run build` first): a halving search over
 * GBDT registers the refit winner with the study in its lineage; `tune show` lists the study; a study killed with
 * SIGKILL and resumed with --resume repeats no finished trial; bad spaces and mismatched resumes are clear errors.
 */
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { CLI, hasStackTrace, runCli } from '../helpers/cli.js'

let tmp: TempHome
let data: string
let home: string

beforeAll(async () => {
  tmp = await createTempHome('cli-tune')
  data = join(tmp.path, 'flights.parquet')
  home = join(tmp.path, 'home')
  await writeSyntheticFlights(data, { rows: 8000, seed: 13 })
  await writeFile(
    join(tmp.path, 'space.json'),
    JSON.stringify({
      learning_rate: { type: 'loguniform', low: 0.05, high: 0.3 },
      max_leaves: { type: 'int', low: 4, high: 32, log: true },
      min_samples_leaf: { type: 'int', low: 1, high: 50, log: true },
    }),
  )
})

afterAll(async () => {
  await tmp?.remove()
})

const base = (): string[] => ['tune', '--data', data, '--target', 'delay > 15', '--model', 'gbdt', '--home', home]

describe('scaleml tune', () => {
  it('halves a GBDT search, refits the winner and registers it with the study as lineage', async () => {
    const run = await runCli([
      ...base(),
      '--space',
      join(tmp.path, 'space.json'),
      '--strategy',
      'halving',
      '--trials',
      '9',
      '--resource',
      'rows',
      '--min-resources',
      '600',
      '--cv',
      '3',
      '--holdout',
      'time:date:0.1',
      '--study',
      'gbdt-halving',
      '--register',
      'tuned',
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    const out = JSON.parse(run.stdout)
    expect(out).toMatchObject({
      study: 'gbdt-halving',
      strategy: 'halving',
      model: 'gbdt-classifier',
      metric: 'auc',
      resumed: false,
      registered: { name: 'tuned', version: 1 },
    })
    expect(out.trials.complete + out.trials.pruned).toBe(9)
    expect(out.best.rungs.map((r: { resource: number }) => r.resource)).toEqual([600, 1800, 5400])
    expect(out.best.value).toBeGreaterThan(0.6)
    expect(out.refit.metrics.auc).toBeGreaterThan(0.6)
    expect(out.refit.rows).toBeGreaterThan(out.rows - 1)
    // The refit's own time, split as `scaleml train` reports it (bench/tune times the search plus this fit).
    expect(out.refit.timings.train).toBeGreaterThan(0)
    expect(out.refit.seconds).toBeGreaterThanOrEqual(out.refit.timings.train)

    const show = await runCli(['models', 'show', 'tuned:1', '--home', home, '--json'])
    expect(show.code, show.stderr).toBe(0)
    const manifest = JSON.parse(show.stdout)
    expect(manifest.modelKind).toBe('gbdt-classifier')
    expect(manifest.lineage.study).toMatchObject({ name: 'gbdt-halving', strategy: 'halving', trial: out.best.number })
    expect(manifest.params.learningRate).toBe(out.best.params.learningRate)

    const listed = await runCli(['tune', 'show', 'gbdt-halving', '--home', home, '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    const study = JSON.parse(listed.stdout)
    expect(study.trials.length).toBe(9)
    expect(study.best.number).toBe(out.best.number)
    const text = await runCli(['tune', 'show', 'gbdt-halving', '--home', home])
    expect(text.stdout).toContain('study gbdt-halving: halving search of gbdt-classifier by auc')
    expect(text.stdout).toMatch(new RegExp(`best #${out.best.number}: auc 0\\.\\d{4}`))
  })

  it('resumes a study killed with SIGKILL without repeating finished trials', async () => {
    const args = [
      ...base(),
      '--space',
      join(tmp.path, 'space.json'),
      '--strategy',
      'random',
      '--trials',
      '10',
      '--study',
      'killed',
      '--register',
      'killed',
      '--json',
    ]
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    let finished: { number: number; finishedAt: number; rungs: unknown[] }[] = []
    for (let i = 0; i < 600; i++) {
      const show = await runCli(['tune', 'show', 'killed', '--home', home, '--json'])
      if (show.code === 0) {
        finished = JSON.parse(show.stdout).trials.filter((t: { state: string }) => t.state === 'complete')
        if (finished.length >= 2) break
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    child.kill('SIGKILL')
    await exited
    expect(finished.length).toBeGreaterThanOrEqual(2)

    const again = await runCli(args)
    expect(again.code, again.stderr).toBe(2)
    expect(again.stderr).toMatch(/The study 'killed' already exists in .*; pass --resume/)
    const resumed = await runCli([...args, '--resume'])
    expect(resumed.code, resumed.stderr).toBe(0)
    const out = JSON.parse(resumed.stdout)
    expect(out.resumed).toBe(true)
    expect(out.trials.complete).toBe(10)
    expect(out.run.ran).toBeLessThanOrEqual(10 - finished.length)
    const study = JSON.parse((await runCli(['tune', 'show', 'killed', '--home', home, '--json'])).stdout)
    for (const before of finished) {
      const after = study.trials.find((t: { number: number }) => t.number === before.number)
      expect(after.finishedAt).toBe(before.finishedAt)
      expect(after.rungs).toEqual(before.rungs)
    }
  })

  it('refuses a space naming a parameter the model does not have, an empty space, and bad JSON', async () => {
    await writeFile(join(tmp.path, 'typo.json'), JSON.stringify({ learning_rat: { type: 'uniform', low: 0, high: 1 } }))
    const typo = await runCli([...base(), '--space', join(tmp.path, 'typo.json'), '--trials', '2'])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain('error [INVALID_PARAM]: The search space does not fit gbdt-classifier')
    expect(typo.stderr).toContain("The search space names 'learningRat', which gbdt-classifier does not have")
    expect(hasStackTrace(typo.stderr)).toBe(false)

    await writeFile(join(tmp.path, 'empty.json'), '{}')
    const empty = await runCli([...base(), '--space', join(tmp.path, 'empty.json'), '--trials', '2'])
    expect(empty.code).toBe(2)
    expect(empty.stderr).toMatch(/empty\.json is empty: name at least one hyperparameter/)

    await writeFile(join(tmp.path, 'broken.json'), '{ "alpha": ')
    const broken = await runCli([...base(), '--space', join(tmp.path, 'broken.json'), '--trials', '2'])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/broken\.json is not valid JSON/)
    expect(hasStackTrace(broken.stderr)).toBe(false)

    const pace = await runCli([
      ...base(),
      '--space',
      join(tmp.path, 'space.json'),
      '--strategy',
      'halving',
      '--trials',
      '3',
      '--pace-param',
      'min_child_weight',
    ])
    expect(pace.code).toBe(2)
    expect(pace.stderr).toContain(
      '--pace-param minChildWeight is not in the search space; name a searched parameter (learningRate, maxLeaves, minSamplesLeaf) or none.',
    )
    expect(hasStackTrace(pace.stderr)).toBe(false)
  })

  it('refuses to resume a study with another search space, naming the change', async () => {
    await writeFile(
      join(tmp.path, 'other.json'),
      JSON.stringify({ learning_rate: { type: 'loguniform', low: 0.01, high: 0.3 } }),
    )
    const run = await runCli([
      ...base(),
      '--space',
      join(tmp.path, 'other.json'),
      '--strategy',
      'halving',
      '--trials',
      '9',
      '--study',
      'gbdt-halving',
      '--resume',
    ])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("The study 'gbdt-halving' was started with other settings")
    expect(run.stderr).toContain("search space: 'maxLeaves' is missing")
    expect(hasStackTrace(run.stderr)).toBe(false)
  })
})

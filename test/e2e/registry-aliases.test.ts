/**
 * `scaleml models alias | unalias | compare | delete | restore | list | show` and `name@alias` references, through
 * the built CLI, on the embedded SQLite registry (`--home`) and on PostgreSQL (`--registry`, and
 * `SCALEML_REGISTRY` for a command that only knows `--home`).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRegistry } from '../../src/registry/registry.js'
import { createFilesStore } from '../../src/registry/stores/files.js'
import { createTestSchema, type TestSchema } from '../../src/registry/test-helpers/postgres-schema.js'
import { sampleContent } from '../../src/registry/test-helpers/sample-content.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { type CliRun, hasStackTrace, runCli } from '../helpers/cli.js'

const FIXTURES = new URL('../fixtures/xgboost/', import.meta.url)

interface Target {
  /** Flags that select the registry on `models …` commands. */
  readonly flags: readonly string[]
  /** Environment for commands, including `SCALEML_REGISTRY` when the registry is selected that way. */
  readonly env: Record<string, string>
  /** The registry URL, for the library. */
  readonly url: string
  dispose(): Promise<void>
}

const TARGETS: readonly { label: string; open(home: string): Promise<Target> }[] = [
  {
    label: 'SQLite (--home)',
    async open(home) {
      return {
        flags: ['--home', home],
        env: { SCALEML_REGISTRY: '', SCALEML_HOME: home },
        url: `sqlite:${join(home, 'registry.db')}`,
        dispose: async () => {},
      }
    },
  },
  {
    label: 'PostgreSQL (--registry, SCALEML_REGISTRY)',
    async open(home) {
      const schema: TestSchema = await createTestSchema('e2e_aliases')
      return {
        flags: ['--registry', schema.url],
        env: { SCALEML_REGISTRY: schema.url, SCALEML_HOME: home },
        url: schema.url,
        dispose: () => schema.drop(),
      }
    },
  },
]

// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON is checked field by field by the assertions that read it
function json(run: CliRun): any {
  expect(run.code, run.stderr).toBe(0)
  return JSON.parse(run.stdout)
}

function expectError(run: CliRun, exit: number, code: string, says: RegExp): void {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(exit)
  expect(run.stderr).toMatch(new RegExp(`^error \\[${code}\\]: `))
  expect(run.stderr).toMatch(says)
  expect(hasStackTrace(run.stderr)).toBe(false)
}

/** The rows of an XGBoost fixture as CSV, with XGBoost's own prediction as the label `y`. */
async function fixtureCsv(name: string, path: string): Promise<void> {
  const { readFile } = await import('node:fs/promises')
  const expected = JSON.parse(await readFile(new URL(`${name}.expected.json`, FIXTURES), 'utf8')) as {
    rows: number
    cols: number
    X: (number | null)[]
    pred: number[]
  }
  const header = [...Array.from({ length: expected.cols }, (_, c) => `x${c}`), 'y']
  const lines = [header.join(',')]
  for (let r = 0; r < expected.rows; r++) {
    const x = expected.X.slice(r * expected.cols, (r + 1) * expected.cols).map((v) => (v === null ? '' : String(v)))
    lines.push([...x, String(expected.pred[r])].join(','))
  }
  await writeFile(path, `${lines.join('\n')}\n`)
}

for (const { label, open } of TARGETS) {
  describe(`scaleml models aliases, delete and compare on ${label}`, () => {
    let tmp: TempHome
    let target: Target
    const cli = (args: readonly string[], flags = true) => runCli([...args, ...(flags ? target.flags : [])], target.env)

    beforeAll(async () => {
      tmp = await createTempHome('e2e-aliases')
      target = await open(join(tmp.path, 'home'))
      for (const fixture of ['reg-pseudohubererror', 'multi-softprob']) {
        const file = new URL(`${fixture}.model.json`, FIXTURES).pathname
        const run = await cli(['models', 'import', file, '--format', 'xgboost-json', '--name', 'hub', '--json'])
        expect(run.code, run.stderr).toBe(0)
      }
      const registry = await openRegistry({ url: target.url })
      await registry.register(
        'flights',
        sampleContent({ metrics: { auc: 0.6, logLoss: 0.5 }, params: { alpha: 1e-4, loss: 'log_loss' } }),
      )
      await registry.register(
        'flights',
        sampleContent({ metrics: { auc: 0.7, logLoss: 0.45 }, params: { alpha: 1e-3, loss: 'log_loss' } }),
      )
      await registry.close()
    })
    afterAll(async () => {
      await target?.dispose()
      await tmp?.remove()
    })

    it('sets an alias, lists and shows it, and resolves name@alias in models show and in evaluate', async () => {
      expect(json(await cli(['models', 'alias', 'hub', 'stable', '1', '--json']))).toEqual({
        name: 'hub',
        alias: 'stable',
        version: 1,
      })
      const list = json(await cli(['models', 'list', '--json']))
      expect(list.models.find((m: { name: string }) => m.name === 'hub')).toMatchObject({
        latestVersion: 2,
        versions: [1, 2],
        aliases: { stable: 1 },
      })
      expect((await cli(['models', 'list'])).stdout).toMatch(/hub\s+2\s+2\s+@stable→1/)
      const shown = json(await cli(['models', 'show', 'hub@stable', '--json']))
      expect(shown).toMatchObject({ name: 'hub', version: 1, task: 'regression', aliases: ['stable'] })
      expect((await cli(['models', 'show', 'hub@stable'])).stdout).toContain('aliases: @stable')

      // evaluate has only --home: the registry comes from SCALEML_REGISTRY (PostgreSQL) or the home (SQLite).
      const csv = join(tmp.path, 'hub.csv')
      await fixtureCsv('reg-pseudohubererror', csv)
      const evaluated = json(
        await runCli(
          [
            'evaluate',
            '--model',
            'hub@stable',
            '--data',
            csv,
            '--target',
            'y',
            '--json',
            '--home',
            join(tmp.path, 'home'),
          ],
          target.env,
        ),
      )
      expect(evaluated.model).toEqual({ name: 'hub', version: 1 })
      expect(evaluated.metrics.rmse).toBeLessThan(1e-5)
    })

    it('moves an alias and refuses to delete the version it points to, naming it', async () => {
      expect(json(await cli(['models', 'alias', 'hub', 'stable', '2', '--json']))).toEqual({
        name: 'hub',
        alias: 'stable',
        version: 2,
        previous: 1,
      })
      expect((await cli(['models', 'alias', 'hub', 'stable', '2'])).stdout).toBe('hub@stable → hub:2\n')
      expect(json(await cli(['models', 'show', 'hub@stable', '--json'])).version).toBe(2)
      expectError(
        await cli(['models', 'delete', 'hub:2']),
        8,
        'VERSION_IN_USE',
        /Cannot delete hub:2: the alias 'hub@stable' points to it.*scaleml models unalias hub stable/,
      )
      expect(json(await cli(['models', 'list', '--json'])).models[1]).toMatchObject({ name: 'hub', versions: [1, 2] })
    })

    it('removes an alias, soft-deletes a version and restores it', async () => {
      expect(json(await cli(['models', 'unalias', 'hub', 'stable', '--json']))).toEqual({
        name: 'hub',
        alias: 'stable',
        version: 2,
      })
      expectError(await cli(['models', 'unalias', 'hub', 'stable']), 6, 'MODEL_NOT_FOUND', /'hub@stable' is not set/)
      expectError(await cli(['models', 'show', 'hub@stable']), 6, 'MODEL_NOT_FOUND', /'hub@stable' is not set/)

      expect(json(await cli(['models', 'delete', 'hub:2', '--json']))).toEqual({
        model: { name: 'hub', version: 2 },
        deleted: true,
        changed: true,
      })
      expect(json(await cli(['models', 'list', '--json'])).models[1]).toMatchObject({
        name: 'hub',
        latestVersion: 1,
        versions: [1],
      })
      expect(json(await cli(['models', 'show', 'hub', '--json'])).version).toBe(1)
      expectError(
        await cli(['models', 'show', 'hub:2']),
        6,
        'MODEL_NOT_FOUND',
        /Version 2 of model 'hub' is deleted; restore it with 'scaleml models restore hub:2'/,
      )
      expect((await cli(['models', 'delete', 'hub:2'])).stdout).toBe('hub:2 was already deleted\n')

      expect(json(await cli(['models', 'restore', 'hub:2', '--json']))).toEqual({
        model: { name: 'hub', version: 2 },
        deleted: false,
        changed: true,
      })
      expect(json(await cli(['models', 'show', 'hub', '--json'])).version).toBe(2)
      expect((await cli(['models', 'delete', 'hub:2'])).stdout).toBe(
        'deleted hub:2 (undo with: scaleml models restore hub:2)\n',
      )
      expect((await cli(['models', 'delete', 'hub:2', '--restore'])).stdout).toBe('restored hub:2\n')
      expect(json(await cli(['models', 'list', '--json'])).models[1].versions).toEqual([1, 2])
    })

    it('compares two versions: metrics with the change, params side by side', async () => {
      const comparison = json(await cli(['models', 'compare', 'flights:1', 'flights', '--json']))
      expect(comparison.a).toMatchObject({ name: 'flights', version: 1 })
      expect(comparison.b).toMatchObject({ name: 'flights', version: 2 })
      expect(comparison.metrics.map((m: { name: string }) => m.name)).toEqual(['auc', 'logLoss'])
      expect(comparison.metrics[0].difference).toBeCloseTo(0.1, 10)
      expect(comparison.params).toContainEqual({ name: 'alpha', a: 1e-4, b: 1e-3, same: false })
      expect(comparison.params).toContainEqual({ name: 'loss', a: 'log_loss', b: 'log_loss', same: true })
      const text = (await cli(['models', 'compare', 'flights:1', 'flights:2'])).stdout
      expect(text).toMatch(/flights:1\s+flights:2\s+change/)
      expect(text).toMatch(/auc\s+0\.6000\s+0\.7000\s+\+0\.1000/)
      expect(text).toMatch(/alpha\s+0\.0001\s+0\.0010\s+≠/)
    })

    it('refuses bad input with a clear message and changes nothing', async () => {
      expectError(
        await cli(['models', 'alias', 'hub', 'stable', '9']),
        6,
        'MODEL_NOT_FOUND',
        /Model 'hub' has no version 9; its versions are 1, 2/,
      )
      expectError(await cli(['models', 'alias', 'hub', 'latest', '1']), 2, 'INVALID_ARGUMENT', /'latest' is reserved/)
      expectError(await cli(['models', 'alias', 'hub', 'Stable', '1']), 2, 'INVALID_ARGUMENT', /Invalid alias 'Stable'/)
      expectError(await cli(['models', 'alias', 'hub', 'stable', 'two']), 2, 'INVALID_ARGUMENT', /got 'two'/)
      expectError(await cli(['models', 'compare', 'hub', 'nope']), 6, 'MODEL_NOT_FOUND', /No model named 'nope'/)
      expectError(await cli(['models', 'restore', 'hub']), 2, 'INVALID_ARGUMENT', /Restore needs the version/)
      expectError(
        await runCli(['models', 'list', '--registry', 'mysql://root@db/x'], target.env),
        2,
        'INVALID_ARGUMENT',
        /Unknown registry URL 'mysql:\/\/root@db\/x'/,
      )
      const unreachable = await runCli(
        ['models', 'alias', 'hub', 'stable', '1', '--registry', 'postgres://postgres:pw@127.0.0.1:1/test', '--json'],
        target.env,
      )
      expect(unreachable.code).toBe(9)
      expect(JSON.parse(unreachable.stdout).error).toMatchObject({ code: 'STORE_UNAVAILABLE' })
      expect(unreachable.stderr).toMatch(/^error \[STORE_UNAVAILABLE\]: The PostgreSQL registry at /)
      expect(unreachable.stderr).toContain('127.0.0.1:1')
      expect(unreachable.stderr).not.toContain(':pw@')
      expect(json(await cli(['models', 'list', '--json'])).models.map((m: { aliases: object }) => m.aliases)).toEqual([
        {},
        {},
      ])
    })
  })
}

describe('scaleml models on a home written by the files store (earlier releases)', () => {
  it('lists, shows, aliases and deletes the models it finds in <home>/models', async () => {
    const tmp = await createTempHome('e2e-legacy')
    try {
      const home = join(tmp.path, 'home')
      const legacy = await openRegistry({ home, store: createFilesStore({ home }) })
      await legacy.register('flights', sampleContent({ metrics: { auc: 0.6 } }))
      await legacy.register('flights', sampleContent({ metrics: { auc: 0.7 } }))
      await legacy.close()
      const env = { SCALEML_REGISTRY: '' }
      const list = json(await runCli(['models', 'list', '--home', home, '--json'], env))
      expect(list.models).toEqual([expect.objectContaining({ name: 'flights', versions: [1, 2], aliases: {} })])
      expect(json(await runCli(['models', 'alias', 'flights', 'stable', '1', '--home', home, '--json'], env))).toEqual({
        name: 'flights',
        alias: 'stable',
        version: 1,
      })
      expect(json(await runCli(['models', 'show', 'flights@stable', '--home', home, '--json'], env)).metrics).toEqual({
        auc: 0.6,
      })
      expect(json(await runCli(['models', 'delete', 'flights:2', '--home', home, '--json'], env)).changed).toBe(true)
      expect(json(await runCli(['models', 'show', 'flights', '--home', home, '--json'], env)).version).toBe(1)
    } finally {
      await tmp.remove()
    }
  })
})

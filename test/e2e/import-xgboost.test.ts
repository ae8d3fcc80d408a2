/**
 * `scaleml models import --format xgboost-json`: an XGBoost 1.7 model registers as an artifact and serves the
 * predictions XGBoost gives (fixtures from Debian's python3-xgboost, test/fixtures/xgboost/).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRegistry } from '../../src/registry/registry.js'
import { loadServableModel } from '../../src/serve/model-loader.js'
import { predictBody } from '../../src/serve/predictor.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { hasStackTrace, runCli } from '../helpers/cli.js'

const FIXTURES = new URL('../fixtures/xgboost/', import.meta.url)
let tmp: TempHome

beforeAll(async () => {
  tmp = await createTempHome('import')
})
afterAll(async () => {
  await tmp?.remove()
})

interface Expected {
  rows: number
  cols: number
  X: (number | null)[]
  margin: number[]
  pred: number[]
}

describe('scaleml models import --format xgboost-json', () => {
  for (const [name, kind] of [
    ['multi-softprob', 'classification'],
    ['reg-squarederror-categorical', 'regression'],
  ] as const) {
    it(`registers ${name} and serves XGBoost's predictions (within 1e-6)`, async () => {
      const file = new URL(`${name}.model.json`, FIXTURES).pathname
      const run = await runCli([
        'models',
        'import',
        file,
        '--format',
        'xgboost-json',
        '--name',
        name,
        '--home',
        tmp.path,
        '--json',
      ])
      expect(run.code, run.stderr).toBe(0)
      expect(JSON.parse(run.stdout)).toMatchObject({ model: { name, version: 1 }, task: kind })

      const expected = JSON.parse(readFileSync(new URL(`${name}.expected.json`, FIXTURES), 'utf8')) as Expected
      const registry = await openRegistry({ home: tmp.path })
      const servable = await loadServableModel(registry, name)
      await registry.close()
      expect(servable.manifest.lineage['importedFrom']).toMatchObject({
        format: 'xgboost-json',
        xgboostVersion: '1.7.4',
      })
      const names = servable.pipeline.inputSchema.fields.map((f) => f.name)
      const instances = Array.from({ length: expected.rows }, (_, r) =>
        Object.fromEntries(names.map((n, c) => [n, expected.X[r * expected.cols + c] ?? null])),
      )
      const { predictions } = predictBody(servable, { instances })
      const k = expected.pred.length / expected.rows
      predictions.forEach((p, r) => {
        if (kind === 'regression') {
          expect(Math.abs((p as { value: number }).value - expected.pred[r]!)).toBeLessThan(1e-6)
          return
        }
        const row = expected.pred.slice(r * k, r * k + k)
        const best = row.indexOf(Math.max(...row))
        expect((p as { label: number }).label).toBe(best)
        expect(Math.abs((p as { probability: number }).probability - row[best]!)).toBeLessThan(1e-6)
      })
    })
  }

  it('refuses a corrupt file, a missing file and an unknown format, registering nothing', async () => {
    const corrupt = join(tmp.path, 'corrupt.json')
    const text = readFileSync(new URL('multi-softprob.model.json', FIXTURES), 'utf8')
    await import('node:fs/promises').then((fs) => fs.writeFile(corrupt, text.slice(0, text.length / 2)))
    for (const [args, code, says] of [
      [[corrupt, '--format', 'xgboost-json'], 3, /corrupt\.json|JSON/],
      [[join(tmp.path, 'nope.json'), '--format', 'xgboost-json'], 4, /Cannot read the model file/],
      [[corrupt, '--format', 'lightgbm'], 2, /Unknown import format 'lightgbm'/],
    ] as const) {
      const run = await runCli(['models', 'import', ...args, '--name', 'bad', '--home', tmp.path])
      expect(run.code, run.stderr).toBe(code)
      expect(run.stderr).toMatch(says)
      expect(hasStackTrace(run.stderr)).toBe(false)
    }
    const list = await runCli(['models', 'list', '--home', tmp.path, '--json'])
    expect(JSON.parse(list.stdout).models.map((m: { name: string }) => m.name)).not.toContain('bad')
  })
})

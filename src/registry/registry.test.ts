import { readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isScalemlError, type ScalemlError } from '../core/errors.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { openRegistry, parseModelRef, type Registry } from './registry.js'
import { sampleContent } from './test-helpers/sample-content.js'

async function catchError(promise: Promise<unknown>): Promise<ScalemlError> {
  try {
    await promise
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

describe('parseModelRef', () => {
  it.each([
    ['flights', { name: 'flights' }],
    ['flights:3', { name: 'flights', version: 3 }],
    ['flights-delay.v2_x:12', { name: 'flights-delay.v2_x', version: 12 }],
    ['flights@stable', { name: 'flights', alias: 'stable' }],
  ])('parses %s', (ref, expected) => {
    expect(parseModelRef(ref)).toEqual(expected)
  })

  it.each([
    ['', 'model name'],
    ['Flights', 'model name'],
    ['-flights', 'model name'],
    ['a'.repeat(65), 'model name'],
    ['flights:', 'version'],
    ['flights:0', 'version'],
    ['flights:1.5', 'version'],
    ['flights:latest', 'version'],
    ['flights:3:4', 'version'],
    ['flights@', 'alias'],
    ['flights@Stable', 'alias'],
    ['flights@1', 'alias'],
    ['fl/ights', 'model name'],
  ])('refuses %j with INVALID_ARGUMENT about the %s', (ref, what) => {
    try {
      parseModelRef(ref)
      expect.unreachable()
    } catch (error) {
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toContain(what === 'model name' ? 'Invalid model name' : `'${ref}'`)
    }
  })
})

describe('registry', () => {
  let home: TempHome
  let registry: Registry
  beforeEach(async () => {
    home = await createTempHome('registry')
    registry = await openRegistry({ home: home.path })
  })
  afterEach(async () => {
    await registry.close()
    await home.remove()
  })

  it('registers versions 1, 2, … and loads each with its typed arrays', async () => {
    const v1 = sampleContent({ metrics: { auc: 0.6 } })
    const coef = new Float64Array([0.5, -1.25, Number.NaN])
    const v2 = sampleContent({ metrics: { auc: 0.7 }, model: { kind: 'sgd-classifier', state: { coef } } })
    expect(await registry.register('flights', v1)).toEqual({ name: 'flights', version: 1 })
    expect(await registry.register('flights', v2)).toEqual({ name: 'flights', version: 2 })

    const latest = await registry.load('flights')
    expect(latest.manifest).toMatchObject({ name: 'flights', version: 2, metrics: { auc: 0.7 } })
    const loaded = (latest.model as { state: { coef: Float64Array } }).state.coef
    expect(Buffer.from(loaded.buffer).equals(Buffer.from(coef.buffer))).toBe(true)
    expect((await registry.load('flights:1')).manifest.metrics).toEqual({ auc: 0.6 })
    expect(await registry.load({ name: 'flights', version: 1 })).toMatchObject({ manifest: { version: 1 } })
  })

  it('lists models with their versions and the latest metrics and creation time', async () => {
    await registry.register('zeta', sampleContent({ created: '2001-01-01T00:00:00.000Z', metrics: { rmse: 3 } }))
    await registry.register('alpha', sampleContent({ created: '2001-02-01T00:00:00.000Z', metrics: { auc: 0.5 } }))
    await registry.register('alpha', sampleContent({ created: '2001-03-01T00:00:00.000Z', metrics: { auc: 0.6 } }))
    expect(await registry.list()).toEqual([
      {
        name: 'alpha',
        latestVersion: 2,
        versions: [1, 2],
        created: '2001-03-01T00:00:00.000Z',
        metrics: { auc: 0.6 },
      },
      { name: 'zeta', latestVersion: 1, versions: [1], created: '2001-01-01T00:00:00.000Z', metrics: { rmse: 3 } },
    ])
    expect(await registry.versions('alpha')).toEqual([1, 2])
  })

  it('resolves name to the latest version and name:version to itself', async () => {
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    expect(await registry.resolve('flights')).toEqual({ name: 'flights', version: 2 })
    expect(await registry.resolve('flights:1')).toEqual({ name: 'flights', version: 1 })
  })

  it('says which names are close when a model is not found', async () => {
    await registry.register('flights-delay', sampleContent())
    await registry.register('flights-delays', sampleContent())
    await registry.register('weather', sampleContent())
    const error = await catchError(registry.resolve('flight-delay'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain("'flight-delay'")
    expect(error.message).toContain("Did you mean 'flights-delay', 'flights-delays'?")
    expect(error.message).not.toContain('weather')
    await expect(registry.versions('nothing-like-it')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
  })

  it('says which versions exist when a version is not found', async () => {
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    const error = await catchError(registry.load('flights:7'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain('no version 7')
    expect(error.message).toContain('1, 2')
  })

  it('says aliases are not set yet', async () => {
    await registry.register('flights', sampleContent())
    const error = await catchError(registry.resolve('flights@stable'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain("'flights@stable' is not set")
    expect(error.message).toContain('versions: 1')
  })

  it('says the registry is empty when it is', async () => {
    const error = await catchError(registry.show('flights'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain('empty')
  })

  it('refuses invalid model names on every entry point', async () => {
    for (const call of [
      registry.register('Flights', sampleContent()),
      registry.register('../escape', sampleContent()),
      registry.versions('a b'),
      registry.load('UPPER'),
      registry.resolve({ name: 'ok', version: 0 }),
    ]) {
      expect((await catchError(call)).code).toBe('INVALID_ARGUMENT')
    }
    expect(await registry.list()).toEqual([])
  })

  it('shows the manifest without hashing files; load verifies them', async () => {
    await registry.register('flights', sampleContent())
    const file = join(home.path, 'models', 'flights', '1', 'model.state.coef.f64')
    const bytes = await readFile(file)
    bytes[0] = bytes[0]! ^ 0xff
    await writeFile(file, bytes)
    expect((await registry.show('flights')).files.map((f) => f.path)).toContain('model.state.coef.f64')
    const error = await catchError(registry.load('flights'))
    expect(error.code).toBe('ARTIFACT_TAMPERED')
    expect(error.message).toContain("'model.state.coef.f64'")
    expect(error.message).toContain('flights:1')
  })

  it('refuses a version whose manifest is missing or claims another version', async () => {
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    const manifest1 = join(home.path, 'models', 'flights', '1', 'manifest.json')
    const manifest2 = join(home.path, 'models', 'flights', '2', 'manifest.json')
    await writeFile(manifest2, await readFile(manifest1))
    let error = await catchError(registry.load('flights:2'))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain('flights:1')
    expect(error.message).toContain('stored as flights:2')

    await rm(manifest2)
    error = await catchError(registry.show('flights:2'))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain('manifest.json')
  })

  it('writes identical binary files when the same model is registered twice', async () => {
    await registry.register('flights', sampleContent({ created: undefined }))
    await registry.register('flights', sampleContent({ created: undefined }))
    const [one, two] = [await registry.show('flights:1'), await registry.show('flights:2')]
    expect(two.files).toEqual(one.files)
    for (const file of one.files) {
      const a = await readFile(join(home.path, 'models', 'flights', '1', file.path))
      const b = await readFile(join(home.path, 'models', 'flights', '2', file.path))
      expect(a.equals(b), file.path).toBe(true)
    }
  })

  it('refuses content that cannot make a valid manifest before writing anything', async () => {
    const error = await catchError(registry.register('flights', sampleContent({ metrics: { auc: Number.NaN } })))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain("'metrics.auc'")
    expect(await registry.list()).toEqual([])
  })
})

describe('openRegistry home', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('uses SCALEML_HOME, else ./.scaleml', async () => {
    const home = await createTempHome('registry-env')
    try {
      vi.stubEnv('SCALEML_HOME', home.path)
      const registry = await openRegistry()
      expect(registry.home).toBe(home.path)
      await registry.register('flights', sampleContent())
      expect(
        JSON.parse(await readFile(join(home.path, 'models', 'flights', '1', 'manifest.json'), 'utf8')),
      ).toMatchObject({
        name: 'flights',
        version: 1,
      })
      vi.stubEnv('SCALEML_HOME', undefined)
      expect((await openRegistry()).home).toBe(resolve('.scaleml'))
      expect((await openRegistry({ home: 'elsewhere' })).home).toBe(resolve('elsewhere'))
    } finally {
      await home.remove()
    }
  })
})

import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isScalemlError, type ScalemlError } from '../core/errors.js'
import { createTempHome } from '../testing/temp-home.js'
import { openRegistry, parseModelRef, type Registry } from './registry.js'
import { createFilesStore } from './stores/files.js'
import { BACKENDS, type RegistryBackend } from './test-helpers/backends.js'
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
    ['flights@latest', { name: 'flights', alias: 'latest' }],
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

describe.each(BACKENDS)('registry on $label', (backend) => {
  let fixture: RegistryBackend
  let registry: Registry
  beforeEach(async () => {
    fixture = await backend.open()
    registry = fixture.registry
  })
  afterEach(async () => {
    await fixture.dispose()
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

  it('lists models with their versions, aliases and the latest metrics and creation time', async () => {
    await registry.register('zeta', sampleContent({ created: '2001-01-01T00:00:00.000Z', metrics: { rmse: 3 } }))
    await registry.register('alpha', sampleContent({ created: '2001-02-01T00:00:00.000Z', metrics: { auc: 0.5 } }))
    await registry.register('alpha', sampleContent({ created: '2001-03-01T00:00:00.000Z', metrics: { auc: 0.6 } }))
    await registry.alias('alpha', 'stable', 1)
    expect(await registry.list()).toEqual([
      {
        name: 'alpha',
        latestVersion: 2,
        versions: [1, 2],
        created: '2001-03-01T00:00:00.000Z',
        metrics: { auc: 0.6 },
        aliases: { stable: 1 },
      },
      {
        name: 'zeta',
        latestVersion: 1,
        versions: [1],
        created: '2001-01-01T00:00:00.000Z',
        metrics: { rmse: 3 },
        aliases: {},
      },
    ])
    expect(await registry.versions('alpha')).toEqual([1, 2])
  })

  it('resolves name and name@latest to the latest version and name:version to itself', async () => {
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    expect(await registry.resolve('flights')).toEqual({ name: 'flights', version: 2 })
    expect(await registry.resolve('flights@latest')).toEqual({ name: 'flights', version: 2 })
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

  it('resolves name@alias, moves aliases atomically and shows them', async () => {
    for (let i = 0; i < 3; i++) await registry.register('flights', sampleContent({ metrics: { auc: 0.6 + i / 10 } }))
    expect(await registry.alias('flights', 'stable', 1)).toEqual({ name: 'flights', alias: 'stable', version: 1 })
    expect(await registry.alias('flights', 'canary', 3)).toEqual({ name: 'flights', alias: 'canary', version: 3 })
    expect(await registry.resolve('flights@stable')).toEqual({ name: 'flights', version: 1 })
    expect((await registry.load('flights@canary')).manifest.version).toBe(3)
    expect(await registry.alias('flights', 'stable', 2)).toEqual({
      name: 'flights',
      alias: 'stable',
      version: 2,
      previous: 1,
    })
    expect(await registry.resolve({ name: 'flights', alias: 'stable' })).toEqual({ name: 'flights', version: 2 })
    expect((await registry.show('flights@stable')).aliases).toEqual(['stable'])
    expect((await registry.show('flights:3')).aliases).toEqual(['canary'])
    expect((await registry.show('flights:1')).aliases).toEqual([])
    expect(await registry.unalias('flights', 'canary')).toEqual({ name: 'flights', alias: 'canary', version: 3 })
    expect((await registry.list())[0]!.aliases).toEqual({ stable: 2 })
  })

  it('says an alias that is not set is not set, listing those that are', async () => {
    await registry.register('flights', sampleContent())
    let error = await catchError(registry.resolve('flights@stable'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain("'flights@stable' is not set: it has no aliases")
    expect(error.message).toContain('versions: 1')
    await registry.alias('flights', 'blue', 1)
    error = await catchError(registry.load('flights@green'))
    expect(error.message).toContain('its aliases are @blue → 1')
    error = await catchError(registry.unalias('flights', 'green'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain("'flights@green' is not set: its aliases are @blue")
  })

  it('refuses an alias to a missing or deleted version, on an unknown model, or with a bad or reserved name', async () => {
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    let error = await catchError(registry.alias('flights', 'stable', 9))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain("Model 'flights' has no version 9; its versions are 1, 2")
    await registry.delete('flights:1')
    error = await catchError(registry.alias('flights', 'stable', 1))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain("Version 1 of model 'flights' is deleted")
    expect(error.message).toContain('scaleml models restore flights:1')
    expect((await catchError(registry.alias('flight', 'stable', 1))).message).toContain("Did you mean 'flights'?")
    for (const [alias, says] of [
      ['latest', 'reserved'],
      ['Stable', 'Invalid alias'],
      ['2', 'Invalid alias'],
    ] as const) {
      error = await catchError(registry.alias('flights', alias, 2))
      expect(error.code, alias).toBe('INVALID_ARGUMENT')
      expect(error.message, alias).toContain(says)
    }
    expect((await catchError(registry.alias('flights', 'stable', 0))).code).toBe('INVALID_ARGUMENT')
    expect((await registry.list())[0]!.aliases).toEqual({})
  })

  it('soft-deletes a version: hidden from latest, listing and resolution, restorable with its bytes', async () => {
    await registry.register('flights', sampleContent({ metrics: { auc: 0.6 } }))
    await registry.register('flights', sampleContent({ metrics: { auc: 0.7 } }))
    expect(await registry.delete('flights')).toEqual({ name: 'flights', version: 2, changed: true })
    expect(await registry.resolve('flights')).toEqual({ name: 'flights', version: 1 })
    expect(await registry.versions('flights')).toEqual([1])
    expect((await registry.list())[0]).toMatchObject({ latestVersion: 1, versions: [1] })
    const error = await catchError(registry.load('flights:2'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain(
      "Version 2 of model 'flights' is deleted; restore it with 'scaleml models restore flights:2'",
    )
    expect(await registry.delete('flights:2')).toEqual({ name: 'flights', version: 2, changed: false })

    expect(await registry.restore('flights:2')).toEqual({ name: 'flights', version: 2, changed: true })
    expect(await registry.restore('flights:2')).toEqual({ name: 'flights', version: 2, changed: false })
    expect((await registry.load('flights')).manifest).toMatchObject({ version: 2, metrics: { auc: 0.7 } })
    // Numbers are never reused, even when the latest version is deleted.
    await registry.delete('flights:2')
    expect(await registry.register('flights', sampleContent())).toEqual({ name: 'flights', version: 3 })
  })

  it('says when every version is deleted, and how to restore one', async () => {
    await registry.register('flights', sampleContent())
    await registry.delete('flights:1')
    expect(await registry.list()).toEqual([])
    const error = await catchError(registry.resolve('flights'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain("Every version of model 'flights' is deleted (1)")
    expect(error.message).toContain('scaleml models restore flights:1')
    expect(await registry.restore({ name: 'flights', version: 1 })).toMatchObject({ changed: true })
    expect(await registry.resolve('flights')).toEqual({ name: 'flights', version: 1 })
  })

  it('refuses to delete a version an alias points to, naming the alias', async () => {
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    await registry.alias('flights', 'stable', 1)
    for (const ref of ['flights:1', 'flights@stable']) {
      const error = await catchError(registry.delete(ref))
      expect(error.code, ref).toBe('VERSION_IN_USE')
      expect(error.message).toContain("Cannot delete flights:1: the alias 'flights@stable' points to it")
      expect(error.message).toContain('scaleml models unalias flights stable')
    }
    expect(await registry.versions('flights')).toEqual([1, 2])
    await registry.alias('flights', 'stable', 2)
    expect(await registry.delete('flights:1')).toMatchObject({ changed: true })
  })

  it('asks restore for the version and says which versions exist', async () => {
    await registry.register('flights', sampleContent())
    await registry.delete('flights:1')
    let error = await catchError(registry.restore('flights'))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain("deleted versions of 'flights': 1")
    error = await catchError(registry.restore('flights:5'))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain("Model 'flights' has no version 5; versions: none; deleted: 1")
    expect((await catchError(registry.restore('nobody:1'))).code).toBe('MODEL_NOT_FOUND')
    expect((await catchError(registry.delete('flights:9'))).code).toBe('MODEL_NOT_FOUND')
  })

  it('compares two versions: metrics with differences, params side by side', async () => {
    await registry.register(
      'flights',
      sampleContent({ metrics: { auc: 0.6, logLoss: 0.5 }, params: { alpha: 1e-4, loss: 'log_loss', epochs: 1 } }),
    )
    await registry.register(
      'flights',
      sampleContent({ metrics: { auc: 0.7, rmse: 1 }, params: { alpha: 1e-3, loss: 'log_loss', seed: 7 } }),
    )
    await registry.alias('flights', 'stable', 1)
    const comparison = await registry.compare('flights@stable', 'flights')
    expect(comparison.a).toMatchObject({ name: 'flights', version: 1, modelKind: 'sgd-classifier', rows: 1000 })
    expect(comparison.b).toMatchObject({ name: 'flights', version: 2 })
    expect(comparison.metrics.map((m) => m.name)).toEqual(['auc', 'logLoss', 'rmse'])
    expect(comparison.metrics[0]!.difference).toBeCloseTo(0.1, 12)
    expect(comparison.metrics[1]).toEqual({ name: 'logLoss', a: 0.5 })
    expect(comparison.metrics[2]).toEqual({ name: 'rmse', b: 1 })
    expect(comparison.params).toEqual([
      { name: 'alpha', a: 1e-4, b: 1e-3, same: false },
      { name: 'epochs', a: 1, same: false },
      { name: 'loss', a: 'log_loss', b: 'log_loss', same: true },
      { name: 'seed', b: 7, same: false },
    ])
    expect((await catchError(registry.compare('flights:1', 'flights:4'))).code).toBe('MODEL_NOT_FOUND')
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
      registry.alias('Bad', 'stable', 1),
      registry.unalias('Bad', 'stable'),
      registry.delete('Bad:1'),
      registry.restore('Bad:1'),
      registry.compare('ok', 'B@d'),
    ]) {
      expect((await catchError(call)).code).toBe('INVALID_ARGUMENT')
    }
    expect(await registry.list()).toEqual([])
  })

  it('shows the manifest without hashing files; load refuses a flipped byte in any file, naming it', async () => {
    await registry.register('flights', sampleContent())
    const { files } = await registry.show('flights')
    expect(files.length).toBeGreaterThan(3)
    for (const file of files) {
      const offset = Math.floor(file.bytes / 2)
      await fixture.flipByte({ name: 'flights', version: 1 }, file.path, offset)
      expect((await registry.show('flights')).files.map((f) => f.path)).toContain(file.path)
      const error = await catchError(registry.load('flights'))
      expect(error.code, file.path).toBe('ARTIFACT_TAMPERED')
      expect(error.message).toContain(`'${file.path}'`)
      expect(error.message).toContain('flights:1')
      await fixture.flipByte({ name: 'flights', version: 1 }, file.path, offset)
    }
    expect((await registry.load('flights')).manifest.version).toBe(1)
  })

  it('refuses a version whose manifest is unreadable or claims another version', async () => {
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    const manifest1 = await registry.store.readManifest({ name: 'flights', version: 1 })
    await fixture.writeManifest({ name: 'flights', version: 2 }, manifest1!)
    let error = await catchError(registry.load('flights:2'))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain('flights:1')
    expect(error.message).toContain('stored as flights:2')

    await fixture.writeManifest({ name: 'flights', version: 2 }, new Uint8Array(0))
    error = await catchError(registry.show('flights:2'))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain('manifest.json')
  })

  it('stores identical binary files when the same model is registered twice', async () => {
    await registry.register('flights', sampleContent({ created: undefined }))
    await registry.register('flights', sampleContent({ created: undefined }))
    const [one, two] = [await registry.show('flights:1'), await registry.show('flights:2')]
    expect(two.files).toEqual(one.files)
    for (const file of one.files) {
      const a = await registry.store.readFile({ name: 'flights', version: 1 }, file.path)
      const b = await registry.store.readFile({ name: 'flights', version: 2 }, file.path)
      expect(Buffer.from(a!).equals(Buffer.from(b!)), file.path).toBe(true)
    }
  })

  it('refuses content that cannot make a valid manifest before writing anything', async () => {
    const error = await catchError(registry.register('flights', sampleContent({ metrics: { auc: Number.NaN } })))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain("'metrics.auc'")
    expect(await registry.list()).toEqual([])
  })
})

describe('registry over a store without aliases or deletion', () => {
  it('says the store cannot keep aliases or delete, and resolves what it can', async () => {
    const home = await createTempHome('registry-files')
    try {
      const registry = await openRegistry({ home: home.path, store: createFilesStore({ home: home.path }) })
      await registry.register('flights', sampleContent())
      expect(await registry.resolve('flights')).toEqual({ name: 'flights', version: 1 })
      expect((await registry.list())[0]!.aliases).toEqual({})
      expect((await registry.show('flights')).aliases).toEqual([])
      for (const call of [registry.alias('flights', 'stable', 1), registry.delete('flights:1')]) {
        const error = await catchError(call)
        expect(error.code).toBe('INVALID_ARGUMENT')
        expect(error.message).toMatch(/files store at .* cannot (keep aliases|delete or restore)/)
      }
      expect((await catchError(registry.resolve('flights@stable'))).message).toContain('it has no aliases')
    } finally {
      await home.remove()
    }
  })
})

describe('openRegistry location', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('uses SCALEML_HOME, else ./.scaleml, and keeps the registry in <home>/registry.db', async () => {
    const home = await createTempHome('registry-env')
    try {
      vi.stubEnv('SCALEML_REGISTRY', '')
      vi.stubEnv('SCALEML_HOME', home.path)
      const registry = await openRegistry()
      expect(registry.home).toBe(home.path)
      expect(registry.store.description).toBe(`SQLite registry at ${join(home.path, 'registry.db')}`)
      await registry.register('flights', sampleContent())
      await registry.close()
      expect(existsSync(join(home.path, 'registry.db'))).toBe(true)
      vi.stubEnv('SCALEML_HOME', undefined)
      expect((await openRegistry()).home).toBe(resolve('.scaleml'))
      expect((await openRegistry({ home: 'elsewhere' })).home).toBe(resolve('elsewhere'))
    } finally {
      await home.remove()
    }
  })

  it('uses SCALEML_REGISTRY when set, unless a URL is given', async () => {
    const home = await createTempHome('registry-url')
    try {
      const fromEnv = join(home.path, 'env.db')
      const fromOption = join(home.path, 'option.db')
      vi.stubEnv('SCALEML_REGISTRY', `sqlite:${fromEnv}`)
      const a = await openRegistry({ home: home.path })
      expect(a.store.description).toBe(`SQLite registry at ${fromEnv}`)
      await a.close()
      const b = await openRegistry({ home: home.path, url: `sqlite://${fromOption}` })
      expect(b.store.description).toBe(`SQLite registry at ${fromOption}`)
      await b.close()
      vi.stubEnv('SCALEML_REGISTRY', 'mysql://root:pw@db/x')
      const error = await catchError(openRegistry({ home: home.path }))
      expect(error.code).toBe('INVALID_ARGUMENT')
      expect(error.message).toContain("Unknown registry URL 'mysql://root:***@db/x'")
      expect(error.message).toContain('postgres://')
    } finally {
      await home.remove()
    }
  })

  it('says a PostgreSQL registry that does not answer is unavailable, with nothing written', async () => {
    const error = await catchError(openRegistry({ url: 'postgres://postgres@127.0.0.1:1/test' }))
    expect(error.code).toBe('STORE_UNAVAILABLE')
    expect(error.message).toContain('PostgreSQL registry at postgres://postgres@127.0.0.1:1/test')
  })
})

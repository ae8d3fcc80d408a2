import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../core/errors.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { type ArtifactContent, prepareArtifact, readArtifact, serializeManifest, writeArtifact } from './artifact.js'
import type { Manifest } from './manifest.js'
import { sampleContent } from './test-helpers/sample-content.js'

function bytesOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength)
}

async function catchError(promise: Promise<unknown>): Promise<ScalemlError> {
  try {
    await promise
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

describe('writeArtifact / readArtifact', () => {
  let home: TempHome
  let dir: string
  let manifest: Manifest
  beforeEach(async () => {
    home = await createTempHome('artifact')
    dir = join(home.path, 'artifact')
    manifest = await writeArtifact(dir, { name: 'flights', version: 2, ...sampleContent() })
  })
  afterEach(() => home.remove())

  it('round-trips pipeline and model with typed arrays bit-identical', async () => {
    const content = sampleContent()
    const loaded = await readArtifact(dir)
    expect(loaded.manifest).toEqual(manifest)
    const model = loaded.model as { state: { coef: Float64Array; intercept: Float32Array } }
    const original = content.model as typeof model
    expect(model.state.coef).toBeInstanceOf(Float64Array)
    expect(bytesOf(model.state.coef).equals(bytesOf(original.state.coef))).toBe(true)
    expect(Object.is(model.state.coef[5], -0)).toBe(true)
    expect(bytesOf(model.state.intercept).equals(bytesOf(original.state.intercept))).toBe(true)
    const pipeline = loaded.pipeline as {
      steps: [{ state: { mean: Float64Array } }, { state: { counts: Uint32Array } }]
    }
    expect(Array.from(pipeline.steps[0].state.mean)).toEqual([1234.5])
    expect(pipeline.steps[1].state.counts).toBeInstanceOf(Uint32Array)
    expect(Array.from(pipeline.steps[1].state.counts)).toEqual([10, 20])
  })

  it('writes the manifest fields and one file per typed array, each with its sha256 and size', async () => {
    expect(manifest).toMatchObject({ formatVersion: 1, name: 'flights', version: 2, task: 'classification' })
    expect(manifest.lineage.packageVersion).toMatch(/^\d+\.\d+\.\d+/)
    expect(manifest.lineage.rows).toBe(1000)
    expect(manifest.files.map((f) => f.path)).toEqual([
      'pipeline.steps.0.state.mean.f64',
      'pipeline.steps.0.state.scale.f64',
      'pipeline.steps.1.state.counts.u32',
      'model.state.coef.f64',
      'model.state.intercept.f32',
    ])
    expect(manifest.files.find((f) => f.path === 'model.state.coef.f64')?.bytes).toBe(64 * 8)
    expect((await readdir(dir)).sort()).toEqual([...manifest.files.map((f) => f.path), 'manifest.json'].sort())
    const onDisk = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest
    expect(onDisk).toEqual(manifest)
  })

  it('produces identical files and manifest bytes for the same content', async () => {
    const again = join(home.path, 'again')
    await writeArtifact(again, { name: 'flights', version: 2, ...sampleContent() })
    for (const name of [...manifest.files.map((f) => f.path), 'manifest.json']) {
      const a = await readFile(join(dir, name))
      const b = await readFile(join(again, name))
      expect(a.equals(b), name).toBe(true)
    }
  })

  it('refuses a flipped byte in any file with ARTIFACT_TAMPERED naming that file', async () => {
    for (const file of manifest.files) {
      const path = join(dir, file.path)
      const original = await readFile(path)
      const flipped = Buffer.from(original)
      const at = Math.floor(flipped.length / 2)
      flipped[at] = flipped[at]! ^ 0x01
      await writeFile(path, flipped)
      const error = await catchError(readArtifact(dir))
      expect(error.code, file.path).toBe('ARTIFACT_TAMPERED')
      expect(error.message).toContain(`'${file.path}'`)
      expect(error.message).toContain('sha256')
      await writeFile(path, original)
    }
    await expect(readArtifact(dir)).resolves.toBeDefined()
  })

  it('refuses a truncated, an extended and a missing file', async () => {
    const target = join(dir, 'model.state.coef.f64')
    const original = await readFile(target)
    await truncate(target, 100)
    let error = await catchError(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_TAMPERED')
    expect(error.message).toContain("'model.state.coef.f64'")
    expect(error.message).toContain('truncated')

    await writeFile(target, Buffer.concat([original, Buffer.from([0])]))
    error = await catchError(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_TAMPERED')
    expect(error.message).toContain('extended')

    await rm(target)
    error = await catchError(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_TAMPERED')
    expect(error.message).toContain("'model.state.coef.f64'")
    expect(error.message).toContain('missing')
  })

  it('refuses a missing manifest, an unparsable one and an invalid one with ARTIFACT_INVALID', async () => {
    const manifestPath = join(dir, 'manifest.json')
    const text = await readFile(manifestPath, 'utf8')

    await writeFile(manifestPath, text.slice(0, text.length / 2))
    let error = await catchError(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain('not valid JSON')

    await writeFile(manifestPath, text.replace('"task": "classification"', '"task": "ranking"'))
    error = await catchError(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain("'task'")

    await rm(manifestPath)
    error = await catchError(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain('manifest.json')
    expect(error.message).toContain(dir)

    error = await catchError(readArtifact(join(home.path, 'nowhere')))
    expect(error.code).toBe('ARTIFACT_INVALID')
  })

  it('refuses a manifest that points outside the artifact or at an unlisted file', async () => {
    const manifestPath = join(dir, 'manifest.json')
    const escaped = { ...manifest, files: [{ ...manifest.files[0]!, path: '../outside.f64' }] }
    await writeFile(manifestPath, serializeManifest(escaped))
    let error = await catchError(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain("'files[0].path'")

    // A reference to a file that is on disk but not listed (so never verified) must not be loaded.
    const unlisted = { ...manifest, files: manifest.files.filter((f) => f.path !== 'model.state.coef.f64') }
    await writeFile(manifestPath, serializeManifest(unlisted))
    error = await catchError(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain('model.state.coef.f64')
    expect(error.message).toContain("in 'model'")
  })

  it('refuses to write into a folder that already holds files', async () => {
    const error = await catchError(writeArtifact(dir, { name: 'flights', version: 3, ...sampleContent() }))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain(dir)
  })
})

describe('prepareArtifact', () => {
  it('fixes everything but the version, and defaults created and packageVersion', () => {
    const prepared = prepareArtifact('flights', sampleContent({ created: undefined, lineage: undefined }))
    const one = prepared.manifestFor(1)
    const two = prepared.manifestFor(2)
    expect(one.version).toBe(1)
    expect(two.version).toBe(2)
    expect({ ...two, version: 1 }).toEqual(one)
    expect(Number.isFinite(Date.parse(one.created))).toBe(true)
    expect(typeof one.lineage.packageVersion).toBe('string')
    expect(Object.keys(one).slice(0, 3)).toEqual(['formatVersion', 'name', 'version'])
  })

  it.each([
    ['a non-finite metric', { metrics: { auc: Number.NaN } }, "'metrics.auc'"],
    ['a non-JSON param', { params: { loss: () => 0 } }, "'params.loss'"],
    ['an infinite param', { params: { maxDepth: Number.POSITIVE_INFINITY } }, "'params.maxDepth'"],
    [
      'a bad column type',
      { inputSchema: [{ name: 'a', type: 'text' as 'int', nullable: false }] },
      'inputSchema[0].type',
    ],
    ['a bad creation time', { created: 'now' }, "'created'"],
  ])('refuses %s with INVALID_ARGUMENT naming the field', (_label, overrides, field) => {
    try {
      prepareArtifact('flights', sampleContent(overrides as Partial<ArtifactContent>))
      expect.unreachable()
    } catch (error) {
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toContain(field)
    }
  })
})

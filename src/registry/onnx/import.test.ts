import { readFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { Random } from '../../core/random.js'
import { batchFromRecords } from '../../data/batch.js'
import { createModel } from '../../models/catalog.js'
import type { Classifier, EstimatorJSON, SupervisedEstimator } from '../../models/estimator.js'
import { ONNX_CATALOG_ENTRIES, type OnnxModel } from '../../models/formats/onnx-model.js'
import { autoPipeline } from '../../preprocess/auto-pipeline.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import { loadServableModel } from '../../serve/model-loader.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { readArtifact, writeArtifact } from '../artifact.js'
import { importModelFile } from '../import.js'
import { openRegistry, type Registry } from '../registry.js'
import { exportOnnx } from './export.js'
import { importOnnxFile, onnxArtifactContent } from './import.js'
import { fitPipeline, labels, makeRecords, registerAndLoad, SCHEMA } from './test-helpers/data.js'

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url))

let home: TempHome
let registry: Registry
beforeAll(async () => {
  home = await createTempHome('onnx-import')
  registry = await openRegistry({ home: home.path })
})
afterAll(async () => {
  await registry.close()
  await home.remove()
})

async function failure(promise: Promise<unknown>): Promise<ScalemlError> {
  try {
    await promise
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

/** What serving an imported model does: the registry's artifact → pipeline + model → records → onnxruntime. */
async function serve(ref: string, records: readonly Record<string, number | null>[]) {
  const { pipeline: pipelineJson, model: modelJson, manifest } = await registry.load(ref)
  const entry = ONNX_CATALOG_ENTRIES[manifest.modelKind as keyof typeof ONNX_CATALOG_ENTRIES]
  const model: OnnxModel = entry.fromJSON(modelJson as EstimatorJSON)
  const pipeline = Pipeline.fromJSON(pipelineJson)
  await model.ready()
  const X = pipeline.transform(batchFromRecords(pipeline.inputSchema, records))
  const answers = await model.runAsync(X)
  await model.release()
  return { manifest, answers }
}

function randomRecords(names: readonly string[], n: number, seed: number): Record<string, number | null>[] {
  const rng = new Random(seed)
  return Array.from({ length: n }, () =>
    Object.fromEntries(names.map((name) => [name, rng.next() < 0.1 ? null : Math.fround(4 * rng.next() - 2)])),
  )
}

describe('ONNX import into the registry', () => {
  it('registers the python3-onnx classifier fixture and serves predictions equal to onnxruntime’s', async () => {
    const file = join(FIXTURES, 'onnx', 'classifier-matrix.onnx')
    const content = await importOnnxFile(file, { featureNames: ['x0', 'x1', 'x2', 'x3'] })
    expect(content).toMatchObject({
      task: 'classification',
      modelKind: 'onnx-classifier',
      features: ['x0', 'x1', 'x2', 'x3'],
      lineage: { importedFrom: { format: 'onnx', file: 'classifier-matrix.onnx' } },
    })
    const { version } = await registry.register('softmax', content)
    const records = randomRecords(['x0', 'x1', 'x2', 'x3'], 300, 1)
    const { manifest, answers } = await serve(`softmax:${version}`, records)
    // The ONNX bytes are one artifact file, listed with its sha256.
    expect(manifest.files.map((f) => f.path)).toContain('model.state.onnx.u8')
    const session = await ort.InferenceSession.create(readFileSync(file))
    const data = Float32Array.from(records.flatMap((r) => ['x0', 'x1', 'x2', 'x3'].map((k) => r[k] ?? Number.NaN)))
    const theirs = await session.run({ input: new ort.Tensor('float32', data, [records.length, 4]) })
    await session.release()
    expect(Array.from(answers.probabilities!)).toEqual(Array.from(theirs['probabilities']!.data as Float32Array))
    expect(Array.from(answers.labels!)).toEqual(Array.from(theirs['label']!.data as BigInt64Array, Number))
    // Missing values reach the model as NaN, as onnxruntime is given them.
    expect(records.some((r) => r['x1'] === null)).toBe(true)
  })

  it('refuses a flipped byte in the stored ONNX file, naming the file', async () => {
    const content = await onnxArtifactContent(readFileSync(join(FIXTURES, 'onnx', 'regressor-columns.onnx')))
    const dir = join(home.path, 'artifact-trees')
    const manifest = await writeArtifact(dir, { ...content, name: 'trees', version: 1 })
    expect(manifest.files.map((f) => f.path)).toContain('model.state.onnx.u8')
    expect(((await readArtifact(dir)).model as { kind: string }).kind).toBe('onnx-regressor')
    const path = join(dir, 'model.state.onnx.u8')
    const bytes = await readFile(path)
    bytes[10]! ^= 0x20
    await writeFile(path, bytes)
    const error = await failure(readArtifact(dir))
    expect(error.code).toBe('ARTIFACT_TAMPERED')
    expect(error.message).toContain("'model.state.onnx.u8'")
  })

  it('round trip: an XGBoost model exported by scaleml and imported back predicts as scaleml does (within 1e-5)', async () => {
    await registry.register(
      'xgb',
      await importModelFile('xgboost-json', join(FIXTURES, 'xgboost', 'binary-logistic-categorical.model.json')),
    )
    const exported = exportOnnx(await registry.load('xgb'))
    const content = await onnxArtifactContent(exported.bytes, { source: 'xgb.onnx' })
    const names = ['x0', 'x1', 'x2', 'x3', 'x4', 'color']
    expect(content.features).toEqual(names)
    await registry.register('xgb-onnx', content)
    const records = randomRecords(names, 500, 2).map((r) => {
      const color = r['color'] ?? null
      return { ...r, color: color === null ? null : Math.floor(3 * (color + 2)) }
    })
    const { answers } = await serve('xgb-onnx', records)
    const native = await loadServableModel(registry, 'xgb')
    const X = native.pipeline.transform(batchFromRecords(native.pipeline.inputSchema, records))
    const expected = (native.model as Classifier).predictProba(X)
    const worst = Math.max(...Array.from(answers.probabilities!, (p, i) => Math.abs(p - expected[i]!)))
    expect(worst).toBeLessThan(1e-5)
    expect(new Set(answers.labels).size).toBe(2)
  })

  it('refuses a model with a string input (a scaleml export with its one-hot step), and a missing file', async () => {
    const pipeline = autoPipeline(SCHEMA, ['distance', 'origin'])
    const train = makeRecords(300, 3)
    const X = fitPipeline(pipeline, train)
    const model = createModel('sgd-classifier', { seed: 1 }) as SupervisedEstimator
    if (model.task === 'classification') model.partialFit(X, labels(train), { classes: [0, 1] })
    const exported = exportOnnx(await registerAndLoad(registry, 'with-strings', pipeline, model))
    const error = await failure(onnxArtifactContent(exported.bytes, { source: 'with-strings.onnx' }))
    expect(error.code).toBe('INVALID_INPUT')
    expect(error.message).toContain("with-strings.onnx: its input 'origin' is a string tensor")
    const missing = await failure(importOnnxFile(join(home.path, 'nope.onnx')))
    expect(missing.code).toBe('SOURCE_NOT_FOUND')
    expect(missing.message).toContain('nope.onnx')
  })
})

import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { batchFromRecords, type Schema } from '../../data/batch.js'
import { createModel } from '../../models/catalog.js'
import type { Clusterer, SupervisedEstimator } from '../../models/estimator.js'
import { autoPipeline } from '../../preprocess/auto-pipeline.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { sha256Hex } from '../artifact.js'
import { openRegistry, type Registry } from '../registry.js'
import { exportModelToOnnx, exportOnnx } from './export.js'
import { fitPipeline, labels, makeRecords, registerAndLoad, SCHEMA } from './test-helpers/data.js'
import { onnxFeeds } from './test-helpers/feeds.js'

let home: TempHome
let registry: Registry
const TRAIN = makeRecords(1000, 31)
const FEATURES = ['distance', 'heavy', 'gate', 'origin', 'date']

beforeAll(async () => {
  home = await createTempHome('onnx-export')
  registry = await openRegistry({ home: home.path })
  const pipeline = autoPipeline(SCHEMA, FEATURES)
  const X = fitPipeline(pipeline, TRAIN)
  const model = createModel('sgd-classifier', { seed: 1 }) as SupervisedEstimator
  if (model.task === 'classification') model.partialFit(X, labels(TRAIN), { classes: [0, 1] })
  await registerAndLoad(registry, 'delays', pipeline, model, 'boolean')
})
afterAll(async () => {
  await registry.close()
  await home.remove()
})

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<ScalemlError> {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

describe('exportModelToOnnx', () => {
  it('writes the exported bytes atomically (no temporary file left) and the file serves in onnxruntime', async () => {
    const out = join(home.path, 'delays.onnx')
    await writeFile(out, 'an older export')
    const result = await exportModelToOnnx(registry, 'delays', out)
    const bytes = await readFile(out)
    expect(result).toMatchObject({ file: out, bytes: bytes.length, model: { name: 'delays', version: 1 } })
    expect(result.sha256).toBe(sha256Hex(bytes))
    expect(Buffer.from(exportOnnx(await registry.load('delays:1')).bytes).equals(bytes)).toBe(true)
    expect((await readdir(home.path)).filter((f) => f.includes('.tmp'))).toEqual([])
    expect(result.notes[0]).toMatch(/^delays:1: sgd-classifier \(log_loss\)/)
    const session = await ort.InferenceSession.create(bytes)
    expect(session.inputNames).toEqual(FEATURES)
    expect(session.outputNames).toEqual(['label', 'probabilities'])
    const records = makeRecords(5, 32)
    const outputs = await session.run(onnxFeeds(exportOnnx(await registry.load('delays')).inputs, records))
    expect(outputs['probabilities']!.dims).toEqual([5, 2])
    await session.release()
  })

  it('refuses an unknown model, and a missing folder, writing nothing', async () => {
    const out = join(home.path, 'nothing.onnx')
    expect((await failure(exportModelToOnnx(registry, 'dealys', out))).code).toBe('MODEL_NOT_FOUND')
    const missing = await failure(exportModelToOnnx(registry, 'delays', join(home.path, 'no-such-folder', 'x.onnx')))
    expect(missing.code).toBe('INVALID_ARGUMENT')
    expect(missing.message).toContain('no-such-folder')
    expect(await readdir(home.path)).not.toContain('nothing.onnx')
  })
})

describe('what cannot be exported', () => {
  it.each([
    ['gaussian-nb', /naive Bayes model, and ONNX-ML has no naive Bayes operator/],
    ['minibatch-kmeans', /clustering model, and ONNX-ML has no clustering operator/],
  ])('%s: INVALID_ARGUMENT saying why', async (kind, reason) => {
    const pipeline = autoPipeline(SCHEMA, ['distance', 'heavy'])
    const X = fitPipeline(pipeline, TRAIN)
    const model = createModel(kind, kind === 'minibatch-kmeans' ? { nClusters: 2, seed: 1 } : {})
    if (model.task === 'clustering') (model as Clusterer).partialFit(X)
    else if (model.task === 'classification') model.partialFit(X, labels(TRAIN), { classes: [0, 1] })
    const { version } = await registry.register(`refused-${kind}`, {
      task: model.task,
      modelKind: model.kind,
      inputSchema: pipeline.inputSchema.fields,
      features: ['distance', 'heavy'],
      pipeline,
      model,
    })
    const error = await failure(async () => exportOnnx(await registry.load(`refused-${kind}:${version}`)))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain(`Cannot export refused-${kind}:1 to ONNX: '${kind}'`)
    expect(error.message).toMatch(reason)
  })

  it('an input column named like an output', async () => {
    const schema: Schema = { fields: [{ name: 'label', type: 'float', nullable: false }] }
    const pipeline = autoPipeline(schema, ['label'])
    const rows = [{ label: 1 }, { label: 2 }, { label: 3 }, { label: 4 }]
    pipeline.partialFit(batchFromRecords(schema, rows))
    const model = createModel('sgd-regressor', { seed: 1 }) as SupervisedEstimator
    if (model.task === 'regression') {
      model.partialFit(pipeline.transform(batchFromRecords(schema, rows)), Float64Array.of(1, 2, 3, 4))
    }
    const error = await failure(async () => exportOnnx(await registerAndLoad(registry, 'named-label', pipeline, model)))
    expect(error.message).toContain("the input column 'label' has the name of an output")
  })
})

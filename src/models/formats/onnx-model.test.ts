import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import {
  importOnnxModel,
  isOnnxModel,
  ONNX_CATALOG_ENTRIES,
  OnnxClassifier,
  type OnnxModelJSON,
  OnnxRegressor,
} from './onnx-model.js'

const DIR = fileURLToPath(new URL('../../../test/fixtures/onnx/', import.meta.url))
const fixture = (name: string): Uint8Array => readFileSync(`${DIR}${name}.onnx`)
const expected = JSON.parse(readFileSync(`${DIR}expected.json`, 'utf8')) as {
  'classifier-matrix': { X: number[][]; probabilities: number[][]; label: number[] }
  'regressor-columns': { X: (number | null)[][]; variable: number[] }
}

function matrix(rows: readonly (readonly (number | null)[])[]): DenseMatrix {
  const cols = rows[0]!.length
  const data = new Float32Array(rows.length * cols)
  rows.forEach((row, r) => {
    row.forEach((v, j) => {
      data[r * cols + j] = v === null ? Number.NaN : v
    })
  })
  return { data, rows: rows.length, cols }
}

/** The fixture run by onnxruntime directly, for comparison. */
async function direct(name: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(fixture(name))
  const out = await session.run(feeds)
  await session.release()
  return out
}

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<ScalemlError> {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

describe('OnnxClassifier (fixture built with python3-onnx helper: MatMul + Softmax, ArgMax label)', () => {
  const { X, probabilities, label } = expected['classifier-matrix']

  it('imports one [N, 4] float input as features f0…f3, three classes, the label and probability outputs', async () => {
    const model = await importOnnxModel(fixture('classifier-matrix'), { source: 'classifier-matrix.onnx' })
    expect(model).toBeInstanceOf(OnnxClassifier)
    expect(model.params).toMatchObject({
      layout: 'matrix',
      inputs: ['input'],
      features: ['f0', 'f1', 'f2', 'f3'],
      outputs: { label: 'label', probabilities: 'probabilities' },
      classes: [0, 1, 2],
    })
    const ours = await model.runAsync(matrix(X))
    const theirs = await direct('classifier-matrix', {
      input: new ort.Tensor('float32', matrix(X).data, [X.length, 4]),
    })
    expect(Array.from(ours.probabilities!)).toEqual(Array.from(theirs['probabilities']!.data as Float32Array))
    expect(Array.from(ours.labels!)).toEqual(Array.from(theirs['label']!.data as BigInt64Array, Number))
    // And the fixture is what generate.py says it is (numpy, float64).
    expect(Array.from(ours.labels!)).toEqual(label)
    const flat = probabilities.flat()
    const worst = Math.max(...Array.from(ours.probabilities!, (p, i) => Math.abs(p - flat[i]!)))
    expect(worst).toBeLessThan(1e-6)
    await model.release()
  })

  it('takes feature names and classes from the caller', async () => {
    const model = await importOnnxModel(fixture('classifier-matrix'), {
      featureNames: ['a', 'b', 'c', 'd'],
      classes: [10, 20, 30],
    })
    expect(model.featureNames).toEqual(['a', 'b', 'c', 'd'])
    expect((model as OnnxClassifier).classes).toEqual([10, 20, 30])
    const wrong = await failure(importOnnxModel(fixture('classifier-matrix'), { classes: [1, 2] }))
    expect(wrong.code).toBe('INVALID_ARGUMENT')
    expect(wrong.message).toContain('answers 3 class probabilities; classes must list 3 distinct numbers')
    const names = await failure(importOnnxModel(fixture('classifier-matrix'), { featureNames: ['a'] }))
    expect(names.message).toContain("its input 'input' holds 4 features, but 1 feature names were given")
    await model.release()
  })

  it('round-trips through toJSON/fromJSON (the registry path), and refuses altered bytes', async () => {
    const model = await importOnnxModel(fixture('classifier-matrix'))
    const json = model.toJSON()
    expect(json.state.onnx).toEqual(fixture('classifier-matrix'))
    const restored = ONNX_CATALOG_ENTRIES['onnx-classifier'].fromJSON(json)
    expect(isOnnxModel(restored)).toBe(true)
    expect(await restored.predictProbaAsync(matrix(X))).toEqual(
      await (model as OnnxClassifier).predictProbaAsync(matrix(X)),
    )
    const altered = json.state.onnx.slice()
    altered[altered.length - 1]! ^= 1
    const error = await failure(() => OnnxClassifier.fromJSON({ ...json, state: { onnx: altered } } as OnnxModelJSON))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toContain('do not match the sha256')
    await model.release()
    await restored.release()
  })

  it('says to predict asynchronously, and cannot learn', async () => {
    const model = (await importOnnxModel(fixture('classifier-matrix'))) as OnnxClassifier
    for (const call of [
      () => model.predict(matrix(X)),
      () => model.predictProba(matrix(X)),
      () => model.partialFit(),
    ]) {
      expect((await failure(call)).code).toBe('INVALID_ARGUMENT')
    }
    expect((await failure(() => model.predict(matrix(X)))).message).toContain('use runAsync, predictAsync')
    const width = await failure(model.runAsync(matrix([[1, 2]])))
    expect(width.message).toContain('rows have 2 features; the ONNX model reads 4')
    await model.release()
  })
})

describe('OnnxRegressor (fixture: three [N, 1] inputs → Concat → ai.onnx.ml TreeEnsembleRegressor)', () => {
  const { X, variable } = expected['regressor-columns']

  it('imports one input per feature, named after the inputs, and passes NaN through to the trees', async () => {
    const model = await importOnnxModel(fixture('regressor-columns'))
    expect(model).toBeInstanceOf(OnnxRegressor)
    expect(model.params).toMatchObject({ layout: 'columns', inputs: ['a', 'b', 'c'], outputs: { value: 'variable' } })
    const values = await (model as OnnxRegressor).predictAsync(matrix(X))
    const column = (j: number) =>
      new ort.Tensor(
        'float32',
        Float32Array.from(X, (row) => row[j] ?? Number.NaN),
        [X.length, 1],
      )
    const theirs = await direct('regressor-columns', { a: column(0), b: column(1), c: column(2) })
    expect(Array.from(values)).toEqual(Array.from(theirs['variable']!.data as Float32Array))
    expect(Array.from(values)).toEqual(variable)
    expect(X.some((row) => row.includes(null))).toBe(true)
    await model.release()
  })
})

describe('ONNX models that cannot be imported', () => {
  it('probabilities only as a ZipMap (sequence of maps): INVALID_INPUT saying to convert with zipmap=False', async () => {
    const error = await failure(importOnnxModel(fixture('classifier-zipmap'), { source: 'classifier-zipmap.onnx' }))
    expect(error.code).toBe('INVALID_INPUT')
    expect(error.message).toMatch(
      /classifier-zipmap\.onnx has no float tensor of class probabilities \('output_probability' is not a tensor: a ZipMap\? convert the model with zipmap=False\)/,
    )
  })

  it('corrupt and truncated files: INVALID_INPUT naming the file', async () => {
    const bytes = fixture('classifier-matrix')
    for (const bad of [Uint8Array.of(1, 2, 3, 4, 5), bytes.subarray(0, 200)]) {
      const error = await failure(importOnnxModel(bad, { source: 'model.onnx' }))
      expect(error.code).toBe('INVALID_INPUT')
      expect(error.message).toContain('model.onnx is not an ONNX model onnxruntime can load')
    }
  })
})

import { describe, expect, it } from 'vitest'
import { sparseBuffers, sparseToDense } from '../core/matrix.js'
import type { Batch } from '../data/batch.js'
import { sliceBatch } from '../data/batch.js'
import { autoPipeline } from './auto-pipeline.js'
import { DatetimeParts } from './datetime-parts.js'
import { FeatureHasher } from './hasher.js'
import { OneHotEncoder } from './one-hot-encoder.js'
import { Pipeline } from './pipeline.js'
import { StandardScaler } from './standard-scaler.js'
import { expectSameBits, GENERATED_SCHEMA, generateBatch } from './transformer.contract.js'
import type { Transformer } from './transformer.js'

const FEATURES = GENERATED_SCHEMA.fields.map((f) => f.name)

/** Every step kind, a one-hot over a numeric column and a hasher included, fitted on `batch` in chunks. */
function fittedPipeline(batch: Batch, encoding: 'onehot' | 'cyclic'): Pipeline {
  const pipeline = new Pipeline({
    inputs: GENERATED_SCHEMA.fields,
    steps: [
      new StandardScaler({ columns: ['amount', 'count'] }),
      new OneHotEncoder({ column: 'city', maxCategories: 16 }),
      new DatetimeParts({ column: 'when', encoding }),
      new FeatureHasher({ column: 'city', nFeatures: 32 }),
      new OneHotEncoder({ column: 'flag' }),
      new StandardScaler({ columns: ['when'] }),
    ],
  })
  for (let start = 0; start < batch.length; start += 333) {
    pipeline.partialFit(sliceBatch(batch, start, Math.min(start + 333, batch.length)))
  }
  return pipeline
}

/** What `transform` wrote before it could scatter: each step's own dense writes into its slice. */
function stepByStep(pipeline: Pipeline, batch: Batch): Float32Array {
  const cols = pipeline.nFeatures
  const out = new Float32Array(batch.length * cols)
  let offset = 0
  for (const step of pipeline.steps) {
    step.transform(batch, out, cols, offset)
    offset += step.nOutputs
  }
  return out
}

/** Counts typed arrays constructed while `run` runs, by standing proxies in for the global constructors. */
function countTypedArrays(run: () => void): number {
  const names = ['Int32Array', 'Float32Array', 'Float64Array', 'Uint8Array', 'Uint32Array'] as const
  const global = globalThis as unknown as Record<string, unknown>
  const originals = names.map((name) => global[name] as new (...args: unknown[]) => object)
  let count = 0
  names.forEach((name, i) => {
    global[name] = new Proxy(originals[i]!, {
      construct(target, args) {
        count++
        return Reflect.construct(target, args)
      },
    })
  })
  try {
    run()
  } finally {
    names.forEach((name, i) => {
      global[name] = originals[i]
    })
  }
  return count
}

describe('Pipeline sparse rows', () => {
  for (const encoding of ['onehot', 'cyclic'] as const) {
    it(`transformSparse expands bit-identically to transform and to the steps' own dense writes (${encoding})`, () => {
      for (const seed of [1, 2, 3]) {
        const pipeline = fittedPipeline(generateBatch(seed, 1200), encoding)
        const probe = generateBatch(seed + 100, 700)
        const X = pipeline.transformSparse(probe)
        expect(X).toMatchObject({ kind: 'sparse', rows: 700, cols: pipeline.nFeatures, nnzPerRow: pipeline.nnzPerRow })
        expect(X.nnzPerRow).toBe(2 + 1 + (encoding === 'onehot' ? 3 : 6) + 1 + 1 + 1)
        expect(X.indices.length).toBe(700 * X.nnzPerRow)
        for (let r = 0; r < X.rows; r++) {
          for (let k = 1; k < X.nnzPerRow; k++) {
            const e = r * X.nnzPerRow + k
            if (!(X.indices[e]! > X.indices[e - 1]!)) expect.fail(`row ${r}: indices not ascending at entry ${k}`)
          }
        }
        const dense = pipeline.transform(probe)
        const expanded = sparseToDense(X).data
        expectSameBits(expanded, dense.data, `seed ${seed}, sparse vs transform`)
        expectSameBits(dense.data, stepByStep(pipeline, probe), `seed ${seed}, transform vs the steps`)
        // The generator must exercise the null paths, or the identity would not cover them.
        expect(X.values.some((v) => v === 0)).toBe(true)
      }
    })
  }

  it('the auto pipeline scatters in transform and still matches its steps bit for bit', () => {
    const batch = generateBatch(9, 2000)
    const pipeline = autoPipeline(GENERATED_SCHEMA, FEATURES, { maxCategories: 16 }).partialFit(batch)
    expect(pipeline.supportsSparse).toBe(true)
    expect(pipeline.nnzPerRow * 4).toBeLessThanOrEqual(pipeline.nFeatures)
    const probe = generateBatch(10, 900)
    const stale = new Float32Array(probe.length * pipeline.nFeatures + 11).fill(Number.NaN)
    expectSameBits(pipeline.transform(probe, stale).data, stepByStep(pipeline, probe))
    expectSameBits(sparseToDense(pipeline.transformSparse(probe)).data, stepByStep(pipeline, probe))
  })

  it('transformSparse into caller buffers allocates no typed array once they have grown, and returns views of them', () => {
    const pipeline = fittedPipeline(generateBatch(4, 3000), 'onehot')
    const big = generateBatch(5, 20_000)
    const small = sliceBatch(big, 0, 5000)
    const buffers = sparseBuffers()
    const first = pipeline.transformSparse(big, buffers)
    const { indices, values } = buffers
    expect(indices.length).toBe(20_000 * pipeline.nnzPerRow)
    expect(first.indices.buffer).toBe(indices.buffer)
    const expected = pipeline.transformSparse(small)
    let again = first
    const allocated = countTypedArrays(() => {
      for (let i = 0; i < 3; i++) again = pipeline.transformSparse(i === 1 ? small : big, buffers)
    })
    expect(allocated).toBe(0)
    expect(buffers.indices).toBe(indices)
    expect(buffers.values).toBe(values)
    expect(again.values.buffer).toBe(values.buffer)
    const viaSmall = pipeline.transformSparse(small, buffers)
    expect(viaSmall.indices).toEqual(expected.indices)
    expectSameBits(viaSmall.values, expected.values)
    // The probe can fail: without buffers every call allocates its output arrays.
    expect(countTypedArrays(() => pipeline.transformSparse(small))).toBeGreaterThanOrEqual(2)
  })

  it('a step without transformSparse: supportsSparse is false, transformSparse refuses, transform still works', () => {
    const batch = generateBatch(6, 300)
    const scaler = new StandardScaler({ columns: ['amount'] })
    // A transformer that implements only the required members (what a third-party step may do).
    const denseOnly: Transformer = {
      kind: 'dense-only',
      inputs: scaler.inputs,
      get isFitted() {
        return scaler.isFitted
      },
      get nOutputs() {
        return scaler.nOutputs
      },
      partialFit: (b) => scaler.partialFit(b),
      merge: (other) => scaler.merge(other),
      outputNames: () => scaler.outputNames(),
      transform: (b, out, stride, offset) => scaler.transform(b, out, stride, offset),
      toJSON: () => scaler.toJSON(),
    }
    const pipeline = new Pipeline({
      inputs: GENERATED_SCHEMA.fields,
      steps: [new OneHotEncoder({ column: 'city' }), denseOnly],
    }).partialFit(batch)
    expect(pipeline.supportsSparse).toBe(false)
    expect(() => pipeline.transformSparse(batch)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The pipeline cannot write sparse rows: step 1 (dense-only) has no transformSparse. Use transform, or check supportsSparse first.]`,
    )
    expect(() => pipeline.nnzPerRow).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expectSameBits(pipeline.transform(batch).data, stepByStep(pipeline, batch))
  })

  it('transformSparse reports an unfitted pipeline and a missing column like transform', () => {
    const pipeline = autoPipeline(GENERATED_SCHEMA, ['amount', 'city'])
    expect(() => pipeline.transformSparse(generateBatch(1, 3))).toThrowError(
      expect.objectContaining({ code: 'NOT_FITTED' }),
    )
    pipeline.partialFit(generateBatch(1, 100))
    const noCity = generateBatch(1, 3)
    ;(noCity.columns as Map<string, unknown>).delete('city')
    expect(() => pipeline.transformSparse(noCity)).toThrowError(expect.objectContaining({ code: 'UNKNOWN_COLUMN' }))
  })
})

import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import type { Batch, Schema } from '../data/batch.js'
import { sliceBatch, valueAt } from '../data/batch.js'
import type { Source } from '../data/source.js'
import { autoPipeline } from './auto-pipeline.js'
import { DatetimeParts } from './datetime-parts.js'
import { OneHotEncoder } from './one-hot-encoder.js'
import { Pipeline } from './pipeline.js'
import { StandardScaler } from './standard-scaler.js'
import { expectSameBits, GENERATED_SCHEMA, generateBatch } from './transformer.contract.js'

const FEATURES = GENERATED_SCHEMA.fields.map((f) => f.name)

/** An in-memory source yielding `batches` (one pass per iteration). */
function memorySource(batches: readonly Batch[], schema: Schema = GENERATED_SCHEMA): Source & { reads: number } {
  return {
    description: 'memory source',
    reads: 0,
    schema: async () => schema,
    close: async () => {},
    async *[Symbol.asyncIterator]() {
      this.reads++
      yield* batches
    },
  }
}

function chunks(batch: Batch, size: number): Batch[] {
  const out: Batch[] = []
  for (let start = 0; start < batch.length; start += size) {
    out.push(sliceBatch(batch, start, Math.min(start + size, batch.length)))
  }
  return out
}

/**
 * The rows of `batch` as JSON records, as a client would send them: nulls for masked or NaN values, booleans,
 * and timestamps alternately as epoch ms, ISO with Z, ISO with an offset, and ISO without offset (read as UTC).
 */
function toRecords(batch: Batch): Record<string, unknown>[] {
  return Array.from({ length: batch.length }, (_, i) => {
    const record: Record<string, unknown> = {}
    for (const [name, column] of batch.columns) {
      let value = valueAt(column, i)
      if (typeof value === 'number' && Number.isNaN(value)) value = null
      if (name === 'when' && typeof value === 'number') {
        const iso = new Date(value).toISOString()
        if (i % 4 === 1) value = iso
        else if (i % 4 === 2) value = `${new Date(value + 2 * 3_600_000).toISOString().slice(0, -1)}+02:00`
        else if (i % 4 === 3) value = iso.slice(0, -1).replace('T', ' ')
      }
      record[name] = value
    }
    return record
  })
}

async function fittedPipeline(batch: Batch, datetimeEncoding: 'onehot' | 'cyclic' = 'onehot'): Promise<Pipeline> {
  const pipeline = autoPipeline(GENERATED_SCHEMA, FEATURES, { maxCategories: 16, datetimeEncoding })
  return pipeline.fit(memorySource(chunks(batch, 333)))
}

describe('Pipeline', () => {
  for (const encoding of ['onehot', 'cyclic'] as const) {
    it(`transforms records one by one bit-identically to the batch they came from (training/serving parity, ${encoding})`, async () => {
      const batch = generateBatch(2024, 1500)
      const pipeline = await fittedPipeline(batch, encoding)
      const X = pipeline.transform(batch)
      expect(X.rows).toBe(1500)
      expect(X.cols).toBe(pipeline.nFeatures)
      const records = toRecords(batch)
      // The generator must exercise every null path, or the parity claim would be hollow.
      for (const name of FEATURES) expect(records.filter((r) => r[name] === null).length, name).toBeGreaterThan(50)
      expect(records.filter((r) => typeof r['when'] === 'string').length).toBeGreaterThan(1000)
      for (let i = 0; i < records.length; i++) {
        const x = pipeline.transformRecords([records[i]])
        expect(x.rows).toBe(1)
        expectSameBits(x.data, X.data.subarray(i * X.cols, (i + 1) * X.cols), `row ${i}`)
      }
      expectSameBits(pipeline.transformRecords(records).data, X.data, 'all records at once')
    })
  }

  it('round-trips through JSON text with bit-identical transforms and equal JSON', async () => {
    const batch = generateBatch(7, 1200)
    const pipeline = await fittedPipeline(batch)
    const text = JSON.stringify(pipeline.toJSON())
    const restored = Pipeline.fromJSON(JSON.parse(text))
    expect(JSON.stringify(restored.toJSON())).toBe(text)
    expect(restored.inputSchema).toEqual(pipeline.inputSchema)
    expect(restored.outputNames()).toEqual(pipeline.outputNames())
    const probe = generateBatch(8, 500)
    expectSameBits(restored.transform(probe).data, pipeline.transform(probe).data)
    const records = toRecords(probe).slice(0, 50)
    expectSameBits(restored.transformRecords(records).data, pipeline.transformRecords(records).data)
  })

  it('merge(fit A, fit B) transforms bit-identically to fitting A then B, for 10 seeds', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const a = generateBatch(seed, 300 + seed * 17)
      const b = generateBatch(seed + 100, 200 + seed * 31)
      const make = () => autoPipeline(GENERATED_SCHEMA, FEATURES, { maxCategories: 8 })
      const merged = make().partialFit(a).merge(make().partialFit(b))
      const sequential = make().partialFit(a).partialFit(b)
      const probe = generateBatch(seed + 200, 300)
      expect(merged.outputNames()).toEqual(sequential.outputNames())
      expectSameBits(merged.transform(probe).data, sequential.transform(probe).data, `seed ${seed}`)
    }
  })

  it('fit makes one pass over the source, reports progress and leaves the source open', async () => {
    const batch = generateBatch(3, 1000)
    const source = memorySource(chunks(batch, 300))
    const seen: number[] = []
    const pipeline = autoPipeline(GENERATED_SCHEMA, ['amount', 'city'])
    await pipeline.fit(source, { onBatch: (rows) => seen.push(rows) })
    expect(source.reads).toBe(1)
    expect(seen).toEqual([300, 600, 900, 1000])
    const sequential = autoPipeline(GENERATED_SCHEMA, ['amount', 'city'])
    for (const chunk of chunks(batch, 300)) sequential.partialFit(chunk)
    expect(pipeline.toJSON()).toEqual(sequential.toJSON())
  })

  it('lays out outputs step by step, each step in its own slice', async () => {
    const pipeline = await fittedPipeline(generateBatch(1, 800))
    const names = pipeline.outputNames()
    expect(names.length).toBe(pipeline.nFeatures)
    expect(names.slice(0, 4)).toEqual(['amount', 'count', 'flag', 'when.hour=0'])
    expect(names.slice(3 + 43, 3 + 43 + 1)).toEqual([names.find((n) => n.startsWith('city='))])
    expect(names.at(-1)).toBe('city=<other>')
    expect(names.filter((n) => n.startsWith('city=')).length).toBe(17)
  })

  it('rejects invalid records with INVALID_INPUT and every issue path', async () => {
    const pipeline = await fittedPipeline(generateBatch(1, 500))
    const good = toRecords(generateBatch(2, 1))[0]!
    let caught: unknown
    try {
      pipeline.transformRecords([good, { ...good, amount: '3.5', when: 'noon' }, { ...good, city: undefined }])
    } catch (error) {
      caught = error
    }
    expect(isScalemlError(caught, 'INVALID_INPUT')).toBe(true)
    expect(isScalemlError(caught) && caught.issues.map((i) => i.path)).toEqual([
      [1, 'amount'],
      [1, 'when'],
      [2, 'city'],
    ])
  })

  it('reports wiring, fitting and batch problems with codes and messages that name the column', async () => {
    expect(
      () =>
        new Pipeline({
          inputs: [{ name: 'a', type: 'float', nullable: false }],
          steps: [new StandardScaler({ columns: ['b'] })],
        }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Pipeline step 0 (standard-scaler) reads column "b", which is not among the pipeline inputs (a).]`,
    )
    const pipeline = autoPipeline(GENERATED_SCHEMA, ['amount', 'city'])
    expect(() => pipeline.transform(generateBatch(1, 3))).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The pipeline is not fitted: step 0 (standard-scaler over amount) has seen no data. Call fit or partialFit first.]`,
    )
    const noCity = generateBatch(1, 3)
    ;(noCity.columns as Map<string, unknown>).delete('city')
    expect(() => pipeline.partialFit(noCity)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Pipeline input "city" is missing from the batch (batch columns: amount, count, flag, when).]`,
    )
    await expect(pipeline.fit(memorySource([], { fields: [] }))).rejects.toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Pipeline input "amount" is not a column of memory source (columns: none).]`,
    )
    await expect(pipeline.fit(memorySource([]))).rejects.toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Cannot fit the pipeline: memory source yielded no rows.]`,
    )
    const other = new Pipeline({
      inputs: [GENERATED_SCHEMA.fields[0]!],
      steps: [new StandardScaler({ columns: ['amount'] })],
    })
    expect(() => pipeline.merge(other)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })

  it('loads only known transformer kinds from JSON', () => {
    const pipeline = new Pipeline({
      inputs: [{ name: 'date', type: 'timestamp', nullable: true }],
      steps: [new DatetimeParts({ column: 'date' })],
    })
    const json = pipeline.toJSON()
    expect(() =>
      Pipeline.fromJSON({ ...json, steps: [{ kind: 'eval', code: 'process.exit(1)' }] }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Invalid pipeline JSON: steps[0] has kind "eval", which is not a known transformer (known: standard-scaler, one-hot, ordinal, datetime-parts, feature-hasher, passthrough).]`,
    )
    expect(() => Pipeline.fromJSON({ ...json, version: 2 })).toThrowError(
      expect.objectContaining({ code: 'ARTIFACT_INVALID' }),
    )
    expect(() =>
      Pipeline.fromJSON({ ...json, steps: [new OneHotEncoder({ column: 'city' }).toJSON()] }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Invalid pipeline JSON: Pipeline step 0 (one-hot) reads column "city", which is not among the pipeline inputs (date).]`,
    )
    // A stateless step is fitted from the start, so this pipeline transforms without data.
    expect(Pipeline.fromJSON(json).transformRecords([{ date: '2001-01-01T13:00:00Z' }]).data[13]).toBe(1)
  })
})

describe('autoPipeline', () => {
  it('picks a step per feature type, in feature order', () => {
    const pipeline = autoPipeline(GENERATED_SCHEMA, ['city', 'when', 'flag', 'amount'], { maxCategories: 4 })
    expect(pipeline.steps.map((s) => [s.kind, ...s.inputs])).toEqual([
      ['one-hot', 'city'],
      ['datetime-parts', 'when'],
      ['standard-scaler', 'flag'],
      ['standard-scaler', 'amount'],
    ])
    expect(pipeline.inputSchema.fields.map((f) => f.name)).toEqual(['city', 'when', 'flag', 'amount'])
    expect((pipeline.steps[0] as OneHotEncoder).params.maxCategories).toBe(4)
    expect((pipeline.steps[1] as DatetimeParts).params).toEqual({
      column: 'when',
      parts: ['hour', 'dayOfWeek', 'month'],
      encoding: 'onehot',
    })
  })

  it('names an unknown feature and lists the columns', () => {
    expect(() => autoPipeline(GENERATED_SCHEMA, ['amount', 'distnace'])).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Feature "distnace" is not a column of the data (columns: amount, count, flag, when, city).]`,
    )
    expect(() => autoPipeline(GENERATED_SCHEMA, ['amount', 'distnace'])).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_COLUMN' }),
    )
    expect(() => autoPipeline(GENERATED_SCHEMA, [])).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => autoPipeline(GENERATED_SCHEMA, ['amount', 'amount'])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})

import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { batchFromRecords, type Schema } from '../../data/batch.js'
import { DatetimeParts } from '../../preprocess/datetime-parts.js'
import { FeatureHasher } from '../../preprocess/hasher.js'
import { MS_PER_DAY } from '../../preprocess/kernels/calendar.js'
import { OneHotEncoder } from '../../preprocess/one-hot-encoder.js'
import { OrdinalEncoder } from '../../preprocess/ordinal-encoder.js'
import { Passthrough } from '../../preprocess/passthrough.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import { StandardScaler } from '../../preprocess/standard-scaler.js'
import { ONNX_IR_VERSION, ONNX_ML_OPSET, ONNX_OPSET } from './export.js'
import { exportPipeline, type ScalerExport } from './export-pipeline.js'
import { GraphBuilder, ML_DOMAIN } from './graph-builder.js'
import { encodeModel } from './onnx-proto.js'
import { FIELDS, type FlightRecord, fitPipeline, makeRecords } from './test-helpers/data.js'
import { onnxFeeds } from './test-helpers/feeds.js'

/** The features ONNX computes for `records`: the pipeline alone, its matrix as the graph output. */
async function onnxFeatures(
  pipeline: Pipeline,
  records: readonly FlightRecord[],
  scaler: ScalerExport = 'exact',
): Promise<{ data: Float32Array; dims: readonly number[]; notes: string[] }> {
  const g = new GraphBuilder()
  g.reserve(['features'])
  const notes: string[] = []
  const { features, width, inputs } = exportPipeline(g, pipeline, notes, { scaler })
  g.output({ name: 'features', type: 'float', shape: ['N', width] }, features)
  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsets: [
      { domain: '', version: ONNX_OPSET },
      { domain: ML_DOMAIN, version: ONNX_ML_OPSET },
    ],
    producerName: 'scaleml-test',
    producerVersion: '0',
    graph: g.build('pipeline'),
  })
  const session = await ort.InferenceSession.create(bytes)
  const out = (await session.run(onnxFeeds(inputs, records)))['features']!
  await session.release()
  return { data: out.data as Float32Array, dims: out.dims, notes }
}

/** Indices where two float32 arrays differ bit for bit (NaN equals NaN). */
function bitDifferences(a: Float32Array, b: Float32Array): number[] {
  expect(a.length).toBe(b.length)
  const out: number[] = []
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) out.push(i)
  return out
}

function everyStep(): Pipeline {
  return new Pipeline({
    inputs: FIELDS,
    steps: [
      new StandardScaler({ columns: ['distance', 'heavy', 'gate'] }),
      new OneHotEncoder({ column: 'origin', maxCategories: 6 }),
      new OneHotEncoder({ column: 'gate', maxCategories: 5 }),
      new OrdinalEncoder({ column: 'origin', maxCategories: 7 }),
      new OrdinalEncoder({ column: 'gate', maxCategories: 4 }),
      new DatetimeParts({ column: 'date' }),
      new DatetimeParts({ column: 'date', encoding: 'cyclic' }),
      new DatetimeParts({ column: 'date', parts: ['month', 'dayOfWeek', 'hour'], encoding: 'ordinal' }),
      new Passthrough({ columns: ['distance', 'heavy', 'gate', 'date'] }),
    ],
  })
}

describe('ONNX export of the preprocessing', () => {
  it('writes the same features as Pipeline.transform, bit for bit, for every step kind (10,000 rows with unseen categories and missing values)', async () => {
    const pipeline = everyStep()
    fitPipeline(pipeline, makeRecords(3000, 1))
    const records = makeRecords(10_000, 2, true)
    const expected = pipeline.transform(batchFromRecords(pipeline.inputSchema, records))
    const { data, dims } = await onnxFeatures(pipeline, records)
    expect(dims).toEqual([records.length, pipeline.nFeatures])
    expect(bitDifferences(data, expected.data)).toEqual([])
    // The data does exercise the "other" slots and the missing values.
    const names = pipeline.outputNames()
    const column = (name: string) =>
      Array.from({ length: records.length }, (_, r) => data[r * names.length + names.indexOf(name)]!)
    expect(column('origin=<other>').filter((v) => v === 1).length).toBeGreaterThan(500)
    expect(column('gate=<other>').filter((v) => v === 1).length).toBeGreaterThan(500)
    expect(column('date.month').filter((v) => Number.isNaN(v)).length).toBeGreaterThan(300)
    expect(column('origin').filter((v) => Number.isNaN(v)).length).toBeGreaterThan(300)
    expect(column('origin').filter((v) => v === 7).length).toBeGreaterThan(300)
  })

  it('computes hour, weekday and month exactly at calendar edges (leap days, centuries, before 1970, the last millisecond of a day)', async () => {
    const schema: Schema = { fields: [{ name: 'date', type: 'timestamp', nullable: true }] }
    const pipeline = new Pipeline({
      inputs: schema.fields,
      steps: [new DatetimeParts({ column: 'date', parts: ['hour', 'dayOfWeek', 'month'], encoding: 'ordinal' })],
    })
    const days = [
      '1600-02-29',
      '1899-12-31',
      '1900-02-28',
      '1900-03-01',
      '1969-12-31',
      '1970-01-01',
      '2000-02-29',
      '2000-03-01',
      '2024-12-31',
      '2100-02-28',
      '2100-03-01',
      '2400-02-29',
    ].map((d) => Date.parse(`${d}T00:00:00Z`))
    const times = days.flatMap((d) => [d - 1, d - 0.25, d, d + 0.5, d + 3_599_999, d + 3_600_000, d + MS_PER_DAY - 1])
    const records = [...times.map((date) => ({ date })), { date: null }]
    const expected = pipeline.transform(batchFromRecords(schema, records))
    const { data } = await onnxFeatures(pipeline, records)
    expect(bitDifferences(data, expected.data)).toEqual([])
    // Spot-check against the JavaScript calendar: 2000-02-29 is a Tuesday (1 with Monday = 0), in February.
    const at = times.indexOf(Date.parse('2000-02-29T00:00:00Z')) * 3
    expect([data[at], data[at + 1], data[at + 2]]).toEqual([0, 1, 2])
  })

  it("with the 'ml-scaler' option uses ai.onnx.ml.Scaler, within 1e-6 of scaleml's standardized values", async () => {
    const pipeline = new Pipeline({
      inputs: FIELDS,
      steps: [new StandardScaler({ columns: ['distance', 'heavy', 'gate'] })],
    })
    fitPipeline(pipeline, makeRecords(2000, 4))
    const records = makeRecords(2000, 5, true)
    const expected = pipeline.transform(batchFromRecords(pipeline.inputSchema, records)).data
    const { data } = await onnxFeatures(pipeline, records, 'ml-scaler')
    let worst = 0
    for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i]! - expected[i]!))
    expect(worst).toBeLessThan(1e-6)
  })

  it('notes that a kept empty-string category cannot stand for a missing value', async () => {
    const schema: Schema = { fields: [{ name: 'origin', type: 'string', nullable: true }] }
    const pipeline = new Pipeline({ inputs: schema.fields, steps: [new OneHotEncoder({ column: 'origin' })] })
    pipeline.partialFit(batchFromRecords(schema, [{ origin: '' }, { origin: 'SFO' }]))
    const { data, notes } = await onnxFeatures(pipeline, [{ origin: '' }, { origin: 'LAX' }, { origin: 'SFO' }])
    expect(notes.join('\n')).toContain("The empty string is a kept category of 'origin'")
    expect(Array.from(data)).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 0])
  })

  it('refuses a FeatureHasher step, saying that ONNX cannot hash strings', () => {
    const schema: Schema = { fields: [{ name: 'origin', type: 'string', nullable: true }] }
    const pipeline = new Pipeline({
      inputs: schema.fields,
      steps: [new FeatureHasher({ column: 'origin', nFeatures: 16 })],
    })
    pipeline.partialFit(batchFromRecords(schema, [{ origin: 'SFO' }]))
    try {
      exportPipeline(new GraphBuilder(), pipeline, [])
      expect.unreachable()
    } catch (error) {
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toMatch(/step 0 hashes \[origin\] \(FeatureHasher\).*MurmurHash3.*drop --hash/)
    }
  })
})

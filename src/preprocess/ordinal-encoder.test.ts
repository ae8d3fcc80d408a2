import { describe, expect, it } from 'vitest'
import type { Batch, Column } from '../data/batch.js'
import { autoPipeline } from './auto-pipeline.js'
import { OneHotEncoder } from './one-hot-encoder.js'
import { OrdinalEncoder } from './ordinal-encoder.js'
import { describeTransformerContract } from './transformer.contract.js'

function stringBatch(values: readonly (string | null)[], dictionary?: readonly string[]): Batch {
  const dict = dictionary ? [...dictionary] : [...new Set(values.filter((v): v is string => v !== null))]
  const codes = Int32Array.from(values, (v) => (v === null ? -1 : dict.indexOf(v)))
  return {
    length: values.length,
    columns: new Map<string, Column>([['c', { type: 'string', codes, dictionary: dict }]]),
  }
}

function codes(encoder: OrdinalEncoder, batch: Batch): number[] {
  const out = new Float32Array(batch.length)
  encoder.transform(batch, out, 1, 0)
  return Array.from(out)
}

describe('OrdinalEncoder', () => {
  describeTransformerContract({
    create: () => new OrdinalEncoder({ column: 'city', maxCategories: 12 }),
    fromJSON: OrdinalEncoder.fromJSON,
    incompatible: () => new OrdinalEncoder({ column: 'city', maxCategories: 13 }),
    keepsMissingAsNaN: true,
  })

  it('codes the most frequent categories in category order; rare and unseen share "other"; null is NaN', () => {
    const encoder = new OrdinalEncoder({ column: 'c', maxCategories: 2 })
    encoder.partialFit(stringBatch(['SFO', 'LAX', 'SFO', 'ORD', 'LAX', 'SFO']))
    expect(encoder.categories).toEqual(['LAX', 'SFO'])
    // A batch with its own dictionary order: codes follow the category, not the dictionary entry.
    expect(codes(encoder, stringBatch(['ORD', 'SFO', null, 'JFK', 'LAX'], ['SFO', 'JFK', 'LAX', 'ORD']))).toEqual([
      2,
      1,
      Number.NaN,
      2,
      0,
    ])
  })

  it('keeps the same categories as OneHotEncoder on the same data', () => {
    const values = Array.from({ length: 500 }, (_, i) => `k${(i * 7919) % 37}`.repeat(1 + (i % 3)))
    const ordinal = new OrdinalEncoder({ column: 'c', maxCategories: 10 })
    const onehot = new OneHotEncoder({ column: 'c', maxCategories: 10 })
    ordinal.partialFit(stringBatch(values))
    onehot.partialFit(stringBatch(values))
    expect(ordinal.categories).toEqual(onehot.categories)
  })

  it('codes numeric labels, with NaN for null and non-finite values', () => {
    const encoder = new OrdinalEncoder({ column: 'n' })
    const batch = (values: number[], nulls?: number[]): Batch => ({
      length: values.length,
      columns: new Map<string, Column>([
        [
          'n',
          {
            type: 'int',
            values: Float64Array.from(values),
            ...(nulls ? { nulls: Uint8Array.from(nulls) } : {}),
          },
        ],
      ]),
    })
    encoder.partialFit(batch([30, 10, 20, 10]))
    expect(codes(encoder, batch([10, 20, 30, 40, Number.NaN, 10], [0, 0, 0, 0, 0, 1]))).toEqual([
      0,
      1,
      2,
      3,
      Number.NaN,
      Number.NaN,
    ])
  })

  it('refuses strings after being fitted on numbers, naming the column', () => {
    const encoder = new OrdinalEncoder({ column: 'c' })
    encoder.partialFit({
      length: 1,
      columns: new Map<string, Column>([['c', { type: 'float', values: Float64Array.of(1) }]]),
    })
    expect(() => codes(encoder, stringBatch(['a']))).toThrow(/OrdinalEncoder over "c" was fitted on numbers/)
  })

  it("is autoPipeline's encoding for string features of tree models, next to raw numbers and calendar values", () => {
    const schema = {
      fields: [
        { name: 'c', type: 'string' as const, nullable: true },
        { name: 'x', type: 'float' as const, nullable: true },
        { name: 't', type: 'timestamp' as const, nullable: true },
      ],
    }
    const pipeline = autoPipeline(schema, ['x', 'c', 't'], { encoding: 'trees' })
    expect(pipeline.steps.map((s) => s.kind)).toEqual(['passthrough', 'ordinal', 'datetime-parts'])
    expect(() => autoPipeline(schema, ['c'], { encoding: 'trees', hashed: new Map([['c', 16]]) })).toThrow(
      /cannot be hashed for a tree model/,
    )
  })
})

import { describe, expect, it } from 'vitest'
import { Random } from '../core/random.js'
import type { Batch, Column } from '../data/batch.js'
import { batchFromRecords, sliceBatch } from '../data/batch.js'
import { OneHotEncoder } from './one-hot-encoder.js'
import { describeTransformerContract, generateBatch } from './transformer.contract.js'

function stringBatch(values: readonly (string | null)[], dictionary?: readonly string[]): Batch {
  const dict = dictionary ? [...dictionary] : [...new Set(values.filter((v): v is string => v !== null))]
  const codes = Int32Array.from(values, (v) => (v === null ? -1 : dict.indexOf(v)))
  return {
    length: values.length,
    columns: new Map<string, Column>([['c', { type: 'string', codes, dictionary: dict }]]),
  }
}

function rows(encoder: OneHotEncoder, batch: Batch): number[][] {
  const width = encoder.nOutputs
  const out = new Float32Array(batch.length * width)
  encoder.transform(batch, out, width, 0)
  return Array.from({ length: batch.length }, (_, r) => Array.from(out.subarray(r * width, (r + 1) * width)))
}

describe('OneHotEncoder', () => {
  describeTransformerContract({
    create: () => new OneHotEncoder({ column: 'city', maxCategories: 12 }),
    fromJSON: OneHotEncoder.fromJSON,
    incompatible: () => new OneHotEncoder({ column: 'city', maxCategories: 13 }),
  })

  describe('on integer codes', () => {
    describeTransformerContract({
      create: () => new OneHotEncoder({ column: 'count', maxCategories: 20 }),
      fromJSON: OneHotEncoder.fromJSON,
      incompatible: () => new OneHotEncoder({ column: 'flag' }),
    })
  })

  it('keeps the most frequent categories, sorts them by string, and sends rare, unknown and null values to other', () => {
    const encoder = new OneHotEncoder({ column: 'c', maxCategories: 2 })
    encoder.partialFit(stringBatch(['SFO', 'LAX', 'SFO', 'ORD', 'SFO', 'LAX', null, null, null, null]))
    expect(encoder.outputNames()).toEqual(['c=LAX', 'c=SFO', 'c=<other>'])
    expect(rows(encoder, stringBatch(['SFO', 'LAX', 'ORD', 'JFK', null]))).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
      [0, 0, 1],
    ])
  })

  it('breaks count ties by category string, so the kept set does not depend on row or dictionary order', () => {
    const values = ['b', 'a', 'c', 'd', 'b', 'a', 'c', 'd', 'e']
    const forward = new OneHotEncoder({ column: 'c', maxCategories: 3 })
    forward.partialFit(stringBatch(values))
    const backward = new OneHotEncoder({ column: 'c', maxCategories: 3 })
    backward.partialFit(stringBatch([...values].reverse(), ['e', 'd', 'c', 'b', 'a']))
    expect(forward.categories).toEqual(['a', 'b', 'c'])
    expect(backward.categories).toEqual(['a', 'b', 'c'])
    expect(backward.toJSON()).toEqual(forward.toJSON())
  })

  it('gives the same categories and JSON whatever order shards are merged in, for 20 seeds', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = new Random(seed)
      const all = generateBatch(seed, 2000)
      const whole = new OneHotEncoder({ column: 'city', maxCategories: 10 })
      whole.partialFit(all)
      const cuts = [0, 400, 1100, 1101, 2000]
      const shards = cuts.slice(1).map((end, k) => {
        const e = new OneHotEncoder({ column: 'city', maxCategories: 10 })
        e.partialFit(sliceBatch(all, cuts[k]!, end))
        return e
      })
      random.shuffle(shards)
      for (const shard of shards.slice(1)) shards[0]!.merge(shard)
      expect(shards[0]!.toJSON(), `seed ${seed}`).toEqual(whole.toJSON())
      expect(shards[0]!.categories, `seed ${seed}`).toEqual(whole.categories)
    }
  })

  it('counts exactly and keeps one slot per category when there are fewer than maxCategories', () => {
    const batch = generateBatch(5, 3000)
    const encoder = new OneHotEncoder({ column: 'city' })
    encoder.partialFit(batch)
    const column = batch.columns.get('city')
    if (column?.type !== 'string') throw new Error('city is a string column')
    const expected = new Map<string, number>()
    for (const code of column.codes) {
      if (code >= 0) expected.set(column.dictionary[code]!, (expected.get(column.dictionary[code]!) ?? 0) + 1)
    }
    expect(encoder.counts()).toEqual(expected)
    expect(encoder.nOutputs).toBe(expected.size + 1)
    const out = rows(encoder, batch)
    expect(out.every((row) => row.reduce((a, b) => a + b, 0) === 1)).toBe(true)
  })

  it('re-resolves a dictionary shared across batches after the vocabulary changes or the dictionary grows', () => {
    const dictionary = ['a', 'b']
    const batchOf = (codes: number[]): Batch => ({
      length: codes.length,
      columns: new Map([['c', { type: 'string', codes: Int32Array.from(codes), dictionary }]]),
    })
    const encoder = new OneHotEncoder({ column: 'c', maxCategories: 1 })
    encoder.partialFit(batchOf([0, 0, 1]))
    expect(rows(encoder, batchOf([0, 1]))).toEqual([
      [1, 0],
      [0, 1],
    ])
    encoder.partialFit(batchOf([1, 1]))
    expect(encoder.categories).toEqual(['b'])
    expect(rows(encoder, batchOf([0, 1]))).toEqual([
      [0, 1],
      [1, 0],
    ])
    dictionary.push('c')
    encoder.partialFit(batchOf([2, 2, 2, 2]))
    expect(rows(encoder, batchOf([2]))).toEqual([[1, 0]])
    // Grown after the codes were resolved: code 3 must not read a stale slot.
    dictionary.push('d')
    expect(rows(encoder, batchOf([2, 3]))).toEqual([
      [1, 0],
      [0, 1],
    ])
  })

  it('encodes numeric codes in numeric order, ignoring nulls and non-finite values', () => {
    const batch = batchFromRecords({ fields: [{ name: 'h', type: 'int', nullable: true }] }, [
      { h: 10 },
      { h: 2 },
      { h: 2 },
      { h: null },
      { h: 10 },
      { h: 1 },
    ])
    const encoder = new OneHotEncoder({ column: 'h' })
    encoder.partialFit(batch)
    expect(encoder.outputNames()).toEqual(['h=1', 'h=2', 'h=10', 'h=<other>'])
    expect(rows(encoder, batch)[3]).toEqual([0, 0, 0, 1])
    const strings: Batch = { length: 1, columns: new Map([['h', stringBatch(['x']).columns.get('c')!]]) }
    expect(() => encoder.partialFit(strings)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: OneHotEncoder over "h" was fitted on number values and cannot take string values.]`,
    )
  })

  it('checks maxCategories with the shared parameter message and rejects malformed JSON', () => {
    expect(() => new OneHotEncoder({ column: 'c', maxCategories: 0 })).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The 'maxCategories' parameter of OneHotEncoder must be an int in the range [1, inf). Got 0 instead.]`,
    )
    expect(() => new OneHotEncoder({ column: '' })).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The 'column' parameter of OneHotEncoder must be a non-empty column name. Got "" instead.]`,
    )
    const json = {
      kind: 'one-hot',
      column: 'c',
      maxCategories: 4,
      valueType: 'string',
      categories: ['a', 5],
      counts: [1, 2],
    }
    expect(() => OneHotEncoder.fromJSON(json)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Invalid one-hot JSON: "categories[1]" must be a string.]`,
    )
    expect(() => OneHotEncoder.fromJSON({ ...json, maxCategories: -1 })).toThrowError(
      expect.objectContaining({ code: 'ARTIFACT_INVALID' }),
    )
  })
})

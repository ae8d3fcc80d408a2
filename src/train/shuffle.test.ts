import { describe, expect, it } from 'vitest'
import { type Batch, batchFromRecords, valueAt } from '../data/batch.js'
import { blockPermutation, concatBatches, mixSeed, permuteBlock, segmentOrder } from './shuffle.js'

const schema = {
  fields: [
    { name: 'x', type: 'float', nullable: true },
    { name: 's', type: 'string', nullable: true },
  ],
} as const

function rows(batch: Batch): unknown[][] {
  const out: unknown[][] = []
  for (let i = 0; i < batch.length; i++) {
    out.push([valueAt(batch.columns.get('x')!, i), valueAt(batch.columns.get('s')!, i)])
  }
  return out
}

describe('seeded orders', () => {
  it('mixSeed is a pure function of its inputs and separates nearby inputs', () => {
    expect(mixSeed(7, 1, 2)).toBe(mixSeed(7, 1, 2))
    const seen = new Set<number>()
    for (let seed = 0; seed < 4; seed++)
      for (let a = 0; a < 16; a++) for (let b = 0; b < 16; b++) seen.add(mixSeed(seed, a, b))
    expect(seen.size).toBe(4 * 16 * 16)
  })

  it('segment orders are permutations, identical on rerun, different across epochs and seeds', () => {
    const order = segmentOrder(3, 1, 50)
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect([...segmentOrder(3, 1, 50)]).toEqual([...order])
    expect([...segmentOrder(3, 2, 50)]).not.toEqual([...order])
    expect([...segmentOrder(4, 1, 50)]).not.toEqual([...order])
  })

  it('block permutations depend on (seed, epoch, block) and on nothing else', () => {
    const p = [...blockPermutation(1, 1, 0, 100)]
    expect([...blockPermutation(1, 1, 0, 100)]).toEqual(p)
    expect([...blockPermutation(1, 1, 1, 100)]).not.toEqual(p)
    expect([...blockPermutation(1, 2, 0, 100)]).not.toEqual(p)
    expect([...blockPermutation(2, 1, 0, 100)]).not.toEqual(p)
    // The segment order and the row permutation of the same (seed, epoch) are different streams.
    expect([...segmentOrder(1, 1, 100)]).not.toEqual(p)
  })
})

describe('concatBatches', () => {
  it('merges string dictionaries and keeps values and nulls', () => {
    const a = batchFromRecords(schema, [
      { x: 1, s: 'SFO' },
      { x: null, s: 'LAX' },
    ])
    const b = batchFromRecords(schema, [
      { x: 3, s: 'JFK' },
      { x: 4, s: null },
      { x: 5, s: 'SFO' },
    ])
    const merged = concatBatches([a, b])
    expect(merged.length).toBe(5)
    expect(rows(merged)).toEqual([
      [1, 'SFO'],
      [null, 'LAX'],
      [3, 'JFK'],
      [4, null],
      [5, 'SFO'],
    ])
    const s = merged.columns.get('s')
    expect(s?.type === 'string' && s.dictionary).toEqual(['SFO', 'LAX', 'JFK'])
    expect(concatBatches([a])).toBe(a)
  })

  it('permuteBlock reorders rows as the block permutation says', () => {
    const records = Array.from({ length: 20 }, (_, i) => ({ x: i, s: `v${i % 3}` }))
    const batch = batchFromRecords(schema, records)
    const permuted = permuteBlock(batch, 5, 2, 7)
    const order = blockPermutation(5, 2, 7, 20)
    expect(rows(permuted)).toEqual([...order].map((i) => [i, `v${i % 3}`]))
    expect(rows(permuteBlock(batch, 5, 2, 7))).toEqual(rows(permuted))
  })
})

import { describe, expect, it } from 'vitest'
import { batchFromRecords, isNull, type Schema, sliceBatch, takeRows, valueAt } from './batch.js'

const schema: Schema = {
  fields: [
    { name: 'x', type: 'float', nullable: true },
    { name: 'flag', type: 'bool', nullable: false },
    { name: 's', type: 'string', nullable: true },
  ],
}
const records = [
  { x: 1.5, flag: true, s: 'a' },
  { x: null, flag: false, s: 'b' },
  { x: 3, flag: true, s: null },
  { x: 4, flag: false, s: 'a' },
]

describe('batch helpers', () => {
  it('builds a batch from records with nulls and dictionary codes', () => {
    const batch = batchFromRecords(schema, records)
    expect(batch.length).toBe(4)
    const x = batch.columns.get('x')!
    const s = batch.columns.get('s')!
    expect([0, 1, 2, 3].map((i) => valueAt(x, i))).toEqual([1.5, null, 3, 4])
    expect([0, 1, 2, 3].map((i) => isNull(x, i))).toEqual([false, true, false, false])
    expect([0, 1, 2, 3].map((i) => valueAt(batch.columns.get('flag')!, i))).toEqual([true, false, true, false])
    expect([0, 1, 2, 3].map((i) => valueAt(s, i))).toEqual(['a', 'b', null, 'a'])
    expect(s.type === 'string' && s.dictionary).toEqual(['a', 'b'])
  })

  it('slices rows and clips to the batch', () => {
    const batch = batchFromRecords(schema, records)
    const tail = sliceBatch(batch, 2, 10)
    expect(tail.length).toBe(2)
    expect(valueAt(tail.columns.get('x')!, 0)).toBe(3)
    expect(valueAt(tail.columns.get('s')!, 1)).toBe('a')
    expect(sliceBatch(batch, 5, 9).length).toBe(0)
  })

  it('takes rows in a given order, keeping nulls', () => {
    const batch = batchFromRecords(schema, records)
    const taken = takeRows(batch, [3, 1, 1])
    expect(taken.length).toBe(3)
    expect([0, 1, 2].map((i) => valueAt(taken.columns.get('x')!, i))).toEqual([4, null, null])
    expect([0, 1, 2].map((i) => valueAt(taken.columns.get('s')!, i))).toEqual(['a', 'b', 'b'])
  })
})

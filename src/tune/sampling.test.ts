import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import type { Batch } from '../data/batch.js'
import type { Source } from '../data/source.js'
import { filterRows } from '../data/split.js'
import { allocate, stratifiedSample, uniformSample } from './sampling.js'

/** A source over `labels` in batches of `batchSize`, with a row-index column offset by `indexBase`. */
function labelSource(labels: readonly string[], batchSize: number, indexBase = 0): Source & { passes: number } {
  const dictionary = [...new Set(labels)]
  const out = {
    passes: 0,
    description: 'labels',
    schema: async () => ({
      fields: [
        { name: 'label', type: 'string' as const, nullable: true },
        { name: '__row_index', type: 'int' as const, nullable: false },
      ],
    }),
    close: async () => {},
    async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
      out.passes++
      for (let start = 0; start < labels.length; start += batchSize) {
        const end = Math.min(labels.length, start + batchSize)
        const codes = Int32Array.from(labels.slice(start, end), (l) => dictionary.indexOf(l))
        const index = Float64Array.from({ length: end - start }, (_, i) => indexBase + start + i)
        yield {
          length: end - start,
          columns: new Map([
            ['label', { type: 'string', codes, dictionary }],
            ['__row_index', { type: 'int', values: index }],
          ]),
        } as Batch
      }
    },
  }
  return out
}

const labels = Array.from({ length: 10_007 }, (_, i) => (i % 50 === 0 ? 'rare' : i % 3 === 0 ? 'b' : 'a'))

describe('uniform sample', () => {
  it('keeps about the fraction, the same rows on every pass, a function of the seed', () => {
    const keep = uniformSample({ fraction: 0.1, seed: 2 })
    const kept = Array.from({ length: 100_000 }, (_, i) => i).filter(keep)
    expect(kept.length / 100_000).toBeCloseTo(0.1, 2)
    expect(Array.from({ length: 100_000 }, (_, i) => i).filter(uniformSample({ fraction: 0.1, seed: 2 }))).toEqual(kept)
    expect(Array.from({ length: 1000 }, (_, i) => i).filter(uniformSample({ fraction: 0.1, seed: 3 }))).not.toEqual(
      kept.filter((i) => i < 1000),
    )
    expect(uniformSample({ fraction: 1 })(123)).toBe(true)
    expect(() => uniformSample({ fraction: 0 })).toThrow(/--sample must be a fraction in \(0, 1\]/)
  })

  it('samples a stream through filterRows, independently of batch size', async () => {
    const rows = async (batchSize: number) => {
      const out: number[] = []
      for await (const batch of filterRows(labelSource(labels, batchSize), uniformSample({ fraction: 0.2 }))) {
        const index = batch.columns.get('__row_index')
        if (index?.type !== 'string') out.push(...index!.values)
      }
      return out
    }
    const a = await rows(1000)
    expect(a).toEqual(await rows(77))
    expect(a.length).toBeGreaterThan(1800)
    expect(a.length).toBeLessThan(2200)
  })
})

describe('stratified sample', () => {
  it('keeps exactly each stratum’s share, in two passes, the same rows for the same seed', async () => {
    const source = labelSource(labels, 512)
    const sample = await stratifiedSample(source, { column: 'label', fraction: 0.1, seed: 1 })
    expect(source.passes).toBe(2)
    const byValue = Object.fromEntries(sample.strata.map((s) => [s.value, s]))
    const n = { a: labels.filter((l) => l === 'a').length, b: labels.filter((l) => l === 'b').length, rare: 201 }
    expect(byValue['rare']).toEqual({ value: 'rare', rows: n.rare, kept: 20 })
    for (const key of ['a', 'b'] as const) expect(Math.abs(byValue[key]!.kept - 0.1 * n[key])).toBeLessThanOrEqual(1)
    expect(sample.rows.length).toBe(Math.round(0.1 * labels.length))
    // Every kept row is of its stratum, ascending, and `keep` agrees.
    const kept = Array.from(sample.rows)
    expect(kept).toEqual([...kept].sort((x, y) => x - y))
    expect(kept.filter((i) => labels[i] === 'rare').length).toBe(20)
    expect(Array.from({ length: labels.length }, (_, i) => i).filter(sample.keep)).toEqual(kept)
    const again = await stratifiedSample(labelSource(labels, 3000), { column: 'label', fraction: 0.1, seed: 1 })
    expect(Array.from(again.rows)).toEqual(kept)
    const other = await stratifiedSample(labelSource(labels, 512), { column: 'label', fraction: 0.1, seed: 2 })
    expect(Array.from(other.rows)).not.toEqual(kept)
  })

  it('uses the data’s row indices when the batches carry them, and never loses a rare stratum', async () => {
    const few = ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'y']
    const sample = await stratifiedSample(labelSource(few, 4, 1000), {
      column: 'label',
      fraction: 0.2,
      rowIndexColumn: '__row_index',
    })
    expect(sample.strata.find((s) => s.value === 'y')!.kept).toBe(1)
    expect(sample.keep(1009)).toBe(true)
    for (const r of sample.rows) expect(r).toBeGreaterThanOrEqual(1000)
  })

  it('refuses a column the data does not have, listing the columns', async () => {
    const error = await stratifiedSample(labelSource(labels, 100), { column: 'lable', fraction: 0.1 }).catch((e) => e)
    expect(isScalemlError(error, 'UNKNOWN_COLUMN')).toBe(true)
    expect(error.message).toContain(
      "--stratify names 'lable', which is not a column of the data. Columns: label, __row_index.",
    )
  })

  it('allocates by largest remainders to the rounded total', () => {
    const quotas = allocate(
      new Map([
        ['a', 5],
        ['b', 5],
        ['c', 5],
      ]),
      0.5,
      15,
    )
    // 2.5 each: floor 2 + one extra for the first two strata seen → 8 = round(7.5).
    expect([...quotas.values()]).toEqual([3, 3, 2])
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Random } from '../core/random.js'
import { openDuckDb } from '../infra/duckdb.js'
import { writeSyntheticFlights } from '../testing/synthetic-flights.js'
import { type Batch, batchFromRecords, type Schema } from './batch.js'
import { inspectSource } from './inspect.js'
import type { Source } from './source.js'
import { openFileSource } from './sources/file-source.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scaleml-inspect-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function memorySource(schema: Schema, batches: Batch[]): Source {
  return {
    description: 'memory',
    schema: async () => schema,
    close: async () => {},
    async *[Symbol.asyncIterator]() {
      yield* batches
    },
  }
}

const schema: Schema = {
  fields: [
    { name: 'x', type: 'float', nullable: true },
    { name: 'k', type: 'int', nullable: true },
    { name: 'b', type: 'bool', nullable: true },
    { name: 't', type: 'timestamp', nullable: true },
    { name: 's', type: 'string', nullable: true },
    { name: 'empty', type: 'float', nullable: true },
  ],
}

describe('inspectSource', () => {
  test('stats equal exact values computed from the rows, in one pass with progress', async () => {
    const random = new Random(5)
    const records: Record<string, unknown>[] = []
    for (let i = 0; i < 30_000; i++) {
      records.push({
        x: random.next() < 0.1 ? null : (random.next() - 0.5) * 1000,
        k: i % 11 === 0 ? null : random.nextInt(5000),
        b: i % 13 === 0 ? null : random.next() < 0.3,
        t: i % 17 === 0 ? null : Date.UTC(2020, 0, 1) + random.nextInt(1e9),
        s: i % 19 === 0 ? null : `v${random.nextInt(3000)}`,
        empty: null,
      })
    }
    // NaN counts as null, like isNull.
    records[1]!['x'] = Number.NaN
    const batches: Batch[] = []
    for (let start = 0; start < records.length; start += 7_000) {
      batches.push(batchFromRecords(schema, records.slice(start, start + 7_000)))
    }
    let passes = 0
    const progress: number[] = []
    const source = memorySource(schema, batches)
    const counting: Source = {
      ...source,
      [Symbol.asyncIterator]: () => {
        passes++
        return source[Symbol.asyncIterator]()
      },
    }
    const profile = await inspectSource(counting, { onProgress: (rows) => progress.push(rows) })
    expect(passes).toBe(1)
    expect(progress).toEqual([7_000, 14_000, 21_000, 28_000, 30_000])
    expect(profile.rows).toBe(30_000)
    expect(profile.schema).toBe(schema)

    for (const field of schema.fields) {
      const stats = profile.columns.find((c) => c.name === field.name)!
      expect(stats.type).toBe(field.type)
      const present = records.map((r) => r[field.name]).filter((v) => v !== null && !Number.isNaN(v))
      expect(stats.nulls).toBe(records.length - present.length)
      const exactDistinct = new Set(present).size
      if (exactDistinct === 0) expect(stats.distinct).toBe(0)
      else expect(Math.abs(stats.distinct - exactDistinct) / exactDistinct).toBeLessThanOrEqual(3 * stats.distinctError)
      if (field.type === 'string') {
        const sorted = (present as string[]).slice().sort()
        expect(stats.min).toBe(sorted[0])
        expect(stats.max).toBe(sorted[sorted.length - 1])
        expect(stats.mean).toBeNull()
      } else if (present.length === 0) {
        expect([stats.min, stats.max, stats.mean]).toEqual([null, null, null])
      } else {
        const numbers = present.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : (v as number)))
        expect(stats.min).toBe(Math.min(...numbers))
        expect(stats.max).toBe(Math.max(...numbers))
        const mean = numbers.reduce((a, v) => a + v, 0) / numbers.length
        expect(stats.mean).toBeCloseTo(mean, field.type === 'timestamp' ? 0 : 9)
      }
    }
  })

  test('dictionary entries that no row uses do not count (e.g. after takeRows)', async () => {
    const one: Schema = { fields: [{ name: 's', type: 'string', nullable: true }] }
    const batch: Batch = {
      length: 3,
      columns: new Map([
        ['s', { type: 'string', codes: Int32Array.from([1, 1, -1]), dictionary: ['zzz', 'mmm', 'aaa'] }],
      ]),
    }
    const profile = await inspectSource(memorySource(one, [batch]))
    expect(profile.columns[0]).toMatchObject({ nulls: 1, min: 'mmm', max: 'mmm', distinct: 1 })
  })

  test('profiles a file source: synthetic flights, stats equal what DuckDB computes', async () => {
    const path = join(dir, 'flights.parquet')
    await writeSyntheticFlights(path, { rows: 50_000, seed: 11, nullFraction: 0.05 })
    const source = await openFileSource({ path, batchSize: 8192 })
    try {
      const profile = await inspectSource(source)
      expect(profile.rows).toBe(50_000)
      const delay = profile.columns.find((c) => c.name === 'delay')!
      const origin = profile.columns.find((c) => c.name === 'origin')!
      const date = profile.columns.find((c) => c.name === 'date')!
      expect(date.min).toBe(Date.UTC(2001, 0, 1))
      expect(date.nulls).toBe(0)
      expect(origin.distinct).toBe(50)
      expect(delay.nulls).toBeGreaterThan(2_000)
      expect(delay.nulls).toBeLessThan(3_000)
      // Exact references computed by DuckDB, independently of the batch reader.
      const db = await openDuckDb()
      try {
        const [row] = (
          await db.connection.runAndReadAll(
            `SELECT count(*) FILTER (WHERE delay IS NULL), min(delay), max(delay), avg(delay), count(DISTINCT delay),
                    min(origin), max(origin), avg(distance) FROM '${path}'`,
          )
        ).getRowsJS()
        const [nulls, min, max, mean, distinct] = row!.slice(0, 5).map(Number)
        expect(delay.nulls).toBe(nulls)
        expect(delay.min).toBe(min)
        expect(delay.max).toBe(max)
        expect(delay.mean).toBeCloseTo(mean!, 9)
        expect(Math.abs(delay.distinct - distinct!) / distinct!).toBeLessThanOrEqual(3 * delay.distinctError)
        expect([origin.min, origin.max]).toEqual([row![5], row![6]])
        expect(profile.columns.find((c) => c.name === 'distance')!.mean).toBeCloseTo(Number(row![7]), 9)
      } finally {
        await db.close()
      }
    } finally {
      await source.close()
    }
  })
})

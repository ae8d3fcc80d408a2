import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { openDuckDb } from '../../infra/duckdb.js'
import type { Batch } from '../batch.js'
import { openFileSource } from './file-source.js'

const FLIGHTS = 'node_modules/vega-datasets/data/flights-3m.parquet'
let dir: string

async function write(file: string, select: string): Promise<string> {
  const path = join(dir, file)
  const db = await openDuckDb()
  try {
    const format = file.endsWith('.parquet') ? 'FORMAT parquet, ROW_GROUP_SIZE 1000' : 'FORMAT csv, HEADER true'
    await db.connection.run(`COPY (${select}) TO '${path}' (${format})`)
  } finally {
    await db.close()
  }
  return path
}

function numbers(batches: readonly Batch[], column: string): number[] {
  const out: number[] = []
  for (const batch of batches) {
    const c = batch.columns.get(column)
    if (c === undefined || c.type === 'string') throw new Error(`numeric column ${column} expected`)
    for (let i = 0; i < batch.length; i++) out.push(c.values[i]!)
  }
  return out
}

async function collect(iterable: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = []
  for await (const batch of iterable) out.push(batch)
  return out
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scaleml-segments-'))
  // Two files of a glob: v runs 0..2999 then 3000..4499, so a row's v is its index in the data.
  await write('part-a.parquet', 'SELECT i AS v, i % 7 AS k FROM range(3000) r(i)')
  await write('part-b.parquet', 'SELECT 3000 + i AS v, (3000 + i) % 7 AS k FROM range(1500) r(i)')
  await write('plain.csv', 'SELECT i AS v FROM range(10) r(i)')
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('rowIndexColumn', () => {
  test('numbers rows by their position in the matched files, counted before the filter', async () => {
    const source = await openFileSource({
      path: join(dir, 'part-*.parquet'),
      rowIndexColumn: '__row_index',
      where: 'k = 3',
      batchSize: 700,
    })
    try {
      expect((await source.schema()).fields.at(-1)).toEqual({ name: '__row_index', type: 'int', nullable: true })
      const batches = await collect(source)
      const v = numbers(batches, 'v')
      expect(v.length).toBeGreaterThan(600)
      expect(v.every((x) => x % 7 === 3)).toBe(true)
      expect(numbers(batches, '__row_index')).toEqual(v)
    } finally {
      await source.close()
    }
  })

  test('is refused for CSV and for a name that is already a column', async () => {
    const csv = await openFileSource({ path: join(dir, 'plain.csv'), rowIndexColumn: 'i' }).catch((e: unknown) => e)
    expect(isScalemlError(csv, 'INVALID_ARGUMENT')).toBe(true)
    expect((csv as Error).message).toMatch(/rowIndexColumn needs Parquet files; '.*plain\.csv' is CSV/)
    const clash = await openFileSource({ path: join(dir, 'part-a.parquet'), rowIndexColumn: 'v' }).catch(
      (e: unknown) => e,
    )
    expect(isScalemlError(clash, 'INVALID_ARGUMENT')).toBe(true)
    expect((clash as Error).message).toMatch(/rowIndexColumn 'v' is already a column/)
  })
})

describe('readSegment', () => {
  test('reads rows [start, end) of one file, with the filter and global row indices', async () => {
    const source = await openFileSource({
      path: join(dir, 'part-*.parquet'),
      rowIndexColumn: 'row',
      batchSize: 256,
    })
    try {
      expect(await source.fileRowCounts()).toEqual([3000, 1500])
      const second = await collect(source.readSegment({ file: 1, start: 200, end: 1100 }))
      expect(second.map((b) => b.length)).toEqual([256, 256, 256, 132])
      const v = numbers(second, 'v')
      expect(v).toEqual(Array.from({ length: 900 }, (_, i) => 3200 + i))
      expect(numbers(second, 'row')).toEqual(v)
      expect(await collect(source.readSegment({ file: 0, start: 5, end: 5 }))).toEqual([])
      // The full pass still reads everything after segment reads on the same source.
      expect(numbers(await collect(source), 'v').length).toBe(4500)
    } finally {
      await source.close()
    }
    const filtered = await openFileSource({ path: join(dir, 'part-*.parquet'), where: 'k = 0' })
    try {
      const v = numbers(await collect(filtered.readSegment({ file: 0, start: 0, end: 70 })), 'v')
      expect(v).toEqual([0, 7, 14, 21, 28, 35, 42, 49, 56, 63])
    } finally {
      await filtered.close()
    }
  })

  test('refuses a range outside the file, and CSV sources', async () => {
    const source = await openFileSource({ path: join(dir, 'part-*.parquet') })
    try {
      for (const segment of [
        { file: 2, start: 0, end: 1 },
        { file: 1, start: 0, end: 1501 },
        { file: 0, start: 10, end: 5 },
        { file: 0, start: -1, end: 5 },
      ]) {
        const error = await collect(source.readSegment(segment)).catch((e: unknown) => e)
        expect(isScalemlError(error, 'INVALID_ARGUMENT'), JSON.stringify(segment)).toBe(true)
        expect((error as Error).message).toContain(`segment ${JSON.stringify(segment)} is outside`)
      }
    } finally {
      await source.close()
    }
    const csv = await openFileSource({ path: join(dir, 'plain.csv') })
    try {
      const error = await collect(csv.readSegment({ file: 0, start: 0, end: 1 })).catch((e: unknown) => e)
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      await expect(csv.fileRowCounts()).rejects.toThrow(/fileRowCounts needs Parquet files/)
    } finally {
      await csv.close()
    }
  })

  test('segments of flights-3m cover the file once; prints the cost of segment reads vs one pass (not asserted)', async () => {
    const columns = ['date', 'delay', 'distance', 'origin', 'destination']
    const source = await openFileSource({ path: FLIGHTS, columns, rowIndexColumn: 'row' })
    try {
      const [rows] = await source.fileRowCounts()
      expect(rows).toBe(3_000_000)
      let start = performance.now()
      let full = 0
      for await (const batch of source) full += batch.length
      const fullSeconds = (performance.now() - start) / 1000
      const size = 65_536
      start = performance.now()
      let seen = 0
      let checksum = 0
      for (let from = 0; from < rows!; from += size) {
        for await (const batch of source.readSegment({ file: 0, start: from, end: Math.min(from + size, rows!) })) {
          seen += batch.length
          const row = batch.columns.get('row')
          if (row?.type !== 'string') checksum += row!.values[0]!
        }
      }
      const segmentSeconds = (performance.now() - start) / 1000
      expect(full).toBe(3_000_000)
      expect(seen).toBe(3_000_000)
      // Each segment starts at its own first row: Σ from over the 46 segments.
      let expected = 0
      for (let from = 0; from < rows!; from += size) expected += from
      expect(checksum).toBe(expected)
      console.log(
        `flights-3m, 5 columns: one pass ${fullSeconds.toFixed(2)} s; ${Math.ceil(rows! / size)} segments of ${size} rows ${segmentSeconds.toFixed(2)} s`,
      )
    } finally {
      await source.close()
    }
  }, 60_000)
})

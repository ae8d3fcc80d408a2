import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { openDuckDb } from '../infra/duckdb.js'
import { type Batch, batchFromRecords, type Schema, valueAt } from './batch.js'
import type { Source } from './source.js'
import { openFileSource } from './sources/file-source.js'
import { filterRows, isHoldoutRow, parseHoldout, randomHoldout, resolveTimeCutoff } from './split.js'

const FLIGHTS = 'node_modules/vega-datasets/data/flights-3m.parquet'
let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scaleml-split-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

async function countRows(
  path: string,
  where: string,
  column: string,
): Promise<{ rows: number; min: number; max: number }> {
  const source = await openFileSource({ path, columns: [column], where })
  let rows = 0
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  try {
    for await (const batch of source) {
      const c = batch.columns.get(column)!
      if (c.type === 'string') throw new Error('numeric expected')
      for (let i = 0; i < batch.length; i++) {
        min = Math.min(min, c.values[i]!)
        max = Math.max(max, c.values[i]!)
      }
      rows += batch.length
    }
  } finally {
    await source.close()
  }
  return { rows, min, max }
}

describe('parseHoldout', () => {
  test('parses time and random specs; a column may contain colons', () => {
    expect(parseHoldout('time:date:0.1')).toEqual({ kind: 'time', column: 'date', fraction: 0.1 })
    expect(parseHoldout('time:event:time:0.25')).toEqual({ kind: 'time', column: 'event:time', fraction: 0.25 })
    expect(parseHoldout('random:0.2')).toEqual({ kind: 'random', fraction: 0.2 })
    expect(parseHoldout('random:.5')).toEqual({ kind: 'random', fraction: 0.5 })
  })

  test.each([
    ['time:date', /needs a column and a fraction/],
    ['time::0.1', /needs a column and a fraction/],
    ['random:1', /fraction '1' is not a number in \(0, 1\)/],
    ['random:0', /fraction '0'/],
    ['random:abc', /fraction 'abc'/],
    ['random:-0.1', /fraction '-0.1'/],
    ['time:date:0.1x', /fraction '0.1x'/],
    ['kfold:5', /unknown kind 'kfold'/],
    ['0.1', /unknown kind '0.1'/],
  ])('%s is an INVALID_ARGUMENT that names the spec and the accepted forms', (spec, why) => {
    const error = thrown(() => parseHoldout(spec))
    expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
    const message = (error as Error).message
    expect(message).toContain(`'${spec}'`)
    expect(message).toMatch(why)
    expect(message).toContain("'time:<column>:<fraction>' or 'random:<fraction>'")
  })
})

describe('random holdout', () => {
  test('isHoldoutRow is pure and selects about the fraction', () => {
    const first = Array.from({ length: 100_000 }, (_, i) => isHoldoutRow(7, i, 0.2))
    const again = Array.from({ length: 100_000 }, (_, i) => isHoldoutRow(7, i, 0.2))
    expect(again).toEqual(first)
    const held = first.filter(Boolean).length
    expect(Math.abs(held / 100_000 - 0.2)).toBeLessThan(0.01)
    let differs = 0
    for (let i = 0; i < 1000; i++) if (isHoldoutRow(7, i, 0.5) !== isHoldoutRow(8, i, 0.5)) differs++
    expect(differs).toBeGreaterThan(400)
  })

  const schema: Schema = {
    fields: [
      { name: 'i', type: 'int', nullable: false },
      { name: 's', type: 'string', nullable: false },
    ],
  }
  const records = Array.from({ length: 1000 }, (_, i) => ({ i, s: `s${i % 7}` }))
  function sourceOf(batchSize: number): Source & { closed: number } {
    const batches: Batch[] = []
    for (let start = 0; start < records.length; start += batchSize) {
      batches.push(batchFromRecords(schema, records.slice(start, start + batchSize)))
    }
    const source = {
      closed: 0,
      description: 'memory',
      schema: async () => schema,
      close: async () => {
        source.closed++
      },
      async *[Symbol.asyncIterator]() {
        yield* batches
      },
    }
    return source
  }
  async function ids(source: Source): Promise<number[]> {
    const out: number[] = []
    for await (const batch of source) {
      for (let k = 0; k < batch.length; k++) {
        out.push(valueAt(batch.columns.get('i')!, k) as number)
        expect(valueAt(batch.columns.get('s')!, k)).toBe(`s${out[out.length - 1]! % 7}`)
      }
    }
    return out
  }

  test('filterRows uses global row indices: the split does not depend on batch boundaries', async () => {
    const expected = records.map((r) => r.i).filter((i) => isHoldoutRow(3, i, 0.3))
    for (const batchSize of [1, 7, 64, 1000]) {
      const filtered = filterRows(sourceOf(batchSize), (i) => isHoldoutRow(3, i, 0.3))
      expect(await ids(filtered)).toEqual(expected)
      expect(await ids(filtered)).toEqual(expected) // a second pass restarts the index
    }
  })

  test('randomHoldout: train and test partition the rows; closing closes the source', async () => {
    const base = sourceOf(100)
    const { train, test: held } = randomHoldout(base, 9, 0.25)
    const a = await ids(train)
    const b = await ids(held)
    expect(a.length + b.length).toBe(1000)
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(records.map((r) => r.i))
    expect(b.length).toBeGreaterThan(200)
    expect(b.length).toBeLessThan(300)
    expect(await train.schema()).toBe(schema)
    await held.close()
    expect(base.closed).toBe(1)
    expect(() => randomHoldout(base, 1, 1.5)).toThrow(/fraction must be in \(0, 1\), got 1.5/)
  })
})

describe('resolveTimeCutoff', () => {
  test('flights-3m time:date:0.1 cuts at 2001-06-13 00:00 with 302,730 test rows', async () => {
    const cut = await resolveTimeCutoff(FLIGHTS, 'date', 0.1)
    expect(Math.abs(cut.cutoff - Date.UTC(2001, 5, 13))).toBeLessThanOrEqual(60_000)
    expect(cut.cutoff).toBe(Date.UTC(2001, 5, 13))
    expect(cut.granularity).toBe('day')
    expect(cut.rows).toBe(3_000_000)
    expect(cut.testRows).toBe(302_730)
    // The filters select exactly those rows when a file source reads them.
    const test = await countRows(FLIGHTS, cut.testWhere, 'date')
    expect(test.rows).toBe(302_730)
    expect(test.min).toBeGreaterThanOrEqual(cut.cutoff)
    const train = await countRows(FLIGHTS, cut.trainWhere, 'date')
    expect(train.rows).toBe(3_000_000 - 302_730)
    expect(train.max).toBeLessThan(cut.cutoff)
  })

  test('snapTolerance 0 keeps DuckDB quantile_disc itself', async () => {
    const cut = await resolveTimeCutoff(FLIGHTS, 'date', 0.1, { snapTolerance: 0 })
    expect(cut.cutoff).toBe(Date.UTC(2001, 5, 13, 8, 2))
    expect(cut.granularity).toBe('exact')
    expect(cut.testRows).toBe(300_003)
  })

  test('TIMESTAMPTZ, DATE and numeric columns; rounding to a day is refused when it would overshoot', async () => {
    const path = join(dir, 'times.parquet')
    const db = await openDuckDb()
    try {
      await db.connection.run(
        `COPY (SELECT TIMESTAMPTZ '2001-01-01 00:00:00+00' + to_minutes(i * 7) AS tz,
                      DATE '2001-01-01' + CAST(i // 100 AS INTEGER) AS d, i * 0.5 AS x, 'a' AS s
               FROM range(10000) r(i)) TO '${path}' (FORMAT parquet)`,
      )
    } finally {
      await db.close()
    }
    // 10,000 rows at 7-minute steps (~206 a day): rounding the 90% quantile (day 43, 17:46) down to its day would add
    // ~150 test rows, more than the 5% tolerance of a 1,000-row holdout allows, so it rounds to the hour.
    const tz = await resolveTimeCutoff(path, 'tz', 0.1)
    expect(tz.granularity).toBe('hour')
    expect(tz.cutoff % 3_600_000).toBe(0)
    expect(tz.rows).toBe(10_000)
    expect(tz.testRows).toBeLessThanOrEqual(1050)
    expect(tz.testRows).toBeGreaterThanOrEqual(1000)
    expect((await countRows(path, tz.testWhere, 'tz')).rows).toBe(tz.testRows)
    expect((await countRows(path, tz.trainWhere, 'tz')).rows).toBe(10_000 - tz.testRows)
    // 100 rows a day: the quantile is a day value, and its ties go to the test side with it.
    const d = await resolveTimeCutoff(path, 'd', 0.1)
    expect(d.cutoff).toBe(Date.UTC(2001, 0, 1) + 89 * 86_400_000)
    expect(d.testRows).toBe(1100)
    expect((await countRows(path, d.testWhere, 'd')).min).toBe(d.cutoff)
    const x = await resolveTimeCutoff(path, 'x', 0.25)
    expect(x.granularity).toBe('exact')
    expect(x.cutoff).toBe(3749.5)
    expect((await countRows(path, x.testWhere, 'x')).rows).toBe(2501)
  })

  test('past maxExactRows the cut comes from a block sample, with exact counts on each side', async () => {
    const exact = await resolveTimeCutoff(FLIGHTS, 'date', 0.1, { snapTolerance: 0 })
    const sampled = await resolveTimeCutoff(FLIGHTS, 'date', 0.1, { snapTolerance: 0, maxExactRows: 300_000 })
    expect(sampled.rows).toBe(3_000_000)
    // A 10% sample of 2,048-row blocks (146 blocks): the cut lands within 2% of the rows of the exact one.
    expect(Math.abs(sampled.testRows - exact.testRows)).toBeLessThan(60_000)
    expect((await countRows(FLIGHTS, sampled.testWhere, 'date')).rows).toBe(sampled.testRows)
    const snapped = await resolveTimeCutoff(FLIGHTS, 'date', 0.1, { maxExactRows: 300_000 })
    expect(snapped.cutoff % 86_400_000).toBe(0)
    expect(snapped.testRows).toBeLessThanOrEqual(0.1 * 1.05 * 3_000_000)
    expect((await countRows(FLIGHTS, snapped.testWhere, 'date')).rows).toBe(snapped.testRows)
  })

  test('errors: unknown column, string column, bad fraction, missing file', async () => {
    const unknown = await resolveTimeCutoff(FLIGHTS, 'when', 0.1).catch((e: unknown) => e)
    expect(isScalemlError(unknown, 'UNKNOWN_COLUMN')).toBe(true)
    expect((unknown as Error).message).toMatch(/'when'.*available columns: date, delay, distance, origin, destination/)
    const text = await resolveTimeCutoff(FLIGHTS, 'origin', 0.1).catch((e: unknown) => e)
    expect(isScalemlError(text, 'INVALID_ARGUMENT')).toBe(true)
    expect((text as Error).message).toMatch(/column 'origin' of type VARCHAR/)
    await expect(resolveTimeCutoff(FLIGHTS, 'date', 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(resolveTimeCutoff(join(dir, 'missing.parquet'), 'date', 0.1)).rejects.toMatchObject({
      code: 'SOURCE_NOT_FOUND',
    })
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { openDuckDb } from '../infra/duckdb.js'
import { SYNTHETIC_AIRPORTS, writeSyntheticFlights } from './synthetic-flights.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scaleml-synthetic-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

async function query(sql: string): Promise<unknown[][]> {
  const db = await openDuckDb()
  try {
    return (await db.connection.runAndReadAll(sql)).getRowsJS()
  } finally {
    await db.close()
  }
}

describe('writeSyntheticFlights', () => {
  test('flights-like schema, increasing dates from 2001-01-01, codes from the airport list', async () => {
    const path = join(dir, 'f.parquet')
    await writeSyntheticFlights(path, { rows: 20_000, seed: 1 })
    const schema = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${path}')`)
    expect(schema).toEqual([
      ['date', 'TIMESTAMP'],
      ['delay', 'BIGINT'],
      ['distance', 'BIGINT'],
      ['origin', 'VARCHAR'],
      ['destination', 'VARCHAR'],
    ])
    const [[rows, first, decreasing, origins, unknown, sameRoute]] = (await query(
      `SELECT count(*), CAST(min(date) AS VARCHAR),
              (SELECT count(*) FROM (SELECT date < lag(date) OVER () AS down FROM '${path}') WHERE down),
              count(DISTINCT origin),
              count(*) FILTER (WHERE NOT list_contains([${SYNTHETIC_AIRPORTS.map((a) => `'${a}'`).join(',')}], origin)),
              count(*) FILTER (WHERE origin = destination)
       FROM '${path}'`,
    )) as [[bigint, string, bigint, bigint, bigint, bigint]]
    expect(Number(rows)).toBe(20_000)
    expect(first).toBe('2001-01-01 00:00:00')
    expect(Number(decreasing)).toBe(0)
    expect(Number(origins)).toBe(50)
    expect(Number(unknown)).toBe(0)
    expect(Number(sameRoute)).toBe(0)
  })

  test('delay is learnable from hour and distance; delay > 15 is a balanced-enough target', async () => {
    const path = join(dir, 'learn.parquet')
    await writeSyntheticFlights(path, { rows: 50_000, seed: 2 })
    const [[late, night, evening, corr]] = (await query(
      `SELECT avg(CAST(delay > 15 AS DOUBLE)),
              avg(delay) FILTER (WHERE hour(date) < 6), avg(delay) FILTER (WHERE hour(date) >= 18),
              corr(delay, distance)
       FROM '${path}'`,
    )) as [[number, number, number, number]]
    expect(late).toBeGreaterThan(0.15)
    expect(late).toBeLessThan(0.85)
    expect(evening - night).toBeGreaterThan(15)
    expect(corr).toBeGreaterThan(0.1)
  })

  test('same seed gives the same rows, another seed other rows; CSV holds the same data; nulls on request', async () => {
    const a = join(dir, 'a.parquet')
    const b = join(dir, 'b.csv')
    const c = join(dir, 'c.parquet')
    const d = join(dir, 'd.parquet')
    await writeSyntheticFlights(a, { rows: 5_000, seed: 9 })
    await writeSyntheticFlights(b, { rows: 5_000, seed: 9, format: 'csv' })
    await writeSyntheticFlights(c, { rows: 5_000, seed: 10 })
    await writeSyntheticFlights(d, { rows: 5_000, seed: 9, nullFraction: 0.2 })
    const [[differA, differC, nulls]] = (await query(
      `SELECT (SELECT count(*) FROM (SELECT * FROM '${a}' EXCEPT ALL SELECT * FROM read_csv('${b}'))),
              (SELECT count(*) FROM (SELECT * FROM '${a}' EXCEPT ALL SELECT * FROM '${c}')),
              (SELECT count(*) FILTER (WHERE delay IS NULL) FROM '${d}')`,
    )) as [[bigint, bigint, bigint]]
    expect(Number(differA)).toBe(0)
    expect(Number(differC)).toBeGreaterThan(4_000)
    expect(Number(nulls)).toBeGreaterThan(800)
    expect(Number(nulls)).toBeLessThan(1_200)
  })

  test('rejects bad options', async () => {
    const error = await writeSyntheticFlights(join(dir, 'x.parquet'), { rows: 0 }).catch((e: unknown) => e)
    expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
    expect((error as Error).message).toMatch(/rows must be a positive integer, got 0/)
  })
})

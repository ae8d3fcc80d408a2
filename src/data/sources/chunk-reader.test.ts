import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type DuckDb, openDuckDb } from '../../infra/duckdb.js'
import type { Batch } from '../batch.js'
import { type ReadColumn, streamBatches } from './chunk-reader.js'

let db: DuckDb
beforeAll(async () => {
  db = await openDuckDb()
})
afterAll(async () => {
  await db.close()
})

async function read(sql: string, columns: ReadColumn[], batchSize: number, fastPath: boolean): Promise<Batch[]> {
  const connection = await db.connect()
  try {
    const out: Batch[] = []
    for await (const batch of streamBatches(connection, sql, columns, batchSize, { fastPath })) out.push(batch)
    return out
  } finally {
    db.disconnect(connection)
  }
}

describe('streamBatches', () => {
  test('the fast path and the public getItem fallback give identical batches', async () => {
    const sql = `SELECT CAST(CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1.5 END AS DOUBLE) AS x,
                        CASE WHEN i % 7 = 0 THEN NULL
                             WHEN i % 3 = 0 THEN 'long-string-number-' || (i % 11)
                             ELSE 's' || (i % 13) END AS s
                 FROM range(9000) r(i)`
    const columns: ReadColumn[] = [
      { name: 'x', type: 'float' },
      { name: 's', type: 'string' },
    ]
    const fast = await read(sql, columns, 2500, true)
    const slow = await read(sql, columns, 2500, false)
    expect(fast.map((b) => b.length)).toEqual([2500, 2500, 2500, 1500])
    expect(slow).toEqual(fast)
    const x = fast[0]!.columns.get('x')!
    expect(x.type !== 'string' && [x.nulls?.[0], x.values[1], x.nulls?.[1]]).toEqual([1, 1.5, 0])
  })

  test('a query with no rows yields no batch', async () => {
    expect(await read('SELECT CAST(1 AS DOUBLE) AS x WHERE false', [{ name: 'x', type: 'float' }], 10, true)).toEqual(
      [],
    )
  })
})

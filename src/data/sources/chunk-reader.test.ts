import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type DuckDb, openDuckDb } from '../../infra/duckdb.js'
import type { Batch } from '../batch.js'
import { type BatchAllocator, type ReadColumn, type StreamOptions, streamBatches } from './chunk-reader.js'

let db: DuckDb
beforeAll(async () => {
  db = await openDuckDb()
})
afterAll(async () => {
  await db.close()
})

async function read(
  sql: string,
  columns: ReadColumn[],
  batchSize: number,
  fastPath: boolean,
  options: StreamOptions = {},
): Promise<Batch[]> {
  const connection = await db.connect()
  try {
    const out: Batch[] = []
    for await (const batch of streamBatches(connection, sql, columns, batchSize, { fastPath, ...options })) {
      out.push(batch)
    }
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

  test('the arrays of each batch come from the allocator; the short last batch is trimmed from them', async () => {
    const sql = `SELECT CAST(i AS DOUBLE) AS x, 's' || (i % 3) AS s, CAST(i % 2 AS DOUBLE) AS y FROM range(7000) r(i)`
    const columns: ReadColumn[] = [
      { name: 'x', type: 'float' },
      { name: 's', type: 'string' },
      { name: 'y', type: 'int' },
    ]
    const handed: ArrayBufferView[] = []
    const allocate: BatchAllocator = {
      float64: (length) => {
        const array = new Float64Array(length)
        handed.push(array)
        return array
      },
      int32: (length) => {
        const array = new Int32Array(length)
        handed.push(array)
        return array
      },
    }
    const own = await read(sql, columns, 3000, true, { allocate })
    expect(own).toStrictEqual(await read(sql, columns, 3000, true))
    // Three columns × three batches, each array the batch size; the full batches use them as they are.
    expect(handed.map((a) => a.byteLength / (a instanceof Int32Array ? 4 : 8))).toEqual(new Array(9).fill(3000))
    const first = own[0]!
    expect([...first.columns.values()].map((c) => (c.type === 'string' ? c.codes : c.values))).toEqual(
      handed.slice(0, 3),
    )
    expect(own[2]!.length).toBe(1000)
  })

  test('an aborted signal ends the stream at the next chunk, without the rows gathered so far', async () => {
    const connection = await db.connect()
    try {
      const abort = new AbortController()
      const fetches: Promise<unknown>[] = []
      const batches = streamBatches(
        connection,
        'SELECT CAST(i AS DOUBLE) AS x FROM range(1000000) r(i)',
        [{ name: 'x', type: 'float' }],
        5000,
        { signal: abort.signal, onFetch: (fetch) => fetches.push(fetch) },
      )
      const first = await batches.next()
      expect(first.done === false && first.value.length).toBe(5000)
      abort.abort()
      expect(await batches.next()).toEqual({ done: true, value: undefined })
      // Rows 0–6143 took three 2048-row chunks, the fourth was prefetched; every fetch has settled.
      expect(fetches.length).toBe(4)
      await Promise.all(fetches)
    } finally {
      db.disconnect(connection)
    }
  })
})

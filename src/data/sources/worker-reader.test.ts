import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type DuckDb, openDuckDb } from '../../infra/duckdb.js'
import type { Batch } from '../batch.js'
import { type ReadColumn, streamBatches } from './chunk-reader.js'
import { WorkerReader } from './worker-reader.js'

/** Rows DuckDB generates lazily: a stream over it only ends when cancelled. */
const ENDLESS = `SELECT CAST(i AS DOUBLE) AS x FROM range(1000000000000) r(i)`
const X: ReadColumn[] = [{ name: 'x', type: 'float' }]

let reader: WorkerReader
let db: DuckDb
beforeAll(async () => {
  reader = WorkerReader.start()
  db = await openDuckDb()
  await reader.ready()
}, 60_000)
afterAll(async () => {
  await reader?.close()
  await db?.close()
})

async function inThread(sql: string, columns: ReadColumn[], batchSize: number): Promise<Batch[]> {
  const connection = await db.connect()
  try {
    const out: Batch[] = []
    for await (const batch of streamBatches(connection, sql, columns, batchSize)) out.push(batch)
    return out
  } finally {
    db.disconnect(connection)
  }
}

async function viaThread(sql: string, columns: ReadColumn[], batchSize: number, readAhead = 2): Promise<Batch[]> {
  const out: Batch[] = []
  for await (const batch of reader.stream(sql, columns, batchSize, { readAhead })) out.push(batch)
  return out
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  if (!condition()) throw new Error(`timed out waiting for ${what}`)
}

describe('WorkerReader', () => {
  test('streams the batches streamBatches yields in-thread: values, nulls, dictionaries, the short last batch', async () => {
    const sql = `SELECT CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1.5 END::DOUBLE AS x,
                        CASE WHEN i % 7 = 0 THEN NULL WHEN i % 3 = 0 THEN 'a-long-string-' || (i % 11)
                             ELSE 's' || (i % 13) END AS s
                 FROM range(9001) r(i)`
    const columns: ReadColumn[] = [
      { name: 'x', type: 'float' },
      { name: 's', type: 'string' },
    ]
    const expected = await inThread(sql, columns, 2500)
    const got = await viaThread(sql, columns, 2500)
    expect(got.map((b) => b.length)).toEqual([2500, 2500, 2500, 1501])
    expect(got).toStrictEqual(expected)
  })

  test('at most readAhead finished batches wait for the consumer', async () => {
    for (const readAhead of [1, 3]) {
      const stream = reader.stream(ENDLESS, X, 1000, { readAhead })
      const first = await stream.next()
      expect(first.done).toBe(false)
      await until(() => reader.queuedBatches === readAhead, `${readAhead} queued batches`)
      // Unbounded production would queue hundreds of 1000-row batches in this time.
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(reader.queuedBatches).toBe(readAhead)
      await stream.return(undefined)
    }
  })

  test('leaving a stream early stops its query on the thread before the loop exits', async () => {
    let seen = 0
    for await (const batch of reader.stream(ENDLESS, X, 4096)) {
      seen += batch.length
      if (seen >= 3 * 4096) break
    }
    // The endless query was cancelled (else this test would hang) and its connection released.
    expect(reader.activeStreams).toBe(0)
    expect(seen).toBe(3 * 4096)
    // The thread still serves new streams afterwards.
    expect((await viaThread('SELECT 1.0::DOUBLE AS x', X, 10)).map((b) => b.length)).toEqual([1])
  })

  test('a throw in the consumer cancels the stream too', async () => {
    await expect(
      (async () => {
        for await (const _ of reader.stream(ENDLESS, X, 1000)) throw new Error('consumer failed')
      })(),
    ).rejects.toThrow('consumer failed')
    expect(reader.activeStreams).toBe(0)
  })

  test("DuckDB's error reaches the consumer with DuckDB's message", async () => {
    const sql = `SELECT CAST(CASE WHEN i < 5000 THEN CAST(i AS VARCHAR) ELSE 'x' || i END AS INTEGER)::DOUBLE AS x
                 FROM range(9000) r(i)`
    const inThreadError = await inThread(sql, X, 1000).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    const threadError = await viaThread(sql, X, 1000).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(inThreadError).toBeInstanceOf(Error)
    expect(threadError).toBeInstanceOf(Error)
    expect(threadError!.message).toBe(inThreadError!.message)
    expect(threadError!.message).toMatch(/Conversion Error/)
    expect(reader.activeStreams).toBe(0)
  })

  test('concurrent streams each get their own rows', async () => {
    const a = viaThread('SELECT CAST(i AS DOUBLE) AS x FROM range(20000) r(i)', X, 3000)
    const b = viaThread('SELECT CAST(-i AS DOUBLE) AS x FROM range(7000) r(i)', X, 3000, 1)
    const [ra, rb] = await Promise.all([a, b])
    const sum = (batches: Batch[]) => {
      let s = 0
      for (const batch of batches) {
        const x = batch.columns.get('x')!
        if (x.type !== 'string') for (const v of x.values) s += v
      }
      return s
    }
    expect(sum(ra)).toBe((19999 * 20000) / 2)
    expect(sum(rb)).toBe(-(6999 * 7000) / 2)
  })

  test('close() stops a running stream with SOURCE_READ_FAILED, ends the thread and refuses new streams', async () => {
    const own = WorkerReader.start()
    const stream = own.stream(ENDLESS, X, 1000)
    expect((await stream.next()).done).toBe(false)
    await own.close()
    expect(own.state).toBe('closed')
    await expect(stream.next()).rejects.toMatchObject({ code: 'SOURCE_READ_FAILED' })
    await expect(own.stream(ENDLESS, X, 1000).next()).rejects.toMatchObject({ code: 'SOURCE_READ_FAILED' })
    await own.close() // idempotent
  })

  test('a reader closed while it starts never becomes ready', async () => {
    const own = WorkerReader.start()
    await own.close()
    await expect(own.ready()).rejects.toMatchObject({ code: 'SOURCE_READ_FAILED' })
  })
})

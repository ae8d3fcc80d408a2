/**
 * The reader thread of a file source (`reader: 'worker'` / `'auto'`) against the in-thread reader: the same batches
 * bit for bit, the same errors, bounded passes that stop when left, and no thread left keeping a process alive.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { openDuckDb } from '../../infra/duckdb.js'
import type { Batch } from '../batch.js'
import { type FileSource, type FileSourceOptions, openFileSource } from './file-source.js'

let dir: string
let parquet: string
let csv: string

/** Every readable type, with nulls, NaN, long and non-ASCII strings, over several row groups. */
const ALL_TYPES = `SELECT
  CASE WHEN i % 5 = 0 THEN NULL WHEN i % 17 = 0 THEN 'NaN'::DOUBLE ELSE i * 1.25 END::DOUBLE AS f,
  CASE WHEN i % 6 = 0 THEN NULL ELSE i * 1000003 - 4000000000 END::BIGINT AS n,
  CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 = 0 END AS b,
  CASE WHEN i % 9 = 0 THEN NULL ELSE TIMESTAMP '2001-01-01 00:00:00.123' + INTERVAL (i * 7919) SECOND END AS ts,
  TIMESTAMPTZ '2020-06-01 12:00:00+02' + INTERVAL (i) MINUTE AS tz,
  DATE '1969-12-31' + CAST(i % 1000 AS INTEGER) AS d,
  CASE WHEN i % 7 = 0 THEN NULL WHEN i % 3 = 0 THEN 'a string longer than twelve bytes #' || (i % 101)
       ELSE 'é' || (i % 13) END AS s
FROM range(9001) r(i)`

async function write(file: string, select: string, options: string): Promise<string> {
  const path = join(dir, file)
  const db = await openDuckDb()
  try {
    await db.connection.run(`COPY (${select}) TO '${path}' (${options})`)
  } finally {
    await db.close()
  }
  return path
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scaleml-file-reader-'))
  parquet = await write('all.parquet', ALL_TYPES, 'FORMAT parquet, ROW_GROUP_SIZE 2048')
  csv = await write('all.csv', ALL_TYPES, 'FORMAT csv, HEADER true')
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

async function collect(batches: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = []
  for await (const batch of batches) out.push(batch)
  return out
}

/** Reads one pass of `options` with each reader and returns both. */
async function bothReaders(
  options: FileSourceOptions,
  pass: (source: FileSource) => AsyncIterable<Batch> = (s) => s,
): Promise<{ thread: Batch[]; worker: Batch[] }> {
  const read = async (reader: 'thread' | 'worker') => {
    const source = await openFileSource({ ...options, reader })
    try {
      expect(source.reader).toBe(reader)
      return await collect(pass(source))
    } finally {
      await source.close()
    }
  }
  return { thread: await read('thread'), worker: await read('worker') }
}

function bytes(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
}

/** Same lengths, column order, types, and the same bytes in every array (NaN payloads and -0 included). */
function expectSameBits(actual: Batch[], expected: Batch[]): void {
  expect(actual.map((b) => b.length)).toEqual(expected.map((b) => b.length))
  expected.forEach((want, k) => {
    const got = actual[k]!
    expect([...got.columns.keys()]).toEqual([...want.columns.keys()])
    for (const [name, column] of want.columns) {
      const other = got.columns.get(name)!
      expect(other.type).toBe(column.type)
      if (column.type === 'string' && other.type === 'string') {
        expect(bytes(other.codes)).toEqual(bytes(column.codes))
        expect(other.dictionary).toEqual(column.dictionary)
      } else if (column.type !== 'string' && other.type !== 'string') {
        expect(bytes(other.values)).toEqual(bytes(column.values))
        expect(other.nulls === undefined ? undefined : bytes(other.nulls)).toEqual(
          column.nulls === undefined ? undefined : bytes(column.nulls),
        )
      }
    }
  })
  expect(actual).toStrictEqual(expected)
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isScalemlError(error)) throw new Error(`expected a ScalemlError, got ${String(error)}`)
  return { code: error.code, message: error.message }
}

describe('file source reader thread', () => {
  test('yields the in-thread batches bit for bit: every type, nulls, NaN, -0, strings, computed, row index', async () => {
    const { thread, worker } = await bothReaders({
      path: parquet,
      batchSize: 2500,
      // Parquet's dictionary keeps one zero, so -0 comes from an expression.
      expressions: [{ name: 'signed', sql: `CASE WHEN f IS NULL THEN CAST('-0.0' AS DOUBLE) ELSE f * 2 END` }],
      rowIndexColumn: 'row',
    })
    expect(thread.map((b) => b.length)).toEqual([2500, 2500, 2500, 1501])
    expect([...thread[0]!.columns.keys()]).toEqual(['f', 'n', 'b', 'ts', 'tz', 'd', 's', 'signed', 'row'])
    // The fixture holds what a lax comparison would miss.
    const f = thread[0]!.columns.get('f')!
    const signed = thread[0]!.columns.get('signed')!
    expect(f.type !== 'string' && Number.isNaN(f.values[17]!) && f.nulls?.[5]).toBe(1)
    expect(signed.type !== 'string' && Object.is(signed.values[5], -0)).toBe(true)
    expectSameBits(worker, thread)
  })

  test('same bits for a segment, a filtered CSV and a source with no columns', async () => {
    const segment = await bothReaders({ path: parquet, batchSize: 1000, rowIndexColumn: 'row' }, (s) =>
      s.readSegment({ file: 0, start: 1500, end: 7001 }),
    )
    expect(segment.thread.reduce((n, b) => n + b.length, 0)).toBe(5501)
    expectSameBits(segment.worker, segment.thread)

    const filtered = await bothReaders({ path: csv, batchSize: 700, where: 'n > 0 OR s IS NULL' })
    expect(filtered.thread.length).toBeGreaterThan(3)
    expectSameBits(filtered.worker, filtered.thread)

    const empty = await bothReaders({ path: parquet, batchSize: 4000, columns: [] })
    expect(empty.thread.map((b) => [b.length, b.columns.size])).toEqual([
      [4000, 0],
      [4000, 0],
      [1001, 0],
    ])
    expectSameBits(empty.worker, empty.thread)
  })

  test("'auto' reads the first pass here; once a pass of workerAfterRows rows completed, the next use the thread", async () => {
    const source = await openFileSource({ path: parquet, batchSize: 1000, workerAfterRows: 3000 })
    try {
      expect(source.reader).toBe('thread')
      // A pass left early proves nothing about the source's size.
      for await (const _ of source) break
      expect(source.reader).toBe('thread')
      const first = await collect(source)
      expect(source.reader).toBe('worker')
      expectSameBits(await collect(source), first)
      expectSameBits(await collect(source), first)
    } finally {
      await source.close()
    }
  })

  test("'auto' keeps passes shorter than workerAfterRows on the calling thread", async () => {
    const source = await openFileSource({ path: parquet, batchSize: 1000, workerAfterRows: 9002 })
    try {
      await collect(source)
      await collect(source)
      expect(source.reader).toBe('thread')
    } finally {
      await source.close()
    }
  })

  test('a DuckDB error while reading is the same SOURCE_READ_FAILED with either reader', async () => {
    const bad = await write(
      'bad-cast.parquet',
      // Every bad row holds the same text: DuckDB scans row groups in parallel, so which one fails first varies.
      `SELECT CASE WHEN i < 5000 THEN CAST(i AS VARCHAR) ELSE 'bad' END AS s FROM range(9000) r(i)`,
      'FORMAT parquet, ROW_GROUP_SIZE 2048',
    )
    const errors = await Promise.all(
      (['thread', 'worker'] as const).map(async (reader) => {
        const source = await openFileSource({
          path: bad,
          batchSize: 1000,
          reader,
          expressions: [{ name: 'v', sql: 'CAST(s AS INTEGER)' }],
        })
        try {
          return await failure(collect(source))
        } finally {
          await source.close()
        }
      }),
    )
    expect(errors[0]!.code).toBe('SOURCE_READ_FAILED')
    expect(errors[0]!.message).toMatch(/^cannot read '.*bad-cast\.parquet': Conversion Error/)
    expect(errors[1]).toEqual(errors[0])
  })

  test('a file truncated after the source opened fails the same way with either reader', async () => {
    const errors: { code: string; message: string }[] = []
    for (const reader of ['thread', 'worker'] as const) {
      const path = await write(`truncated-${reader}.parquet`, ALL_TYPES, 'FORMAT parquet')
      const source = await openFileSource({ path, batchSize: 1000, reader })
      try {
        truncateSync(path, 100)
        errors.push(await failure(collect(source)))
      } finally {
        await source.close()
      }
    }
    expect(errors[0]!.code).toBe('SOURCE_READ_FAILED')
    expect(errors[1]!.message).toBe(errors[0]!.message.replaceAll('truncated-thread', 'truncated-worker'))
  })

  test('a pass left early stops and the next pass starts over; close() during a pass ends it', async () => {
    const source = await openFileSource({ path: parquet, batchSize: 500, reader: 'worker', rowIndexColumn: 'row' })
    try {
      for await (const _ of source) break
      const again = await collect(source)
      expect(again.reduce((n, b) => n + b.length, 0)).toBe(9001)
      const row = again[0]!.columns.get('row')!
      expect(row.type !== 'string' && row.values[0]).toBe(0)

      const pass = source[Symbol.asyncIterator]()
      expect((await pass.next()).done).toBe(false)
      await source.close()
      expect(await failure(pass.next())).toEqual({
        code: 'SOURCE_READ_FAILED',
        message: `cannot read '${parquet}': source is closed`,
      })
    } finally {
      await source.close()
    }
  })

  test('a source left open with a pass abandoned mid-way does not keep the process alive', async () => {
    const helper = fileURLToPath(new URL('./test-helpers/leave-source-open.ts', import.meta.url))
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', helper, parquet], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString()
      })
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
      })
      // A process kept alive by its reader thread never exits: kill it so that the test fails instead of hanging.
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
    expect(run.stderr).toBe('')
    expect(run.stdout).toBe('first pass: 1000 rows via worker\nabandoned pass: 1000 rows\n')
    expect(run.code).toBe(0)
  }, 90_000)

  test('reader options are checked', async () => {
    const bad = async (options: Partial<FileSourceOptions>) =>
      failure(openFileSource({ path: parquet, ...options } as FileSourceOptions))
    expect(await bad({ reader: 'fast' as never })).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect((await bad({ readAhead: 0 })).message).toMatch(/readAhead must be an integer in \[1, 64\], got 0/)
    expect((await bad({ workerAfterRows: -1 })).message).toMatch(/workerAfterRows must be a non-negative integer/)
  })
})

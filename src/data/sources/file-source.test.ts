import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBTypeId } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { openDuckDb } from '../../infra/duckdb.js'
import { writeSyntheticFlights } from '../../testing/synthetic-flights.js'
import { type Batch, valueAt } from '../batch.js'
import type { Source } from '../source.js'
import { probeFastPath } from './chunk-reader.js'
import { columnTypeOf } from './duckdb-sql.js'
import { describeFile, type FileSourceOptions, openFileSource } from './file-source.js'

const FLIGHTS = 'node_modules/vega-datasets/data/flights-3m.parquet'
let dir: string

/** Writes the rows of `select` to `file` in `dir` with DuckDB's COPY. */
async function writeFile(file: string, select: string, options = ''): Promise<string> {
  const path = join(dir, file)
  const db = await openDuckDb()
  try {
    const format = file.includes('.parquet') ? 'FORMAT parquet' : 'FORMAT csv, HEADER true'
    const extra = file.includes('.tsv') ? ", DELIMITER '\t'" : ''
    await db.connection.run(`COPY (${select}) TO '${path}' (${format}${extra}${options})`)
  } finally {
    await db.close()
  }
  return path
}

async function batches(source: Source): Promise<Batch[]> {
  const out: Batch[] = []
  for await (const batch of source) out.push(batch)
  return out
}

async function rowsOf(source: Source): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = []
  for (const batch of await batches(source)) {
    for (let i = 0; i < batch.length; i++) {
      const row: Record<string, unknown> = {}
      for (const [name, column] of batch.columns) row[name] = valueAt(column, i)
      out.push(row)
    }
  }
  return out
}

async function readRows(options: FileSourceOptions): Promise<Record<string, unknown>[]> {
  const source = await openFileSource(options)
  try {
    return await rowsOf(source)
  } finally {
    await source.close()
  }
}

async function openError(options: FileSourceOptions): Promise<ScalemlError> {
  const error = await openFileSource(options).then(
    async (s) => {
      await s.close()
      return undefined
    },
    (e: unknown) => e,
  )
  if (!isScalemlError(error)) throw new Error(`expected a ScalemlError, got ${String(error)}`)
  return error
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scaleml-file-source-'))
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('type mapping', () => {
  test('our type ids match the DuckDB enum', () => {
    expect(columnTypeOf(DuckDBTypeId.BOOLEAN)).toBe('bool')
    for (const id of [
      DuckDBTypeId.TINYINT,
      DuckDBTypeId.SMALLINT,
      DuckDBTypeId.INTEGER,
      DuckDBTypeId.BIGINT,
      DuckDBTypeId.UTINYINT,
      DuckDBTypeId.USMALLINT,
      DuckDBTypeId.UINTEGER,
      DuckDBTypeId.UBIGINT,
      DuckDBTypeId.HUGEINT,
      DuckDBTypeId.UHUGEINT,
    ]) {
      expect(columnTypeOf(id)).toBe('int')
    }
    for (const id of [DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL])
      expect(columnTypeOf(id)).toBe('float')
    for (const id of [
      DuckDBTypeId.TIMESTAMP,
      DuckDBTypeId.DATE,
      DuckDBTypeId.TIMESTAMP_S,
      DuckDBTypeId.TIMESTAMP_MS,
      DuckDBTypeId.TIMESTAMP_NS,
      DuckDBTypeId.TIMESTAMP_TZ,
    ]) {
      expect(columnTypeOf(id)).toBe('timestamp')
    }
    for (const id of [DuckDBTypeId.VARCHAR, DuckDBTypeId.ENUM, DuckDBTypeId.UUID])
      expect(columnTypeOf(id)).toBe('string')
    for (const id of [DuckDBTypeId.LIST, DuckDBTypeId.BLOB, DuckDBTypeId.TIME, DuckDBTypeId.INTERVAL]) {
      expect(columnTypeOf(id)).toBeUndefined()
    }
  })

  test('the fast vector paths apply with the installed @duckdb/node-api', async () => {
    const db = await openDuckDb()
    try {
      expect(await probeFastPath(db.connection)).toEqual({ doubles: true, validity: true, strings: true })
    } finally {
      await db.close()
    }
  })

  test('timestamps are epoch ms read as UTC, for every date/time type', async () => {
    const path = await writeFile(
      'times.parquet',
      `SELECT TIMESTAMP '2001-01-01 00:01:00' AS ts, DATE '2001-06-13' AS d,
              TIMESTAMPTZ '2001-01-01 00:00:00+02' AS tz, TIMESTAMP_NS '2001-06-13 01:02:03.456789' AS ns,
              TIMESTAMP_S '1969-07-20 20:17:40' AS s, TIMESTAMP_MS '2038-01-19 03:14:08.5' AS ms`,
    )
    const source = await openFileSource({ path })
    try {
      expect((await source.schema()).fields.map((f) => f.type)).toEqual(Array(6).fill('timestamp'))
      expect(await rowsOf(source)).toEqual([
        {
          ts: Date.UTC(2001, 0, 1, 0, 1),
          d: Date.UTC(2001, 5, 13),
          tz: Date.UTC(2000, 11, 31, 22),
          ns: Date.UTC(2001, 5, 13, 1, 2, 3, 456),
          s: Date.UTC(1969, 6, 20, 20, 17, 40),
          ms: Date.UTC(2038, 0, 19, 3, 14, 8, 500),
        },
      ])
    } finally {
      await source.close()
    }
    const csv = await writeFile('times.csv', `SELECT TIMESTAMP '2001-01-01 00:01:00' AS ts, DATE '2001-06-13' AS d`)
    expect(await readRows({ path: csv })).toEqual([{ ts: Date.UTC(2001, 0, 1, 0, 1), d: Date.UTC(2001, 5, 13) }])
  })

  test('the first rows of flights-3m', async () => {
    const source = await openFileSource({ path: FLIGHTS, batchSize: 3 })
    try {
      const first = (await source[Symbol.asyncIterator]().next()).value as Batch
      const schema = await source.schema()
      expect(schema.fields.map((f) => [f.name, f.type])).toEqual([
        ['date', 'timestamp'],
        ['delay', 'int'],
        ['distance', 'int'],
        ['origin', 'string'],
        ['destination', 'string'],
      ])
      expect(first.length).toBe(3)
      expect(valueAt(first.columns.get('date')!, 0)).toBe(Date.UTC(2001, 0, 1, 0, 1))
      expect(valueAt(first.columns.get('delay')!, 0)).toBe(33)
      expect(valueAt(first.columns.get('distance')!, 1)).toBe(215)
      expect(valueAt(first.columns.get('origin')!, 0)).toBe('LAS')
      expect(valueAt(first.columns.get('destination')!, 2)).toBe('MDW')
    } finally {
      await source.close()
    }
  })
})

describe('values and nulls', () => {
  test('nulls in every type: mask and NaN for numbers, code -1 for strings; no mask when a batch has none', async () => {
    const path = await writeFile(
      'nulls.parquet',
      `SELECT i,
              CASE WHEN i % 3 = 1 THEN NULL ELSE i * 10 END AS n,
              CASE WHEN i % 3 = 1 THEN NULL ELSE i / 4 END AS f,
              CASE WHEN i % 3 = 1 THEN NULL ELSE i % 2 = 0 END AS b,
              CASE WHEN i % 3 = 1 THEN NULL ELSE TIMESTAMP '2020-01-01' + to_seconds(i) END AS t,
              CASE WHEN i % 3 = 1 THEN NULL ELSE 'v' || i END AS s
       FROM range(7) r(i)`,
    )
    const source = await openFileSource({ path, batchSize: 1 })
    try {
      const all = await batches(source)
      expect(all.map((b) => b.length)).toEqual([1, 1, 1, 1, 1, 1, 1])
      for (const [i, batch] of all.entries()) {
        const isNull = i % 3 === 1
        for (const name of ['n', 'f', 'b', 't']) {
          const column = batch.columns.get(name)!
          if (column.type === 'string') throw new Error('numeric expected')
          if (isNull) {
            expect(column.nulls?.[0]).toBe(1)
            expect(column.values[0]).toBeNaN()
          } else {
            expect(column.nulls).toBeUndefined()
          }
        }
        const s = batch.columns.get('s')!
        if (s.type !== 'string') throw new Error('string expected')
        expect(s.codes[0]).toBe(isNull ? -1 : 0)
        expect(s.dictionary).toEqual(isNull ? [] : [`v${i}`])
        if (!isNull) {
          expect(valueAt(batch.columns.get('n')!, 0)).toBe(i * 10)
          expect(valueAt(batch.columns.get('f')!, 0)).toBe(i / 4)
          expect(valueAt(batch.columns.get('b')!, 0)).toBe(i % 2 === 0)
          expect(valueAt(batch.columns.get('t')!, 0)).toBe(Date.UTC(2020, 0, 1) + i * 1000)
        }
      }
      const one = await readRows({ path, batchSize: 100 })
      expect(one.filter((r) => r['n'] === null).map((r) => r['i'])).toEqual([1, 4])
      expect(one.filter((r) => r['s'] === null).map((r) => r['i'])).toEqual([1, 4])
    } finally {
      await source.close()
    }
  })

  test('nulls straddling DuckDB chunks and batch boundaries land on the right rows', async () => {
    const path = await writeFile(
      'sparse-nulls.parquet',
      `SELECT i, CASE WHEN i % 97 = 0 THEN NULL ELSE i END AS n, CASE WHEN i % 89 = 0 THEN NULL ELSE 'k' || (i % 5) END AS s
       FROM range(10000) r(i)`,
    )
    const rows = await readRows({ path, batchSize: 3001 })
    expect(rows).toHaveLength(10000)
    for (const row of rows) {
      const i = row['i'] as number
      expect(row['n']).toBe(i % 97 === 0 ? null : i)
      expect(row['s']).toBe(i % 89 === 0 ? null : `k${i % 5}`)
    }
  })

  test('strings: empty, exactly 12 and 13 bytes, multi-byte UTF-8, long, and repeats share a code', async () => {
    const values = [
      '',
      'abcdefghijkl',
      'abcdefghijklm',
      'Zürich',
      '東京都',
      'naïve café 🚀 rocket',
      'a-very-long-category-name-well-past-twelve-bytes',
      'abc',
    ]
    const literal = values.map((v) => `'${v}'`).join(', ')
    const path = await writeFile(
      'strings.parquet',
      `SELECT i, CASE WHEN i = 5 THEN NULL ELSE [${literal}][i % ${values.length} + 1] END AS s FROM range(40) r(i)`,
    )
    const source = await openFileSource({ path, batchSize: 40 })
    try {
      const [batch] = await batches(source)
      const s = batch!.columns.get('s')!
      if (s.type !== 'string') throw new Error('string expected')
      for (let i = 0; i < 40; i++) expect(valueAt(s, i)).toBe(i === 5 ? null : values[i % values.length])
      expect([...s.dictionary].sort()).toEqual([...values].sort())
      expect(s.codes[0]).toBe(s.codes[values.length]) // '' repeats with the same code
      expect(s.codes[6]).toBe(s.codes[6 + values.length]) // long strings too
    } finally {
      await source.close()
    }
  })

  test('high-cardinality strings grow the dictionary table correctly', async () => {
    const path = await writeFile('ids.parquet', `SELECT 'id' || (i * 7 % 5003) AS s FROM range(20000) r(i)`)
    const rows = await readRows({ path, batchSize: 20000 })
    for (let i = 0; i < rows.length; i++) expect(rows[i]!['s']).toBe(`id${(i * 7) % 5003}`)
    const source = await openFileSource({ path, batchSize: 20000 })
    try {
      const [batch] = await batches(source)
      const s = batch!.columns.get('s')!
      expect(s.type === 'string' && s.dictionary.length).toBe(5003)
    } finally {
      await source.close()
    }
  })
})

describe('shape of the stream', () => {
  test('projection keeps the requested order; computed columns follow or take their listed place', async () => {
    const path = await writeFile('proj.parquet', `SELECT i AS a, i * 2 AS b, 'x' || i AS c FROM range(5) r(i)`)
    const source = await openFileSource({
      path,
      columns: ['c', 'a'],
      expressions: [
        { name: 'big', sql: 'b > 4' },
        { name: 'sum', sql: 'a + b' },
      ],
    })
    try {
      expect((await source.schema()).fields.map((f) => [f.name, f.type])).toEqual([
        ['c', 'string'],
        ['a', 'int'],
        ['big', 'bool'],
        ['sum', 'int'],
      ])
      const [batch] = await batches(source)
      expect([...batch!.columns.keys()]).toEqual(['c', 'a', 'big', 'sum'])
      expect(valueAt(batch!.columns.get('big')!, 3)).toBe(true)
      expect(valueAt(batch!.columns.get('sum')!, 4)).toBe(12)
    } finally {
      await source.close()
    }
    const placed = await openFileSource({
      path,
      columns: ['target', 'a'],
      expressions: [{ name: 'target', sql: 'b > 4' }],
    })
    expect((await placed.schema()).fields.map((f) => f.name)).toEqual(['target', 'a'])
    await placed.close()
  })

  test('batches have batchSize rows and a shorter last one; rows stay in file order across chunks', async () => {
    const path = await writeFile('seq.parquet', `SELECT i FROM range(10000) r(i)`)
    for (const batchSize of [4096, 1000, 2048, 10000, 65536]) {
      const source = await openFileSource({ path, batchSize })
      try {
        const all = await batches(source)
        const expected: number[] = []
        for (let left = 10000; left > 0; left -= batchSize) expected.push(Math.min(batchSize, left))
        expect(all.map((b) => b.length)).toEqual(expected)
        let next = 0
        for (const batch of all) {
          const column = batch.columns.get('i')!
          if (column.type === 'string') throw new Error('numeric expected')
          expect(column.values.length).toBe(batch.length)
          for (let k = 0; k < batch.length; k++) expect(column.values[k]).toBe(next++)
        }
      } finally {
        await source.close()
      }
    }
  })

  test('a glob reads every matching file, in name order', async () => {
    await writeFile('part-2.parquet', `SELECT i + 100 AS i, 'second' AS f FROM range(3) r(i)`)
    await writeFile('part-1.parquet', `SELECT i, 'first' AS f FROM range(3) r(i)`)
    const source = await openFileSource({ path: join(dir, 'part-*.parquet') })
    try {
      expect(source.files.map((f) => f.slice(dir.length + 1))).toEqual(['part-1.parquet', 'part-2.parquet'])
      expect((await rowsOf(source)).map((r) => r['i'])).toEqual([0, 1, 2, 100, 101, 102])
    } finally {
      await source.close()
    }
  })

  test('CSV, gzipped TSV and Parquet of the same data give equal batches', async () => {
    const select = `SELECT TIMESTAMP '2001-01-01' + to_seconds(i * 3600) AS t, i AS n, i / 8 AS x, i % 3 = 0 AS b,
                           CASE WHEN i % 4 = 0 THEN NULL ELSE 'cat' || (i % 5) END AS s,
                           CASE WHEN i % 6 = 0 THEN NULL ELSE i END AS m
                    FROM range(3000) r(i)`
    const parquet = await writeFile('same.parquet', select)
    const csv = await writeFile('same.csv', select)
    const tsv = await writeFile('same.tsv.gz', select, ", COMPRESSION 'gzip'")
    const read = async (path: string) => {
      const source = await openFileSource({ path, batchSize: 1000 })
      try {
        return { schema: await source.schema(), batches: await batches(source) }
      } finally {
        await source.close()
      }
    }
    const fromParquet = await read(parquet)
    expect(fromParquet.batches).toHaveLength(3)
    expect(await read(csv)).toEqual(fromParquet)
    expect(await read(tsv)).toEqual(fromParquet)
  })

  test('iterating twice reads the data twice, and two passes may run at once', async () => {
    const path = await writeFile('twice.parquet', `SELECT i, 's' || (i % 7) AS s FROM range(5000) r(i)`)
    const source = await openFileSource({ path, batchSize: 700 })
    try {
      const first = await batches(source)
      const second = await batches(source)
      expect(second).toEqual(first)
      const [a, b] = await Promise.all([batches(source), batches(source)])
      expect(a).toEqual(first)
      expect(b).toEqual(first)
      // Leaving a pass early releases its connection; the next pass starts from the beginning.
      for await (const batch of source) {
        expect(batch.length).toBe(700)
        break
      }
      expect(await batches(source)).toEqual(first)
    } finally {
      await source.close()
    }
  })

  test('where filters rows; an empty projection still counts rows', async () => {
    const path = await writeFile('where.parquet', `SELECT i, i % 10 AS d FROM range(1000) r(i)`)
    const rows = await readRows({ path, where: 'd = 3 AND i < 500' })
    expect(rows.map((r) => r['i'])).toEqual(Array.from({ length: 50 }, (_, k) => k * 10 + 3))
    const source = await openFileSource({ path, columns: [], batchSize: 300 })
    try {
      const all = await batches(source)
      expect(all.map((b) => b.length)).toEqual([300, 300, 300, 100])
      expect(all.every((b) => b.columns.size === 0)).toBe(true)
      expect((await source.schema()).fields).toEqual([])
    } finally {
      await source.close()
    }
  })

  test('schema() and describeFile come from metadata; unreadable columns are skipped and reported', async () => {
    const path = await writeFile(
      'odd.parquet',
      `SELECT i, [i, i] AS l, 'x'::BLOB AS blob, 'y' AS s FROM range(25) r(i)`,
    )
    const described = await describeFile(path)
    expect(described.rows).toBe(25)
    expect(described.schema.fields.map((f) => f.name)).toEqual(['i', 's'])
    expect(described.skippedColumns).toEqual([
      { name: 'l', duckdbType: 'BIGINT[]' },
      { name: 'blob', duckdbType: 'BLOB' },
    ])
    const csv = await writeFile('count.csv', `SELECT i FROM range(1234) r(i)`)
    expect((await describeFile(csv)).rows).toBe(1234)
    const error = await openError({ path, columns: ['l'] })
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(/column 'l' .* has type BIGINT\[\]/)
  })

  test('close is idempotent; reading a closed source fails clearly, also mid-pass', async () => {
    const path = await writeFile('closed.parquet', `SELECT i FROM range(5000) r(i)`)
    const midway = await openFileSource({ path, batchSize: 1000 })
    const pass = midway[Symbol.asyncIterator]()
    expect((await pass.next()).value.length).toBe(1000)
    await midway.close()
    await expect(pass.next()).rejects.toMatchObject({ code: 'SOURCE_READ_FAILED' })
    const source = await openFileSource({ path })
    await source.close()
    await source.close()
    const error = await batches(source).catch((e: unknown) => e)
    expect(isScalemlError(error, 'SOURCE_READ_FAILED')).toBe(true)
    expect((error as Error).message).toMatch(/closed/)
  })
})

describe('errors', () => {
  test('SOURCE_NOT_FOUND names the path or glob', async () => {
    const missing = join(dir, 'nope.parquet')
    const error = await openError({ path: missing })
    expect(error.code).toBe('SOURCE_NOT_FOUND')
    expect(error.message).toContain(missing)
    const glob = join(dir, 'none-*.csv')
    const globError = await openError({ path: glob })
    expect(globError.code).toBe('SOURCE_NOT_FOUND')
    expect(globError.message).toContain(glob)
    await expect(describeFile(missing)).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' })
  })

  test('UNKNOWN_COLUMN names the column and lists the available ones', async () => {
    const path = await writeFile('cols.parquet', `SELECT 1 AS alpha, 2 AS beta`)
    const error = await openError({ path, columns: ['alpha', 'gamma'] })
    expect(error.code).toBe('UNKNOWN_COLUMN')
    expect(error.message).toContain("'gamma'")
    expect(error.message).toContain('available columns: alpha, beta')
    expect(error.issues[0]?.path).toEqual(['columns', 1])
  })

  test('INVALID_EXPRESSION names the expression and quotes DuckDB briefly', async () => {
    const path = await writeFile('expr.parquet', `SELECT 1 AS delay, 2 AS distance`)
    const unknown = await openError({ path, expressions: [{ name: '__target', sql: 'dealy > 15' }] })
    expect(unknown.code).toBe('INVALID_EXPRESSION')
    expect(unknown.message).toContain("'__target'")
    expect(unknown.message).toContain('dealy > 15')
    expect(unknown.message).toMatch(/Referenced column "dealy" not found/)
    expect(unknown.message).not.toMatch(/LINE 1|\n|at .*\.js/)
    const syntax = await openError({ path, expressions: [{ name: 'bad', sql: 'delay >' }] })
    expect(syntax.code).toBe('INVALID_EXPRESSION')
    expect(syntax.message).toMatch(/syntax error/)
    const aggregate = await openError({ path, expressions: [{ name: 'avg', sql: 'avg(delay)' }] })
    expect(aggregate.code).toBe('INVALID_EXPRESSION')
    expect(aggregate.message).toMatch(/'avg'.*aggregates and window functions are not allowed/)
    const injected = await openError({ path, expressions: [{ name: 'x', sql: '1); DROP TABLE t; SELECT (1' }] })
    expect(injected.code).toBe('INVALID_EXPRESSION')
    const where = await openError({ path, where: 'distnce < 3' })
    expect(where.code).toBe('INVALID_EXPRESSION')
    expect(where.message).toMatch(/where clause \(distnce < 3\) is invalid: .*"distnce" not found/)
  })

  test('INVALID_ARGUMENT for an unsupported extension and bad options', async () => {
    const json = await openError({ path: join(dir, 'data.json') })
    expect(json.code).toBe('INVALID_ARGUMENT')
    expect(json.message).toMatch(/data\.json.*unsupported file extension.*\.parquet, \.csv, \.tsv/)
    const path = await writeFile('opts.parquet', `SELECT 1 AS a`)
    expect((await openError({ path, batchSize: 0 })).message).toMatch(/batchSize must be an integer/)
    expect((await openError({ path, columns: ['a', 'a'] })).message).toMatch(/'a' is listed twice/)
    const clash = await openError({ path, expressions: [{ name: 'a', sql: '1' }] })
    expect(clash.code).toBe('INVALID_ARGUMENT')
    expect(clash.message).toMatch(/'a' is already a column/)
  })

  test('a value DuckDB cannot convert while reading is SOURCE_READ_FAILED with the reason', async () => {
    const path = await writeFile('conv.parquet', `SELECT 'x' || i AS s FROM range(3) r(i)`)
    const source = await openFileSource({ path, expressions: [{ name: 'n', sql: 'CAST(s AS INTEGER)' }] })
    try {
      const error = await batches(source).catch((e: unknown) => e)
      expect(isScalemlError(error, 'SOURCE_READ_FAILED')).toBe(true)
      expect((error as Error).message).toMatch(/conv\.parquet.*Could not convert string 'x0'/)
    } finally {
      await source.close()
    }
  })
})

describe('throughput', () => {
  test('reads flights-3m (5 columns) and synthetic flights; prints rows/s (not asserted)', async () => {
    const columns = ['date', 'delay', 'distance', 'origin', 'destination']
    const measure = async (path: string) => {
      const source = await openFileSource({ path, columns })
      try {
        const seconds: number[] = []
        let rows = 0
        // Two passes: the first includes JIT warm-up and a cold page cache, the second is the steady state.
        for (let pass = 0; pass < 2; pass++) {
          const start = performance.now()
          rows = 0
          for await (const batch of source) rows += batch.length
          seconds.push((performance.now() - start) / 1000)
        }
        return { rows, rate: seconds.map((s) => `${(rows / s / 1e6).toFixed(2)}M`).join(' then ') }
      } finally {
        await source.close()
      }
    }
    const flights = await measure(FLIGHTS)
    expect(flights.rows).toBe(3_000_000)
    const synthetic = join(dir, 'synthetic.parquet')
    await writeSyntheticFlights(synthetic, { rows: 1_000_000, seed: 3 })
    const generated = await measure(synthetic)
    expect(generated.rows).toBe(1_000_000)
    console.log(`file source rows/s: flights-3m ${flights.rate}; synthetic 1M ${generated.rate}`)
  })
})

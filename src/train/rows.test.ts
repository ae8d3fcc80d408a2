import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Batch, NumericColumn } from '../data/batch.js'
import { type FileSegment, type FileSource, openFileSource } from '../data/sources/file-source.js'
import { openDuckDb } from '../infra/duckdb.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { type EpochPlan, epochBatches, ROW_INDEX_COLUMN, type RowFilter, scanRows, type TrainingRows } from './rows.js'
import type { ShuffleMode } from './shuffle.js'

const ROWS = 5_000
const BATCH = 256
let tmp: TempHome
let parquet: string
let csv: string

beforeAll(async () => {
  tmp = await createTempHome('train-rows')
  parquet = join(tmp.path, 'rows.parquet')
  csv = join(tmp.path, 'rows.csv')
  const db = await openDuckDb()
  try {
    // v is the row's index; every 10th target is null (dropped on reading); s exercises dictionary merging.
    const select = `SELECT i AS v, CASE WHEN i % 10 = 9 THEN NULL ELSE i % 2 = 0 END AS t, 'k' || (i % 13) AS s FROM range(${ROWS}) r(i)`
    await db.connection.run(`COPY (${select}) TO '${parquet}' (FORMAT parquet, ROW_GROUP_SIZE 1024)`)
    await db.connection.run(`COPY (${select}) TO '${csv}' (FORMAT csv, HEADER true)`)
  } finally {
    await db.close()
  }
})

afterAll(async () => {
  await tmp?.remove()
})

async function open(path: string, indexed = true): Promise<FileSource> {
  return openFileSource({ path, batchSize: BATCH, ...(indexed ? { rowIndexColumn: ROW_INDEX_COLUMN } : {}) })
}

function values(batch: Batch, name: string): number[] {
  const column = batch.columns.get(name) as NumericColumn
  return Array.from(column.values.subarray(0, batch.length))
}

function plan(mode: ShuffleMode, epoch: number, extra: Partial<EpochPlan> = {}): EpochPlan {
  return { mode, seed: 11, epoch, segmentRows: 500, shuffleWindow: 3, ...extra }
}

/** Every (block, index, v values) of an epoch. */
async function epoch(data: TrainingRows, p: EpochPlan, keep?: RowFilter) {
  const out: { block: number; index: number; v: number[] }[] = []
  for await (const planned of epochBatches(data, keep, p)) {
    expect(planned.batch.length).toBeLessThanOrEqual(BATCH)
    expect(values(planned.batch, 'v')).toEqual(values(planned.batch, ROW_INDEX_COLUMN))
    out.push({ block: planned.block, index: planned.index, v: values(planned.batch, 'v') })
  }
  return out
}

const labelled = Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % 10 !== 9)

describe('epochBatches', () => {
  for (const mode of ['segments', 'window', 'none'] as const) {
    it(`${mode}: each labelled row once per epoch; reruns identical; epochs and seeds differ (none: file order)`, async () => {
      const source = await open(parquet)
      try {
        const data: TrainingRows = { source, indexed: true, targetColumn: 't', batchSize: BATCH }
        const first = await epoch(data, plan(mode, 1))
        const rows = first.flatMap((b) => b.v)
        expect([...rows].sort((a, b) => a - b)).toEqual(labelled)
        expect(await epoch(data, plan(mode, 1))).toEqual(first)
        const second = (await epoch(data, plan(mode, 2))).flatMap((b) => b.v)
        const otherSeed = (await epoch(data, plan(mode, 1, { seed: 12 }))).flatMap((b) => b.v)
        if (mode === 'none') {
          expect(rows).toEqual(labelled)
          expect(second).toEqual(rows)
        } else {
          expect(rows).not.toEqual(labelled)
          expect(second).not.toEqual(rows)
          expect(otherSeed).not.toEqual(rows)
          expect([...second].sort((a, b) => a - b)).toEqual(labelled)
        }
      } finally {
        await source.close()
      }
    })

    it(`${mode}: starting from any (block, batch) yields exactly the rest of the epoch`, async () => {
      const source = await open(parquet)
      try {
        const data: TrainingRows = { source, indexed: true, targetColumn: 't', batchSize: BATCH }
        const full = await epoch(data, plan(mode, 3))
        for (const k of [0, 1, Math.floor(full.length / 2), full.length - 1]) {
          const at = full[k]!
          const rest = await epoch(data, plan(mode, 3, { from: { block: at.block, batch: at.index } }))
          expect(rest).toEqual(full.slice(k))
        }
        // A position just past a block's last batch continues with the next block.
        const last = full.findIndex((b, i) => full[i + 1]?.block !== b.block)
        const after = await epoch(
          data,
          plan(mode, 3, { from: { block: full[last]!.block, batch: full[last]!.index + 1 } }),
        )
        expect(after).toEqual(full.slice(last + 1))
      } finally {
        await source.close()
      }
    })
  }

  it('holds at most one block: rows read but not yet yielded stay within shuffleWindow segments', async () => {
    const source = await open(parquet)
    let read = 0
    // Counts the rows the reader pulls from the file, to compare with what it has handed out.
    const counting: FileSource = Object.assign(Object.create(source) as FileSource, {
      async *readSegment(segment: FileSegment) {
        for await (const batch of source.readSegment(segment)) {
          read += batch.length
          yield batch
        }
      },
      async *[Symbol.asyncIterator]() {
        for await (const batch of source) {
          read += batch.length
          yield batch
        }
      },
      fileRowCounts: () => source.fileRowCounts(),
    })
    try {
      for (const mode of ['segments', 'window'] as const) {
        read = 0
        let yielded = 0
        let maxHeld = 0
        // Target 'v' is never null, so every row read is eventually yielded.
        const data: TrainingRows = { source: counting, indexed: true, targetColumn: 'v', batchSize: BATCH }
        const p = plan(mode, 1)
        for await (const planned of epochBatches(data, undefined, p)) {
          maxHeld = Math.max(maxHeld, read - yielded)
          yielded += planned.batch.length
        }
        expect(read).toBe(ROWS)
        expect(yielded).toBe(ROWS)
        const bound = mode === 'segments' ? p.shuffleWindow * p.segmentRows : p.shuffleWindow * BATCH
        expect(maxHeld).toBeGreaterThan(0)
        expect(maxHeld).toBeLessThanOrEqual(bound)
        expect(maxHeld).toBeLessThan(ROWS / 2)
      }
    } finally {
      await source.close()
    }
  })

  it('row filters select by row index whatever the order (a split is the same rows in every mode)', async () => {
    const source = await open(parquet)
    try {
      const data: TrainingRows = { source, indexed: true, targetColumn: 't', batchSize: BATCH }
      const keep: RowFilter = (i) => i % 3 === 0
      const expected = labelled.filter((i) => i % 3 === 0)
      for (const mode of ['segments', 'window', 'none'] as const) {
        const rows = (await epoch(data, plan(mode, 1), keep)).flatMap((b) => b.v)
        expect([...rows].sort((a, b) => a - b)).toEqual(expected)
      }
      const scanned: number[] = []
      for await (const batch of scanRows(data, keep)) scanned.push(...values(batch, 'v'))
      expect(scanned).toEqual(expected)
    } finally {
      await source.close()
    }
  })

  it('CSV: rows are numbered as read and segments fall back to permuting each batch', async () => {
    const source = await open(csv, false)
    try {
      const data: TrainingRows = { source, indexed: false, targetColumn: 't', batchSize: BATCH }
      const batches = await epoch(data, plan('segments', 1))
      expect(batches.flatMap((b) => b.v).sort((a, b) => a - b)).toEqual(labelled)
      // Each batch holds the rows of one file batch (a contiguous range), permuted.
      for (const b of batches) {
        const sorted = [...b.v].sort((x, y) => x - y)
        expect(Math.floor(sorted[0]! / BATCH)).toBe(Math.floor(sorted.at(-1)! / BATCH))
      }
      expect(batches.some((b) => b.v.some((v, i) => i > 0 && v < b.v[i - 1]!))).toBe(true)
    } finally {
      await source.close()
    }
  })
})

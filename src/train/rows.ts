/**
 * Reading the rows of a training job, epoch by epoch, in the order the shuffle mode asks for, with every row
 * numbered by its index in the data so that holdout and validation splits select the same rows in any order.
 *
 * An epoch is a sequence of blocks (a batch, a window of consecutive batches, or a window of segments taken in the
 * epoch's random order, by mode); a block's rows are permuted by a generator derived from `(seed, epoch, block)` and
 * cut into batches. A position `(block, batch)` therefore names a point of an epoch that a resumed run can return
 * to by re-reading one block. Memory is one block of raw columns: `shuffleWindow` batches or segments.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Batch, Column, NumericColumn } from '../data/batch.js'
import { sliceBatch, takeRows } from '../data/batch.js'
import type { FileSource } from '../data/sources/file-source.js'
import { concatBatches, permuteBlock, type ShuffleMode, segmentOrder } from './shuffle.js'

/** Column of every batch read here holding each row's index in the data (0-based). */
export const ROW_INDEX_COLUMN = '__row_index'

/** Chooses rows by their index in the data (a holdout or validation split). */
export type RowFilter = (rowIndex: number) => boolean

/** The data of a training job. */
export interface TrainingRows {
  readonly source: FileSource
  /**
   * True when the source numbers its rows itself (`rowIndexColumn`, Parquet: the index counts every row of the
   * files, before any `where`). False for CSV: rows are numbered in the order the query yields them (after
   * `where`), which is the same on every pass.
   */
  readonly indexed: boolean
  /** The target column; rows whose target is null or NaN are dropped on reading. */
  readonly targetColumn: string
  readonly batchSize: number
}

/** How one epoch is read. */
export interface EpochPlan {
  readonly mode: ShuffleMode
  readonly seed: number
  /** 1-based. */
  readonly epoch: number
  /** Rows per segment ('segments' on Parquet). */
  readonly segmentRows: number
  /** Batches ('window') or segments ('segments') whose rows are permuted together: the rows of one block. */
  readonly shuffleWindow: number
  /** Start here instead of the beginning (a resumed run). */
  readonly from?: { readonly block: number; readonly batch: number }
}

/** A training batch and where it sits in its epoch. */
export interface PlannedBatch {
  readonly batch: Batch
  readonly block: number
  /** Index of the batch within its block. */
  readonly index: number
}

/** One pass in file order over the labelled rows that `keep` selects. Batches carry {@link ROW_INDEX_COLUMN}. */
export async function* scanRows(data: TrainingRows, keep: RowFilter | undefined): AsyncGenerator<Batch> {
  let counted = 0
  for await (const raw of data.source) {
    const numbered = data.indexed ? raw : withCountedIndex(raw, counted)
    counted += raw.length
    const selected = selectRows(numbered, keep, data.targetColumn)
    if (selected !== undefined) yield selected
  }
}

/**
 * The training batches of one epoch, in the plan's order. Blocks before `plan.from` are read (or, for segments,
 * skipped unread) but not yielded; so are the batches of the starting block before `plan.from.batch`.
 */
export async function* epochBatches(
  data: TrainingRows,
  keep: RowFilter | undefined,
  plan: EpochPlan,
): AsyncGenerator<PlannedBatch> {
  const fromBlock = plan.from?.block ?? 0
  const fromBatch = plan.from?.batch ?? 0
  const emit = function* (block: Batch, blockIndex: number, permute: boolean): Generator<PlannedBatch> {
    const rows = permute ? permuteBlock(block, plan.seed, plan.epoch, blockIndex) : block
    const first = blockIndex === fromBlock ? fromBatch : 0
    const size = data.batchSize
    const count = Math.ceil(rows.length / size)
    for (let b = first; b < count; b++) {
      const batch = count === 1 ? rows : sliceBatch(rows, b * size, Math.min(rows.length, (b + 1) * size))
      yield { batch, block: blockIndex, index: b }
    }
  }

  if (plan.mode === 'segments' && data.indexed) {
    const counts = await data.source.fileRowCounts()
    const segments: { file: number; start: number; end: number }[] = []
    counts.forEach((rows, file) => {
      for (let start = 0; start < rows; start += plan.segmentRows) {
        segments.push({ file, start, end: Math.min(rows, start + plan.segmentRows) })
      }
    })
    const order = segmentOrder(plan.seed, plan.epoch, segments.length)
    const perBlock = plan.shuffleWindow
    for (let block = fromBlock; block * perBlock < order.length; block++) {
      const parts: Batch[] = []
      const end = Math.min(order.length, (block + 1) * perBlock)
      for (let p = block * perBlock; p < end; p++) {
        for await (const raw of data.source.readSegment(segments[order[p]!]!)) {
          const selected = selectRows(raw, keep, data.targetColumn)
          if (selected !== undefined) parts.push(selected)
        }
      }
      if (parts.length > 0) yield* emit(concatBatches(parts), block, true)
    }
    return
  }

  if (plan.mode === 'window') {
    let window: Batch[] = []
    let block = 0
    const flush = function* (): Generator<PlannedBatch> {
      if (window.length > 0 && block >= fromBlock) yield* emit(concatBatches(window), block, true)
      window = []
      block++
    }
    for await (const batch of scanRows(data, keep)) {
      window.push(batch)
      if (window.length === plan.shuffleWindow) yield* flush()
    }
    yield* flush()
    return
  }

  // 'none', and 'segments' on CSV (which cannot be read from the middle): one block per batch.
  let block = 0
  for await (const batch of scanRows(data, keep)) {
    if (block >= fromBlock) yield* emit(batch, block, plan.mode === 'segments')
    block++
  }
}

/** The row index of row `i` of a batch read here. */
export function rowIndexOf(batch: Batch, i: number): number {
  const column = batch.columns.get(ROW_INDEX_COLUMN)
  if (column === undefined || column.type === 'string') {
    throw new ScalemlError('INTERNAL', `batch without its ${ROW_INDEX_COLUMN} column`)
  }
  return column.values[i]!
}

function withCountedIndex(batch: Batch, first: number): Batch {
  const values = new Float64Array(batch.length)
  for (let i = 0; i < batch.length; i++) values[i] = first + i
  const columns = new Map<string, Column>(batch.columns)
  columns.set(ROW_INDEX_COLUMN, { type: 'int', values })
  return { length: batch.length, columns }
}

/** The rows of `batch` that `keep` selects and whose target is present; `undefined` when none. */
function selectRows(batch: Batch, keep: RowFilter | undefined, targetColumn: string): Batch | undefined {
  const target = batch.columns.get(targetColumn)
  const index = batch.columns.get(ROW_INDEX_COLUMN) as NumericColumn | undefined
  if (index === undefined) throw new ScalemlError('INTERNAL', `batch without its ${ROW_INDEX_COLUMN} column`)
  const picked = new Uint32Array(batch.length)
  let n = 0
  for (let i = 0; i < batch.length; i++) {
    if (keep !== undefined && !keep(index.values[i]!)) continue
    // A string target is reported by extractLabels with a clear message; keep its rows until then.
    if (target !== undefined && target.type !== 'string') {
      if (target.nulls?.[i] === 1 || Number.isNaN(target.values[i]!)) continue
    }
    picked[n++] = i
  }
  if (n === 0) return undefined
  return n === batch.length ? batch : takeRows(batch, picked.subarray(0, n))
}

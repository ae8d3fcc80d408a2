/**
 * Whether GBDT training runs in memory or in external memory, and with what chunk size: the estimate of in-memory
 * training's per-row arrays against a memory budget, and the chunk rows that keep external training's buffers within
 * it. Pure arithmetic over the data's shape.
 *
 * In memory, boosting holds per training row: the bins and a row-major copy of them (`2 × features` bytes), the margins
 * and the gradients and hessians (`16 ×` outputs), the interleaved gradient pairs, the row order and its partition
 * scratch (16), the labels as given and as used (16), the weights (8) and the out-of-sample rows of subsampling (4);
 * per validation row, its bins, margins, labels and weights. External memory keeps all of these on disk and holds one
 * chunk of each ({@link ChunkBuffers}), plus the histograms of the open leaves, whatever the row count.
 * @module
 */
import { formatByteSize } from '../../../core/byte-size.js'
import { ScalemlError } from '../../../core/errors.js'
import { DEFAULT_CHUNK_ROWS } from './external-rows.js'
import { ChunkBuffers } from './training-state.js'

/** Smallest memory budget accepted (bytes). */
export const MIN_MEMORY_BUDGET = 1 << 20

/** Chunk rows are kept within these bounds: fewer means more system calls per pass, more gains nothing measurable. */
export const MIN_CHUNK_ROWS = 1024
export const MAX_CHUNK_ROWS = 1 << 20

/** The shape of a training set, as the plan needs it. */
export interface TrainingShape {
  readonly nRows: number
  readonly nFeatures: number
  /** Trees per round: 1, or the class count of a multi-class classifier. */
  readonly nOutputs: number
  readonly weighted?: boolean
  /** Validation rows (early stopping), held like the training rows. */
  readonly evalRows?: number
  /** Row subsampling (needs an out-of-sample row list in memory). */
  readonly subsample?: number
  /** Histogram slots (`BinMapper.totalBins`) and most leaves per tree, for the histograms' memory. */
  readonly totalBins?: number
  readonly maxLeaves?: number | null
}

/** What to do: train in memory, or in external memory with chunks of `chunkRows` rows. */
export interface TrainingMemoryPlan {
  readonly external: boolean
  readonly chunkRows: number
  /** Estimated bytes of in-memory training's per-row arrays. */
  readonly inMemoryBytes: number
  readonly memoryBudget: number | undefined
}

/** How to choose (the `memoryBudget`, `externalMemory` and `chunkRows` fit options). */
export interface MemoryOptions {
  /** Bytes the per-row arrays may take; above it, external memory. Default: no budget. */
  readonly memoryBudget?: number
  /** true: external memory whatever the estimate; false: in memory whatever the budget; default: by the budget. */
  readonly externalMemory?: boolean
  /** Rows per chunk in external memory (default: from the budget). */
  readonly chunkRows?: number
}

/** Throws `INVALID_ARGUMENT` naming `what` unless `budget` is a whole number of bytes ≥ {@link MIN_MEMORY_BUDGET}. */
export function checkMemoryBudget(budget: number, what = 'memoryBudget'): number {
  if (!Number.isSafeInteger(budget) || budget < MIN_MEMORY_BUDGET) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${what} must be a whole number of bytes ≥ ${MIN_MEMORY_BUDGET} (1 MiB); got ${budget}.`,
      [{ code: 'invalid_value', path: [what], message: 'expected a whole number of bytes ≥ 1048576' }],
    )
  }
  return budget
}

/** Estimated bytes of in-memory GBDT training's per-row arrays (see the module comment). */
export function inMemoryTrainingBytes(shape: TrainingShape): number {
  const w = shape.weighted ? 8 : 0
  const perRow = 2 * shape.nFeatures + 16 * shape.nOutputs + 32 + w + ((shape.subsample ?? 1) < 1 ? 4 : 0)
  const perEvalRow = shape.nFeatures + 8 * shape.nOutputs + 8 + w
  return shape.nRows * perRow + (shape.evalRows ?? 0) * perEvalRow
}

/**
 * Bytes of the histograms external training holds at most: per leaf of the budget, an open one and one built ahead,
 * plus, while a pass builds it, a partial of its row ranges (external-grower.ts `NodeAccumulator`).
 */
export function histogramBytes(shape: TrainingShape): number {
  if (shape.totalBins === undefined) return 0
  const leaves = shape.maxLeaves ?? 255
  return (3 * leaves + 2) * shape.totalBins * 3 * 8
}

/**
 * Chooses in-memory or external training for `shape`. Throws `INVALID_ARGUMENT` on a bad budget or chunk size, or
 * when the budget cannot hold even external training's smallest buffers.
 *
 * @example
 * planTrainingMemory({ nRows: 30e6, nFeatures: 8, nOutputs: 1 }, { memoryBudget: 512 * 2 ** 20 })
 * // { external: true, chunkRows: 1048576, … }
 */
export function planTrainingMemory(shape: TrainingShape, options: MemoryOptions): TrainingMemoryPlan {
  const budget = options.memoryBudget === undefined ? undefined : checkMemoryBudget(options.memoryBudget)
  if (options.chunkRows !== undefined && (!Number.isInteger(options.chunkRows) || options.chunkRows < 1)) {
    throw new ScalemlError('INVALID_ARGUMENT', `chunkRows must be a whole number ≥ 1; got ${options.chunkRows}.`, [
      { code: 'invalid_value', path: ['chunkRows'], message: 'expected a whole number ≥ 1' },
    ])
  }
  const inMemoryBytes = inMemoryTrainingBytes(shape)
  const external = options.externalMemory ?? (budget !== undefined && inMemoryBytes > budget)
  const perRow = ChunkBuffers.bytesPerRow(shape.nFeatures, shape.nOutputs)
  let chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS
  if (options.chunkRows === undefined && budget !== undefined) {
    // A quarter of the budget for the chunk buffers leaves room for histograms, trees and the reading of the data.
    chunkRows = Math.min(MAX_CHUNK_ROWS, Math.max(MIN_CHUNK_ROWS, Math.floor(budget / 4 / perRow)))
  }
  chunkRows = Math.max(1, Math.min(chunkRows, shape.nRows))
  if (external && budget !== undefined) {
    const needed = Math.min(MIN_CHUNK_ROWS, shape.nRows) * perRow + histogramBytes(shape)
    if (needed > budget) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `A memory budget of ${formatByteSize(budget)} cannot hold external-memory training of ${shape.nFeatures} features: its chunk buffers and leaf histograms alone need ${formatByteSize(needed)}. Raise the budget (or lower maxLeaves / maxBins).`,
        [{ code: 'invalid_value', path: ['memoryBudget'], message: `below ${needed} bytes` }],
      )
    }
  }
  return { external, chunkRows, inMemoryBytes, memoryBudget: budget }
}

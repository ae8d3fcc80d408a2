import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../../../core/errors.js'
import {
  checkMemoryBudget,
  inMemoryTrainingBytes,
  MAX_CHUNK_ROWS,
  MIN_CHUNK_ROWS,
  MIN_MEMORY_BUDGET,
  planTrainingMemory,
} from './memory-plan.js'
import { ChunkBuffers } from './training-state.js'

const MiB = 2 ** 20
const flights = { nRows: 2_700_000, nFeatures: 6, nOutputs: 1 }

describe('planTrainingMemory', () => {
  it('estimates in-memory training at 2 bytes a feature plus 48 bytes a row (one output, no weights)', () => {
    expect(inMemoryTrainingBytes(flights)).toBe(2_700_000 * (12 + 48))
    expect(inMemoryTrainingBytes({ ...flights, nOutputs: 3, weighted: true, subsample: 0.5, evalRows: 10 })).toBe(
      2_700_000 * (12 + 48 + 32 + 8 + 4) + 10 * (6 + 24 + 8 + 8),
    )
  })

  it('trains in memory under the budget, in external memory above it or when forced', () => {
    const bytes = inMemoryTrainingBytes(flights)
    expect(planTrainingMemory(flights, {}).external).toBe(false)
    expect(planTrainingMemory(flights, { memoryBudget: bytes }).external).toBe(false)
    expect(planTrainingMemory(flights, { memoryBudget: bytes - 1 }).external).toBe(true)
    expect(planTrainingMemory(flights, { externalMemory: true }).external).toBe(true)
    expect(planTrainingMemory(flights, { memoryBudget: 2 * MiB, externalMemory: false }).external).toBe(false)
  })

  it('gives the chunk buffers a quarter of the budget, within bounds and never more rows than the data', () => {
    const perRow = ChunkBuffers.bytesPerRow(6, 1)
    expect(planTrainingMemory(flights, { memoryBudget: 64 * MiB }).chunkRows).toBe(Math.floor((16 * MiB) / perRow))
    expect(planTrainingMemory(flights, { memoryBudget: 2 * MiB }).chunkRows).toBe(Math.floor(MiB / 2 / perRow))
    expect(planTrainingMemory(flights, { memoryBudget: 2 ** 40 }).chunkRows).toBe(MAX_CHUNK_ROWS)
    expect(planTrainingMemory({ ...flights, nFeatures: 2000 }, { memoryBudget: 8 * MiB }).chunkRows).toBe(
      MIN_CHUNK_ROWS,
    )
    expect(planTrainingMemory({ ...flights, nRows: 500 }, { externalMemory: true }).chunkRows).toBe(500)
    expect(planTrainingMemory(flights, { externalMemory: true, chunkRows: 1000 }).chunkRows).toBe(1000)
  })

  it('rejects bad budgets and chunk sizes, and a budget too small for the histograms', () => {
    const rejected = (fn: () => unknown, message: RegExp) => {
      let error: unknown
      try {
        fn()
      } catch (e) {
        error = e
      }
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toMatch(message)
    }
    for (const budget of [0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, MIN_MEMORY_BUDGET - 1]) {
      rejected(
        () => planTrainingMemory(flights, { memoryBudget: budget }),
        /memoryBudget must be a whole number of bytes ≥ 1048576/,
      )
    }
    rejected(() => checkMemoryBudget(100, '--memory-budget'), /^--memory-budget must be/)
    rejected(
      () => planTrainingMemory(flights, { externalMemory: true, chunkRows: 0 }),
      /chunkRows must be a whole number ≥ 1/,
    )
    rejected(
      () =>
        planTrainingMemory(
          { ...flights, nFeatures: 100, totalBins: 25_600, maxLeaves: 255 },
          { memoryBudget: 8 * MiB, externalMemory: true },
        ),
      /A memory budget of 8 MiB cannot hold external-memory training of 100 features: .* need 449\.\d MiB/,
    )
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import type { Batch } from '../../data/batch.js'
import { type BatchReport, createMicroBatcher, type MicroBatcherOptions, sliceColumns } from './micro-batcher.js'
import { BatcherClosedError, OverloadedError, PredictTimeoutError } from './runtime-errors.js'

/** A batch of one numeric column `x`. */
const rowsOf = (...xs: number[]): Batch => ({
  length: xs.length,
  columns: new Map([['x', { type: 'float' as const, values: Float64Array.from(xs) }]]),
})

/** Doubles `x`: the answer of a row tells which row it was. */
const double = (batch: Batch): Float64Array[] => {
  const x = (batch.columns.get('x') as { values: Float64Array }).values
  return [x.map((v) => v * 2)]
}

/** A run whose batches finish only when the test says so. */
function controlledRun() {
  const pending: { batch: Batch; finish: () => void }[] = []
  const run = (batch: Batch) =>
    new Promise<Float64Array[]>((resolve) => pending.push({ batch, finish: () => resolve(double(batch)) }))
  return { run, pending }
}

/** One turn of the event loop (the batcher starts batches from `setImmediate`). */
const turn = () => new Promise((resolve) => setImmediate(resolve))

const sizes = (reports: readonly BatchReport[]) => reports.map((r) => r.rows)

describe('createMicroBatcher, adaptive (default)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs a request that finds the model idle at the next turn, with no added wait', async () => {
    let clock = 1000
    const reports: BatchReport[] = []
    const batcher = createMicroBatcher({
      run: double,
      maxBatchSize: 64,
      maxQueue: 10,
      now: () => clock,
      onBatch: (r) => reports.push(r),
    })
    const answer = batcher.submit(rowsOf(21))
    expect(reports).toHaveLength(0)
    clock += 0
    vi.advanceTimersByTime(0)
    expect(reports).toEqual([expect.objectContaining({ rows: 1, requests: 1, queueMs: [0], ok: true })])
    expect(Array.from((await answer)[0]!)).toEqual([42])
  })

  it('puts requests submitted in the same turn into one batch and gives each its own rows', async () => {
    const reports: BatchReport[] = []
    const batcher = createMicroBatcher({ run: double, maxBatchSize: 64, maxQueue: 10, onBatch: (r) => reports.push(r) })
    const answers = [batcher.submit(rowsOf(1)), batcher.submit(rowsOf(2, 3)), batcher.submit(rowsOf(4))]
    vi.advanceTimersByTime(0)
    expect(sizes(reports)).toEqual([4])
    const values = await Promise.all(answers)
    expect(values.map((v) => Array.from(v[0]!))).toEqual([[2], [4, 6], [8]])
  })

  it('accumulates arrivals while a batch runs and sends them as the next batch, bounded by maxBatchSize', async () => {
    const { run, pending } = controlledRun()
    const reports: BatchReport[] = []
    const batcher = createMicroBatcher({ run, maxBatchSize: 4, maxQueue: 100, onBatch: (r) => reports.push(r) })
    const first = batcher.submit(rowsOf(0))
    vi.advanceTimersByTime(0)
    expect(pending.map((p) => p.batch.length)).toEqual([1])
    const later = Array.from({ length: 10 }, (_, i) => batcher.submit(rowsOf(i + 1)))
    vi.advanceTimersByTime(0)
    expect(pending).toHaveLength(1) // the model is busy: nothing else starts
    expect(batcher.stats()).toMatchObject({ queued: 10, queuedRows: 10, running: 1 })
    for (let i = 0; pending[i] !== undefined; i++) {
      pending[i]!.finish()
      await vi.advanceTimersByTimeAsync(0)
    }
    expect(pending.map((p) => p.batch.length)).toEqual([1, 4, 4, 2])
    expect(Array.from((await first)[0]!)).toEqual([0])
    const values = await Promise.all(later)
    expect(values.map((v) => v[0]![0])).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 2))
    expect(sizes(reports)).toEqual([1, 4, 4, 2])
  })

  it('runs a request larger than maxBatchSize alone and never splits it', async () => {
    const reports: BatchReport[] = []
    const batcher = createMicroBatcher({ run: double, maxBatchSize: 2, maxQueue: 10, onBatch: (r) => reports.push(r) })
    const answers = [batcher.submit(rowsOf(1)), batcher.submit(rowsOf(2, 3, 4)), batcher.submit(rowsOf(5))]
    vi.runAllTimers()
    expect(sizes(reports)).toEqual([1, 3, 1])
    expect((await Promise.all(answers)).map((v) => Array.from(v[0]!))).toEqual([[2], [4, 6, 8], [10]])
  })

  it('keeps several batches in flight up to its concurrency', () => {
    const { run, pending } = controlledRun()
    const batcher = createMicroBatcher({ run, maxBatchSize: 2, maxQueue: 100, concurrency: 2 })
    for (let i = 0; i < 7; i++) void batcher.submit(rowsOf(i))
    vi.advanceTimersByTime(0)
    expect(pending.map((p) => p.batch.length)).toEqual([2, 2])
    expect(batcher.stats()).toMatchObject({ queued: 3, running: 2 })
  })
})

describe('createMicroBatcher, answers in place and inputs merged by the caller', () => {
  it('answers each request with its rows of the one batch result, no view per column', async () => {
    const batcher = createMicroBatcher({ run: double, maxBatchSize: 64, maxQueue: 10 })
    const slices = await Promise.all([
      batcher.submitSlice(rowsOf(1)),
      batcher.submitSlice(rowsOf(2, 3)),
      batcher.submitSlice(rowsOf(4)),
    ])
    expect(slices.map((s) => [s.offset, s.rows])).toEqual([
      [0, 1],
      [1, 2],
      [3, 1],
    ])
    expect(slices[1]!.values).toBe(slices[0]!.values)
    expect(Array.from(slices[0]!.values[0]!)).toEqual([2, 4, 6, 8])
    expect(sliceColumns(slices[1]!).map((c) => Array.from(c))).toEqual([[4, 6]])
  })

  it('hands the inputs of a batch, in queue order, to merge', async () => {
    const merged: number[][] = []
    const batcher = createMicroBatcher<{ length: number; xs: number[] }>({
      run: double,
      merge: (inputs, rows) => {
        merged.push(inputs.flatMap((i) => i.xs))
        expect(rows).toBe(inputs.reduce((n, i) => n + i.length, 0))
        return rowsOf(...inputs.flatMap((i) => i.xs))
      },
      maxBatchSize: 64,
      maxQueue: 10,
    })
    const answers = [batcher.submit({ length: 2, xs: [1, 2] }), batcher.submit({ length: 1, xs: [5] })]
    expect((await Promise.all(answers)).map((v) => Array.from(v[0]!))).toEqual([[2, 4], [10]])
    expect(merged).toEqual([[1, 2, 5]])
  })
})

describe('createMicroBatcher, window (maxDelayMs)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  const windowed = (overrides: Partial<MicroBatcherOptions> = {}) => {
    const reports: BatchReport[] = []
    const batcher = createMicroBatcher({
      run: double,
      maxBatchSize: 4,
      maxDelayMs: 10,
      maxQueue: 100,
      now: () => Date.now(),
      onBatch: (r) => reports.push(r),
      ...overrides,
    })
    return { batcher, reports }
  }

  it('runs when the oldest request has waited maxDelayMs', () => {
    const { batcher, reports } = windowed()
    void batcher.submit(rowsOf(1))
    vi.advanceTimersByTime(4)
    void batcher.submit(rowsOf(2))
    vi.advanceTimersByTime(5)
    expect(reports).toHaveLength(0)
    vi.advanceTimersByTime(1)
    expect(reports).toEqual([expect.objectContaining({ rows: 2, queueMs: [10, 6] })])
  })

  it('runs at once when the batch reaches maxBatchSize', () => {
    const { batcher, reports } = windowed()
    for (let i = 0; i < 4; i++) void batcher.submit(rowsOf(i))
    vi.advanceTimersByTime(0)
    expect(reports).toEqual([expect.objectContaining({ rows: 4, queueMs: [0, 0, 0, 0] })])
  })

  it('times the window from the oldest request still waiting', () => {
    const { batcher, reports } = windowed()
    for (let i = 0; i < 6; i++) void batcher.submit(rowsOf(i))
    vi.advanceTimersByTime(0)
    expect(sizes(reports)).toEqual([4])
    vi.advanceTimersByTime(9)
    expect(sizes(reports)).toEqual([4])
    vi.advanceTimersByTime(1)
    expect(sizes(reports)).toEqual([4, 2])
  })
})

describe('createMicroBatcher, limits', () => {
  it('throws OVERLOADED with a Retry-After past maxQueue and still answers every accepted request', async () => {
    const { run, pending } = controlledRun()
    const batcher = createMicroBatcher({ run, maxBatchSize: 8, maxQueue: 3, label: 'flights:3' })
    const accepted = [batcher.submit(rowsOf(0))]
    await turn()
    for (let i = 1; i <= 3; i++) accepted.push(batcher.submit(rowsOf(i)))
    let error: unknown
    try {
      void batcher.submit(rowsOf(99))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(OverloadedError)
    expect(isScalemlError(error, 'OVERLOADED')).toBe(true)
    expect((error as OverloadedError).retryAfterSeconds).toBeGreaterThanOrEqual(1)
    expect((error as Error).message).toMatch(/flights:3 .*maximum of 3 waiting requests/)
    pending[0]!.finish()
    await turn()
    await turn()
    pending[1]!.finish()
    const values = await Promise.all(accepted)
    expect(values.map((v) => v[0]![0])).toEqual([0, 2, 4, 6])
    expect(pending.flatMap((p) => Array.from((p.batch.columns.get('x') as { values: Float64Array }).values))).toEqual([
      0, 1, 2, 3,
    ])
  })

  it('drops a request from the queue when its time limit passes, before any work is spent on it', async () => {
    vi.useFakeTimers()
    try {
      const { run, pending } = controlledRun()
      const batcher = createMicroBatcher({ run, maxBatchSize: 8, maxQueue: 10 })
      void batcher.submit(rowsOf(0))
      vi.advanceTimersByTime(0)
      const late = batcher.submit(rowsOf(1), { timeoutMs: 50 })
      const onTime = batcher.submit(rowsOf(2))
      const outcome = late.then(
        () => 'answered',
        (e: unknown) => e,
      )
      vi.advanceTimersByTime(50)
      const error = await outcome
      expect(error).toBeInstanceOf(PredictTimeoutError)
      expect(error).toMatchObject({ stage: 'queued', timeoutMs: 50 })
      expect(batcher.stats().queued).toBe(1)
      pending[0]!.finish()
      await vi.advanceTimersByTimeAsync(0)
      expect(pending[1]!.batch.length).toBe(1) // only the request still waiting
      pending[1]!.finish()
      expect((await onTime)[0]![0]).toBe(4)
    } finally {
      vi.useRealTimers()
    }
  })

  it('rejects a running request whose time limit passes and ignores its late result', async () => {
    vi.useFakeTimers()
    try {
      const { run, pending } = controlledRun()
      const batcher = createMicroBatcher({ run, maxBatchSize: 8, maxQueue: 10 })
      const slow = batcher.submit(rowsOf(1), { timeoutMs: 20 })
      const outcome = slow.then(
        () => 'answered',
        (e: unknown) => e,
      )
      vi.advanceTimersByTime(20)
      expect(await outcome).toMatchObject({ stage: 'running' })
      pending[0]!.finish()
      await vi.advanceTimersByTimeAsync(0)
      expect(batcher.stats()).toMatchObject({ queued: 0, running: 0, batches: 1 })
    } finally {
      vi.useRealTimers()
    }
  })

  it('yields after a batch run in this thread, so a request whose time limit passed meanwhile never runs', async () => {
    const ran: number[] = []
    const run = (batch: Batch) => {
      const x = (batch.columns.get('x') as { values: Float64Array }).values
      ran.push(...x)
      // A slow model: the second request's 5 ms limit passes while the first one runs.
      const until = performance.now() + 20
      while (performance.now() < until) {}
      return double(batch)
    }
    const batcher = createMicroBatcher({ run, maxBatchSize: 1, maxQueue: 10 })
    const first = batcher.submit(rowsOf(1))
    const second = batcher.submit(rowsOf(2), { timeoutMs: 5 }).then(
      () => 'answered',
      (e: unknown) => e,
    )
    expect((await first)[0]![0]).toBe(2)
    expect(await second).toMatchObject({ stage: 'queued' })
    expect(ran).toEqual([1])
  })

  it('re-runs the requests of a failed batch one by one, so only the bad one fails', async () => {
    const reports: BatchReport[] = []
    const run = (batch: Batch) => {
      const x = (batch.columns.get('x') as { values: Float64Array }).values
      if (x.includes(13)) throw new Error('row 13 breaks the model')
      return double(batch)
    }
    const batcher = createMicroBatcher({ run, maxBatchSize: 8, maxQueue: 10, onBatch: (r) => reports.push(r) })
    const answers = [1, 13, 3].map((x) =>
      batcher.submit(rowsOf(x)).then(
        (v) => v[0]![0],
        (e: Error) => e.message,
      ),
    )
    expect(await Promise.all(answers)).toEqual([2, 'row 13 breaks the model', 6])
    expect(reports.map((r) => [r.rows, r.ok])).toEqual([
      [3, false],
      [1, true],
      [1, false],
      [1, true],
    ])
  })

  it('drains, then refuses new requests once closed', async () => {
    const batcher = createMicroBatcher({ run: double, maxBatchSize: 8, maxQueue: 10 })
    const answer = batcher.submit(rowsOf(5))
    await batcher.drain()
    expect((await answer)[0]![0]).toBe(10)
    batcher.close()
    await expect(batcher.submit(rowsOf(1))).rejects.toBeInstanceOf(BatcherClosedError)
  })
})

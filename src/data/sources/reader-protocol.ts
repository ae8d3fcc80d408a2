/**
 * The messages between a {@link WorkerReader} (main thread) and its reader thread (reader-worker.ts), and the two
 * helpers both sides need: which buffers a batch can hand over without copying, and how an error crosses threads.
 *
 * Flow control is by credit: a stream starts with `readAhead` credits, each batch the thread posts spends one, and
 * the main thread returns one (`take`) whenever its consumer takes a batch off the queue. So at most `readAhead`
 * finished batches wait in the queue, whatever the relative speed of reading and learning.
 *
 * Each credit comes with the arrays of one batch ({@link BatchArrays}), allocated by the main thread: the thread fills
 * them and sends them back as the batch. Batch buffers are then allocated and freed by the same thread, as when
 * reading in-thread; buffers allocated by the reader thread and freed by the main thread's GC raised peak RSS of a
 * flights-3m training run by ~100 MB.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Batch } from '../batch.js'
import type { ReadColumn } from './chunk-reader.js'

/** Main thread → reader thread. */
export type ToReader =
  /** Run `sql` and stream its batches under stream id `id`. */
  | {
      readonly type: 'open'
      readonly id: number
      readonly sql: string
      readonly columns: readonly ReadColumn[]
      readonly batchSize: number
      /** One set of arrays per credit (`readAhead` of them). */
      readonly arrays: readonly BatchArrays[]
    }
  /** The consumer took one batch of stream `id`: one more may be produced, into `arrays`. */
  | { readonly type: 'take'; readonly id: number; readonly arrays: BatchArrays }
  /** Stop stream `id` (answered by `cancelled`). */
  | { readonly type: 'cancel'; readonly id: number }
  /** Stop every stream, close DuckDB and leave. */
  | { readonly type: 'close' }

/** Reader thread → main thread. */
export type FromReader =
  | { readonly type: 'ready' }
  /** DuckDB could not be opened in the thread. */
  | { readonly type: 'failed'; readonly error: WireError }
  | { readonly type: 'batch'; readonly id: number; readonly batch: Batch }
  | { readonly type: 'end'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError }
  /** Stream `id` stopped after a `cancel`; its connection is released. */
  | { readonly type: 'cancelled'; readonly id: number }
  /**
   * Stream `id` waits for a credit with no DuckDB call in flight, having received `takes` takes: when that is every
   * take sent, the thread has nothing to do for it and may be torn down safely (see {@link WorkerReader}).
   */
  | { readonly type: 'parked'; readonly id: number; readonly takes: number }

/** The arrays of one full batch: `batchSize` values for each numeric column, codes for each string column. */
export interface BatchArrays {
  readonly float64: Float64Array[]
  readonly int32: Int32Array[]
}

/** Fresh arrays for one batch of `columns` (on the main thread), and their buffers to transfer. */
export function newBatchArrays(
  columns: readonly ReadColumn[],
  batchSize: number,
): { arrays: BatchArrays; transfer: ArrayBuffer[] } {
  const arrays: BatchArrays = { float64: [], int32: [] }
  const transfer: ArrayBuffer[] = []
  for (const column of columns) {
    const array = column.type === 'string' ? new Int32Array(batchSize) : new Float64Array(batchSize)
    if (array instanceof Int32Array) arrays.int32.push(array)
    else arrays.float64.push(array)
    transfer.push(array.buffer)
  }
  return { arrays, transfer }
}

/** An error as it crosses threads: enough to rebuild the same message, class and code. */
export interface WireError {
  readonly name: string
  readonly message: string
  readonly stack?: string
  /** Set for a `ScalemlError`. */
  readonly code?: ScalemlError['code']
}

/** What the reader thread gets as `workerData`. */
export interface ReaderWorkerData {
  /** DuckDB threads for the reader's own instance (undefined: DuckDB's default, the number of cores). */
  readonly threads?: number
}

/** The buffers of `batch`'s typed arrays, each once: transferred, they move to the other thread without a copy. */
export function batchTransferList(batch: Batch): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>()
  for (const column of batch.columns.values()) {
    if (column.type === 'string') addBuffer(buffers, column.codes)
    else {
      addBuffer(buffers, column.values)
      if (column.nulls !== undefined) addBuffer(buffers, column.nulls)
    }
  }
  return [...buffers]
}

function addBuffer(buffers: Set<ArrayBuffer>, array: ArrayBufferView): void {
  // A SharedArrayBuffer cannot be transferred (it is shared as it is); the chunk reader never makes one.
  if (array.buffer instanceof ArrayBuffer) buffers.add(array.buffer)
}

/** `error` in a form that survives `postMessage`. */
export function toWireError(error: unknown): WireError {
  if (error instanceof ScalemlError) {
    return { name: error.name, message: error.message, code: error.code, ...stackOf(error) }
  }
  if (error instanceof Error) return { name: error.name, message: error.message, ...stackOf(error) }
  return { name: 'Error', message: String(error) }
}

function stackOf(error: Error): { stack?: string } {
  return error.stack === undefined ? {} : { stack: error.stack }
}

/** The error a {@link WireError} describes: a `ScalemlError` with its code, or an `Error` with the same message. */
export function fromWireError(wire: WireError): Error {
  const error = wire.code === undefined ? new Error(wire.message) : new ScalemlError(wire.code, wire.message)
  if (wire.code === undefined && wire.name !== 'Error') {
    Object.defineProperty(error, 'name', { value: wire.name, configurable: true, writable: true })
  }
  if (wire.stack !== undefined) error.stack = wire.stack
  return error
}

/**
 * The `Source` contract: an async iterable of columnar batches that never holds the whole data.
 * @module
 */
import type { Batch, Schema } from './batch.js'

/** A stream of batches with a known schema. Iterating twice reads the data twice (one pass per epoch). */
export interface Source extends AsyncIterable<Batch> {
  /** The schema of the batches this source yields. */
  schema(): Promise<Schema>
  /** A human-readable description for messages and lineage (`flights-3m.parquet`, a glob, a query). */
  readonly description: string
  /** Releases any handle (DuckDB connection). Idempotent. */
  close(): Promise<void>
}

/**
 * The embedded DuckDB engine: one in-memory instance per handle, opened lazily so that code paths that never touch
 * files or SQL never load the native module.
 * @module
 */
import { createRequire } from 'node:module'
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { ScalemlError } from '../core/errors.js'

const requireModule = createRequire(import.meta.url)

/** Options for {@link openDuckDb}. */
export interface OpenDuckDbOptions {
  /** Worker threads DuckDB may use (default: DuckDB's, the number of cores). */
  readonly threads?: number
  /** DuckDB memory limit such as `'2GB'` (default: DuckDB's, 80% of RAM). */
  readonly memoryLimit?: string
}

/** An open in-memory DuckDB instance. */
export interface DuckDb {
  /** The first connection, for one-off statements. */
  readonly connection: DuckDBConnection
  /**
   * Opens another connection on the same instance. A connection runs one streaming result at a time, so each
   * concurrent reader needs its own. Connections still open are closed by {@link DuckDb.close}.
   */
  connect(): Promise<DuckDBConnection>
  /** Closes a connection opened by {@link DuckDb.connect} before the handle closes. Idempotent. */
  disconnect(connection: DuckDBConnection): void
  /** Closes every connection and the instance. Idempotent. */
  close(): Promise<void>
}

/**
 * Opens an in-memory DuckDB instance with the session time zone set to UTC, so SQL that renders or extracts parts of
 * `TIMESTAMP WITH TIME ZONE` values gives the same answer on every machine.
 *
 * @example
 * const db = await openDuckDb()
 * try { await db.connection.run('SELECT 42') } finally { await db.close() }
 */
export async function openDuckDb(options: OpenDuckDbOptions = {}): Promise<DuckDb> {
  let api: typeof import('@duckdb/node-api')
  try {
    // require, not import(): Node's ESM loader scans every re-export of this CommonJS package (~0.3 s per process or
    // worker thread); require loads it in ~0.1 s.
    api = requireModule('@duckdb/node-api') as typeof import('@duckdb/node-api')
  } catch (error) {
    throw new ScalemlError('STORE_UNAVAILABLE', `DuckDB could not be loaded: ${describeDuckDbError(error)}`, [], {
      cause: error,
    })
  }
  // Streaming reads must not keep the files they read: DuckDB's external file cache would hold every block of a
  // Parquet/CSV file in memory (up to memory_limit), making memory grow with the data.
  const config: Record<string, string> = { enable_external_file_cache: 'false' }
  if (options.threads !== undefined) config['threads'] = String(options.threads)
  if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit
  let instance: DuckDBInstance
  try {
    instance = await api.DuckDBInstance.create(':memory:', config)
  } catch (error) {
    throw new ScalemlError('STORE_UNAVAILABLE', `DuckDB could not be opened: ${describeDuckDbError(error)}`, [], {
      cause: error,
    })
  }
  const connections = new Set<DuckDBConnection>()
  let closed = false
  const connect = async (): Promise<DuckDBConnection> => {
    if (closed) throw new ScalemlError('STORE_UNAVAILABLE', 'DuckDB is closed; open a new handle')
    const connection = await instance.connect()
    connections.add(connection)
    return connection
  }
  const connection = await connect()
  // GLOBAL so that connections opened later by connect() inherit it; the ICU extension that owns TimeZone is
  // loaded only once an instance exists, so this cannot go into the creation config.
  await connection.run(`SET GLOBAL TimeZone = 'UTC'`)
  return {
    connection,
    connect,
    disconnect(c) {
      if (connections.delete(c)) c.disconnectSync()
    },
    async close() {
      if (closed) return
      closed = true
      for (const c of connections) c.disconnectSync()
      connections.clear()
      instance.closeSync()
    },
  }
}

/**
 * DuckDB's reason for an error, short enough for a user-facing message: the first paragraph of its message, without
 * the `LINE 1: …` excerpt of our generated SQL, on one line.
 */
export function describeDuckDbError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const head = message.split(/\n\s*\nLINE \d+:/)[0] ?? message
  const oneLine = head.replace(/\s+/g, ' ').trim()
  return oneLine.length > 400 ? `${oneLine.slice(0, 397)}...` : oneLine
}

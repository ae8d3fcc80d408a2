/**
 * The embedded study store: one SQLite file (better-sqlite3), by default `studies.db` under the scaleml home.
 * Several processes may share the file: claims take SQLite's write lock (`BEGIN IMMEDIATE`, waiting up to
 * `busyTimeoutMs` for it) and the journal is in WAL mode so readers never block. Within a process, statements on one file
 * run one transaction at a time behind a queue, because better-sqlite3 is synchronous and our transactions await.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { ScalemlError } from '../../core/errors.js'
import { type SqlDriver, type SqlRow, type SqlRunner, SqlStudyStore, schemaStatements } from './sql-store.js'
import type { StudyStore } from './study-store.js'

/** Options of {@link openSqliteStudyStore}. */
export interface SqliteStudyStoreOptions {
  /** The database file (created with its folder when missing); ':memory:' for a private in-memory store. */
  readonly path: string
  /** How long a claim waits for another process's transaction (default 30,000 ms). */
  readonly busyTimeoutMs?: number
}

/** The queue of transactions per database file in this process (see `exclusive`). */
const QUEUES = new Map<string | symbol, Promise<void>>()

/** `$1`-style parameters → `?`, with the values in order of appearance (a parameter may appear twice). */
export function toPositional(sql: string, params: readonly unknown[]): { sql: string; values: unknown[] } {
  const values: unknown[] = []
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    values.push(params[Number(n) - 1])
    return '?'
  })
  return { sql: text, values }
}

/**
 * Opens (creating if needed) the SQLite study store at `options.path`.
 * @example
 * const store = await openSqliteStudyStore({ path: join(home, 'studies.db') })
 */
export async function openSqliteStudyStore(options: SqliteStudyStoreOptions): Promise<StudyStore> {
  let db: Database.Database
  try {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    db = new Database(options.path)
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 30_000}`)
    db.pragma('journal_mode = WAL')
  } catch (error) {
    throw new ScalemlError(
      'STORE_UNAVAILABLE',
      `Cannot open the study store ${options.path}: ${(error as Error).message}`,
      [],
      { cause: error },
    )
  }
  const statements = new Map<string, Database.Statement>()
  const run: SqlRunner['query'] = async (sql, params = []) => {
    const positional = toPositional(sql, params)
    let statement = statements.get(positional.sql)
    if (statement === undefined) {
      statement = db.prepare(positional.sql)
      statements.set(positional.sql, statement)
    }
    if (statement.reader) return { rows: statement.all(positional.values) as SqlRow[], changes: 0 }
    return { rows: [], changes: statement.run(positional.values).changes }
  }
  // One transaction (or statement) at a time per database file in this process: a second connection's
  // BEGIN IMMEDIATE would block the thread in SQLite's busy handler while the first transaction, waiting on the
  // same thread, could never finish.
  const key = options.path === ':memory:' ? Symbol('memory') : resolve(options.path)
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = (QUEUES.get(key) ?? Promise.resolve()).then(fn, fn)
    const settled = next.then(
      () => undefined,
      () => undefined,
    )
    QUEUES.set(key, settled)
    void settled.then(() => {
      if (QUEUES.get(key) === settled) QUEUES.delete(key)
    })
    return next
  }
  const driver: SqlDriver = {
    description: options.path,
    table: (name) => `"${name}"`,
    query: (sql, params) => exclusive(() => run(sql, params)),
    transaction: (_study, fn) =>
      exclusive(async () => {
        db.exec('BEGIN IMMEDIATE')
        try {
          const result = await fn({ query: run })
          db.exec('COMMIT')
          return result
        } catch (error) {
          db.exec('ROLLBACK')
          throw error
        }
      }),
    close: () =>
      exclusive(async () => {
        db.close()
      }),
  }
  for (const statement of schemaStatements(driver.table)) db.exec(statement)
  return new SqlStudyStore(driver)
}

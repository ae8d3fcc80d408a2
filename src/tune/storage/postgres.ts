/**
 * The shared study store: PostgreSQL through a `pg` pool, for studies that many processes or machines work on at
 * once. A claim locks the study's row (`SELECT … FOR UPDATE`) for the length of its transaction, so claims on one
 * study are serialized across every connection while claims on different studies run in parallel. Tables live in
 * `schema` (default `public`; created if missing).
 * @module
 */
import pg from 'pg'
import { ScalemlError } from '../../core/errors.js'
import { type SqlDriver, type SqlRow, SqlStudyStore, schemaStatements } from './sql-store.js'
import type { StudyStore } from './study-store.js'

/** Options of {@link openPostgresStudyStore}. */
export interface PostgresStudyStoreOptions {
  /** `postgres://user[:password]@host:port/database`. */
  readonly url: string
  /** Schema of the tables (default `public`). */
  readonly schema?: string
  /** Pool size (default 4). */
  readonly maxConnections?: number
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'postgres://…'
  }
}

/**
 * Connects to PostgreSQL and creates the tables when missing.
 * @throws ScalemlError STORE_UNAVAILABLE when the server does not answer or refuses the connection.
 * @example
 * const store = await openPostgresStudyStore({ url: 'postgres://postgres@127.0.0.1:5432/test', schema: 'tuning' })
 */
export async function openPostgresStudyStore(options: PostgresStudyStoreOptions): Promise<StudyStore> {
  const schema = options.schema ?? 'public'
  if (!IDENTIFIER.test(schema)) {
    throw new ScalemlError('INVALID_ARGUMENT', `The schema '${schema}' is not a plain SQL identifier.`)
  }
  const description = `${redact(options.url)}${schema === 'public' ? '' : ` (schema ${schema})`}`
  const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 4 })
  // An idle client's connection error must not crash the process; the next query reports it.
  pool.on('error', () => {})
  const table: SqlDriver['table'] = (name) => `"${schema}"."${name}"`
  const unavailable = (error: unknown) =>
    new ScalemlError(
      'STORE_UNAVAILABLE',
      `The study store ${description} does not answer: ${(error as Error).message}`,
      [],
      { cause: error },
    )
  const query = async (client: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[] = []) => {
    const result = await client.query(sql, params as unknown[])
    return { rows: result.rows as SqlRow[], changes: result.rowCount ?? 0 }
  }
  const driver: SqlDriver = {
    description,
    table,
    query: (sql, params) => query(pool, sql, params),
    async transaction(study, fn) {
      let client: pg.PoolClient
      try {
        client = await pool.connect()
      } catch (error) {
        throw unavailable(error)
      }
      try {
        await client.query('BEGIN')
        await client.query(`SELECT 1 FROM ${table('tune_studies')} WHERE name = $1 FOR UPDATE`, [study])
        const result = await fn({ query: (sql, params) => query(client, sql, params) })
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    },
    close: () => pool.end(),
  }
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    for (const statement of schemaStatements(table)) await pool.query(statement)
  } catch (error) {
    await pool.end().catch(() => undefined)
    // Two processes creating the same tables at once can collide on PostgreSQL's catalog; the tables exist then.
    if ((error as { code?: string }).code === '23505') return openPostgresStudyStore(options)
    throw unavailable(error)
  }
  return new SqlStudyStore(driver)
}

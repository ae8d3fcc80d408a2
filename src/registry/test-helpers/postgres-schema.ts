/**
 * A fresh PostgreSQL schema per test, so test files running in parallel never share tables. The server is the real
 * one the tests need (`SCALEML_TEST_POSTGRES_URL`, default the local `test` database). Test-only.
 * @module
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The database the registry tests use. */
export const TEST_POSTGRES_URL = process.env['SCALEML_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A unique schema name and a registry URL that uses it. */
export interface TestSchema {
  readonly schema: string
  /** `TEST_POSTGRES_URL?schema=<schema>`. */
  readonly url: string
  /** Runs SQL on the test database (for probes and tampering). */
  query<R extends object = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>
  /** Drops the schema and everything in it, and closes the helper's connection; safe to call twice. */
  drop(): Promise<void>
}

/** Names a new schema `t_<label>_<random>` (created by the store on first use) and drops it in `drop()`. */
export async function createTestSchema(label: string): Promise<TestSchema> {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30)
  const schema = `t_${safe}_${randomBytes(5).toString('hex')}`
  const url = new URL(TEST_POSTGRES_URL)
  url.searchParams.set('schema', schema)
  const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 2 })
  pool.on('error', () => {})
  let dropped = false
  return {
    schema,
    url: url.toString(),
    query: async <R extends object>(sql: string, values: unknown[] = []) => (await pool.query<R>(sql, values)).rows,
    async drop() {
      if (dropped) return
      dropped = true
      try {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      } finally {
        await pool.end()
      }
    },
  }
}

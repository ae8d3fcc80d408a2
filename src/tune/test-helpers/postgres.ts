/**
 * The test PostgreSQL database and a schema of its own per test, dropped afterwards. Test-only.
 * @module
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The test database (trust auth). */
export const TEST_POSTGRES_URL = process.env.SCALEML_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A fresh schema name for one test, and the way to drop it with everything in it. */
export function uniqueSchema(): { name: string; drop(): Promise<void> } {
  const name = `tune_test_${randomBytes(6).toString('hex')}`
  return {
    name,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL })
      await client.connect()
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
      } finally {
        await client.end()
      }
    },
  }
}

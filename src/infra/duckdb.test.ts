import { describe, expect, test } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { describeDuckDbError, openDuckDb } from './duckdb.js'

describe('openDuckDb', () => {
  test('runs SQL, extra connections share the instance and see UTC', async () => {
    const db = await openDuckDb({ threads: 1 })
    try {
      await db.connection.run('CREATE TABLE t AS SELECT 42 AS x')
      const other = await db.connect()
      const rows = (await other.runAndReadAll(`SELECT x, current_setting('TimeZone') FROM t`)).getRowsJS()
      expect(rows).toEqual([[42, 'UTC']])
      db.disconnect(other)
      db.disconnect(other) // idempotent
    } finally {
      await db.close()
    }
  })

  test('close is idempotent and connect after close is a STORE_UNAVAILABLE error', async () => {
    const db = await openDuckDb()
    await db.close()
    await db.close()
    const error = await db.connect().catch((e: unknown) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
  })

  test('describeDuckDbError keeps the reason and drops the SQL excerpt', async () => {
    const db = await openDuckDb()
    try {
      const error = await db.connection.run('SELECT nosuch FROM range(1)').catch((e: unknown) => e)
      const reason = describeDuckDbError(error)
      expect(reason).toMatch(/Binder Error: Referenced column "nosuch" not found/)
      expect(reason).not.toMatch(/LINE 1/)
      expect(reason).not.toMatch(/\n/)
    } finally {
      await db.close()
    }
  })

  test('does not cache the files it reads (memory must not grow with the data)', async () => {
    const db = await openDuckDb()
    try {
      const rows = (
        await db.connection.runAndReadAll(
          "SELECT value FROM duckdb_settings() WHERE name = 'enable_external_file_cache'",
        )
      ).getRowsJS()
      expect(rows).toEqual([['false']])
    } finally {
      await db.close()
    }
  })
})

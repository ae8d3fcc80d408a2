/**
 * Test data written by a SQL query: `COPY (select) TO path (FORMAT parquet)` through the embedded DuckDB, so a test
 * states its rows as one SELECT.
 * @module
 */
import { openDuckDb } from '../infra/duckdb.js'

/**
 * Writes the rows of `select` to the Parquet file `path` and returns the path.
 *
 * @example
 * const data = await writeParquetFromSql(join(dir, 'x.parquet'), 'SELECT i AS x FROM range(10) t(i)')
 */
export async function writeParquetFromSql(path: string, select: string): Promise<string> {
  const db = await openDuckDb()
  try {
    await db.connection.run(`COPY (${select}) TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`)
  } finally {
    await db.close()
  }
  return path
}

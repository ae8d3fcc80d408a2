/**
 * Whole-file checks run before a long job, so a user mistake is reported in seconds with the row at fault instead of
 * minutes into training.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { describeDuckDbError, openDuckDb } from '../infra/duckdb.js'
import { quoteIdentifier } from './sources/duckdb-sql.js'
import { detectFormat, matchFiles, relationSql } from './sources/files.js'

/** The first value of a column that cannot be read as a number, with its 1-based data row (file order). */
export interface UncastableValue {
  readonly row: number
  readonly value: string
}

/**
 * Finds the first non-null value of `column` in `pathOrGlob` that is not a number (DuckDB `TRY_CAST … AS DOUBLE`),
 * or `undefined` when every value is numeric. One streaming scan; stops at the first hit.
 */
export async function findNonNumeric(pathOrGlob: string, column: string): Promise<UncastableValue | undefined> {
  const db = await openDuckDb()
  try {
    const files = await matchFiles(db.connection, pathOrGlob)
    const relation = relationSql(files, detectFormat(pathOrGlob))
    const col = quoteIdentifier(column)
    const sql =
      `SELECT rn, v FROM (SELECT row_number() OVER () AS rn, CAST(${col} AS VARCHAR) AS v FROM ${relation}) ` +
      `WHERE v IS NOT NULL AND TRY_CAST(v AS DOUBLE) IS NULL ORDER BY rn LIMIT 1`
    let rows: unknown[][]
    try {
      rows = (await db.connection.runAndReadAll(sql)).getRowsJS()
    } catch (error) {
      throw new ScalemlError(
        'SOURCE_READ_FAILED',
        `cannot check column '${column}' of '${pathOrGlob}': ${describeDuckDbError(error)}`,
        [],
        {
          cause: error,
        },
      )
    }
    const hit = rows[0]
    return hit === undefined ? undefined : { row: Number(hit[0]), value: String(hit[1]) }
  } finally {
    await db.close()
  }
}

/**
 * Data files on disk as DuckDB sees them: which reader a path needs, which files a glob matches, and the table
 * function that reads them.
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { ScalemlError } from '../../core/errors.js'
import { describeDuckDbError } from '../../infra/duckdb.js'
import { quoteIdentifier, quoteLiteral } from './duckdb-sql.js'

/** How a file is read. */
export type FileFormat = { readonly kind: 'parquet' } | { readonly kind: 'csv'; readonly delimiter: ',' | '\t' }

const SUPPORTED = '.parquet, .csv, .tsv (optionally .gz or .zst compressed)'

/** The format of `path` from its extension (case-insensitive); a glob is judged by its pattern's extension. */
export function detectFormat(path: string): FileFormat {
  const lower = path.toLowerCase()
  if (lower.endsWith('.parquet')) return { kind: 'parquet' }
  const csv = /\.(csv|tsv)(\.gz|\.zst)?$/.exec(lower)
  if (csv !== null) return { kind: 'csv', delimiter: csv[1] === 'tsv' ? '\t' : ',' }
  throw new ScalemlError(
    'INVALID_ARGUMENT',
    `cannot read '${path}': unsupported file extension; expected one of ${SUPPORTED}`,
    [{ code: 'invalid_value', path: ['path'], message: `unsupported file extension`, expected: SUPPORTED }],
  )
}

/**
 * The files matching `pathOrGlob`, sorted by name (DuckDB's glob order, which is also the order rows are read in).
 * Throws SOURCE_NOT_FOUND when nothing matches. The list is fixed by the caller so that every pass reads the same
 * files even if new ones appear.
 */
export async function matchFiles(connection: DuckDBConnection, pathOrGlob: string): Promise<string[]> {
  let files: string[]
  try {
    const reader = await connection.runAndReadAll(`SELECT file FROM glob(${quoteLiteral(pathOrGlob)}) ORDER BY file`)
    files = reader.getRowsJS().map((row) => String(row[0]))
  } catch (error) {
    throw new ScalemlError(
      'SOURCE_NOT_FOUND',
      `cannot list files for '${pathOrGlob}': ${describeDuckDbError(error)}`,
      [],
      { cause: error },
    )
  }
  if (files.length === 0) {
    throw new ScalemlError('SOURCE_NOT_FOUND', `no file matches '${pathOrGlob}'`, [
      { code: 'invalid_value', path: ['path'], message: `no file matches '${pathOrGlob}'`, received: pathOrGlob },
    ])
  }
  return files
}

/** The DuckDB table function reading `files` (all of one format). */
export function relationSql(files: readonly string[], format: FileFormat): string {
  const list = `[${files.map(quoteLiteral).join(', ')}]`
  if (format.kind === 'parquet') return `read_parquet(${list})`
  // ML files have a header row; saying so avoids the sniffer guessing wrong on all-text files.
  return `read_csv(${list}, header = true, delim = ${quoteLiteral(format.delimiter)})`
}

/** A column of a relation as DuckDB binds it. */
export interface BoundColumn {
  readonly name: string
  /** DuckDB C API type id. */
  readonly typeId: number
  /** DuckDB's name for the type, for messages (`BIGINT`, `INTEGER[]`). */
  readonly duckdbType: string
  /** SQL producing the value: a quoted identifier or a parenthesized expression. */
  readonly sql: string
}

/**
 * The columns of `SELECT * FROM relation`, bound without reading data (Parquet footers; the CSV sniffer's sample).
 * Throws SOURCE_READ_FAILED naming `path` when DuckDB cannot read the files.
 */
export async function bindRelationColumns(
  connection: DuckDBConnection,
  relation: string,
  path: string,
): Promise<BoundColumn[]> {
  let prepared: Awaited<ReturnType<DuckDBConnection['prepare']>>
  try {
    prepared = await connection.prepare(`SELECT * FROM ${relation} LIMIT 0`)
  } catch (error) {
    throw new ScalemlError('SOURCE_READ_FAILED', `cannot read '${path}': ${describeDuckDbError(error)}`, [], {
      cause: error,
    })
  }
  try {
    const out: BoundColumn[] = []
    for (let i = 0; i < prepared.columnCount; i++) {
      const name = prepared.columnName(i)
      out.push({
        name,
        typeId: prepared.columnTypeId(i),
        duckdbType: prepared.columnType(i).toString(),
        sql: quoteIdentifier(name),
      })
    }
    return out
  } finally {
    prepared.destroySync()
  }
}

/** The UNKNOWN_COLUMN error for `name` at option path `at`, listing what exists. */
export function unknownColumn(
  name: string,
  path: string,
  available: readonly string[],
  at: readonly (string | number)[],
): ScalemlError {
  return new ScalemlError(
    'UNKNOWN_COLUMN',
    `unknown column '${name}' in '${path}'; available columns: ${available.join(', ')}`,
    [
      {
        code: 'unknown_field',
        path: at,
        message: `unknown column '${name}'`,
        expected: available.join(', '),
        received: name,
      },
    ],
  )
}

/**
 * The target of a training job: a column name or a SQL expression over the columns (`delay > 15`), and which columns
 * it reads so they are left out of the default features.
 * @module
 */
import type { Schema } from '../data/batch.js'

/** Name of the computed label column in training batches. */
export const TARGET_COLUMN = '__target'

/** A target resolved against a schema. */
export interface ResolvedTarget {
  /** What the user wrote. */
  readonly expression: string
  /** The SQL that computes it. */
  readonly sql: string
  /** Columns of the schema the expression reads. */
  readonly columns: readonly string[]
}

/** Quotes an identifier for DuckDB SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Resolves `target` (a column name or a SQL expression) against the schema. */
export function resolveTarget(target: string, schema: Schema): ResolvedTarget {
  const trimmed = target.trim()
  const exact = schema.fields.find((f) => f.name === trimmed)
  if (exact) return { expression: trimmed, sql: quoteIdent(exact.name), columns: [exact.name] }
  const columns = schema.fields.map((f) => f.name).filter((name) => referencesColumn(trimmed, name))
  return { expression: trimmed, sql: `(${trimmed})`, columns }
}

function referencesColumn(expression: string, column: string): boolean {
  if (expression.includes(quoteIdent(column))) return true
  const escaped = column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  // An identifier use: not inside a word and not inside a string literal on the same token.
  return new RegExp(`(^|[^A-Za-z0-9_"'])${escaped}($|[^A-Za-z0-9_"'])`).test(expression)
}

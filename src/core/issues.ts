/**
 * Validation problems as data (Zod-style issues): every check collects all problems with a path that names the
 * thing (column, row, field, JSON path), and one renderer per audience turns them into text.
 * @module
 */

/** The kind of a validation problem. */
export type IssueCode =
  | 'missing_field'
  | 'unknown_field'
  | 'invalid_type'
  | 'invalid_value'
  | 'out_of_range'
  | 'not_finite'
  | 'invalid_json'

/** One validation problem. */
export interface Issue {
  readonly code: IssueCode
  /** Where the problem is: `['instances', 2, 'distance']`, `['column', 'delay']`, `['row', 17]`. */
  readonly path: readonly (string | number)[]
  readonly message: string
  readonly expected?: string
  readonly received?: string
}

/** `['instances', 2, 'distance']` → `instances[2].distance`. */
export function toDotPath(path: readonly (string | number)[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? part : `.${part}`
  }
  return out
}

/** Renders issues for a terminal, one line each. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues
    .map((issue) => `  ✖ ${issue.message}${issue.path.length ? ` → at ${toDotPath(issue.path)}` : ''}`)
    .join('\n')
}

/** Describes a received value briefly for messages: type and a short rendering. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
  if (typeof value === 'number') return `number ${value}`
  if (typeof value === 'boolean') return `boolean ${value}`
  if (Array.isArray(value)) return 'array'
  return typeof value
}

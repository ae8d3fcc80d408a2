/**
 * Hyperparameters declared once (scikit-learn's `_parameter_constraints`): validation, CLI parsing, search-space
 * bounds and docs all derive from a constraint table.
 * @module
 */
import { ScalemlError } from './errors.js'
import type { Issue } from './issues.js'
import { describeValue } from './issues.js'

/** A constraint on one hyperparameter. */
export type Constraint =
  | { kind: 'real'; min?: number; max?: number; closed?: 'both' | 'left' | 'right' | 'neither'; nullable?: boolean }
  | { kind: 'int'; min?: number; max?: number; nullable?: boolean }
  | { kind: 'oneOf'; values: readonly (string | number | boolean)[] }
  | { kind: 'bool' }

/** A constraint table for a params type. */
export type Constraints<P> = { readonly [K in keyof P]-?: Constraint }

/** A real number; `closed` says which bounds are included (default both). */
export const real = (
  o: { min?: number; max?: number; closed?: 'both' | 'left' | 'right' | 'neither' } = {},
): Constraint => ({
  kind: 'real',
  ...o,
})
/** An integer within optional bounds (both included). */
export const int = (o: { min?: number; max?: number } = {}): Constraint => ({ kind: 'int', ...o })
/** One of a closed set of values. */
export const oneOf = (...values: (string | number | boolean)[]): Constraint => ({ kind: 'oneOf', values })
/** A boolean. */
export const bool = (): Constraint => ({ kind: 'bool' })
/** Allows `null` in addition to the constraint. */
export const nullable = (c: Constraint): Constraint => ({ ...c, nullable: true }) as Constraint

function describeConstraint(c: Constraint): string {
  switch (c.kind) {
    case 'real': {
      const closed = c.closed ?? 'both'
      const lo = c.min === undefined ? '(-inf' : `${closed === 'both' || closed === 'left' ? '[' : '('}${c.min}`
      const hi = c.max === undefined ? 'inf)' : `${c.max}${closed === 'both' || closed === 'right' ? ']' : ')'}`
      return `a float in the range ${lo}, ${hi}${c.nullable ? ' or null' : ''}`
    }
    case 'int': {
      const lo = c.min === undefined ? '(-inf' : `[${c.min}`
      const hi = c.max === undefined ? 'inf)' : `${c.max}]`
      return `an int in the range ${lo}, ${hi}${c.nullable ? ' or null' : ''}`
    }
    case 'oneOf':
      return `one of ${c.values.map((v) => JSON.stringify(v)).join(', ')}`
    case 'bool':
      return 'a boolean'
  }
}

function satisfies(c: Constraint, value: unknown): boolean {
  if (value === null && 'nullable' in c && c.nullable) return true
  switch (c.kind) {
    case 'real': {
      if (typeof value !== 'number' || Number.isNaN(value)) return false
      const closed = c.closed ?? 'both'
      if (c.min !== undefined && (closed === 'both' || closed === 'left' ? value < c.min : value <= c.min)) return false
      if (c.max !== undefined && (closed === 'both' || closed === 'right' ? value > c.max : value >= c.max))
        return false
      return true
    }
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return false
      return !(c.min !== undefined && value < c.min) && !(c.max !== undefined && value > c.max)
    case 'oneOf':
      return c.values.includes(value as string)
    case 'bool':
      return typeof value === 'boolean'
  }
}

/** `learning_rate` → `learningRate`. */
export function toCamelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase())
}

/**
 * Checks every parameter against its constraint and rejects unknown names; throws one `INVALID_PARAM` error listing
 * every problem, each message in scikit-learn's shape:
 * "The 'alpha' parameter of SgdClassifier must be a float in the range [0, inf). Got -1 instead."
 */
export function validateParams<P extends object>(owner: string, constraints: Constraints<P>, params: P): void {
  const issues: Issue[] = []
  const table = constraints as Record<string, Constraint>
  for (const [key, value] of Object.entries(params)) {
    const c = table[key]
    if (!c) {
      issues.push({
        code: 'unknown_field',
        path: [key],
        message: `${owner} has no parameter '${key}'. Known parameters: ${Object.keys(table).join(', ')}.`,
      })
      continue
    }
    if (value === undefined) continue
    if (!satisfies(c, value)) {
      issues.push({
        code: 'invalid_value',
        path: [key],
        message: `The '${key}' parameter of ${owner} must be ${describeConstraint(c)}. Got ${JSON.stringify(value) ?? String(value)} instead.`,
        expected: describeConstraint(c),
        received: describeValue(value),
      })
    }
  }
  if (issues.length > 0) {
    throw new ScalemlError('INVALID_PARAM', issues.map((i) => i.message).join('\n'), issues)
  }
}

/**
 * Turns `key=value` strings (CLI `--param`, snake_case or camelCase keys) into typed params using the constraint
 * table to decide how to read each value.
 */
export function parseParamAssignments<P extends object>(
  owner: string,
  constraints: Constraints<P>,
  assignments: readonly string[],
): Partial<P> {
  const table = constraints as Record<string, Constraint>
  const out: Record<string, unknown> = {}
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=')
    if (eq <= 0) {
      throw new ScalemlError('INVALID_PARAM', `--param expects key=value, got '${assignment}'.`)
    }
    const key = toCamelCase(assignment.slice(0, eq).trim())
    const raw = assignment.slice(eq + 1).trim()
    const c = table[key]
    if (!c) {
      throw new ScalemlError(
        'INVALID_PARAM',
        `${owner} has no parameter '${assignment.slice(0, eq)}'. Known parameters: ${Object.keys(table).join(', ')}.`,
      )
    }
    out[key] = parseValue(c, raw)
  }
  validateParams(owner, constraints, out as P)
  return out as Partial<P>
}

function parseValue(c: Constraint, raw: string): unknown {
  if (raw === 'null' || raw === 'None') return null
  switch (c.kind) {
    case 'real':
    case 'int': {
      // Left as text when it is not a number, so the message quotes what the user typed.
      const value = raw === '' ? Number.NaN : Number(raw)
      return Number.isNaN(value) ? raw : value
    }
    case 'bool':
      return raw === 'true' || raw === 'True' || raw === '1'
        ? true
        : raw === 'false' || raw === 'False' || raw === '0'
          ? false
          : raw
    case 'oneOf': {
      const match = c.values.find((v) => String(v) === raw)
      return match ?? raw
    }
  }
}

/** Normalizes an object's keys from snake_case to camelCase (for configs users write). */
export function camelCaseKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) out[toCamelCase(k)] = v
  return out
}

/**
 * Search spaces: which values each hyperparameter may take during tuning, written in JSON (`space.json`) or in
 * TypeScript with {@link uniform}, {@link loguniform}, {@link integer} and {@link categorical}. This module parses
 * and checks spaces (every problem collected, each naming the parameter), checks them against a model's constraint
 * table, draws seeded random values, and maps values to and from the numeric domain samplers work in (the log of
 * the value for log-scaled parameters, the choice index for categorical ones). It knows nothing of models beyond
 * their constraint tables and runs no training.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Issue } from '../core/issues.js'
import { describeValue } from '../core/issues.js'
import { type Constraint, toCamelCase, validateParams } from '../core/params.js'
import type { Random } from '../core/random.js'

/** A categorical choice (JSON scalars; `null` for nullable parameters such as `maxDepth`). */
export type Choice = string | number | boolean | null

/** A real value drawn uniformly from `[low, high)`. */
export interface UniformDistribution {
  readonly type: 'uniform'
  readonly low: number
  readonly high: number
}

/** A positive real value whose logarithm is uniform: as many draws in [0.001, 0.01) as in [0.01, 0.1). */
export interface LogUniformDistribution {
  readonly type: 'loguniform'
  readonly low: number
  readonly high: number
}

/** A whole number in `[low, high]` (both included) on a grid of `step`, optionally log-scaled. */
export interface IntDistribution {
  readonly type: 'int'
  readonly low: number
  readonly high: number
  /** Draw the logarithm uniformly (low ≥ 1; step must be 1); default false. */
  readonly log: boolean
  /** Grid step from `low`; default 1. */
  readonly step: number
}

/** One of a list of values, each equally likely under random sampling. */
export interface CategoricalDistribution {
  readonly type: 'categorical'
  readonly choices: readonly Choice[]
}

/** The values one hyperparameter may take. */
export type Distribution = UniformDistribution | LogUniformDistribution | IntDistribution | CategoricalDistribution

/** Hyperparameter name (camelCase, as in the model's constraint table) → its distribution. */
export type SearchSpace = Readonly<Record<string, Distribution>>

/** A configuration: hyperparameter name → value. */
export type ParamValues = Readonly<Record<string, Choice>>

/**
 * A real value uniform in `[low, high)`.
 * @example
 * const space = { subsample: uniform(0.5, 1) }
 */
export function uniform(low: number, high: number): UniformDistribution {
  return { type: 'uniform', low, high }
}

/**
 * A positive real value whose logarithm is uniform in `[log low, log high)`.
 * @example
 * const space = { learningRate: loguniform(0.01, 0.3) }
 */
export function loguniform(low: number, high: number): LogUniformDistribution {
  return { type: 'loguniform', low, high }
}

/**
 * A whole number in `[low, high]`; `log: true` draws its logarithm uniformly (for counts spanning magnitudes).
 * @example
 * const space = { maxLeaves: integer(8, 256, { log: true }) }
 */
export function integer(low: number, high: number, options: { log?: boolean; step?: number } = {}): IntDistribution {
  return { type: 'int', low, high, log: options.log ?? false, step: options.step ?? 1 }
}

/**
 * One of `choices`.
 * @example
 * const space = { penalty: categorical(['l2', 'l1', 'elasticnet']) }
 */
export function categorical(choices: readonly Choice[]): CategoricalDistribution {
  return { type: 'categorical', choices: [...choices] }
}

const TYPES = ['uniform', 'loguniform', 'int', 'categorical'] as const
const FORMS =
  '{ "type": "uniform" | "loguniform", "low": <number>, "high": <number> }, { "type": "int", "low": <int>, "high": <int>, "log"?: <bool>, "step"?: <int> } or { "type": "categorical", "choices": [<value>, ...] }'

/**
 * Parses a search space written as JSON (already `JSON.parse`d): an object mapping parameter names (camelCase or
 * snake_case) to distributions. Every problem is collected and thrown at once as `INVALID_ARGUMENT`, each issue
 * pathed `[<name>, <field>]`; `source` (a file name) prefixes the message.
 *
 * @example
 * const space = parseSearchSpace(JSON.parse(await readFile('space.json', 'utf8')), 'space.json')
 */
export function parseSearchSpace(value: unknown, source = 'the search space'): SearchSpace {
  const issues: Issue[] = []
  if (!isRecord(value)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${source} must be a JSON object mapping hyperparameter names to distributions; got ${describeValue(value)}.`,
      [{ code: 'invalid_type', path: [], message: 'expected an object', received: describeValue(value) }],
    )
  }
  const entries = Object.entries(value)
  if (entries.length === 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${source} is empty: name at least one hyperparameter, e.g. { "learningRate": { "type": "loguniform", "low": 0.01, "high": 0.3 } }.`,
      [{ code: 'missing_field', path: [], message: 'no hyperparameters' }],
    )
  }
  const space: Record<string, Distribution> = {}
  const spelledAs = new Map<string, string>()
  for (const [raw, spec] of entries) {
    const name = toCamelCase(raw)
    const earlier = spelledAs.get(name)
    if (earlier !== undefined) {
      issues.push({
        code: 'invalid_value',
        path: [raw],
        message: `'${raw}' and '${earlier}' name the same hyperparameter '${name}'; keep one.`,
      })
      continue
    }
    spelledAs.set(name, raw)
    const distribution = parseDistribution(raw, spec, issues)
    if (distribution !== undefined) space[name] = distribution
  }
  if (issues.length > 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${source} is not a valid search space:\n${issues.map((i) => `  ✖ ${i.message}`).join('\n')}`,
      issues,
    )
  }
  return space
}

/** Checks one distribution of a TypeScript-built space the way {@link parseSearchSpace} checks JSON. */
export function checkSearchSpace(space: SearchSpace, source = 'the search space'): SearchSpace {
  return parseSearchSpace(space as unknown, source)
}

function parseDistribution(name: string, spec: unknown, issues: Issue[]): Distribution | undefined {
  const at = (field?: string): (string | number)[] => (field === undefined ? [name] : [name, field])
  const fail = (message: string, field?: string, received?: unknown): undefined => {
    issues.push({
      code: 'invalid_value',
      path: at(field),
      message,
      expected: FORMS,
      ...(received === undefined ? {} : { received: describeValue(received) }),
    })
    return undefined
  }
  if (!isRecord(spec)) return fail(`'${name}' must be a distribution object such as ${FORMS}.`, undefined, spec)
  const type = spec['type']
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    return fail(
      `'${name}' has type ${JSON.stringify(type) ?? 'undefined'}; expected one of ${TYPES.map((t) => `"${t}"`).join(', ')}.`,
      'type',
      type,
    )
  }
  const allowed =
    type === 'categorical'
      ? ['type', 'choices']
      : type === 'int'
        ? ['type', 'low', 'high', 'log', 'step']
        : ['type', 'low', 'high']
  for (const key of Object.keys(spec)) {
    if (!allowed.includes(key))
      fail(`'${name}' (${type}) has an unknown field '${key}'; allowed: ${allowed.join(', ')}.`, key)
  }
  if (type === 'categorical') {
    const choices = spec['choices']
    if (!Array.isArray(choices) || choices.length === 0) {
      return fail(`'${name}' needs "choices": a non-empty array of values.`, 'choices', choices)
    }
    const seen = new Set<string>()
    for (const [i, choice] of choices.entries()) {
      const scalar =
        choice === null ||
        typeof choice === 'string' ||
        typeof choice === 'boolean' ||
        (typeof choice === 'number' && Number.isFinite(choice))
      if (!scalar)
        return fail(`'${name}' choice ${i} must be a string, finite number, boolean or null.`, 'choices', choice)
      const key = JSON.stringify(choice)
      if (seen.has(key)) return fail(`'${name}' lists the choice ${key} twice.`, 'choices')
      seen.add(key)
    }
    return { type, choices: [...(choices as Choice[])] }
  }
  const low = spec['low']
  const high = spec['high']
  const badLow = typeof low !== 'number' || !Number.isFinite(low)
  const badHigh = typeof high !== 'number' || !Number.isFinite(high)
  if (badLow) fail(`'${name}' needs a finite number "low".`, 'low', low)
  if (badHigh) fail(`'${name}' needs a finite number "high".`, 'high', high)
  if (badLow || badHigh) return undefined
  const lo = low as number
  const hi = high as number
  if (type === 'uniform' || type === 'loguniform') {
    if (!(lo < hi)) return fail(`'${name}' has low ${lo} ≥ high ${hi}; low must be below high.`, 'low')
    if (type === 'loguniform' && !(lo > 0)) {
      return fail(`'${name}' is loguniform, so low must be > 0; got ${lo}.`, 'low')
    }
    return { type, low: lo, high: hi }
  }
  const log = spec['log'] ?? false
  const step = spec['step'] ?? 1
  if (typeof log !== 'boolean') return fail(`'${name}' "log" must be true or false.`, 'log', log)
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 1) {
    return fail(`'${name}' "step" must be a whole number ≥ 1.`, 'step', step)
  }
  if (!Number.isInteger(lo) || !Number.isInteger(hi)) {
    return fail(`'${name}' is an int distribution, so low and high must be whole numbers; got ${lo} and ${hi}.`, 'low')
  }
  if (lo > hi) return fail(`'${name}' has low ${lo} > high ${hi}.`, 'low')
  if (log && lo < 1) return fail(`'${name}' is log-scaled, so low must be ≥ 1; got ${lo}.`, 'low')
  if (log && step !== 1) return fail(`'${name}' is log-scaled, so step must be 1; got ${step}.`, 'step')
  if ((hi - lo) % step !== 0)
    return fail(`'${name}': high − low (${hi - lo}) must be a multiple of step ${step}.`, 'step')
  return { type: 'int', low: lo, high: hi, log, step }
}

/** What a space is checked against: a model's name (for messages) and constraint table. */
export interface ParamTable {
  /** Shown in messages, e.g. `gbdt-classifier`. */
  readonly owner: string
  readonly constraints: Readonly<Record<string, Constraint>>
}

/**
 * Checks that every parameter of `space` is one the model has and that every value the space can produce is one the
 * model accepts: both ends of a numeric range, every categorical choice, whole numbers for integer parameters.
 * Throws one `INVALID_PARAM` listing every problem, each message naming the parameter.
 *
 * @example
 * checkSpaceForModel(space, { owner: 'gbdt-classifier', constraints: modelEntry('gbdt-classifier').constraints })
 */
export function checkSpaceForModel(space: SearchSpace, table: ParamTable): void {
  const issues: Issue[] = []
  const known = Object.keys(table.constraints)
  for (const [name, distribution] of Object.entries(space)) {
    const constraint = table.constraints[name]
    if (constraint === undefined) {
      issues.push({
        code: 'unknown_field',
        path: [name],
        message: `The search space names '${name}', which ${table.owner} does not have. Known parameters: ${known.join(', ')}.`,
      })
      continue
    }
    if (constraint.kind === 'int' && (distribution.type === 'uniform' || distribution.type === 'loguniform')) {
      issues.push({
        code: 'invalid_type',
        path: [name, 'type'],
        message: `'${name}' of ${table.owner} takes whole numbers; use { "type": "int", … } instead of "${distribution.type}".`,
        expected: 'int',
        received: distribution.type,
      })
      continue
    }
    if ((constraint.kind === 'oneOf' || constraint.kind === 'bool') && distribution.type !== 'categorical') {
      issues.push({
        code: 'invalid_type',
        path: [name, 'type'],
        message: `'${name}' of ${table.owner} takes ${constraint.kind === 'bool' ? 'true or false' : `one of ${constraint.values.map((v) => JSON.stringify(v)).join(', ')}`}; use { "type": "categorical", "choices": […] }.`,
        expected: 'categorical',
        received: distribution.type,
      })
      continue
    }
    const values: [string, Choice][] =
      distribution.type === 'categorical'
        ? distribution.choices.map((c, i) => [`choice ${i}`, c])
        : [
            ['low', distribution.low],
            ['high', distribution.high],
          ]
    for (const [where, value] of values) {
      try {
        validateParams(table.owner, { [name]: constraint }, { [name]: value })
      } catch (error) {
        const message = error instanceof ScalemlError ? error.message : String(error)
        issues.push({
          code: 'out_of_range',
          path: [name, where],
          message: `search space '${name}' ${where}: ${message}`,
        })
      }
    }
  }
  if (issues.length > 0) {
    throw new ScalemlError(
      'INVALID_PARAM',
      `The search space does not fit ${table.owner}:\n${issues.map((i) => `  ✖ ${i.message}`).join('\n')}`,
      issues,
    )
  }
}

/**
 * The numeric domain a sampler works in for `d`: `[low, high]` of the value, or of its logarithm for log-scaled
 * distributions; for int distributions widened by half a step each side, so every grid value owns an interval of
 * equal width (Optuna's convention); for categorical ones the choice index in `[0, n)`.
 */
export function internalBounds(d: Distribution): { readonly low: number; readonly high: number } {
  switch (d.type) {
    case 'uniform':
      return { low: d.low, high: d.high }
    case 'loguniform':
      return { low: Math.log(d.low), high: Math.log(d.high) }
    case 'int': {
      const low = d.low - d.step / 2
      const high = d.high + d.step / 2
      return d.log ? { low: Math.log(low), high: Math.log(high) } : { low, high }
    }
    case 'categorical':
      return { low: 0, high: d.choices.length }
  }
}

/** A value of `d` in the sampler's domain (see {@link internalBounds}); categorical values become their index. */
export function toInternal(d: Distribution, value: Choice): number {
  switch (d.type) {
    case 'uniform':
      return value as number
    case 'loguniform':
      return Math.log(value as number)
    case 'int':
      return d.log ? Math.log(value as number) : (value as number)
    case 'categorical': {
      const key = JSON.stringify(value)
      return d.choices.findIndex((c) => JSON.stringify(c) === key)
    }
  }
}

/**
 * The value of `d` at internal coordinate `x`: the exponential for log scales, and for int distributions the
 * nearest grid value (clipped into `[low, high]`); for categorical ones the choice at index `floor(x)`.
 */
export function fromInternal(d: Distribution, x: number): Choice {
  switch (d.type) {
    case 'uniform':
      return Math.min(Math.max(x, d.low), d.high)
    case 'loguniform':
      return Math.min(Math.max(Math.exp(x), d.low), d.high)
    case 'int': {
      const v = d.log ? Math.exp(x) : x
      const k = Math.round((v - d.low) / d.step)
      return Math.min(Math.max(d.low + k * d.step, d.low), d.high)
    }
    case 'categorical':
      return d.choices[Math.min(Math.max(Math.floor(x), 0), d.choices.length - 1)]!
  }
}

/** One value of `d` drawn with `random`: uniform over the sampler's domain (so log-uniform for log scales). */
export function sampleDistribution(d: Distribution, random: Random): Choice {
  if (d.type === 'categorical') return d.choices[random.nextInt(d.choices.length)]!
  if (d.type === 'int' && !d.log) return d.low + random.nextInt((d.high - d.low) / d.step + 1) * d.step
  const { low, high } = internalBounds(d)
  return fromInternal(d, low + random.next() * (high - low))
}

/**
 * One configuration drawn independently per parameter, in the space's key order.
 * @example
 * const params = sampleSpace({ alpha: loguniform(1e-6, 1e-1) }, new Random(7))
 */
export function sampleSpace(space: SearchSpace, random: Random): Record<string, Choice> {
  const out: Record<string, Choice> = {}
  for (const [name, d] of Object.entries(space)) out[name] = sampleDistribution(d, random)
  return out
}

/** True when `value` is one `d` can produce. */
export function contains(d: Distribution, value: Choice): boolean {
  switch (d.type) {
    case 'uniform':
    case 'loguniform':
      return typeof value === 'number' && value >= d.low && value <= d.high
    case 'int':
      return (
        typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= d.low &&
        value <= d.high &&
        (value - d.low) % d.step === 0
      )
    case 'categorical':
      return toInternal(d, value) >= 0
  }
}

/** The space in a canonical JSON form (sorted names, every default spelled out): equal spaces, equal text. */
export function canonicalSpace(space: SearchSpace): Record<string, Distribution> {
  const out: Record<string, Distribution> = {}
  for (const name of Object.keys(space).sort()) {
    const d = space[name]!
    out[name] =
      d.type === 'categorical'
        ? { type: d.type, choices: [...d.choices] }
        : d.type === 'int'
          ? { type: 'int', low: d.low, high: d.high, log: d.log ?? false, step: d.step ?? 1 }
          : { type: d.type, low: d.low, high: d.high }
  }
  return out
}

/**
 * How `given` differs from `stored`, one line per parameter (empty when they are the same space): used to refuse
 * resuming a study with another space.
 */
export function spaceDifferences(stored: SearchSpace, given: SearchSpace): string[] {
  const a = canonicalSpace(stored)
  const b = canonicalSpace(given)
  const out: string[] = []
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[name]
    const y = b[name]
    if (x === undefined) out.push(`'${name}' is new (${JSON.stringify(y)})`)
    else if (y === undefined) out.push(`'${name}' is missing (stored: ${JSON.stringify(x)})`)
    else if (JSON.stringify(x) !== JSON.stringify(y))
      out.push(`'${name}' changed from ${JSON.stringify(x)} to ${JSON.stringify(y)}`)
  }
  return out
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

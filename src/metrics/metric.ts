/**
 * The contract every streaming metric follows, and the argument checks they share. A metric is an accumulator:
 * `update` folds in one batch of typed arrays without allocating per row, `merge` folds in another accumulator
 * (shards combine exactly), `value` reads the metric at any time, `toJSON`/`fromJSON` checkpoint it.
 * This module must not know any concrete metric.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Issue } from '../core/issues.js'

/** A typed array of numbers a metric can read (labels, scores, predictions). */
export type NumericArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array

/** The serialized form of a metric: `kind` names the class, `state` is plain JSON (non-finite numbers as strings). */
export interface MetricJSON {
  readonly kind: string
  readonly version: 1
  readonly params: Readonly<Record<string, unknown>>
  readonly state: Readonly<Record<string, unknown>>
}

/**
 * A mergeable streaming metric.
 *
 * Laws (checked for every metric by `describeMetricContract` in `metric.contract.ts`): updating with many small chunks
 * equals one update with their concatenation; `a.merge(b)` equals one accumulator updated with both inputs;
 * `fromJSON(JSON.parse(JSON.stringify(m.toJSON())))` has the same value and keeps accumulating identically.
 */
export interface StreamingMetric<V = number> {
  /** Stable name of the metric class, also `toJSON().kind`. */
  readonly kind: string
  /** Rows folded in so far (including rows of weight 0). */
  readonly rows: number
  /**
   * Folds in one batch. `yPred` is whatever the metric reads per row (scores, probabilities, predictions);
   * `sampleWeight`, when given, holds one finite weight ≥ 0 per row. Shapes and weights are checked before any row
   * is folded in; a bad value (`INVALID_DATA`) may surface after earlier rows of the batch were counted, so discard
   * an accumulator whose update threw.
   */
  update(yTrue: NumericArray, yPred: NumericArray, sampleWeight?: Float64Array): void
  /** Folds another accumulator of the same kind and parameters into this one; returns `this`. */
  merge(other: this): this
  /** The metric over every row seen so far (NaN when it is undefined, e.g. no rows). */
  value(): V
  /** Forgets every row. */
  reset(): void
  /** A JSON-safe snapshot of the parameters and state. */
  toJSON(): MetricJSON
}

/**
 * Checks the shapes of one `update` call: `yPred` holds `predPerRow` values per row and the weights, when given,
 * are one finite non-negative number per row. Throws `INVALID_ARGUMENT` (shapes) or `INVALID_DATA` (weights).
 */
export function checkUpdateShapes(
  owner: string,
  args: { yTrue: NumericArray; yPred: NumericArray; sampleWeight: Float64Array | undefined; predPerRow?: number },
): void {
  const n = args.yTrue.length
  const per = args.predPerRow ?? 1
  if (args.yPred.length !== n * per) {
    const what = per === 1 ? `${n} (one per row)` : `${n * per} (${n} rows × ${per})`
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${owner}.update: yPred has ${args.yPred.length} values for ${n} rows of yTrue; expected ${what}.`,
    )
  }
  const w = args.sampleWeight
  if (w === undefined) return
  if (w.length !== n) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${owner}.update: sampleWeight has ${w.length} values for ${n} rows of yTrue; expected one weight per row.`,
    )
  }
  for (let i = 0; i < n; i++) {
    const wi = w[i]!
    // `!(wi >= 0)` is also true for NaN.
    if (!(wi >= 0) || wi === Number.POSITIVE_INFINITY) {
      throw new ScalemlError(
        'INVALID_DATA',
        `${owner}.update: sampleWeight[${i}] is ${wi}; expected a finite number ≥ 0.`,
      )
    }
  }
}

/** Throws `INVALID_ARGUMENT` unless `other` was built with the same parameters (so merging is meaningful). */
export function checkMergeable(
  owner: string,
  mine: Readonly<Record<string, unknown>>,
  theirs: Readonly<Record<string, unknown>>,
): void {
  const a = JSON.stringify(mine)
  const b = JSON.stringify(theirs)
  if (a !== b) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${owner}.merge: parameters differ (${a} vs ${b}); only like metrics merge.`,
    )
  }
}

/** Encodes a number for JSON: finite numbers as they are, ±Infinity and NaN as strings (JSON has no such numbers). */
export function encodeNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x)
}

/** Inverse of {@link encodeNumber}; returns undefined for anything else. */
export function decodeNumber(x: unknown): number | undefined {
  if (typeof x === 'number') return x
  if (x === 'Infinity') return Number.POSITIVE_INFINITY
  if (x === '-Infinity') return Number.NEGATIVE_INFINITY
  if (x === 'NaN') return Number.NaN
  return undefined
}

/** Reads serialized metrics: every accessor names the JSON path of a bad field in its `INVALID_INPUT` error. */
export class MetricJSONReader {
  readonly #owner: string
  readonly #json: MetricJSON

  /** Checks `kind` and `version` of `json` before any field is read. */
  constructor(owner: string, kind: string, json: unknown) {
    this.#owner = owner
    if (typeof json !== 'object' || json === null) this.#fail([], 'an object', json)
    const j = json as Record<string, unknown>
    if (j['kind'] !== kind) this.#fail(['kind'], JSON.stringify(kind), j['kind'])
    if (j['version'] !== 1) this.#fail(['version'], '1', j['version'])
    for (const key of ['params', 'state']) {
      if (typeof j[key] !== 'object' || j[key] === null) this.#fail([key], 'an object', j[key])
    }
    this.#json = json as MetricJSON
  }

  /** A number field of `params` or `state` (non-finite values may be encoded as strings). */
  number(section: 'params' | 'state', key: string): number {
    const raw = this.#json[section][key]
    const x = decodeNumber(raw)
    if (x === undefined) this.#fail([section, key], 'a number', raw)
    return x
  }

  /** An optional field of `params`, returned as stored. */
  param(key: string): unknown {
    return this.#json.params[key]
  }

  /** An array of numbers (non-finite values may be encoded as strings) of `state`, of `length` when given. */
  numbers(key: string, length?: number): Float64Array {
    const raw = this.#json.state[key]
    if (!Array.isArray(raw)) this.#fail(['state', key], 'an array of numbers', raw)
    if (length !== undefined && raw.length !== length) {
      this.#fail(['state', key], `an array of ${length} numbers`, `${raw.length} values`)
    }
    const out = new Float64Array(raw.length)
    for (let i = 0; i < raw.length; i++) {
      const x = decodeNumber(raw[i])
      if (x === undefined) this.#fail(['state', key, i], 'a number', raw[i])
      out[i] = x
    }
    return out
  }

  /** A field of `state` as stored (nested metric snapshots). */
  state(key: string): unknown {
    return this.#json.state[key]
  }

  /** An array field of `state` as stored (`INVALID_INPUT` if it is not an array of `length` when given). */
  array(key: string, length?: number): readonly unknown[] {
    const raw = this.#json.state[key]
    if (!Array.isArray(raw) || (length !== undefined && raw.length !== length)) {
      this.#fail(['state', key], length === undefined ? 'an array' : `an array of ${length} values`, raw)
    }
    return raw
  }

  /** An optional array of `state` (absent or null → undefined). */
  optionalNumbers(key: string, length?: number): Float64Array | undefined {
    const raw = this.#json.state[key]
    return raw === undefined || raw === null ? undefined : this.numbers(key, length)
  }

  #fail(path: readonly (string | number)[], expected: string, received: unknown): never {
    const where = path.length === 0 ? 'the value' : path.join('.')
    const got = typeof received === 'string' ? JSON.stringify(received) : String(received)
    const message = `${this.#owner}.fromJSON: ${where} must be ${expected}; got ${got}.`
    const issue: Issue = { code: 'invalid_value', path, message, expected }
    throw new ScalemlError('INVALID_INPUT', message, [issue])
  }
}

/** Plain-array copy of a typed array, with non-finite values encoded (for `toJSON`). */
export function toJSONArray(values: ArrayLike<number>, length = values.length): (number | string)[] {
  const out: (number | string)[] = new Array(length)
  for (let i = 0; i < length; i++) out[i] = encodeNumber(values[i]!)
  return out
}

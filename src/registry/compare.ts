/**
 * Two registered versions side by side, from their manifests alone: what they are, their metrics (with the
 * difference) and their hyperparameters (nested objects flattened to dotted names, marked same or different).
 * @module
 */
import type { JsonValue } from '../core/codec.js'
import type { Manifest } from './manifest.js'

/** The identity and headline facts of one compared version. */
export interface ComparedModel {
  readonly name: string
  readonly version: number
  readonly modelKind: string
  readonly task: Manifest['task']
  readonly created: string
  /** Rows trained on, when the lineage records it. */
  readonly rows?: number
  readonly features: number
}

/** One metric of both versions; a side is absent when that version has no such metric. */
export interface ComparedMetric {
  readonly name: string
  readonly a?: number
  readonly b?: number
  /** `b - a`, when both have it. */
  readonly difference?: number
}

/** One hyperparameter of both versions; a side is absent when that version does not set it. */
export interface ComparedParam {
  readonly name: string
  readonly a?: JsonValue
  readonly b?: JsonValue
  readonly same: boolean
}

/** The result of {@link compareManifests}. */
export interface ModelComparison {
  readonly a: ComparedModel
  readonly b: ComparedModel
  /** Every metric either version has, by name. */
  readonly metrics: readonly ComparedMetric[]
  /** Every hyperparameter either version sets, by name. */
  readonly params: readonly ComparedParam[]
  /** Feature columns only one of them reads. */
  readonly features: { readonly onlyA: readonly string[]; readonly onlyB: readonly string[] }
}

/**
 * Compares two manifests (`a` is the baseline: differences are `b - a`).
 *
 * @example
 * const { metrics } = compareManifests(await registry.show('flights:1'), await registry.show('flights:2'))
 */
export function compareManifests(a: Manifest, b: Manifest): ModelComparison {
  const metricNames = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].sort()
  const metrics = metricNames.map((name): ComparedMetric => {
    const x = a.metrics[name]
    const y = b.metrics[name]
    return {
      name,
      ...(x === undefined ? {} : { a: x }),
      ...(y === undefined ? {} : { b: y }),
      ...(x !== undefined && y !== undefined ? { difference: y - x } : {}),
    }
  })
  const flatA = flatten(a.params)
  const flatB = flatten(b.params)
  const paramNames = [...new Set([...flatA.keys(), ...flatB.keys()])].sort()
  const params = paramNames.map((name): ComparedParam => {
    const x = flatA.get(name)
    const y = flatB.get(name)
    return {
      name,
      ...(x === undefined ? {} : { a: x }),
      ...(y === undefined ? {} : { b: y }),
      same: x !== undefined && y !== undefined && canonical(x) === canonical(y),
    }
  })
  const featuresA = new Set(a.features)
  const featuresB = new Set(b.features)
  return {
    a: summarize(a),
    b: summarize(b),
    metrics,
    params,
    features: {
      onlyA: a.features.filter((f) => !featuresB.has(f)),
      onlyB: b.features.filter((f) => !featuresA.has(f)),
    },
  }
}

function summarize(m: Manifest): ComparedModel {
  return {
    name: m.name,
    version: m.version,
    modelKind: m.modelKind,
    task: m.task,
    created: m.created,
    ...(typeof m.lineage.rows === 'number' ? { rows: m.lineage.rows } : {}),
    features: m.features.length,
  }
}

/** Plain objects become dotted names (`schedule.eta0`); arrays and scalars are values. */
function flatten(params: { readonly [key: string]: JsonValue }): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>()
  const walk = (value: JsonValue, prefix: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value as { readonly [key: string]: JsonValue })
      if (entries.length === 0 && prefix !== '') out.set(prefix, value)
      for (const [k, v] of entries) walk(v, prefix === '' ? k : `${prefix}.${k}`)
      return
    }
    out.set(prefix, value)
  }
  walk(params, '')
  return out
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` compare equal. */
function canonical(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${(value as readonly JsonValue[]).map(canonical).join(',')}]`
  const entries = Object.entries(value as { readonly [key: string]: JsonValue }).sort(([x], [y]) => (x < y ? -1 : 1))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
}

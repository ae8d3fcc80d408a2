/**
 * The closed table from a serialized transformer's `kind` to the function that restores it. Deserializing reads
 * data only: a JSON document can pick one of these kinds, never name code to load.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { DatetimeParts } from './datetime-parts.js'
import { FeatureHasher } from './hasher.js'
import { OneHotEncoder } from './one-hot-encoder.js'
import { OrdinalEncoder } from './ordinal-encoder.js'
import { Passthrough } from './passthrough.js'
import { StandardScaler } from './standard-scaler.js'
import type { Transformer, TransformerJSON } from './transformer.js'

/** `kind → fromJSON` for every transformer scaleml can load. */
export const TRANSFORMER_CATALOG: ReadonlyMap<string, (json: TransformerJSON) => Transformer> = new Map<
  string,
  (json: TransformerJSON) => Transformer
>([
  ['standard-scaler', StandardScaler.fromJSON],
  ['one-hot', OneHotEncoder.fromJSON],
  ['ordinal', OrdinalEncoder.fromJSON],
  ['datetime-parts', DatetimeParts.fromJSON],
  ['feature-hasher', FeatureHasher.fromJSON],
  ['passthrough', Passthrough.fromJSON],
])

/**
 * Restores a transformer from its JSON; `where` names it in messages (`steps[2]`). Throws `ARTIFACT_INVALID` for a
 * non-object or an unknown kind, listing the known kinds.
 *
 * @example
 * const scaler = transformerFromJSON(JSON.parse(text), 'steps[0]')
 */
export function transformerFromJSON(json: unknown, where = 'transformer'): Transformer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ScalemlError('ARTIFACT_INVALID', `Invalid pipeline JSON: ${where} must be an object with a "kind".`)
  }
  const kind = (json as { kind?: unknown }).kind
  const fromJSON = typeof kind === 'string' ? TRANSFORMER_CATALOG.get(kind) : undefined
  if (fromJSON === undefined) {
    throw new ScalemlError(
      'ARTIFACT_INVALID',
      `Invalid pipeline JSON: ${where} has kind ${JSON.stringify(kind) ?? 'undefined'}, which is not a known transformer (known: ${[...TRANSFORMER_CATALOG.keys()].join(', ')}).`,
    )
  }
  return fromJSON(json as TransformerJSON)
}

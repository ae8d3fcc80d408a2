/**
 * The default preprocessing for a list of feature columns, chosen from their types: numbers and booleans are
 * standardized, strings one-hot encoded over their most frequent values, timestamps split into hour, day of week
 * and month. Returns an unfitted pipeline; it reads no data.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Field, Schema } from '../data/batch.js'
import { type DatetimeEncoding, DatetimeParts } from './datetime-parts.js'
import { FeatureHasher } from './hasher.js'
import { DEFAULT_MAX_CATEGORIES, OneHotEncoder } from './one-hot-encoder.js'
import { OrdinalEncoder } from './ordinal-encoder.js'
import { Passthrough } from './passthrough.js'
import { Pipeline } from './pipeline.js'
import { StandardScaler } from './standard-scaler.js'
import type { Transformer } from './transformer.js'

/** Options of {@link autoPipeline}. */
export interface AutoPipelineOptions {
  /** Kept categories per string feature (default 256). */
  readonly maxCategories?: number
  /** Encoding of timestamp features (default 'onehot'). */
  readonly datetimeEncoding?: DatetimeEncoding
  /**
   * String columns to hash instead of one-hot encoding, with the number of hashed columns each (scikit-learn's
   * `FeatureHasher`): for high-cardinality categoricals, where a vocabulary would not fit.
   */
  readonly hashed?: ReadonlyMap<string, number>
  /**
   * Who reads the features (default 'linear'): 'linear' standardizes numbers and one-hot encodes categories and
   * calendar parts; 'trees' keeps numbers as they are (missing as NaN), gives categories ordinal codes (the tree
   * splits on them as categories) and calendar parts as numbers (hour, day of week, month).
   */
  readonly encoding?: 'linear' | 'trees'
}

/**
 * One step per feature, in the order of `features` (so output features follow it): float/int/bool →
 * `StandardScaler`, string → `OneHotEncoder`, timestamp → `DatetimeParts(hour, dayOfWeek, month)`.
 * Throws `UNKNOWN_COLUMN` for a feature the schema lacks, listing the schema's columns.
 *
 * @example
 * const pipeline = autoPipeline(await source.schema(), ['distance', 'origin', 'date'])
 * await pipeline.fit(source)
 */
export function autoPipeline(schema: Schema, features: readonly string[], options: AutoPipelineOptions = {}): Pipeline {
  if (features.length === 0) {
    throw new ScalemlError('INVALID_ARGUMENT', 'autoPipeline needs at least one feature column.')
  }
  const byName = new Map(schema.fields.map((f) => [f.name, f]))
  const inputs: Field[] = []
  const steps: Transformer[] = []
  for (const name of features) {
    const field = byName.get(name)
    if (field === undefined) {
      throw new ScalemlError(
        'UNKNOWN_COLUMN',
        `Feature "${name}" is not a column of the data (columns: ${schema.fields.map((f) => f.name).join(', ') || 'none'}).`,
      )
    }
    if (inputs.some((f) => f.name === name)) {
      throw new ScalemlError('INVALID_ARGUMENT', `Feature "${name}" is listed twice.`)
    }
    if (options.hashed?.has(name) && options.encoding === 'trees') {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Feature "${name}" cannot be hashed for a tree model: trees split on its categories directly (the ${DEFAULT_MAX_CATEGORIES} most frequent get their own code); drop --hash.`,
      )
    }
    if (options.hashed?.has(name) && field.type !== 'string') {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Feature "${name}" is ${field.type}; only string features can be hashed.`,
      )
    }
    inputs.push(field)
    steps.push(stepFor(field, options))
  }
  return new Pipeline({ inputs, steps })
}

function stepFor(field: Field, options: AutoPipelineOptions): Transformer {
  if (options.encoding === 'trees') return treeStepFor(field, options)
  switch (field.type) {
    case 'float':
    case 'int':
    case 'bool':
      return new StandardScaler({ columns: [field.name] })
    case 'string': {
      const width = options.hashed?.get(field.name)
      if (width !== undefined) return new FeatureHasher({ column: field.name, nFeatures: width })
      return new OneHotEncoder({ column: field.name, maxCategories: options.maxCategories ?? DEFAULT_MAX_CATEGORIES })
    }
    case 'timestamp':
      return new DatetimeParts({ column: field.name, encoding: options.datetimeEncoding ?? 'onehot' })
  }
}

function treeStepFor(field: Field, options: AutoPipelineOptions): Transformer {
  switch (field.type) {
    case 'float':
    case 'int':
    case 'bool':
      return new Passthrough({ columns: [field.name] })
    case 'string':
      return new OrdinalEncoder({ column: field.name, maxCategories: options.maxCategories ?? DEFAULT_MAX_CATEGORIES })
    case 'timestamp':
      return new DatetimeParts({ column: field.name, encoding: 'ordinal' })
  }
}

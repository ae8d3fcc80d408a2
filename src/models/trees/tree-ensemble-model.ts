/**
 * A fitted {@link TreeEnsemble} as an estimator: `TreeEnsembleClassifier` ('binary:logistic', 'multi:softprob')
 * and `TreeEnsembleRegressor` ('reg:squarederror', 'reg:pseudohubererror') implement the Classifier / Regressor
 * contracts for prediction and serialization, plus TreeSHAP contributions. They wrap ensembles that were trained
 * elsewhere (an imported XGBoost model) and cannot learn: `partialFit` throws.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { type Constraints, oneOf, validateParams } from '../../core/params.js'
import type { Classifier, EstimatorJSON, Regressor } from '../estimator.js'
import { classIndicesInto, isClassification, probabilitiesInto } from './predict/link.js'
import { predictMarginsInto, predictRowInto } from './predict/traverse.js'
import {
  ensembleFromJSON,
  ensembleToJSON,
  type TreeEnsemble,
  type TreeEnsembleJSON,
  validateEnsemble,
} from './tree-ensemble.js'
import { type TreeShapWorkspace, treeShapInto, treeShapWorkspace } from './tree-shap.js'

/** Hyperparameters of a wrapped ensemble (prediction options only: nothing here changes what was learned). */
export type TreeEnsembleParams = {
  /**
   * 'float64' (default) sums leaf values in double precision; 'float32' rounds after every addition as XGBoost
   * does, so an imported model's margins equal XGBoost's `output_margin` bit for bit.
   */
  readonly accumulate: 'float64' | 'float32'
}

/** Defaults of {@link TreeEnsembleParams}. */
export const TREE_ENSEMBLE_DEFAULTS: TreeEnsembleParams = { accumulate: 'float64' }

/** Constraint table of {@link TreeEnsembleParams}. */
export const TREE_ENSEMBLE_CONSTRAINTS: Constraints<TreeEnsembleParams> = { accumulate: oneOf('float64', 'float32') }

/** Catalog kind of {@link TreeEnsembleClassifier}. */
export const TREE_ENSEMBLE_CLASSIFIER_KIND = 'tree-ensemble-classifier'
/** Catalog kind of {@link TreeEnsembleRegressor}. */
export const TREE_ENSEMBLE_REGRESSOR_KIND = 'tree-ensemble-regressor'

/** Serialized wrapped ensemble. */
export type TreeEnsembleModelJSON = EstimatorJSON & {
  readonly kind: typeof TREE_ENSEMBLE_CLASSIFIER_KIND | typeof TREE_ENSEMBLE_REGRESSOR_KIND
  readonly params: TreeEnsembleParams
  readonly state: { readonly ensemble: TreeEnsembleJSON }
}

/** Shared by the classifier and the regressor: input checks, margins, contributions, serialization. */
abstract class TreeEnsembleBase {
  abstract readonly kind: string
  readonly params: Readonly<TreeEnsembleParams>
  #ensemble: TreeEnsemble | undefined
  #shap: TreeShapWorkspace | undefined

  constructor(params: Partial<TreeEnsembleParams> = {}) {
    this.params = { ...TREE_ENSEMBLE_DEFAULTS, ...params }
  }

  /** True once an ensemble is attached (always, for models made by `fromEnsemble`/`fromJSON`). */
  get isFitted(): boolean {
    return this.#ensemble !== undefined
  }

  /** The ensemble's feature count. */
  get nFeaturesIn(): number | undefined {
    return this.#ensemble?.nFeatures
  }

  /** The wrapped ensemble (read-only by convention: do not mutate its arrays). */
  get ensemble(): TreeEnsemble {
    return this.fitted()
  }

  /** An imported ensemble cannot learn more: always throws `INVALID_ARGUMENT`. */
  partialFit(): void {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${this.kind}.partialFit: an imported tree ensemble is not incrementally trainable; train a GBDT model instead.`,
    )
  }

  /** Raw margins: `rows` values for one output, else `rows × nOutputs` row-major. Allocates only the output. */
  decisionFunction(X: DenseMatrix): Float64Array {
    const e = this.checkInput(X)
    const out = new Float64Array(X.rows * e.nOutputs)
    predictMarginsInto(e, X.data, X.rows, out, { float32: this.params.accumulate === 'float32' })
    return out
  }

  /**
   * Margins of one row (`x`, `nFeatures` values) into caller-owned `out` (`nOutputs` values); allocates nothing,
   * for the serving path. The row is not checked beyond its length.
   */
  decisionFunctionOne(x: Float32Array, out: Float64Array): void {
    const e = this.fitted()
    if (x.length < e.nFeatures || out.length < e.nOutputs) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${this.kind}: a row needs ${e.nFeatures} features and ${e.nOutputs} outputs, got ${x.length} and ${out.length}.`,
      )
    }
    predictRowInto(e, x, out, this.params.accumulate === 'float32' ? FLOAT32 : FLOAT64)
  }

  /**
   * TreeSHAP contributions (exact, path-dependent): `rows × nOutputs × (nFeatures + 1)`, last of each group the
   * bias; each group sums to the row's margin for that output.
   */
  contributions(X: DenseMatrix): Float64Array {
    const e = this.checkInput(X)
    this.#shap ??= treeShapWorkspace(e)
    const out = new Float64Array(X.rows * e.nOutputs * (e.nFeatures + 1))
    treeShapInto(e, X.data, X.rows, out, this.#shap)
    return out
  }

  /** Params and the ensemble; typed arrays stay typed and are copies. */
  toJSON(): TreeEnsembleModelJSON {
    return {
      kind: this.kind as TreeEnsembleModelJSON['kind'],
      params: { ...this.params },
      state: { ensemble: ensembleToJSON(this.fitted()) },
    }
  }

  protected attach(ensemble: TreeEnsemble): void {
    validateParams(this.kind, TREE_ENSEMBLE_CONSTRAINTS, this.params)
    validateEnsemble(ensemble)
    this.#ensemble = ensemble
  }

  protected fitted(): TreeEnsemble {
    if (this.#ensemble === undefined) {
      throw new ScalemlError('NOT_FITTED', `${this.kind} has no ensemble: build it with fromEnsemble or fromJSON.`)
    }
    return this.#ensemble
  }

  protected checkInput(X: DenseMatrix): TreeEnsemble {
    const e = this.fitted()
    if (X.cols !== e.nFeatures) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${this.kind}: X has ${X.cols} features; the ensemble expects ${e.nFeatures}.`,
      )
    }
    return e
  }

  protected margins(X: DenseMatrix, e: TreeEnsemble): Float64Array {
    const out = new Float64Array(X.rows * e.nOutputs)
    predictMarginsInto(e, X.data, X.rows, out, { float32: this.params.accumulate === 'float32' })
    return out
  }
}

const FLOAT32 = Object.freeze({ float32: true })
const FLOAT64 = Object.freeze({ float32: false })

/** A classifier over a fitted ensemble with objective 'binary:logistic' or 'multi:softprob'. */
export class TreeEnsembleClassifier extends TreeEnsembleBase implements Classifier {
  readonly kind = TREE_ENSEMBLE_CLASSIFIER_KIND
  readonly task = 'classification'
  #classes: readonly number[] = []

  /** Classes `0 … K − 1` (two for binary). */
  get classes(): readonly number[] {
    return this.#classes
  }

  /** Sigmoid / softmax of the margins are probabilities. */
  get hasProbabilities(): boolean {
    return true
  }

  /** Wraps a classification ensemble (validated; `ARTIFACT_INVALID` when malformed or a regression objective). */
  static fromEnsemble(ensemble: TreeEnsemble, params: Partial<TreeEnsembleParams> = {}): TreeEnsembleClassifier {
    const model = new TreeEnsembleClassifier(params)
    if (!isClassification(ensemble.objective)) {
      throw new ScalemlError(
        'ARTIFACT_INVALID',
        `${model.kind}: objective '${ensemble.objective}' is a regression; use TreeEnsembleRegressor.`,
      )
    }
    model.attach(ensemble)
    model.#classes = Array.from({ length: Math.max(2, ensemble.nOutputs) }, (_, k) => k)
    return model
  }

  /** Rebuilds a model from `toJSON()` output; `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: EstimatorJSON): TreeEnsembleClassifier {
    return TreeEnsembleClassifier.fromEnsemble(...readJSON(json, TREE_ENSEMBLE_CLASSIFIER_KIND))
  }

  /** Predicted class: margin > 0 for binary, the largest margin otherwise. */
  predict(X: DenseMatrix): Float64Array {
    const e = this.checkInput(X)
    const m = this.margins(X, e)
    const out = new Float64Array(X.rows)
    classIndicesInto(m, X.rows, e.nOutputs, out)
    return out
  }

  /** Class probabilities, `rows × classes` row-major. */
  predictProba(X: DenseMatrix): Float64Array {
    const e = this.checkInput(X)
    const m = this.margins(X, e)
    const out = new Float64Array(X.rows * this.#classes.length)
    probabilitiesInto(e.objective, m, X.rows, e.nOutputs, out)
    return out
  }
}

/** A regressor over a fitted ensemble with objective 'reg:squarederror' or 'reg:pseudohubererror'. */
export class TreeEnsembleRegressor extends TreeEnsembleBase implements Regressor {
  readonly kind = TREE_ENSEMBLE_REGRESSOR_KIND
  readonly task = 'regression'

  /** Wraps a regression ensemble (validated; `ARTIFACT_INVALID` when malformed or a classification objective). */
  static fromEnsemble(ensemble: TreeEnsemble, params: Partial<TreeEnsembleParams> = {}): TreeEnsembleRegressor {
    const model = new TreeEnsembleRegressor(params)
    if (isClassification(ensemble.objective)) {
      throw new ScalemlError(
        'ARTIFACT_INVALID',
        `${model.kind}: objective '${ensemble.objective}' is a classification; use TreeEnsembleClassifier.`,
      )
    }
    model.attach(ensemble)
    return model
  }

  /** Rebuilds a model from `toJSON()` output; `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: EstimatorJSON): TreeEnsembleRegressor {
    return TreeEnsembleRegressor.fromEnsemble(...readJSON(json, TREE_ENSEMBLE_REGRESSOR_KIND))
  }

  /** Predictions (identity link): `rows` values, or `rows × nOutputs` for a multi-target ensemble. */
  predict(X: DenseMatrix): Float64Array {
    const e = this.checkInput(X)
    return this.margins(X, e)
  }
}

function readJSON(json: EstimatorJSON, kind: string): [TreeEnsemble, Partial<TreeEnsembleParams>] {
  if (json === null || typeof json !== 'object' || json.kind !== kind) {
    throw new ScalemlError('ARTIFACT_INVALID', `Expected kind '${kind}', got '${String(json?.kind)}'.`)
  }
  const state = json.state as Readonly<Record<string, unknown>> | undefined
  if (state === null || typeof state !== 'object') {
    throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} state: state must be an object.`)
  }
  const params = (json.params ?? {}) as Partial<TreeEnsembleParams>
  try {
    validateParams(kind, TREE_ENSEMBLE_CONSTRAINTS, { ...TREE_ENSEMBLE_DEFAULTS, ...params })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} params: ${message}`, [], { cause: error })
  }
  return [ensembleFromJSON(state['ensemble']), params]
}

/** Either wrapped-ensemble estimator. */
export type TreeEnsembleModel = TreeEnsembleClassifier | TreeEnsembleRegressor

/** Factories for {@link TreeEnsembleModel}: the class follows the ensemble's objective. */
export const TreeEnsembleModel = {
  /** Wraps `ensemble` in the classifier or the regressor, by its objective (validated: `ARTIFACT_INVALID`). */
  fromEnsemble(ensemble: TreeEnsemble, params: Partial<TreeEnsembleParams> = {}): TreeEnsembleModel {
    return isClassification(ensemble.objective)
      ? TreeEnsembleClassifier.fromEnsemble(ensemble, params)
      : TreeEnsembleRegressor.fromEnsemble(ensemble, params)
  },
  /** Rebuilds either model from its `toJSON()`, by `kind`. */
  fromJSON(json: EstimatorJSON): TreeEnsembleModel {
    return json?.kind === TREE_ENSEMBLE_REGRESSOR_KIND
      ? TreeEnsembleRegressor.fromJSON(json)
      : TreeEnsembleClassifier.fromJSON(json)
  },
} as const

/**
 * Catalog entries (shaped like `MODEL_CATALOG`'s) so the registry can load saved wrapped ensembles; `create` gives
 * an unfitted shell whose `partialFit` throws (these models come from `fromEnsemble` or an importer).
 */
export const TREE_ENSEMBLE_CATALOG_ENTRIES = {
  [TREE_ENSEMBLE_CLASSIFIER_KIND]: {
    task: 'classification',
    description: 'A fitted tree ensemble (e.g. imported from XGBoost JSON): prediction and TreeSHAP, no training',
    constraints: TREE_ENSEMBLE_CONSTRAINTS as Constraints<Record<string, unknown>>,
    defaults: TREE_ENSEMBLE_DEFAULTS,
    create: (params: Readonly<Record<string, unknown>> = {}) =>
      new TreeEnsembleClassifier(params as Partial<TreeEnsembleParams>),
    validate: (params: Readonly<Record<string, unknown>>) =>
      validateParams(TREE_ENSEMBLE_CLASSIFIER_KIND, TREE_ENSEMBLE_CONSTRAINTS, {
        ...TREE_ENSEMBLE_DEFAULTS,
        ...params,
      } as TreeEnsembleParams),
    fromJSON: (json: EstimatorJSON) => TreeEnsembleClassifier.fromJSON(json),
  },
  [TREE_ENSEMBLE_REGRESSOR_KIND]: {
    task: 'regression',
    description: 'A fitted tree ensemble regressor (e.g. imported from XGBoost JSON): prediction and TreeSHAP',
    constraints: TREE_ENSEMBLE_CONSTRAINTS as Constraints<Record<string, unknown>>,
    defaults: TREE_ENSEMBLE_DEFAULTS,
    create: (params: Readonly<Record<string, unknown>> = {}) =>
      new TreeEnsembleRegressor(params as Partial<TreeEnsembleParams>),
    validate: (params: Readonly<Record<string, unknown>>) =>
      validateParams(TREE_ENSEMBLE_REGRESSOR_KIND, TREE_ENSEMBLE_CONSTRAINTS, {
        ...TREE_ENSEMBLE_DEFAULTS,
        ...params,
      } as TreeEnsembleParams),
    fromJSON: (json: EstimatorJSON) => TreeEnsembleRegressor.fromJSON(json),
  },
} as const

/**
 * scaleml: production machine learning at scale for tabular data, in TypeScript.
 *
 * @example
 * import { trainJob, openRegistry } from 'scaleml'
 * const result = await trainJob({ data: 'flights.parquet', target: 'delay > 15', holdout: 'time:date:0.1' })
 * const registry = await openRegistry()
 * await registry.register('flights-delay', result)
 * @module
 */

export * from './core/errors.js'
export * from './core/issues.js'
export type { DenseMatrix } from './core/matrix.js'
export { Random } from './core/random.js'
export * from './data/batch.js'
export { inspectSource } from './data/inspect.js'
export { checkRecord, parseRecords } from './data/records.js'
export type { Source } from './data/source.js'
export { describeFile, openFileSource } from './data/sources/file-source.js'
export { filterRows, parseHoldout, resolveTimeCutoff } from './data/split.js'
export * from './metrics/evaluate.js'
export { LogLoss } from './metrics/log-loss.js'
export { RocAuc } from './metrics/roc-auc.js'
export { BernoulliNB } from './models/bayes/bernoulli-nb.js'
export { GaussianNB } from './models/bayes/gaussian-nb.js'
export { MultinomialNB } from './models/bayes/multinomial-nb.js'
export { createModel, MODEL_CATALOG, MODEL_FAMILIES, modelFromJSON, resolveModelName } from './models/catalog.js'
export { MiniBatchKMeans } from './models/cluster/minibatch-kmeans.js'
export type {
  AnyEstimator,
  Classifier,
  Clusterer,
  EstimatorJSON,
  Regressor,
  SupervisedEstimator,
} from './models/estimator.js'
export { PassiveAggressiveClassifier, PassiveAggressiveRegressor } from './models/linear/passive-aggressive.js'
export { Perceptron } from './models/linear/perceptron.js'
export { SgdClassifier } from './models/linear/sgd-classifier.js'
export { SgdRegressor } from './models/linear/sgd-regressor.js'
export { ExternalRows } from './models/trees/external/external-rows.js'
export { GbdtClassifier, GbdtRegressor } from './models/trees/gbdt.js'
export { RandomForestClassifier, RandomForestRegressor } from './models/trees/random-forest.js'
export { treeShap } from './models/trees/tree-shap.js'
export { autoPipeline } from './preprocess/auto-pipeline.js'
export { DatetimeParts } from './preprocess/datetime-parts.js'
export { FeatureHasher } from './preprocess/hasher.js'
export { OneHotEncoder } from './preprocess/one-hot-encoder.js'
export { OrdinalEncoder } from './preprocess/ordinal-encoder.js'
export { Pipeline } from './preprocess/pipeline.js'
export { StandardScaler } from './preprocess/standard-scaler.js'
export type { Transformer } from './preprocess/transformer.js'
export type { ModelComparison } from './registry/compare.js'
export { exportModelToJson } from './registry/export-json.js'
export { type ImportFormat, importModelFile } from './registry/import.js'
export type { Manifest } from './registry/manifest.js'
export { exportModelToOnnx, exportOnnx } from './registry/onnx/export.js'
export {
  type AliasChange,
  openRegistry,
  parseModelRef,
  type Registry,
  type RegistryOptions,
  type ShownModel,
  type VersionChange,
} from './registry/registry.js'
export { type ScoreSummary, type ScoreToFileOptions, scoreToFile } from './serve/batch-score.js'
export { createApp } from './serve/http/app.js'
export { loadServableModel, loadServableModels } from './serve/model-loader.js'
export { type BatchPredictor, createBatchPredictor, predictBody, type ServableModel } from './serve/predictor.js'
export { createServingRuntime, type ServingRuntime, type ServingRuntimeOptions } from './serve/runtime/runtime.js'
export { evaluateStream } from './train/evaluate.js'
export { evaluateOnData } from './train/evaluate-data.js'
export { type TrainJobOptions, type TrainJobResult, type TreeTrainingSummary, trainJob } from './train/job.js'
export { fitStream } from './train/loop.js'
export { groupKFold, kFold, stratifiedKFold, streamingHoldout, timeSeriesSplit } from './tune/cross-validation.js'
export { runStudy } from './tune/runner.js'
export { categorical, integer, loguniform, parseSearchSpace, type SearchSpace, uniform } from './tune/space.js'
export { openStudyStore, type StudyStore } from './tune/storage/study-store.js'
export { refitOptions, type TuneOptions, type TuneResult, tune } from './tune/tune.js'

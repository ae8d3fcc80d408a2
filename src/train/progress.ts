/**
 * Progress events emitted by long-running work; the CLI turns them into a progress bar, a server into logs.
 * @module
 */

/**
 * What a training job is doing. Tree models replace 'train' by three steps: 'sketch' (a pass for the bin
 * boundaries), 'bin' (a pass writing every row's bins) and 'boost' (growing the trees, counted in trees).
 */
export type TrainPhase = 'fit-pipeline' | 'train' | 'evaluate' | 'sketch' | 'bin' | 'boost'

/** The end of a training epoch: its score and where early stopping stands. */
export interface EpochSummary {
  /** 1-based. */
  readonly epoch: number
  /**
   * What `score` is: `'auc'` or `'r2'` on the validation rows (higher is better), or `'trainingLoss'` (the mean
   * loss of each batch before the model learned from it; lower is better) when there are no validation rows.
   * Absent when the epoch was not scored (no validation rows and no early stopping).
   */
  readonly metric?: 'auc' | 'r2' | 'trainingLoss'
  readonly score?: number
  /** Which rows were scored. */
  readonly on?: 'holdout' | 'validation-fraction' | 'training'
  /** Best score so far and epochs since it last improved by `tol` (with early stopping). */
  readonly best?: number
  readonly epochsWithoutImprovement?: number
  /** True when early stopping ends training after this epoch. */
  readonly stop: boolean
  /** Rows trained on in this epoch. */
  readonly rows: number
  /** Wall time of the epoch's training and scoring, in seconds. */
  readonly seconds: number
}

/** One progress update. `totalRows` is the rows of this phase's pass when known. */
export interface ProgressEvent {
  readonly phase: TrainPhase
  /** 1-based epoch during 'train'. */
  readonly epoch?: number
  readonly epochs?: number
  readonly rows: number
  readonly totalRows?: number
  /** What `rows` and `totalRows` count (default 'rows'; 'trees' during 'boost'). */
  readonly unit?: 'rows' | 'trees'
  /** Present on the one 'train' event that closes an epoch. */
  readonly epochEnd?: EpochSummary
}

/** Receives progress updates; must be cheap (called once per batch). */
export type ProgressListener = (event: ProgressEvent) => void

/**
 * Progress events emitted by long-running work; the CLI turns them into a progress bar, a server into logs.
 * @module
 */

/** What a training job is doing. */
export type TrainPhase = 'fit-pipeline' | 'train' | 'evaluate'

/** One progress update. `totalRows` is the rows of this phase's pass when known. */
export interface ProgressEvent {
  readonly phase: TrainPhase
  /** 1-based epoch during 'train'. */
  readonly epoch?: number
  readonly epochs?: number
  readonly rows: number
  readonly totalRows?: number
}

/** Receives progress updates; must be cheap (called once per batch). */
export type ProgressListener = (event: ProgressEvent) => void

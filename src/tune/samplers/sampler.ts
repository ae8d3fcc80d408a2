/**
 * The sampler contract: given the search space, the number of the trial to configure and what earlier trials
 * scored, propose its hyperparameters. Samplers are deterministic functions of (their seed, the trial number, the
 * history), so a resumed or parallel study draws what an uninterrupted serial one would have drawn from the same
 * history, and a sampler holds no state that would need saving.
 * @module
 */
import { mixSeed } from '../../train/shuffle.js'
import type { ParamValues, SearchSpace } from '../space.js'

/** A trial as a sampler sees it: its configuration and how it ended (losses: lower is better). */
export interface Observation {
  readonly number: number
  readonly params: ParamValues
  /** 'complete': reached the full budget; 'pruned': stopped early by a scheduler at `step`. */
  readonly state: 'complete' | 'pruned'
  /** The objective as a loss (a maximized metric is negated): the final value, or the last reported one if pruned. */
  readonly loss: number
  /** The budget (resource) of the last reported value. */
  readonly step: number
}

/** What a sampler is asked. */
export interface SampleRequest {
  readonly space: SearchSpace
  /** 0-based trial number: the same number always gets the same draw from the same history. */
  readonly number: number
  /** Trials that have finished or were pruned; running and failed trials are left out by the caller. */
  readonly history: readonly Observation[]
}

/** Proposes configurations. */
export interface Sampler {
  /** 'random', 'grid' or 'tpe'. */
  readonly name: string
  sample(request: SampleRequest): Record<string, ParamValues[string]>
  /**
   * How many distinct configurations the sampler can propose (a grid's size); `undefined` when unbounded. A study
   * asks for no more trials than this.
   */
  size?(space: SearchSpace): number | undefined
}

/** The seed of trial `number`'s draws, independent of every other trial's. */
export function trialSeed(seed: number, number: number): number {
  return mixSeed(seed, 0x74726961, number)
}

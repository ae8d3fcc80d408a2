/**
 * The errors the serving runtime raises besides validation: a full queue (429 with `Retry-After`) and a model that
 * did not answer in time. Both say which model and which limit.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'

/** `OVERLOADED`: the queue is full. The HTTP layer sends {@link retryAfterSeconds} as `Retry-After`. */
export class OverloadedError extends ScalemlError {
  constructor(
    message: string,
    /** Whole seconds after which a retry is likely to be queued (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super('OVERLOADED', message)
  }
}

/** True when `error` carries a `Retry-After` value. */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof OverloadedError ? error.retryAfterSeconds : undefined
}

/**
 * A request that did not get its prediction within its time limit (queued too long or the model too slow). Not a
 * `ScalemlError`: the runtime turns it into the configured fallback or a `MODEL_UNAVAILABLE` naming the limit.
 */
export class PredictTimeoutError extends Error {
  override readonly name = 'PredictTimeoutError'
  constructor(
    readonly timeoutMs: number,
    /** Where the request was when time ran out. */
    readonly stage: 'queued' | 'running',
  ) {
    super(`no prediction within ${timeoutMs} ms (${stage === 'queued' ? 'still queued' : 'model still running'})`)
  }
}

/** The batcher was closed (the version was released) before this request ran; the runtime retries elsewhere. */
export class BatcherClosedError extends Error {
  override readonly name = 'BatcherClosedError'
}

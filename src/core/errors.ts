/**
 * One error class with a closed set of stable codes, one table to HTTP status and one to exit code.
 * A `ScalemlError` is a user-facing problem and is shown without a stack; anything else is our bug.
 * Codes are never reused; each has a row in docs/ERRORS.md (a test enforces it).
 * @module
 */
import type { Issue } from './issues.js'

/** Every error code scaleml raises. */
export const ERROR_CODES = [
  'INVALID_PARAM',
  'INVALID_ARGUMENT',
  'INVALID_INPUT',
  'INVALID_DATA',
  'UNKNOWN_COLUMN',
  'INVALID_EXPRESSION',
  'SOURCE_NOT_FOUND',
  'SOURCE_READ_FAILED',
  'EMPTY_SOURCE',
  'NOT_FITTED',
  'MODEL_NOT_FOUND',
  'ARTIFACT_TAMPERED',
  'ARTIFACT_INVALID',
  'REGISTRY_CONFLICT',
  'STORE_UNAVAILABLE',
  'PAYLOAD_TOO_LARGE',
  'ROUTE_NOT_FOUND',
  'INTERNAL',
  'VERSION_IN_USE',
  'OVERLOADED',
  'MODEL_UNAVAILABLE',
  'UNSUPPORTED_OPERATION',
] as const

/** A stable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number]

/** HTTP status for each code (used by the server's error handler). */
export const HTTP_STATUS = {
  INVALID_PARAM: 400,
  INVALID_ARGUMENT: 400,
  INVALID_INPUT: 400,
  INVALID_DATA: 400,
  UNKNOWN_COLUMN: 400,
  INVALID_EXPRESSION: 400,
  SOURCE_NOT_FOUND: 404,
  SOURCE_READ_FAILED: 500,
  EMPTY_SOURCE: 400,
  NOT_FITTED: 409,
  MODEL_NOT_FOUND: 404,
  ARTIFACT_TAMPERED: 500,
  ARTIFACT_INVALID: 500,
  REGISTRY_CONFLICT: 409,
  STORE_UNAVAILABLE: 503,
  PAYLOAD_TOO_LARGE: 413,
  ROUTE_NOT_FOUND: 404,
  INTERNAL: 500,
  VERSION_IN_USE: 409,
  OVERLOADED: 429,
  MODEL_UNAVAILABLE: 503,
  UNSUPPORTED_OPERATION: 422,
} as const satisfies Record<ErrorCode, number>

/** Process exit code for each code (used by the CLI). 1 is reserved for unexpected failures. */
export const EXIT_CODE = {
  INVALID_PARAM: 2,
  INVALID_ARGUMENT: 2,
  INVALID_INPUT: 3,
  INVALID_DATA: 3,
  UNKNOWN_COLUMN: 3,
  INVALID_EXPRESSION: 3,
  SOURCE_NOT_FOUND: 4,
  SOURCE_READ_FAILED: 4,
  EMPTY_SOURCE: 3,
  NOT_FITTED: 5,
  MODEL_NOT_FOUND: 6,
  ARTIFACT_TAMPERED: 7,
  ARTIFACT_INVALID: 7,
  REGISTRY_CONFLICT: 8,
  STORE_UNAVAILABLE: 9,
  PAYLOAD_TOO_LARGE: 3,
  ROUTE_NOT_FOUND: 2,
  INTERNAL: 1,
  VERSION_IN_USE: 8,
  OVERLOADED: 9,
  MODEL_UNAVAILABLE: 9,
  UNSUPPORTED_OPERATION: 2,
} as const satisfies Record<ErrorCode, number>

/** A problem the user can act on: a code, a message that names the thing, and the validation issues behind it. */
export class ScalemlError extends Error {
  override readonly name = 'ScalemlError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: readonly Issue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** True when `error` is a `ScalemlError` (optionally of one code). */
export function isScalemlError(error: unknown, code?: ErrorCode): error is ScalemlError {
  return error instanceof ScalemlError && (code === undefined || error.code === code)
}

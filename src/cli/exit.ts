/**
 * How the CLI ends: a `ScalemlError` prints its message (and issues) without a stack and exits with its code's
 * exit status; anything else is our bug, printed with its stack and exit status 1.
 * @module
 */
import { EXIT_CODE, isScalemlError } from '../core/errors.js'
import { formatIssues } from '../core/issues.js'

/** Writes the error for a person (stderr) or as JSON, and returns the exit code. */
export function reportError(error: unknown, options: { json?: boolean } = {}): number {
  if (isScalemlError(error)) {
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ error: { code: error.code, message: error.message, details: error.issues } })}\n`,
      )
    }
    const details =
      error.issues.length > 0 && !error.message.includes(error.issues[0]!.message)
        ? `\n${formatIssues(error.issues)}`
        : ''
    process.stderr.write(`error [${error.code}]: ${error.message}${details}\n`)
    return EXIT_CODE[error.code]
  }
  if (isCommanderExit(error)) return error.exitCode
  process.stderr.write(
    `internal error (a bug in scaleml; please report it):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  return 1
}

function isCommanderExit(error: unknown): error is { exitCode: number } {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    String((error as { code: unknown }).code).startsWith('commander.')
  )
}

/**
 * Small helpers shared by the commands: repeatable flags, integer flags, the registry home.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'

/** Commander reducer for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** Parses an integer flag or throws naming the flag. */
export function parseInteger(flag: string, raw: string): number {
  const value = Number(raw)
  if (!Number.isInteger(value))
    throw new ScalemlError('INVALID_ARGUMENT', `${flag} expects a whole number; got '${raw}'.`)
  return value
}

/** The registry folder: the flag, else $SCALEML_HOME, else ./.scaleml. */
export function resolveHome(flag: string | undefined): string {
  return flag ?? process.env.SCALEML_HOME ?? '.scaleml'
}

/**
 * Byte sizes written by people (`512MiB`, `2GiB`, `64M`, `1.5GB`, `1048576`): parsing with a clear error, and
 * formatting for messages. No I/O.
 *
 * Units: `KiB`, `MiB`, `GiB`, `TiB` and the single letters `K`, `M`, `G`, `T` (any case) are powers of 1024, as in
 * Docker's and Java's memory flags; `kB`, `MB`, `GB`, `TB` are powers of 1000 (SI), as Kubernetes reads them; `B` or
 * no unit is bytes.
 * @module
 */
import { ScalemlError } from './errors.js'

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
}

/**
 * The whole number of bytes `text` names; throws `INVALID_ARGUMENT` naming `what` (a flag or option) when it is not
 * a positive size.
 *
 * @example
 * parseByteSize('512MiB', '--memory-budget') // 536870912
 */
export function parseByteSize(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match === null ? undefined : UNITS[match[2]!.toLowerCase() || 'b']
  const bytes = match === null || unit === undefined ? Number.NaN : Math.floor(Number(match[1]) * unit)
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${what} expects a size such as 512MiB, 2GiB, 64M or 1048576 (bytes); got '${text}'.`,
      [{ code: 'invalid_value', path: [what], message: 'not a byte size', received: text }],
    )
  }
  return bytes
}

/** `bytes` in the largest binary unit that keeps a number ≥ 1, e.g. `64 MiB`, `1.5 GiB`. */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let u = 0
  while (value >= 1024 && u < units.length - 1) {
    value /= 1024
    u++
  }
  return `${u === 0 ? value : +value.toFixed(1)} ${units[u]}`
}

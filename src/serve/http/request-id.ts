/**
 * Request ids for answers whose client sent none: UUID-shaped (version 4 layout, 36 characters), unique within the
 * process by a counter and across processes and restarts by a random prefix — without drawing randomness per
 * request, which `crypto.randomUUID` does and which showed in the serving profile.
 * @module
 */
import { randomBytes } from 'node:crypto'

/** The counter fills the last 12 hex digits; past them the prefix is drawn again. */
const COUNTER_LIMIT = 2 ** 48

/**
 * A generator of request ids.
 *
 * @example
 * const nextId = createRequestIds()
 * nextId() // '3f2a9c1e-77b0-4d21-9e3a-000000000001'
 */
export function createRequestIds(): () => string {
  let prefix = ''
  let counter = COUNTER_LIMIT
  const draw = () => {
    const hex = randomBytes(10).toString('hex')
    // xxxxxxxx-xxxx-4xxx-Nxxx-: version 4, variant 10xx (N is 8, 9, a or b), as a random UUID.
    const variant = ((Number.parseInt(hex[12]!, 16) & 0x3) | 0x8).toString(16)
    prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(16, 19)}-`
    counter = 0
  }
  return () => {
    if (++counter >= COUNTER_LIMIT) draw()
    return prefix + counter.toString(16).padStart(12, '0')
  }
}

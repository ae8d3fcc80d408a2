/**
 * Files kept in database rows are cut into chunks: SQLite and PostgreSQL both cap one value at 1 GB, and the
 * PostgreSQL client returns `bytea` as hex text (twice the size) that must fit in one JavaScript string. Chunks of
 * a few MiB keep every row far from those limits whatever the file's size.
 * @module
 */

/** Bytes per chunk row. */
export const CHUNK_BYTES = 8 * 1024 * 1024

/** Views of `bytes` in order, each at most {@link CHUNK_BYTES}; always at least one (empty for an empty file). */
export function splitChunks(bytes: Uint8Array, size = CHUNK_BYTES): Buffer[] {
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (whole.byteLength === 0) return [whole]
  const out: Buffer[] = []
  for (let start = 0; start < whole.byteLength; start += size) out.push(whole.subarray(start, start + size))
  return out
}

/** The file again from its chunks in order; `undefined` when there are none (the file does not exist). */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array | undefined {
  if (chunks.length === 0) return undefined
  if (chunks.length === 1) return chunks[0]!
  return Buffer.concat(chunks)
}

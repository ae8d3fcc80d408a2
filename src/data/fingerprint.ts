/**
 * Content fingerprints of data files for lineage: the same bytes give the same fingerprint wherever the files live.
 * @module
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { dirname, relative, resolve, sep } from 'node:path'
import { openDuckDb } from '../infra/duckdb.js'
import { matchFiles } from './sources/files.js'

/** One file's entry in a fingerprint. */
export interface FileDigest {
  /** Path relative to the glob's fixed leading directory (the file's directory for a plain path), `/`-separated. */
  readonly name: string
  readonly size: number
  /** sha256 of the content, hex. */
  readonly sha256: string
}

/** A fingerprint and the per-file digests it covers. */
export interface FilesFingerprint {
  /** sha256 hex over the JSON of the digests sorted by name. */
  readonly fingerprint: string
  readonly files: readonly FileDigest[]
}

/**
 * The sha256 fingerprint of the files matching `pathOrGlob` (the same files a file source would read).
 *
 * @throws ScalemlError SOURCE_NOT_FOUND when nothing matches.
 * @example
 * const fingerprint = await fingerprintFiles('data/flights-*.parquet') // 64 hex digits
 */
export async function fingerprintFiles(pathOrGlob: string): Promise<string> {
  return (await digestFiles(pathOrGlob)).fingerprint
}

/**
 * Like {@link fingerprintFiles}, also returning each file's name, size and content hash. Files are streamed, one at a
 * time, so memory does not grow with file size. Names are relative so that moving the data does not change the
 * fingerprint, and still include subdirectories so that `a/part.parquet` and `b/part.parquet` stay distinct.
 */
export async function digestFiles(pathOrGlob: string): Promise<FilesFingerprint> {
  const db = await openDuckDb({ threads: 1 })
  let paths: string[]
  try {
    paths = await matchFiles(db.connection, pathOrGlob)
  } finally {
    await db.close()
  }
  const base = resolve(globBase(pathOrGlob))
  const files: FileDigest[] = []
  for (const path of paths) {
    const absolute = resolve(path)
    const { size } = await stat(absolute)
    files.push({ name: relative(base, absolute).split(sep).join('/'), size, sha256: await sha256File(absolute) })
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const canonical = JSON.stringify(files.map((f) => [f.name, f.size, f.sha256]))
  return { fingerprint: createHash('sha256').update(canonical).digest('hex'), files }
}

/** The directory before the first glob character (`data/2024/*.parquet` → `data/2024`). */
function globBase(pattern: string): string {
  const wildcard = pattern.search(/[*?[{]/)
  if (wildcard < 0) return dirname(pattern)
  const fixed = pattern.slice(0, wildcard)
  const slash = Math.max(fixed.lastIndexOf('/'), fixed.lastIndexOf(sep))
  return slash < 0 ? '.' : slash === 0 ? '/' : fixed.slice(0, slash)
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

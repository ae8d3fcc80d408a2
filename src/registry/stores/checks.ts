/**
 * Argument checks every store adapter makes before touching its storage. The registry validates first and gives
 * the friendly message; these keep a direct caller of a store from writing a name, alias or path the other stores
 * would refuse, so all adapters accept exactly the same inputs.
 * @module
 */
import { isSafeFileName } from '../../core/codec.js'
import { ScalemlError } from '../../core/errors.js'
import { MANIFEST_FILE, MODEL_NAME_PATTERN } from '../manifest.js'
import { ALIAS_PATTERN, type StoredFile, type VersionRef } from './registry-store.js'

/** Throws `INVALID_ARGUMENT` unless `name` is a model name. `where` names the store. */
export function checkStoreName(name: string, where: string): void {
  if (typeof name !== 'string' || !MODEL_NAME_PATTERN.test(name)) {
    throw new ScalemlError('INVALID_ARGUMENT', `Invalid model name '${String(name)}' for the ${where}.`)
  }
}

/** Throws `INVALID_ARGUMENT` unless `ref` has a model name and a whole version ≥ 1. */
export function checkStoreRef(ref: VersionRef, where: string): void {
  checkStoreName(ref.name, where)
  if (!(Number.isSafeInteger(ref.version) && ref.version >= 1 && ref.version <= 2_147_483_647)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Invalid version ${String(ref.version)} of '${ref.name}' for the ${where}.`,
    )
  }
}

/** Throws `INVALID_ARGUMENT` unless `alias` matches `ALIAS_PATTERN`. */
export function checkStoreAlias(alias: string, where: string): void {
  if (typeof alias !== 'string' || !ALIAS_PATTERN.test(alias)) {
    throw new ScalemlError('INVALID_ARGUMENT', `Invalid alias '${String(alias)}' for the ${where}.`)
  }
}

/** Throws `INVALID_ARGUMENT` for a file that is not a plain file name, is the manifest, or is listed twice. */
export function checkStoredFiles(files: readonly StoredFile[]): void {
  const seen = new Set<string>()
  for (const file of files) {
    if (!isSafeFileName(file.path) || file.path === MANIFEST_FILE) {
      throw new ScalemlError('INVALID_ARGUMENT', `Cannot store a file named '${file.path}' in an artifact.`)
    }
    if (seen.has(file.path)) {
      throw new ScalemlError('INVALID_ARGUMENT', `The file '${file.path}' is given twice for one artifact.`)
    }
    seen.add(file.path)
  }
}

/** Throws `INVALID_ARGUMENT` for a read path that is not a plain file name. */
export function checkReadPath(path: string): void {
  if (!isSafeFileName(path)) {
    throw new ScalemlError('INVALID_ARGUMENT', `Refusing to read '${path}': artifact files are plain file names.`)
  }
}

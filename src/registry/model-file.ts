/**
 * Reading a model file to import, with the error a user sees when it is missing or unreadable.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { ScalemlError } from '../core/errors.js'

/** The bytes of `file`; throws `SOURCE_NOT_FOUND` naming the file and the reason when it cannot be read. */
export async function readModelFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file)
  } catch (error) {
    throw new ScalemlError(
      'SOURCE_NOT_FOUND',
      `Cannot read the model file '${file}': ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    )
  }
}

/**
 * Training checkpoints: everything a stopped job needs to continue as if it had never stopped, in one folder.
 *
 * `checkpoint.json` is small JSON (format version, the job's identity, the position in the run, the early-stopping
 * state, the pipeline and model documents with their typed arrays replaced by references) and `arrays-*.bin` holds
 * the arrays' bytes back to back (the registry's codec, so weights restore bit for bit). A write is atomic: the
 * arrays file gets a new name and is flushed, then `checkpoint.json` is written to a temporary name, flushed and
 * renamed over the old one, and the folder is flushed; only then are older arrays files removed. A crash at any
 * point leaves the previous checkpoint or the new one, never a mix. The JSON records the arrays file's size and
 * sha256, so a damaged checkpoint is refused rather than trained on.
 * @module
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { decodePayload, encodePayload, type JsonValue } from '../core/codec.js'
import { ScalemlError } from '../core/errors.js'
import { errnoCode, syncDirectory, writeFileDurable } from '../infra/durable-fs.js'
import type { EarlyStoppingState } from './early-stopping.js'

/** `format` of a checkpoint document. */
export const CHECKPOINT_FORMAT = 'scaleml-train-checkpoint'
/** The checkpoint layout this code writes and reads; older or newer ones are refused. */
export const CHECKPOINT_FORMAT_VERSION = 1
/** The file that commits a checkpoint. */
export const CHECKPOINT_FILE = 'checkpoint.json'

/** Where a run stands: the next batch to train. */
export interface CheckpointPosition {
  /** The epoch the next batch belongs to (1-based); `epochsCompleted + 1` at an epoch boundary. */
  readonly epoch: number
  /** Block (segment, window or batch, by shuffle mode) of the next batch within its epoch, 0-based. */
  readonly block: number
  /** Index of the next batch within its block, 0-based. */
  readonly batch: number
  /** Epochs trained to the end. */
  readonly epochsCompleted: number
  /** Rows trained on so far in `epoch`. */
  readonly rowsInEpoch: number
  /** True once early stopping ended the run. */
  readonly stopped: boolean
}

/** The training loss accumulated over the current epoch (early stopping without a validation set). */
export interface LossAccumulator {
  readonly sum: number
  readonly rows: number
}

/** What a checkpoint holds. */
export interface TrainCheckpoint {
  /** The job that wrote it (data fingerprint, target, features, model kind, params, seed, reading options). */
  readonly identity: Readonly<Record<string, JsonValue>>
  readonly position: CheckpointPosition
  /** Training rows per epoch, from the preprocessing pass. */
  readonly trainRows: number
  /** The classes of a classifier, from the preprocessing pass; `null` for regressors. */
  readonly classes: readonly number[] | null
  readonly earlyStopping: EarlyStoppingState | null
  readonly trainingLoss: LossAccumulator
  /** The score of each epoch completed (validation score or training loss), when epochs are scored. */
  readonly scores: readonly number[]
  /** `pipeline.toJSON()`. */
  readonly pipeline: unknown
  /** `model.toJSON()`; restored with the model catalog's `modelFromJSON`. */
  readonly model: unknown
}

let writes = 0

/**
 * Writes `checkpoint` into `dir` (created if missing) atomically, replacing the one there.
 *
 * @example
 * await writeCheckpoint('ckpt', { identity, position, trainRows, classes, earlyStopping: null,
 *   trainingLoss: { sum: 0, rows: 0 }, scores: [], pipeline: pipeline.toJSON(), model: model.toJSON() })
 */
export async function writeCheckpoint(dir: string, checkpoint: TrainCheckpoint): Promise<void> {
  await mkdir(dir, { recursive: true })
  const { json, files } = encodePayload(
    {
      identity: checkpoint.identity,
      position: checkpoint.position,
      trainRows: checkpoint.trainRows,
      classes: checkpoint.classes,
      earlyStopping: checkpoint.earlyStopping,
      trainingLoss: checkpoint.trainingLoss,
      scores: checkpoint.scores,
      pipeline: checkpoint.pipeline,
      model: checkpoint.model,
    },
    { prefix: 'ckpt' },
  )
  let size = 0
  for (const file of files) size += file.bytes.length
  const bytes = new Uint8Array(size)
  const entries: { name: string; offset: number; length: number }[] = []
  let offset = 0
  for (const file of files) {
    bytes.set(file.bytes, offset)
    entries.push({ name: file.name, offset, length: file.bytes.length })
    offset += file.bytes.length
  }
  const arraysFile = `arrays-${Date.now().toString(36)}-${process.pid}-${(writes++).toString(36)}.bin`
  await writeFileDurable(join(dir, arraysFile), bytes, { exclusive: true })
  const document = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    created: new Date().toISOString(),
    arrays: { file: arraysFile, bytes: size, sha256: sha256(bytes), entries },
    body: json,
  }
  const temporary = join(dir, `${CHECKPOINT_FILE}.${process.pid}.tmp`)
  await writeFileDurable(temporary, new TextEncoder().encode(`${JSON.stringify(document)}\n`))
  await rename(temporary, join(dir, CHECKPOINT_FILE))
  await syncDirectory(dir)
  for (const name of await readdir(dir)) {
    if (name !== arraysFile && /^arrays-.*\.bin$/.test(name)) await rm(join(dir, name), { force: true })
  }
}

/**
 * Reads the checkpoint in `dir`, or `undefined` when there is none (no folder or no `checkpoint.json`).
 *
 * @throws ScalemlError ARTIFACT_INVALID naming the file and the problem: unreadable JSON, another format or
 *   format version, a missing or damaged arrays file (size or sha256 differ), a malformed field.
 */
export async function readCheckpoint(dir: string): Promise<TrainCheckpoint | undefined> {
  const path = join(dir, CHECKPOINT_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined
    throw new ScalemlError('ARTIFACT_INVALID', `cannot read the checkpoint ${path}: ${(error as Error).message}`, [], {
      cause: error,
    })
  }
  const bad = (why: string): ScalemlError =>
    new ScalemlError('ARTIFACT_INVALID', `the checkpoint ${path} is unusable: ${why}. Remove ${dir} to start over.`)
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    throw bad(`it is not valid JSON (${(error as Error).message})`)
  }
  if (!isRecord(document) || document['format'] !== CHECKPOINT_FORMAT) {
    throw bad(`it is not a scaleml training checkpoint (format ${JSON.stringify(fieldOf(document, 'format'))})`)
  }
  if (document['formatVersion'] !== CHECKPOINT_FORMAT_VERSION) {
    throw bad(
      `it has format version ${JSON.stringify(document['formatVersion'])} and this scaleml reads version ${CHECKPOINT_FORMAT_VERSION}`,
    )
  }
  const arrays = document['arrays']
  if (
    !isRecord(arrays) ||
    typeof arrays['file'] !== 'string' ||
    !/^arrays-[a-z0-9-]+\.bin$/.test(arrays['file']) ||
    typeof arrays['bytes'] !== 'number' ||
    typeof arrays['sha256'] !== 'string' ||
    !Array.isArray(arrays['entries'])
  ) {
    throw bad("its 'arrays' field is malformed")
  }
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(join(dir, arrays['file'])))
  } catch (error) {
    throw bad(`its arrays file ${arrays['file']} cannot be read (${errnoCode(error) ?? (error as Error).message})`)
  }
  if (bytes.length !== arrays['bytes'] || sha256(bytes) !== arrays['sha256']) {
    throw bad(`its arrays file ${arrays['file']} is damaged (size or sha256 differ from the record)`)
  }
  const slices = new Map<string, Uint8Array>()
  for (const entry of arrays['entries'] as unknown[]) {
    if (
      !isRecord(entry) ||
      typeof entry['name'] !== 'string' ||
      !Number.isSafeInteger(entry['offset']) ||
      !Number.isSafeInteger(entry['length']) ||
      (entry['offset'] as number) < 0 ||
      (entry['offset'] as number) + (entry['length'] as number) > bytes.length
    ) {
      throw bad("an entry of its 'arrays' field is malformed")
    }
    const start = entry['offset'] as number
    slices.set(entry['name'], bytes.subarray(start, start + (entry['length'] as number)))
  }
  let body: unknown
  try {
    body = decodePayload(document['body'], (name) => slices.get(name))
  } catch (error) {
    throw bad((error as Error).message)
  }
  if (!isRecord(body)) throw bad("its 'body' field is not an object")
  const position = body['position']
  if (
    !isRecord(position) ||
    !['epoch', 'block', 'batch', 'epochsCompleted', 'rowsInEpoch'].every((k) => Number.isSafeInteger(position[k])) ||
    typeof position['stopped'] !== 'boolean'
  ) {
    throw bad("its 'position' field is malformed")
  }
  const loss = body['trainingLoss']
  if (!isRecord(loss) || typeof loss['sum'] !== 'number' || typeof loss['rows'] !== 'number') {
    throw bad("its 'trainingLoss' field is malformed")
  }
  const scores = body['scores']
  if (!Array.isArray(scores) || !scores.every((v) => typeof v === 'number')) {
    throw bad("its 'scores' field is malformed")
  }
  const classes = body['classes']
  if (classes !== null && !(Array.isArray(classes) && classes.every((c) => typeof c === 'number'))) {
    throw bad("its 'classes' field is malformed")
  }
  const earlyStopping = body['earlyStopping']
  if (
    earlyStopping !== null &&
    !(
      isRecord(earlyStopping) &&
      typeof earlyStopping['best'] === 'number' &&
      Number.isSafeInteger(earlyStopping['epochsWithoutImprovement']) &&
      Array.isArray(earlyStopping['scores'])
    )
  ) {
    throw bad("its 'earlyStopping' field is malformed")
  }
  if (!isRecord(body['identity']) || !Number.isSafeInteger(body['trainRows']) || !isRecord(body['model'])) {
    throw bad("its 'identity', 'trainRows' or 'model' field is malformed")
  }
  return {
    identity: body['identity'] as Record<string, JsonValue>,
    position: position as unknown as CheckpointPosition,
    trainRows: body['trainRows'] as number,
    classes: classes as number[] | null,
    earlyStopping: earlyStopping as EarlyStoppingState | null,
    trainingLoss: loss as unknown as LossAccumulator,
    scores: scores as number[],
    pipeline: body['pipeline'],
    model: body['model'],
  }
}

/**
 * Refuses to resume from a checkpoint written by another job: lists every identity field that differs, with the
 * checkpoint's value and the current one.
 *
 * @throws ScalemlError INVALID_ARGUMENT, e.g. "the checkpoint in ckpt was written by another job: modelKind
 *   differs (checkpoint "sgd-regressor", now "sgd-classifier")".
 */
export function checkIdentity(
  dir: string,
  saved: Readonly<Record<string, JsonValue>>,
  current: Readonly<Record<string, JsonValue>>,
): void {
  const differences: string[] = []
  const compare = (path: string, a: JsonValue | undefined, b: JsonValue | undefined): void => {
    if (isRecord(a) && isRecord(b) && !Array.isArray(a) && !Array.isArray(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        compare(path === '' ? key : `${path}.${key}`, a[key] as JsonValue, b[key] as JsonValue)
      }
      return
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      differences.push(`${path} differs (checkpoint ${show(a)}, now ${show(b)})`)
    }
  }
  compare('', saved, current)
  if (differences.length > 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `the checkpoint in ${dir} was written by another job: ${differences.join('; ')}. ` +
        'Resume with the same data, target, features, model, params and seed, or use another --checkpoint-dir.',
      differences.map((message) => ({ code: 'invalid_value' as const, path: ['checkpoint'], message })),
    )
  }
}

function show(value: JsonValue | undefined): string {
  if (value === undefined) return 'unset'
  const text = JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fieldOf(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined
}

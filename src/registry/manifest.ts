/**
 * The artifact manifest: what a registered model is (name, version, task, input schema, target, features), how it
 * was made (params, metrics, lineage) and which binary files belong to it, each with its size and sha256. The
 * validator here is the single gate for manifests read from disk or a database: it collects every problem as an
 * issue naming the field, and never trusts a path it has not checked.
 * @module
 */

import { isSafeFileName, type JsonValue } from '../core/codec.js'
import { ScalemlError } from '../core/errors.js'
import type { Issue } from '../core/issues.js'
import { describeValue, toDotPath } from '../core/issues.js'
import type { ColumnType, Field } from '../data/batch.js'

/** The manifest format this code writes and reads. */
export const MANIFEST_FORMAT_VERSION = 1

/** The file name of the manifest inside an artifact folder. */
export const MANIFEST_FILE = 'manifest.json'

/** Model names: lower-case letters, digits, `.`, `_`, `-`; 1–64 characters, starting with a letter or digit. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** What a model predicts. */
export type ModelTask = 'classification' | 'regression' | 'clustering'

/** The label a model was trained on: the user's expression and whether it was a boolean or a number. */
export interface ManifestTarget {
  readonly expression: string
  readonly kind: 'boolean' | 'numeric'
}

/** Where a model came from. Known keys are typed; further keys may carry any JSON value. */
export interface Lineage {
  /** Fingerprint of the training data (see `data/fingerprint.ts`). */
  readonly dataFingerprint?: string
  /** Human-readable description of the data (path, filter). */
  readonly dataDescription?: string
  /** Rows trained on. */
  readonly rows?: number
  readonly seed?: number
  /** scaleml version that wrote the artifact. */
  readonly packageVersion: string
  readonly gitCommit?: string
  /** The registered model this one was derived from (retraining, fine-tuning). */
  readonly parent?: { readonly name: string; readonly version: number }
  readonly [key: string]: JsonValue | undefined
}

/** One binary file of an artifact. */
export interface ManifestFile {
  /** File name inside the artifact folder (no directories). */
  readonly path: string
  /** Lower-case hex sha256 of the file's bytes. */
  readonly sha256: string
  /** Size in bytes. */
  readonly bytes: number
}

/** The manifest of one registered model version (`manifest.json`). */
export interface Manifest {
  readonly formatVersion: typeof MANIFEST_FORMAT_VERSION
  readonly name: string
  readonly version: number
  /** ISO 8601 time of registration, UTC. */
  readonly created: string
  readonly task: ModelTask
  /** Catalog name of the estimator, e.g. `sgd-classifier`. */
  readonly modelKind: string
  /** The raw columns a record must provide. */
  readonly inputSchema: readonly Field[]
  readonly target?: ManifestTarget
  /** Feature columns, in the order the pipeline reads them. */
  readonly features: readonly string[]
  /** The fitted pipeline's JSON, typed arrays externalized (see `codec.ts`). */
  readonly pipeline: JsonValue
  /** The fitted model's JSON, typed arrays externalized (see `codec.ts`). */
  readonly model: JsonValue
  /** Hyperparameters as given. */
  readonly params: { readonly [key: string]: JsonValue }
  /** Holdout metrics by name (`auc`, `logLoss`, `rmse`, …). */
  readonly metrics: { readonly [key: string]: number }
  readonly lineage: Lineage
  readonly files: readonly ManifestFile[]
}

const TOP_LEVEL_KEYS = new Set([
  'formatVersion',
  'name',
  'version',
  'created',
  'task',
  'modelKind',
  'inputSchema',
  'target',
  'features',
  'pipeline',
  'model',
  'params',
  'metrics',
  'lineage',
  'files',
])
const TASKS: readonly string[] = ['classification', 'regression', 'clustering'] satisfies ModelTask[]
const COLUMN_TYPES: readonly string[] = ['float', 'int', 'bool', 'timestamp', 'string'] satisfies ColumnType[]
const TARGET_KINDS: readonly string[] = ['boolean', 'numeric']
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
const SHA256_HEX = /^[0-9a-f]{64}$/

type Path = (string | number)[]

/**
 * Lists every problem of a would-be manifest; an empty list means `value` is a valid {@link Manifest}.
 * Never throws.
 */
export function checkManifest(value: unknown): Issue[] {
  const issues: Issue[] = []
  const add = (path: Path, message: string, code: Issue['code'] = 'invalid_value'): void => {
    issues.push({ code, path, message })
  }
  if (!isRecord(value)) {
    issues.push({
      code: 'invalid_type',
      path: [],
      message: 'The manifest must be a JSON object.',
      received: describeValue(value),
    })
    return issues
  }
  const m = value
  const need = (key: string): unknown => {
    if (!Object.hasOwn(m, key)) add([key], `'${key}' is missing.`, 'missing_field')
    return m[key]
  }
  const typed = (path: Path, v: unknown, expected: string): void => {
    issues.push({ code: 'invalid_type', path, message: `Expected ${expected}.`, expected, received: describeValue(v) })
  }
  const nonEmptyString = (path: Path, v: unknown): v is string => {
    if (typeof v === 'string' && v.length > 0) return true
    typed(path, v, 'a non-empty string')
    return false
  }

  const formatVersion = need('formatVersion')
  if (Object.hasOwn(m, 'formatVersion') && formatVersion !== MANIFEST_FORMAT_VERSION) {
    add(
      ['formatVersion'],
      `Format version ${JSON.stringify(formatVersion)} is not supported; this scaleml reads version ${MANIFEST_FORMAT_VERSION}.`,
    )
  }
  const name = need('name')
  if (Object.hasOwn(m, 'name') && (typeof name !== 'string' || !MODEL_NAME_PATTERN.test(name))) {
    typed(['name'], name, `a model name matching ${MODEL_NAME_PATTERN}`)
  }
  const version = need('version')
  if (Object.hasOwn(m, 'version') && !isPositiveInteger(version)) typed(['version'], version, 'a whole number ≥ 1')
  const created = need('created')
  if (Object.hasOwn(m, 'created') && !(typeof created === 'string' && isIsoTime(created))) {
    typed(['created'], created, 'an ISO 8601 time like 2001-06-13T00:00:00.000Z')
  }
  const task = need('task')
  if (Object.hasOwn(m, 'task') && !(typeof task === 'string' && TASKS.includes(task))) {
    typed(['task'], task, `one of ${TASKS.join(', ')}`)
  }
  if (Object.hasOwn(m, 'modelKind')) nonEmptyString(['modelKind'], m['modelKind'])
  else need('modelKind')

  const inputSchema = need('inputSchema')
  if (Object.hasOwn(m, 'inputSchema')) {
    if (!Array.isArray(inputSchema)) typed(['inputSchema'], inputSchema, 'an array of fields')
    else {
      const seen = new Set<string>()
      for (const [i, field] of (inputSchema as unknown[]).entries()) {
        const path: Path = ['inputSchema', i]
        if (!isRecord(field)) {
          typed(path, field, 'a field { name, type, nullable }')
          continue
        }
        if (nonEmptyString([...path, 'name'], field['name'])) {
          if (seen.has(field['name'])) add([...path, 'name'], `The column '${field['name']}' is listed twice.`)
          seen.add(field['name'])
        }
        const type = field['type']
        if (!(typeof type === 'string' && COLUMN_TYPES.includes(type))) {
          typed([...path, 'type'], type, `one of ${COLUMN_TYPES.join(', ')}`)
        }
        if (typeof field['nullable'] !== 'boolean') typed([...path, 'nullable'], field['nullable'], 'a boolean')
      }
    }
  }

  if (Object.hasOwn(m, 'target') && m['target'] !== undefined) {
    const target = m['target']
    if (!isRecord(target)) typed(['target'], target, 'an object { expression, kind }')
    else {
      nonEmptyString(['target', 'expression'], target['expression'])
      const kind = target['kind']
      if (!(typeof kind === 'string' && TARGET_KINDS.includes(kind))) {
        typed(['target', 'kind'], kind, `one of ${TARGET_KINDS.join(', ')}`)
      }
    }
  }

  const features = need('features')
  if (Object.hasOwn(m, 'features')) {
    if (!Array.isArray(features)) typed(['features'], features, 'an array of column names')
    else for (const [i, f] of (features as unknown[]).entries()) nonEmptyString(['features', i], f)
  }

  need('pipeline')
  need('model')
  const params = need('params')
  if (Object.hasOwn(m, 'params')) {
    if (!isRecord(params)) typed(['params'], params, 'an object of hyperparameters')
    else checkJson(params, ['params'], issues)
  }
  const metrics = need('metrics')
  if (Object.hasOwn(m, 'metrics')) {
    if (!isRecord(metrics)) typed(['metrics'], metrics, 'an object of metric values')
    else {
      for (const [key, v] of Object.entries(metrics)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) typed(['metrics', key], v, 'a finite number')
      }
    }
  }
  const lineage = need('lineage')
  if (Object.hasOwn(m, 'lineage')) checkLineage(lineage, issues)

  const files = need('files')
  if (Object.hasOwn(m, 'files')) {
    if (!Array.isArray(files)) typed(['files'], files, 'an array of { path, sha256, bytes }')
    else {
      const seen = new Set<string>()
      for (const [i, file] of (files as unknown[]).entries()) {
        const path: Path = ['files', i]
        if (!isRecord(file)) {
          typed(path, file, 'an object { path, sha256, bytes }')
          continue
        }
        const p = file['path']
        if (typeof p !== 'string' || !isSafeFileName(p) || p === MANIFEST_FILE) {
          typed([...path, 'path'], p, 'a plain file name inside the artifact (no folders, no "..")')
        } else {
          if (seen.has(p.toLowerCase())) add([...path, 'path'], `The file '${p}' is listed twice.`)
          seen.add(p.toLowerCase())
        }
        if (typeof file['sha256'] !== 'string' || !SHA256_HEX.test(file['sha256'])) {
          typed([...path, 'sha256'], file['sha256'], '64 lower-case hex digits')
        }
        const bytes = file['bytes']
        if (!(typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0)) {
          typed([...path, 'bytes'], bytes, 'a whole number of bytes ≥ 0')
        }
      }
    }
  }

  for (const key of Object.keys(m)) {
    if (!TOP_LEVEL_KEYS.has(key)) add([key], `Unknown manifest field '${key}'.`, 'unknown_field')
  }
  return issues
}

/**
 * Returns `value` as a {@link Manifest} or throws `ScalemlError('ARTIFACT_INVALID')` whose message names the first
 * bad field and the artifact (`where`), with every problem in `issues`.
 *
 * @example
 * const manifest = parseManifest(JSON.parse(text), '/srv/.scaleml/models/flights/3')
 */
export function parseManifest(value: unknown, where: string): Manifest {
  const issues = checkManifest(value)
  if (issues.length > 0) throw manifestError('ARTIFACT_INVALID', `The manifest of ${where} is invalid`, issues)
  return value as Manifest
}

/** Builds the error for a manifest with problems: the first one in the message, all in `issues`. */
export function manifestError(
  code: 'ARTIFACT_INVALID' | 'INVALID_ARGUMENT',
  lead: string,
  issues: Issue[],
): ScalemlError {
  const first = issues[0]!
  const field = first.path.length > 0 ? `'${toDotPath(first.path)}'` : 'the root'
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : ''
  return new ScalemlError(code, `${lead}: ${field}: ${first.message}${more}`, issues)
}

/**
 * Adds an issue for every value under `value` that JSON cannot hold unchanged (non-finite numbers, `undefined`,
 * functions, class instances, typed arrays). Used for `params` and `lineage`, which are stored as plain JSON.
 */
export function checkJson(value: unknown, path: Path, issues: Issue[]): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      issues.push({
        code: 'not_finite',
        path,
        message: `${value} cannot be stored as JSON.`,
        expected: 'a finite number',
        received: describeValue(value),
      })
    }
    return
  }
  if (Array.isArray(value)) {
    for (const [i, item] of (value as unknown[]).entries()) checkJson(item, [...path, i], issues)
    return
  }
  if (isRecord(value) && isPlain(value)) {
    for (const [k, v] of Object.entries(value)) checkJson(v, [...path, k], issues)
    return
  }
  issues.push({
    code: 'invalid_type',
    path,
    message: `Expected a JSON value; got ${describeValue(value)}.`,
    expected: 'a JSON value',
    received: describeValue(value),
  })
}

function checkLineage(lineage: unknown, issues: Issue[]): void {
  const typed = (path: Path, v: unknown, expected: string): void => {
    issues.push({ code: 'invalid_type', path, message: `Expected ${expected}.`, expected, received: describeValue(v) })
  }
  if (!isRecord(lineage)) {
    typed(['lineage'], lineage, 'an object')
    return
  }
  const optionalString = (key: string): void => {
    if (Object.hasOwn(lineage, key) && typeof lineage[key] !== 'string')
      typed(['lineage', key], lineage[key], 'a string')
  }
  if (typeof lineage['packageVersion'] !== 'string' || lineage['packageVersion'] === '') {
    if (!Object.hasOwn(lineage, 'packageVersion')) {
      issues.push({
        code: 'missing_field',
        path: ['lineage', 'packageVersion'],
        message: "'packageVersion' is missing.",
      })
    } else typed(['lineage', 'packageVersion'], lineage['packageVersion'], 'a non-empty string')
  }
  optionalString('dataFingerprint')
  optionalString('dataDescription')
  optionalString('gitCommit')
  if (Object.hasOwn(lineage, 'rows')) {
    const rows = lineage['rows']
    if (!(typeof rows === 'number' && Number.isSafeInteger(rows) && rows >= 0)) {
      typed(['lineage', 'rows'], rows, 'a whole number ≥ 0')
    }
  }
  if (Object.hasOwn(lineage, 'seed') && !Number.isSafeInteger(lineage['seed'])) {
    typed(['lineage', 'seed'], lineage['seed'], 'a whole number')
  }
  if (Object.hasOwn(lineage, 'parent')) {
    const parent = lineage['parent']
    if (
      !isRecord(parent) ||
      typeof parent['name'] !== 'string' ||
      !MODEL_NAME_PATTERN.test(parent['name']) ||
      !isPositiveInteger(parent['version'])
    ) {
      typed(['lineage', 'parent'], parent, 'a model version { name, version }')
    }
  }
  checkJson(lineage, ['lineage'], issues)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1
}

function isIsoTime(text: string): boolean {
  return ISO_TIME.test(text) && Number.isFinite(Date.parse(text))
}

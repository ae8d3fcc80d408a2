/**
 * Where studies live: the `StudyStore` interface, and `openStudyStore`, which picks the adapter by URL scheme
 * (SQLite by default, a file under the scaleml home; PostgreSQL for studies shared by many processes or machines)
 * and imports it lazily, so the embedded default loads no PostgreSQL client.
 *
 * The one operation that makes parallel and resumable studies work is {@link StudyStore.claim}: it reads the trials,
 * lets the scheduler decide, applies the decision and marks the trial to run as held by the caller, all in one
 * transaction that holds the study's lock. Two workers can therefore never run the same rung of the same trial, and
 * a trial whose worker died is given to another once its lease has run out.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Decision } from '../schedulers/scheduler.js'
import type { StudyDefinition, StudySnapshot, TrialRecord } from '../study.js'

/** A claim: who asks, until when it holds what it gets, and how to decide. */
export interface ClaimRequest {
  /** The worker (`host:pid:random`). */
  readonly owner: string
  /** Epoch ms until which the claimed trial is held (renewed with `renewLeases`). */
  readonly leaseUntil: number
  /** Epoch ms now (recorded as the start of a trial's first run). */
  readonly now: number
  /** Called once, inside the transaction, with the study's trials (in number order). */
  decide(trials: readonly TrialRecord[]): Decision
}

/** What a claim got. */
export type ClaimResult =
  | { readonly status: 'run'; readonly trial: TrialRecord }
  | { readonly status: 'wait' | 'done'; readonly trial?: undefined }

/** The result of one run of a trial. */
export type TrialOutcome =
  | {
      readonly kind: 'rung'
      readonly rung: number
      readonly resource: number
      readonly value: number
      readonly seconds: number
      /** 'complete' after the trial's last rung, else 'paused'. */
      readonly state: 'paused' | 'complete'
    }
  | { readonly kind: 'failed'; readonly error: string; readonly seconds: number }

/** A worker's report of a trial it holds. */
export interface TrialReport {
  readonly number: number
  readonly owner: string
  /** Epoch ms. */
  readonly now: number
  readonly outcome: TrialOutcome
}

/** Stores studies and their trials. */
export interface StudyStore {
  /** Where the studies are (for messages): a file path or a URL without password. */
  readonly description: string
  /**
   * Creates the study; when it exists, returns the stored definition if `resume` (the caller compares it with the
   * given one), else throws `INVALID_ARGUMENT` saying to pass --resume.
   */
  openStudy(
    definition: StudyDefinition,
    options: { readonly resume: boolean },
  ): Promise<{
    readonly created: boolean
    readonly definition: StudyDefinition
  }>
  /** Decides and claims atomically (see the module notes). */
  claim(study: string, request: ClaimRequest): Promise<ClaimResult>
  /**
   * Records the outcome of a trial the reporter holds. False (and nothing written) when it no longer holds it: its
   * lease ran out and the trial was requeued, so the result is another worker's to report.
   */
  report(study: string, report: TrialReport): Promise<boolean>
  /** Extends the lease of every trial `owner` is running in `study`. */
  renewLeases(study: string, owner: string, leaseUntil: number): Promise<void>
  /** The study and its trials, or undefined. */
  readStudy(name: string): Promise<StudySnapshot | undefined>
  /** Names of every study, sorted. */
  listStudies(): Promise<string[]>
  /** Releases the connection; idempotent. */
  close(): Promise<void>
}

/** Where to keep studies. */
export type StudyStoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string }

/** The adapters by kind, imported on first use (the embedded default never loads `pg`). */
const ADAPTERS = {
  sqlite: async () => (await import('./sqlite.js')).openSqliteStudyStore,
  postgres: async () => (await import('./postgres.js')).openPostgresStudyStore,
} as const

/**
 * Reads `--storage`: `postgres://user@host:port/db[?schema=name]` (or `postgresql://`), `sqlite:<path>`, or a plain
 * file path (SQLite).
 */
export function parseStudyStoreUrl(url: string): StudyStoreConfig {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = new URL(url)
    const schema = parsed.searchParams.get('schema') ?? undefined
    parsed.searchParams.delete('schema')
    return { kind: 'postgres', url: parsed.toString(), ...(schema === undefined ? {} : { schema }) }
  }
  if (url.startsWith('sqlite:')) {
    const path = url.replace(/^sqlite:(\/\/)?/, '')
    if (path === '') throw new ScalemlError('INVALID_ARGUMENT', `--storage ${url} names no file.`)
    return { kind: 'sqlite', path }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `--storage '${url}' has an unknown scheme; use postgres://…, sqlite:<path> or a file path.`,
    )
  }
  return { kind: 'sqlite', path: url }
}

/**
 * Opens the store `config` names (a URL or file path is parsed first).
 * @example
 * const store = await openStudyStore('postgres://postgres@127.0.0.1:5432/test')
 */
export async function openStudyStore(config: StudyStoreConfig | string): Promise<StudyStore> {
  const resolved = typeof config === 'string' ? parseStudyStoreUrl(config) : config
  switch (resolved.kind) {
    case 'sqlite':
      return (await ADAPTERS.sqlite())({ path: resolved.path })
    case 'postgres':
      return (await ADAPTERS.postgres())({
        url: resolved.url,
        ...(resolved.schema === undefined ? {} : { schema: resolved.schema }),
      })
  }
}

/**
 * The `StudyStore` both SQL adapters share: the schema, the queries and the claim transaction, over a small driver
 * that each adapter supplies (how to run a statement, how to open a transaction that holds the study's lock, how
 * to name a table). Statements use `$1`-style parameters; the SQLite driver rewrites them.
 *
 * Tables: `tune_studies` (name, definition JSON, created), `tune_trials` (one row per trial: params JSON, state,
 * bracket, rung, budget, lease holder and expiry, error, start and end), `tune_rungs` (one row per finished rung:
 * budget, value, seconds). NaN values are stored as NULL.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Decision } from '../schedulers/scheduler.js'
import type { ParamValues } from '../space.js'
import type { RungResult, StudyDefinition, StudySnapshot, TrialRecord, TrialState } from '../study.js'
import type { ClaimRequest, ClaimResult, StudyStore, TrialReport } from './study-store.js'

/** A row as the driver returns it. */
export type SqlRow = Record<string, unknown>

/** Runs statements (inside or outside a transaction). */
export interface SqlRunner {
  /** Runs one statement; returns its rows (if any) and the number of rows it changed. */
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: SqlRow[]; changes: number }>
}

/** What an SQL adapter provides. */
export interface SqlDriver extends SqlRunner {
  readonly description: string
  /** `tune_trials` → the qualified, quoted table name. */
  table(name: 'tune_studies' | 'tune_trials' | 'tune_rungs'): string
  /**
   * Runs `fn` in a transaction that other claims on the same study wait for (PostgreSQL: the study row locked FOR
   * UPDATE; SQLite: the database's write lock). Commits on success, rolls back on a throw.
   */
  transaction<T>(study: string, fn: (tx: SqlRunner) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** The schema, created when missing (both dialects accept these types). */
export function schemaStatements(table: SqlDriver['table']): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table('tune_studies')} (
      name TEXT PRIMARY KEY,
      definition TEXT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${table('tune_trials')} (
      study TEXT NOT NULL,
      number INTEGER NOT NULL,
      params TEXT NOT NULL,
      state TEXT NOT NULL,
      bracket INTEGER NOT NULL,
      rung INTEGER NOT NULL,
      resource DOUBLE PRECISION NOT NULL,
      owner TEXT,
      lease_until BIGINT,
      error TEXT,
      started_at BIGINT,
      finished_at BIGINT,
      PRIMARY KEY (study, number)
    )`,
    `CREATE TABLE IF NOT EXISTS ${table('tune_rungs')} (
      study TEXT NOT NULL,
      number INTEGER NOT NULL,
      rung INTEGER NOT NULL,
      resource DOUBLE PRECISION NOT NULL,
      value DOUBLE PRECISION,
      seconds DOUBLE PRECISION NOT NULL,
      PRIMARY KEY (study, number, rung)
    )`,
  ]
}

const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v))
const optionalNumber = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v))

/** A StudyStore over `driver`. */
export class SqlStudyStore implements StudyStore {
  readonly #driver: SqlDriver
  #closed = false

  constructor(driver: SqlDriver) {
    this.#driver = driver
  }

  get description(): string {
    return this.#driver.description
  }

  async openStudy(
    definition: StudyDefinition,
    options: { readonly resume: boolean },
  ): Promise<{ created: boolean; definition: StudyDefinition }> {
    const d = this.#driver
    const { rows } = await d.query(`SELECT definition FROM ${d.table('tune_studies')} WHERE name = $1`, [
      definition.name,
    ])
    const existing = rows[0]
    if (existing !== undefined) return this.#existing(definition.name, existing, options.resume)
    const inserted = await d.query(
      `INSERT INTO ${d.table('tune_studies')} (name, definition, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
      [definition.name, JSON.stringify(definition), Date.now()],
    )
    if (inserted.changes === 0) {
      // Another process created it between our read and our insert.
      const again = await d.query(`SELECT definition FROM ${d.table('tune_studies')} WHERE name = $1`, [
        definition.name,
      ])
      return this.#existing(definition.name, again.rows[0]!, options.resume)
    }
    return { created: true, definition }
  }

  #existing(name: string, row: SqlRow, resume: boolean): { created: false; definition: StudyDefinition } {
    if (!resume) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `The study '${name}' already exists in ${this.description}; pass --resume to continue it, or choose another --study name.`,
      )
    }
    return { created: false, definition: JSON.parse(String(row['definition'])) as StudyDefinition }
  }

  async claim(study: string, request: ClaimRequest): Promise<ClaimResult> {
    const d = this.#driver
    return d.transaction(study, async (tx) => {
      const trials = await readTrials(d, tx, study)
      const decision = request.decide(trials)
      await applyDecision(d, tx, study, decision)
      if (decision.status !== 'run') return { status: decision.status }
      const claimed = await tx.query(
        `UPDATE ${d.table('tune_trials')} SET state = 'running', owner = $1, lease_until = $2,
           started_at = COALESCE(started_at, $3) WHERE study = $4 AND number = $5 AND state = 'waiting'`,
        [request.owner, request.leaseUntil, request.now, study, decision.run],
      )
      if (claimed.changes !== 1) {
        throw new Error(`scheduler chose trial ${decision.run} of '${study}', which is not waiting`)
      }
      const after = await readTrials(d, tx, study, decision.run)
      return { status: 'run', trial: after[0]! }
    })
  }

  async report(study: string, report: TrialReport): Promise<boolean> {
    const d = this.#driver
    return d.transaction(study, async (tx) => {
      const { outcome } = report
      const state: TrialState = outcome.kind === 'failed' ? 'failed' : outcome.state
      const finished = state === 'complete' || state === 'failed' ? report.now : null
      const updated = await tx.query(
        `UPDATE ${d.table('tune_trials')} SET state = $1, owner = NULL, lease_until = NULL, error = $2,
           finished_at = $3 WHERE study = $4 AND number = $5 AND state = 'running' AND owner = $6`,
        [state, outcome.kind === 'failed' ? outcome.error : null, finished, study, report.number, report.owner],
      )
      if (updated.changes !== 1) return false
      if (outcome.kind === 'rung') {
        await tx.query(
          `INSERT INTO ${d.table('tune_rungs')} (study, number, rung, resource, value, seconds) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (study, number, rung) DO UPDATE SET resource = excluded.resource, value = excluded.value,
             seconds = excluded.seconds`,
          [
            study,
            report.number,
            outcome.rung,
            outcome.resource,
            Number.isNaN(outcome.value) ? null : outcome.value,
            outcome.seconds,
          ],
        )
      }
      return true
    })
  }

  async renewLeases(study: string, owner: string, leaseUntil: number): Promise<void> {
    const d = this.#driver
    await d.query(
      `UPDATE ${d.table('tune_trials')} SET lease_until = $1 WHERE study = $2 AND owner = $3 AND state = 'running'`,
      [leaseUntil, study, owner],
    )
  }

  async readStudy(name: string): Promise<StudySnapshot | undefined> {
    const d = this.#driver
    const { rows } = await d.query(`SELECT definition, created_at FROM ${d.table('tune_studies')} WHERE name = $1`, [
      name,
    ])
    const row = rows[0]
    if (row === undefined) return undefined
    return {
      definition: JSON.parse(String(row['definition'])) as StudyDefinition,
      createdAt: Number(row['created_at']),
      trials: await readTrials(d, d, name),
    }
  }

  async listStudies(): Promise<string[]> {
    const d = this.#driver
    const { rows } = await d.query(`SELECT name FROM ${d.table('tune_studies')} ORDER BY name`)
    return rows.map((r) => String(r['name']))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#driver.close()
  }
}

async function readTrials(d: SqlDriver, q: SqlRunner, study: string, only?: number): Promise<TrialRecord[]> {
  const filter = only === undefined ? '' : ' AND number = $2'
  const params = only === undefined ? [study] : [study, only]
  const trialRows = (
    await q.query(
      `SELECT number, params, state, bracket, rung, resource, owner, lease_until, error, started_at, finished_at
         FROM ${d.table('tune_trials')} WHERE study = $1${filter} ORDER BY number`,
      params,
    )
  ).rows
  const rungRows = (
    await q.query(
      `SELECT number, rung, resource, value, seconds FROM ${d.table('tune_rungs')} WHERE study = $1${filter}
         ORDER BY number, rung`,
      params,
    )
  ).rows
  const rungs = new Map<number, RungResult[]>()
  for (const r of rungRows) {
    const number = Number(r['number'])
    const list = rungs.get(number) ?? []
    list.push({
      rung: Number(r['rung']),
      resource: num(r['resource']),
      value: num(r['value']),
      seconds: num(r['seconds']),
    })
    rungs.set(number, list)
  }
  return trialRows.map((r) => {
    const number = Number(r['number'])
    const owner = r['owner']
    const error = r['error']
    const leaseUntil = optionalNumber(r['lease_until'])
    const startedAt = optionalNumber(r['started_at'])
    const finishedAt = optionalNumber(r['finished_at'])
    return {
      number,
      params: JSON.parse(String(r['params'])) as ParamValues,
      state: String(r['state']) as TrialState,
      bracket: Number(r['bracket']),
      rung: Number(r['rung']),
      resource: num(r['resource']),
      rungs: rungs.get(number) ?? [],
      ...(typeof owner === 'string' ? { owner } : {}),
      ...(leaseUntil === undefined ? {} : { leaseUntil }),
      ...(typeof error === 'string' ? { error } : {}),
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(finishedAt === undefined ? {} : { finishedAt }),
    }
  })
}

async function applyDecision(d: SqlDriver, tx: SqlRunner, study: string, decision: Decision): Promise<void> {
  for (const c of decision.create) {
    await tx.query(
      `INSERT INTO ${d.table('tune_trials')} (study, number, params, state, bracket, rung, resource)
         VALUES ($1, $2, $3, 'waiting', $4, $5, $6)`,
      [study, c.number, JSON.stringify(c.params), c.bracket, c.rung, c.resource],
    )
  }
  for (const t of decision.transitions) {
    const finished = t.state === 'complete' || t.state === 'pruned'
    await tx.query(
      `UPDATE ${d.table('tune_trials')} SET state = $1, rung = COALESCE($2, rung), resource = COALESCE($3, resource),
         owner = NULL, lease_until = NULL, finished_at = CASE WHEN $4 = 1 THEN COALESCE(finished_at, $5) ELSE NULL END
         WHERE study = $6 AND number = $7`,
      [t.state, t.rung ?? null, t.resource ?? null, finished ? 1 : 0, Date.now(), study, t.number],
    )
  }
}

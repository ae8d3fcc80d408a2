/**
 * The shared registry store: PostgreSQL holds versions, manifests, aliases, deletion marks and the artifact files
 * (`bytea` chunk rows), so every machine that can reach the database sees one registry.
 *
 * Publishing is one transaction: it takes a transaction-scoped advisory lock for the model name, reads the highest
 * version (deleted ones included, so numbers are never reused), inserts the manifest and every file, and commits.
 * Publishers of one name therefore queue on the lock and get consecutive numbers; the primary key on
 * `(name, version)` backs this up. A client killed mid-publish never commits, and PostgreSQL rolls its transaction
 * back when the connection drops: no reader ever sees a partial version.
 *
 * The schema (`scaleml` unless `?schema=` says otherwise) is created on first use, under an advisory lock so that
 * processes starting together do not race on `CREATE TABLE`. `pg` is imported only when this store is opened.
 *
 * Every change a server must notice (publish, alias set/moved/removed, delete, restore) also sends
 * `pg_notify('scaleml_registry', '<schema>:<name>')` in its own transaction. PostgreSQL delivers notifications at
 * commit, so a listener never hears of a change before it can read it; the schema in the payload keeps registries
 * that share a database apart. {@link openPostgresStore}'s `watch` listens on one dedicated connection.
 * @module
 */
import type { Client, Pool, PoolClient } from 'pg'
import { ScalemlError } from '../../core/errors.js'
import { checkReadPath, checkStoreAlias, checkStoredFiles, checkStoreName, checkStoreRef } from './checks.js'
import { CHUNK_BYTES, joinChunks, splitChunks } from './chunks.js'
import type {
  DeleteOutcome,
  FullRegistryStore,
  PublishRequest,
  RegistryChangeListener,
  RestoreOutcome,
  SetAliasOutcome,
  WatchStore,
} from './registry-store.js'

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`, optionally `?schema=<name>`; other parameters go to `pg`. */
  readonly url: string
  /** The schema holding the registry's tables; overrides `?schema=`. Default `scaleml`. */
  readonly schema?: string
  /** Pool size. Default 4. */
  readonly maxConnections?: number
  /** How long to wait for a connection before saying the database does not answer, ms. Default 10 000. */
  readonly connectTimeoutMs?: number
}

/** The schema this code writes; a database with a newer one is refused rather than misread. */
export const POSTGRES_SCHEMA_VERSION = 1

/** The channel the store notifies changes on; the payload is `<schema>:<model name>`. */
export const POSTGRES_NOTIFY_CHANNEL = 'scaleml_registry'

/** Reconnect delays of a watch whose connection broke: doubling from the first to the last, ms. */
const WATCH_RETRY_FIRST_MS = 100
const WATCH_RETRY_MAX_MS = 5_000

/** The default schema for the registry's tables. */
export const DEFAULT_POSTGRES_SCHEMA = 'scaleml'

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const TABLES = ['registry_meta', 'registry_versions', 'registry_files', 'registry_aliases'] as const
/** Many small files go into one INSERT, up to about this many bytes, to save round trips. */
const BATCH_BYTES = CHUNK_BYTES

function schemaSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.registry_meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.registry_versions (
  name text NOT NULL,
  version integer NOT NULL,
  manifest bytea NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS ${s}.registry_files (
  name text NOT NULL,
  version integer NOT NULL,
  path text NOT NULL,
  chunk integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (name, version, path, chunk),
  FOREIGN KEY (name, version) REFERENCES ${s}.registry_versions (name, version)
);
CREATE TABLE IF NOT EXISTS ${s}.registry_aliases (
  name text NOT NULL,
  alias text NOT NULL,
  version integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES ${s}.registry_versions (name, version)
);
INSERT INTO ${s}.registry_meta (key, value) VALUES ('schema_version', '${POSTGRES_SCHEMA_VERSION}')
  ON CONFLICT (key) DO NOTHING;
`
}

/** The connection string `pg` gets and the schema, from a registry URL. Throws `INVALID_ARGUMENT` when malformed. */
export function parsePostgresUrl(url: string, schema?: string): { connectionString: string; schema: string } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ScalemlError('INVALID_ARGUMENT', `Invalid PostgreSQL registry URL '${redactUrl(url)}'.`)
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `'${redactUrl(url)}' is not a PostgreSQL URL (expected postgres://user@host:port/database).`,
    )
  }
  const chosen = schema ?? parsed.searchParams.get('schema') ?? DEFAULT_POSTGRES_SCHEMA
  if (!SCHEMA_NAME.test(chosen)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Invalid registry schema '${chosen}' in '${redactUrl(url)}': use letters, digits and '_', starting with a letter or '_'.`,
    )
  }
  parsed.searchParams.delete('schema')
  return { connectionString: parsed.toString(), schema: chosen }
}

/** `url` without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
  }
}

/**
 * Opens the PostgreSQL registry store: connects, and creates the schema and tables if they are missing. Throws
 * `STORE_UNAVAILABLE` naming the server when it does not answer or refuses the login.
 *
 * @example
 * const store = await openPostgresStore({ url: 'postgres://scaleml@db.internal/ml' })
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<FullRegistryStore & WatchStore> {
  const { connectionString, schema } = parsePostgresUrl(options.url, options.schema)
  const shown = redactUrl(connectionString)
  const where = `PostgreSQL registry at ${shown} (schema ${schema})`
  let PoolClass: typeof Pool
  let ClientClass: typeof Client
  try {
    const pg = (await import('pg')).default
    PoolClass = pg.Pool
    ClientClass = pg.Client
  } catch (error) {
    throw new ScalemlError(
      'STORE_UNAVAILABLE',
      `The ${where} needs the 'pg' package: ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    )
  }
  const hasApplicationName = new URL(connectionString).searchParams.has('application_name')
  const connection = {
    connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    ...(hasApplicationName ? {} : { application_name: 'scaleml-registry' }),
  }
  const pool: Pool = new PoolClass({ ...connection, max: options.maxConnections ?? 4 })
  // An idle connection that the server drops must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  const s = quoteIdent(schema)
  let closed = false
  /** Stops every watch still running; `close()` calls them. */
  const watches = new Set<() => Promise<void>>()
  /** Sends the change notification inside `client`'s transaction (delivered at its commit). */
  const notify = async (client: PoolClient, name: string): Promise<void> => {
    await client.query('SELECT pg_notify($1, $2)', [POSTGRES_NOTIFY_CHANNEL, `${schema}:${name}`])
  }

  const fail = (error: unknown): never => {
    throw unavailable(error, where) ?? error
  }
  const query = async <R extends object>(sql: string, values: unknown[] = []): Promise<R[]> => {
    if (closed) throw new ScalemlError('STORE_UNAVAILABLE', `The ${where} is closed.`)
    try {
      return (await pool.query<R>(sql, values)).rows
    } catch (error) {
      return fail(error)
    }
  }
  const transaction = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    if (closed) throw new ScalemlError('STORE_UNAVAILABLE', `The ${where} is closed.`)
    let client: PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      return fail(error)
    }
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e))
      return fail(error)
    } finally {
      client.release(broken)
    }
  }

  try {
    await ensureSchema({ query, transaction, schema, where })
  } catch (error) {
    closed = true
    await pool.end().catch(() => {})
    throw error
  }

  /** Locks the version row (so alias changes and deletion of one version happen one at a time) and reads its state. */
  const lockVersion = async (
    client: PoolClient,
    name: string,
    version: number,
  ): Promise<'missing' | 'visible' | 'deleted'> => {
    const { rows } = await client.query<{ deleted: boolean }>(
      `SELECT deleted_at IS NOT NULL AS deleted FROM ${s}.registry_versions WHERE name = $1 AND version = $2 FOR UPDATE`,
      [name, version],
    )
    const row = rows[0]
    return row === undefined ? 'missing' : row.deleted ? 'deleted' : 'visible'
  }

  return {
    description: where,

    async publish(request: PublishRequest): Promise<number> {
      checkStoreName(request.name, where)
      checkStoredFiles(request.files)
      return transaction(async (client) => {
        // Publishers of one name queue here until the holder commits or rolls back.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `scaleml.registry.publish:${schema}:${request.name}`,
        ])
        const { rows } = await client.query<{ next: number }>(
          `SELECT COALESCE(MAX(version), 0) + 1 AS next FROM ${s}.registry_versions WHERE name = $1`,
          [request.name],
        )
        const version = rows[0]!.next
        const manifest = request.manifestFor(version)
        await client.query(`INSERT INTO ${s}.registry_versions (name, version, manifest) VALUES ($1, $2, $3)`, [
          request.name,
          version,
          toBuffer(manifest),
        ])
        let batch: unknown[][] = []
        let batchBytes = 0
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return
          const tuples = batch.map(
            (_, i) => `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, $${i * 5 + 5})`,
          )
          await client.query(
            `INSERT INTO ${s}.registry_files (name, version, path, chunk, data) VALUES ${tuples.join(', ')}`,
            batch.flat(),
          )
          batch = []
          batchBytes = 0
        }
        for (const file of request.files) {
          for (const [i, chunk] of splitChunks(file.bytes).entries()) {
            if (batchBytes + chunk.byteLength > BATCH_BYTES || batch.length >= 1000) await flush()
            batch.push([request.name, version, file.path, i, chunk])
            batchBytes += chunk.byteLength
          }
        }
        await flush()
        await notify(client, request.name)
        return version
      })
    },

    async names() {
      const rows = await query<{ name: string }>(
        `SELECT name FROM ${s}.registry_versions WHERE deleted_at IS NULL GROUP BY name ORDER BY name COLLATE "C"`,
      )
      return rows.map((r) => r.name)
    },

    async versions(name) {
      checkStoreName(name, where)
      const rows = await query<{ version: number }>(
        `SELECT version FROM ${s}.registry_versions WHERE name = $1 AND deleted_at IS NULL ORDER BY version`,
        [name],
      )
      return rows.map((r) => r.version)
    },

    async readManifest(ref) {
      checkStoreRef(ref, where)
      const rows = await query<{ manifest: Buffer }>(
        `SELECT manifest FROM ${s}.registry_versions WHERE name = $1 AND version = $2`,
        [ref.name, ref.version],
      )
      return rows[0]?.manifest
    },

    async readFile(ref, path) {
      checkReadPath(path)
      checkStoreRef(ref, where)
      const rows = await query<{ data: Buffer }>(
        `SELECT data FROM ${s}.registry_files WHERE name = $1 AND version = $2 AND path = $3 ORDER BY chunk`,
        [ref.name, ref.version, path],
      )
      return joinChunks(rows.map((r) => r.data))
    },

    async setAlias(ref, alias) {
      checkStoreRef(ref, where)
      checkStoreAlias(alias, where)
      return transaction<SetAliasOutcome>(async (client) => {
        const state = await lockVersion(client, ref.name, ref.version)
        if (state !== 'visible') return { status: state }
        const { rows } = await client.query<{ version: number }>(
          `SELECT version FROM ${s}.registry_aliases WHERE name = $1 AND alias = $2 FOR UPDATE`,
          [ref.name, alias],
        )
        await client.query(
          `INSERT INTO ${s}.registry_aliases (name, alias, version) VALUES ($1, $2, $3)
           ON CONFLICT (name, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
          [ref.name, alias, ref.version],
        )
        const previous = rows[0]?.version
        if (previous !== ref.version) await notify(client, ref.name)
        return previous === undefined || previous === ref.version ? { status: 'set' } : { status: 'set', previous }
      })
    },

    async removeAlias(name, alias) {
      checkStoreName(name, where)
      checkStoreAlias(alias, where)
      // One statement, so one transaction: the notification (sent only when a row went) leaves at its commit.
      const rows = await query<{ version: number }>(
        `WITH gone AS (DELETE FROM ${s}.registry_aliases WHERE name = $1 AND alias = $2 RETURNING version)
         SELECT version, pg_notify($3, $4) FROM gone`,
        [name, alias, POSTGRES_NOTIFY_CHANNEL, `${schema}:${name}`],
      )
      const row = rows[0]
      return row === undefined ? { status: 'missing' } : { status: 'removed', version: row.version }
    },

    async aliases(name) {
      checkStoreName(name, where)
      const rows = await query<{ alias: string; version: number }>(
        `SELECT alias, version FROM ${s}.registry_aliases WHERE name = $1 ORDER BY alias COLLATE "C"`,
        [name],
      )
      return rows.map((r) => ({ alias: r.alias, version: r.version }))
    },

    async markDeleted(ref) {
      checkStoreRef(ref, where)
      return transaction<DeleteOutcome>(async (client) => {
        const state = await lockVersion(client, ref.name, ref.version)
        if (state === 'missing') return { status: 'missing' }
        if (state === 'deleted') return { status: 'already-deleted' }
        const { rows } = await client.query<{ alias: string }>(
          `SELECT alias FROM ${s}.registry_aliases WHERE name = $1 AND version = $2 ORDER BY alias COLLATE "C"`,
          [ref.name, ref.version],
        )
        if (rows.length > 0) return { status: 'aliased', aliases: rows.map((r) => r.alias) }
        await client.query(`UPDATE ${s}.registry_versions SET deleted_at = now() WHERE name = $1 AND version = $2`, [
          ref.name,
          ref.version,
        ])
        await notify(client, ref.name)
        return { status: 'deleted' }
      })
    },

    async restore(ref) {
      checkStoreRef(ref, where)
      return transaction<RestoreOutcome>(async (client) => {
        const state = await lockVersion(client, ref.name, ref.version)
        if (state === 'missing') return { status: 'missing' }
        if (state === 'visible') return { status: 'not-deleted' }
        await client.query(`UPDATE ${s}.registry_versions SET deleted_at = NULL WHERE name = $1 AND version = $2`, [
          ref.name,
          ref.version,
        ])
        await notify(client, ref.name)
        return { status: 'restored' }
      })
    },

    async deletedVersions(name) {
      checkStoreName(name, where)
      const rows = await query<{ version: number }>(
        `SELECT version FROM ${s}.registry_versions WHERE name = $1 AND deleted_at IS NOT NULL ORDER BY version`,
        [name],
      )
      return rows.map((r) => r.version)
    },

    async watch(onChange: RegistryChangeListener) {
      if (closed) throw new ScalemlError('STORE_UNAVAILABLE', `The ${where} is closed.`)
      const stop = await watchChanges({
        connect: () => new ClientClass(connection),
        schema,
        onChange,
        fail,
      })
      const once = async (): Promise<void> => {
        watches.delete(once)
        await stop()
      }
      watches.add(once)
      return once
    },

    async close() {
      if (closed) return
      closed = true
      await Promise.all([...watches].map((stop) => stop()))
      await pool.end()
    },
  }
}

/**
 * LISTENs on one dedicated connection (a pooled one would be handed to queries and lose the LISTEN). When that
 * connection breaks it reconnects with a doubling delay and then calls `onChange(undefined)`, since notifications
 * sent meanwhile are lost. Resolves once the first LISTEN is in place; throws (via `fail`) when it cannot be.
 */
async function watchChanges(context: {
  readonly connect: () => Client
  readonly schema: string
  readonly onChange: RegistryChangeListener
  readonly fail: (error: unknown) => never
}): Promise<() => Promise<void>> {
  const prefix = `${context.schema}:`
  let stopped = false
  let client: Client | undefined
  let retry: ReturnType<typeof setTimeout> | undefined
  let delayMs = WATCH_RETRY_FIRST_MS

  const listen = async (): Promise<Client> => {
    const next = context.connect()
    // Until `broken` is attached, an error must not crash the process; `connect()` rejects with it anyway.
    next.on('error', () => {})
    next.on('notification', (message) => {
      const payload = message.payload
      if (stopped || message.channel !== POSTGRES_NOTIFY_CHANNEL || payload?.startsWith(prefix) !== true) return
      context.onChange(payload.slice(prefix.length))
    })
    try {
      await next.connect()
      await next.query(`LISTEN ${POSTGRES_NOTIFY_CHANNEL}`)
    } catch (error) {
      await next.end().catch(() => {})
      throw error
    }
    let gone = false
    const broken = (): void => {
      if (gone) return
      gone = true
      next.end().catch(() => {})
      if (!stopped) schedule()
    }
    next.on('error', broken)
    next.on('end', broken)
    return next
  }

  const schedule = (): void => {
    client = undefined
    retry = setTimeout(async () => {
      retry = undefined
      if (stopped) return
      try {
        const next = await listen()
        if (stopped) {
          await next.end().catch(() => {})
          return
        }
        client = next
        delayMs = WATCH_RETRY_FIRST_MS
        context.onChange(undefined)
      } catch {
        delayMs = Math.min(WATCH_RETRY_MAX_MS, delayMs * 2)
        if (!stopped) schedule()
      }
    }, delayMs)
    // A watch alone must not keep the process alive.
    retry.unref()
  }

  try {
    client = await listen()
  } catch (error) {
    return context.fail(error)
  }
  return async () => {
    if (stopped) return
    stopped = true
    if (retry !== undefined) clearTimeout(retry)
    const last = client
    client = undefined
    await last?.end().catch(() => {})
  }
}

/** Creates the schema and tables unless they all exist; refuses a schema written by a newer scaleml. */
async function ensureSchema(context: {
  readonly query: <R extends object>(sql: string, values?: unknown[]) => Promise<R[]>
  readonly transaction: <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>
  readonly schema: string
  readonly where: string
}): Promise<void> {
  const s = quoteIdent(context.schema)
  const qualified = TABLES.map((t) => `${s}.${t}`)
  const [present] = await context.query<{ all: boolean }>(
    'SELECT bool_and(to_regclass(t) IS NOT NULL) AS all FROM unnest($1::text[]) AS t',
    [qualified],
  )
  if (present?.all !== true) {
    // Checked first so that a user who may not create schemas can still use one made for them.
    await context.transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('scaleml.registry.schema', 0))`)
      const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [context.schema])
      if (rows.length === 0) await client.query(`CREATE SCHEMA ${s}`)
      await client.query(schemaSql(s))
    })
  }
  const [row] = await context.query<{ value: string }>(
    `SELECT value FROM ${s}.registry_meta WHERE key = 'schema_version'`,
  )
  if (row !== undefined && Number(row.value) > POSTGRES_SCHEMA_VERSION) {
    throw new ScalemlError(
      'STORE_UNAVAILABLE',
      `The ${context.where} has schema version ${row.value}, written by a newer scaleml; this one reads version ${POSTGRES_SCHEMA_VERSION}. Upgrade scaleml.`,
    )
  }
}

/** PostgreSQL SQLSTATE classes and Node error codes that mean "the database cannot be used now", not a bug. */
const UNAVAILABLE_SQLSTATE = /^(08|28|3D|53|57P)/
const UNAVAILABLE_MESSAGE = /timeout exceeded when trying to connect|Connection terminated|connection ended|ECONNRESET/i

/** A `STORE_UNAVAILABLE` error for connection-level failures; `undefined` for anything else. */
function unavailable(error: unknown, where: string): ScalemlError | undefined {
  if (error instanceof ScalemlError || !(error instanceof Error)) return undefined
  const code = (error as { code?: unknown }).code
  const systemError = typeof code === 'string' && /^E[A-Z_]+$/.test(code)
  const sqlState = typeof code === 'string' && UNAVAILABLE_SQLSTATE.test(code)
  if (!systemError && !sqlState && !UNAVAILABLE_MESSAGE.test(error.message)) return undefined
  const reason = error.message || (typeof code === 'string' ? code : 'no answer')
  return new ScalemlError('STORE_UNAVAILABLE', `The ${where} does not answer: ${reason}.`, [], { cause: error })
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

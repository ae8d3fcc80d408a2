/**
 * Chooses the registry store from a URL: one explicit table from scheme to adapter, each adapter imported only when
 * its scheme is used, so the embedded default never loads the PostgreSQL client.
 * @module
 */
import { isAbsolute, join, resolve } from 'node:path'
import { ScalemlError } from '../../core/errors.js'
import type { FullRegistryStore } from './registry-store.js'

/** Where a registry lives, as parsed from its URL. */
export type RegistryStoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string }

/** The database file of the default registry under a scaleml home. */
export const SQLITE_FILE = 'registry.db'

const REGISTRY_STORES = {
  sqlite: (config: Extract<RegistryStoreConfig, { kind: 'sqlite' }>) =>
    import('./sqlite.js').then((m) => m.openSqliteStore({ path: config.path })),
  postgres: (config: Extract<RegistryStoreConfig, { kind: 'postgres' }>) =>
    import('./postgres.js').then((m) => m.openPostgresStore({ url: config.url })),
} as const satisfies { [K in RegistryStoreConfig['kind']]: (config: never) => Promise<FullRegistryStore> }

const SCHEMES: Readonly<Record<string, RegistryStoreConfig['kind']>> = {
  'sqlite:': 'sqlite',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
}

/** The URL forms, for messages and help. */
export const REGISTRY_URL_FORMS = 'sqlite:<file> or postgres://user@host:port/database[?schema=<name>]'

/**
 * Parses a registry URL. `sqlite:<file>` (relative paths against the working directory, `sqlite:///abs/path` also
 * accepted) or `postgres://…`/`postgresql://…`. Throws `INVALID_ARGUMENT` naming the supported forms.
 *
 * @example
 * parseRegistryUrl('sqlite:.scaleml/registry.db') // { kind: 'sqlite', path: '/work/.scaleml/registry.db' }
 */
export function parseRegistryUrl(url: string): RegistryStoreConfig {
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(url)?.[1]?.toLowerCase()
  const kind = scheme === undefined ? undefined : SCHEMES[scheme]
  if (kind === undefined) {
    const shown = url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Unknown registry URL '${shown}': expected ${REGISTRY_URL_FORMS} (from --registry or SCALEML_REGISTRY).`,
    )
  }
  if (kind === 'postgres') return { kind, url }
  let path = url.slice(scheme!.length)
  if (path.startsWith('//')) path = path.slice(2)
  if (path === '') {
    throw new ScalemlError('INVALID_ARGUMENT', `The registry URL '${url}' names no file: use sqlite:<file>.`)
  }
  return { kind, path: isAbsolute(path) ? path : resolve(path) }
}

/**
 * Opens the store a registry URL names, or the SQLite registry under `home` when there is none. Throws
 * `STORE_UNAVAILABLE` saying which adapter failed and why.
 */
export async function openRegistryStore(options: {
  readonly url?: string
  readonly home: string
}): Promise<FullRegistryStore> {
  const config: RegistryStoreConfig =
    options.url === undefined
      ? { kind: 'sqlite', path: join(options.home, SQLITE_FILE) }
      : parseRegistryUrl(options.url)
  switch (config.kind) {
    case 'sqlite':
      return REGISTRY_STORES.sqlite(config)
    case 'postgres':
      return REGISTRY_STORES.postgres(config)
  }
}

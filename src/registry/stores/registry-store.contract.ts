/**
 * The conformance suite every registry store adapter runs from its own test file (files, SQLite, PostgreSQL):
 * numbering, atomic publish, concurrency within one process, listing and byte-exact reads, and — for stores with
 * those capabilities — aliases and soft deletion, including the rule that an alias never points at a deleted
 * version under concurrent changes. Adapter-specific crash and multi-process tests live next to the adapter.
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import {
  type AliasStore,
  canAlias,
  canSoftDelete,
  type PublishRequest,
  type RegistryStore,
  type SoftDeleteStore,
} from './registry-store.js'

/** Creates a fresh, empty store for one test and tears it down afterwards. */
export interface RegistryStoreFixture {
  readonly store: RegistryStore
  /** Called after the store is closed. */
  dispose(): Promise<void>
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A publish request whose manifest bytes record the request's tag and the version they were made for. */
function request(name: string, tag: string, files: PublishRequest['files'] = []): PublishRequest & { calls: number[] } {
  const calls: number[] = []
  return {
    name,
    files,
    calls,
    manifestFor(version) {
      calls.push(version)
      return encoder.encode(JSON.stringify({ name, version, tag }))
    },
  }
}

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff
  return out
}

/** Capabilities an adapter does not have, each with the reason (C3: every skip says why). */
export interface RegistryStoreContractOptions {
  readonly skip?: { readonly aliases?: string; readonly softDelete?: string }
}

/**
 * Registers the registry-store conformance tests under `describe(label)`.
 *
 * @example
 * describeRegistryStoreContract('SQLite store', async () => {
 *   const home = await createTempHome('sqlite-store')
 *   return { store: await openSqliteStore({ path: `${home.path}/registry.db` }), dispose: () => home.remove() }
 * })
 */
export function describeRegistryStoreContract(
  label: string,
  create: () => Promise<RegistryStoreFixture>,
  options: RegistryStoreContractOptions = {},
): void {
  describe(`${label} (registry store contract)`, () => {
    let fixture: RegistryStoreFixture
    let store: RegistryStore
    beforeEach(async () => {
      fixture = await create()
      store = fixture.store
    })
    afterEach(async () => {
      await store.close()
      await fixture.dispose()
    })

    it('starts empty', async () => {
      expect(await store.names()).toEqual([])
      expect(await store.versions('flights')).toEqual([])
      expect(await store.readManifest({ name: 'flights', version: 1 })).toBeUndefined()
      expect(await store.readFile({ name: 'flights', version: 1 }, 'model.w.f64')).toBeUndefined()
      expect(typeof store.description).toBe('string')
    })

    it('numbers versions 1, 2, 3 and keeps the manifest made for the version claimed', async () => {
      const first = request('flights', 'a')
      expect(await store.publish(first)).toBe(1)
      expect(first.calls[first.calls.length - 1]).toBe(1)
      expect(await store.publish(request('flights', 'b'))).toBe(2)
      expect(await store.publish(request('flights', 'c'))).toBe(3)
      expect(await store.versions('flights')).toEqual([1, 2, 3])
      const manifest = await store.readManifest({ name: 'flights', version: 2 })
      expect(JSON.parse(decoder.decode(manifest))).toEqual({ name: 'flights', version: 2, tag: 'b' })
    })

    it('returns files byte for byte, including empty and multi-megabyte ones', async () => {
      const files = [
        // Larger than two 8 MiB chunks, so adapters that split files into rows are tested across chunk boundaries.
        { path: 'model.w.f64', bytes: bytes(17 * 1024 * 1024 + 3, 1) },
        { path: 'pipeline.empty.u8', bytes: new Uint8Array(0) },
        { path: 'model.b.f32', bytes: bytes(12, 2) },
      ]
      const version = await store.publish(request('flights', 'files', files))
      for (const file of files) {
        const read = await store.readFile({ name: 'flights', version }, file.path)
        expect(read, file.path).toBeDefined()
        expect(Buffer.from(read!).equals(Buffer.from(file.bytes)), file.path).toBe(true)
      }
      expect(await store.readFile({ name: 'flights', version }, 'model.missing.f64')).toBeUndefined()
      expect(await store.readFile({ name: 'flights', version: version + 1 }, 'model.w.f64')).toBeUndefined()
    })

    it('keeps names apart and lists them sorted; versions sort numerically', async () => {
      for (let i = 0; i < 11; i++) await store.publish(request('zeta', `z${i}`))
      await store.publish(request('alpha', 'a'))
      expect(await store.names()).toEqual(['alpha', 'zeta'])
      expect(await store.versions('zeta')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
      expect(await store.versions('alpha')).toEqual([1])
      expect(await store.versions('alp')).toEqual([])
    })

    it('gives concurrent publishers distinct consecutive versions, each with its own manifest and files', async () => {
      const requests = Array.from({ length: 12 }, (_, i) =>
        request('race', `r${i}`, [{ path: 'model.w.u8', bytes: bytes(64, i) }]),
      )
      const versions = await Promise.all(requests.map((r) => store.publish(r)))
      expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
      for (const [i, version] of versions.entries()) {
        const manifest = JSON.parse(decoder.decode(await store.readManifest({ name: 'race', version })))
        expect(manifest).toEqual({ name: 'race', version, tag: `r${i}` })
        const file = await store.readFile({ name: 'race', version }, 'model.w.u8')
        expect(Buffer.from(file!).equals(Buffer.from(bytes(64, i)))).toBe(true)
      }
    })

    it('leaves no version behind when a publish fails midway', async () => {
      const failing: PublishRequest = {
        name: 'broken',
        files: [{ path: 'model.w.u8', bytes: bytes(1024, 3) }],
        manifestFor() {
          throw new Error('manifest rendering failed')
        },
      }
      await expect(store.publish(failing)).rejects.toThrow('manifest rendering failed')
      expect(await store.names()).toEqual([])
      expect(await store.versions('broken')).toEqual([])
      expect(await store.publish(request('broken', 'ok'))).toBe(1)
    })

    it('refuses file paths that are not plain file names', async () => {
      await store.publish(request('flights', 'a'))
      for (const path of ['../manifest.json', 'sub/file.f64', '/etc/passwd', '..']) {
        const error = await store.readFile({ name: 'flights', version: 1 }, path).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isScalemlError(error, 'INVALID_ARGUMENT'), path).toBe(true)
      }
    })

    it('refuses model names outside the registry pattern', async () => {
      for (const name of ['../escape', 'Upper', '']) {
        const error = await store.publish(request(name, 'x')).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isScalemlError(error, 'INVALID_ARGUMENT'), name).toBe(true)
      }
      expect(await store.names()).toEqual([])
    })

    it('closes idempotently', async () => {
      await store.close()
      await store.close()
    })

    it('declares exactly the capabilities the suite tests', () => {
      expect(canAlias(store)).toBe(options.skip?.aliases === undefined)
      expect(canSoftDelete(store)).toBe(options.skip?.softDelete === undefined)
    })

    describeAliases(() => store, options.skip?.aliases)
    describeSoftDelete(() => store, options.skip?.softDelete, options.skip?.aliases)
  })
}

async function catchScaleml(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}

function describeAliases(current: () => RegistryStore, skipReason: string | undefined): void {
  const title = skipReason === undefined ? 'aliases' : `aliases (skipped: ${skipReason})`
  describe.skipIf(skipReason !== undefined)(title, () => {
    const aliases = (): RegistryStore & AliasStore => current() as RegistryStore & AliasStore

    it('sets, lists, moves and removes aliases, each name apart', async () => {
      const store = aliases()
      for (let i = 0; i < 3; i++) await store.publish(request('flights', `f${i}`))
      await store.publish(request('weather', 'w'))
      expect(await store.aliases('flights')).toEqual([])
      expect(await store.setAlias({ name: 'flights', version: 2 }, 'stable')).toEqual({ status: 'set' })
      expect(await store.setAlias({ name: 'flights', version: 3 }, 'canary')).toEqual({ status: 'set' })
      expect(await store.setAlias({ name: 'weather', version: 1 }, 'stable')).toEqual({ status: 'set' })
      expect(await store.aliases('flights')).toEqual([
        { alias: 'canary', version: 3 },
        { alias: 'stable', version: 2 },
      ])
      expect(await store.setAlias({ name: 'flights', version: 3 }, 'stable')).toEqual({ status: 'set', previous: 2 })
      expect(await store.setAlias({ name: 'flights', version: 3 }, 'stable')).toEqual({ status: 'set' })
      expect(await store.aliases('flights')).toEqual([
        { alias: 'canary', version: 3 },
        { alias: 'stable', version: 3 },
      ])
      expect(await store.removeAlias('flights', 'canary')).toEqual({ status: 'removed', version: 3 })
      expect(await store.removeAlias('flights', 'canary')).toEqual({ status: 'missing' })
      expect(await store.aliases('flights')).toEqual([{ alias: 'stable', version: 3 }])
      expect(await store.aliases('weather')).toEqual([{ alias: 'stable', version: 1 }])
      expect(await store.aliases('nobody')).toEqual([])
    })

    it('refuses to point an alias at a version that does not exist', async () => {
      const store = aliases()
      await store.publish(request('flights', 'a'))
      expect(await store.setAlias({ name: 'flights', version: 2 }, 'stable')).toEqual({ status: 'missing' })
      expect(await store.setAlias({ name: 'ghost', version: 1 }, 'stable')).toEqual({ status: 'missing' })
      expect(await store.aliases('flights')).toEqual([])
      expect(await store.aliases('ghost')).toEqual([])
      expect(await store.removeAlias('ghost', 'stable')).toEqual({ status: 'missing' })
    })

    it('refuses malformed aliases and names', async () => {
      const store = aliases()
      await store.publish(request('flights', 'a'))
      for (const alias of ['Stable', '1st', '', 'a/b', 'x'.repeat(65)]) {
        const error = await catchScaleml(store.setAlias({ name: 'flights', version: 1 }, alias))
        expect(isScalemlError(error, 'INVALID_ARGUMENT'), alias).toBe(true)
      }
      const error = await catchScaleml(store.setAlias({ name: '../x', version: 1 }, 'stable'))
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect(await store.aliases('flights')).toEqual([])
    })

    it('moves an alias atomically: concurrent moves leave exactly one target', async () => {
      const store = aliases()
      for (let i = 0; i < 8; i++) await store.publish(request('race', `r${i}`))
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.setAlias({ name: 'race', version: i + 1 }, 'stable')),
      )
      expect(outcomes.every((o) => o.status === 'set')).toBe(true)
      const final = await store.aliases('race')
      expect(final).toHaveLength(1)
      expect(final[0]!.alias).toBe('stable')
      expect(final[0]!.version).toBeGreaterThanOrEqual(1)
      expect(final[0]!.version).toBeLessThanOrEqual(8)
    })
  })
}

function describeSoftDelete(
  current: () => RegistryStore,
  skipReason: string | undefined,
  skipAliases: string | undefined,
): void {
  const title = skipReason === undefined ? 'soft delete' : `soft delete (skipped: ${skipReason})`
  describe.skipIf(skipReason !== undefined)(title, () => {
    const deleter = (): RegistryStore & SoftDeleteStore => current() as RegistryStore & SoftDeleteStore

    it('hides a deleted version from versions() and names() but keeps its bytes until restored', async () => {
      const store = deleter()
      const file = { path: 'model.w.u8', bytes: bytes(100, 9) }
      await store.publish(request('flights', 'a', [file]))
      await store.publish(request('flights', 'b', [file]))
      await store.publish(request('solo', 's'))
      expect(await store.markDeleted({ name: 'flights', version: 2 })).toEqual({ status: 'deleted' })
      expect(await store.versions('flights')).toEqual([1])
      expect(await store.deletedVersions('flights')).toEqual([2])
      expect(await store.markDeleted({ name: 'solo', version: 1 })).toEqual({ status: 'deleted' })
      expect(await store.names()).toEqual(['flights'])
      expect(await store.versions('solo')).toEqual([])

      const manifest = await store.readManifest({ name: 'flights', version: 2 })
      expect(JSON.parse(decoder.decode(manifest))).toEqual({ name: 'flights', version: 2, tag: 'b' })
      const kept = await store.readFile({ name: 'flights', version: 2 }, file.path)
      expect(Buffer.from(kept!).equals(Buffer.from(file.bytes))).toBe(true)

      expect(await store.restore({ name: 'flights', version: 2 })).toEqual({ status: 'restored' })
      expect(await store.restore({ name: 'solo', version: 1 })).toEqual({ status: 'restored' })
      expect(await store.versions('flights')).toEqual([1, 2])
      expect(await store.deletedVersions('flights')).toEqual([])
      expect(await store.names()).toEqual(['flights', 'solo'])
    })

    it('says when there is nothing to do or nothing there', async () => {
      const store = deleter()
      await store.publish(request('flights', 'a'))
      expect(await store.markDeleted({ name: 'flights', version: 1 })).toEqual({ status: 'deleted' })
      expect(await store.markDeleted({ name: 'flights', version: 1 })).toEqual({ status: 'already-deleted' })
      expect(await store.restore({ name: 'flights', version: 1 })).toEqual({ status: 'restored' })
      expect(await store.restore({ name: 'flights', version: 1 })).toEqual({ status: 'not-deleted' })
      expect(await store.markDeleted({ name: 'flights', version: 2 })).toEqual({ status: 'missing' })
      expect(await store.restore({ name: 'ghost', version: 1 })).toEqual({ status: 'missing' })
      expect(await store.deletedVersions('ghost')).toEqual([])
    })

    it('never reuses the number of a deleted version', async () => {
      const store = deleter()
      await store.publish(request('flights', 'a'))
      await store.publish(request('flights', 'b'))
      await store.markDeleted({ name: 'flights', version: 2 })
      await store.markDeleted({ name: 'flights', version: 1 })
      expect(await store.names()).toEqual([])
      expect(await store.publish(request('flights', 'c'))).toBe(3)
      expect(await store.versions('flights')).toEqual([3])
      expect(await store.deletedVersions('flights')).toEqual([1, 2])
    })

    it.skipIf(skipAliases !== undefined)(
      'refuses to delete a version an alias points at, naming the aliases',
      async () => {
        const store = deleter() as RegistryStore & SoftDeleteStore & AliasStore
        await store.publish(request('flights', 'a'))
        await store.publish(request('flights', 'b'))
        await store.setAlias({ name: 'flights', version: 1 }, 'stable')
        await store.setAlias({ name: 'flights', version: 1 }, 'blue')
        expect(await store.markDeleted({ name: 'flights', version: 1 })).toEqual({
          status: 'aliased',
          aliases: ['blue', 'stable'],
        })
        expect(await store.versions('flights')).toEqual([1, 2])
        await store.setAlias({ name: 'flights', version: 2 }, 'blue')
        await store.removeAlias('flights', 'stable')
        expect(await store.markDeleted({ name: 'flights', version: 1 })).toEqual({ status: 'deleted' })
        expect(await store.setAlias({ name: 'flights', version: 1 }, 'stable')).toEqual({ status: 'deleted' })
        expect(await store.aliases('flights')).toEqual([{ alias: 'blue', version: 2 }])
      },
    )

    it.skipIf(skipAliases !== undefined)(
      'keeps aliases and deletion consistent when they race: exactly one of each pair wins',
      async () => {
        const store = deleter() as RegistryStore & SoftDeleteStore & AliasStore
        const n = 12
        for (let i = 0; i < n; i++) await store.publish(request('race', `r${i}`))
        const results = await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            const ref = { name: 'race', version: i + 1 }
            const [set, removed] = await Promise.all([store.setAlias(ref, `a${i}`), store.markDeleted(ref)])
            return { set: set.status, removed: removed.status }
          }),
        )
        const deleted = new Set(await store.deletedVersions('race'))
        const aliased = new Map((await store.aliases('race')).map((a) => [a.alias, a.version]))
        for (const [i, r] of results.entries()) {
          const aliasWon = r.set === 'set'
          expect(aliasWon, `pair ${i}: ${JSON.stringify(r)}`).toBe(r.removed === 'aliased')
          expect(r.set === 'deleted', `pair ${i}: ${JSON.stringify(r)}`).toBe(r.removed === 'deleted')
          expect(aliased.get(`a${i}`) === i + 1).toBe(aliasWon)
          expect(deleted.has(i + 1)).toBe(!aliasWon)
        }
      },
    )
  })
}

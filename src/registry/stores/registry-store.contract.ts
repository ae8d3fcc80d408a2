/**
 * The conformance suite every {@link RegistryStore} adapter runs from its own test file (files now, PostgreSQL
 * later): numbering, atomic publish, concurrency within one process, listing and byte-exact reads. Adapter-specific
 * crash and multi-process tests live next to the adapter.
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import type { PublishRequest, RegistryStore } from './registry-store.js'

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

/**
 * Registers the registry-store conformance tests under `describe(label)`.
 *
 * @example
 * describeRegistryStoreContract('files store', async () => {
 *   const home = await createTempHome('files-store')
 *   return { store: createFilesStore({ home: home.path }), dispose: () => home.remove() }
 * })
 */
export function describeRegistryStoreContract(label: string, create: () => Promise<RegistryStoreFixture>): void {
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
        { path: 'model.w.f64', bytes: bytes(3 * 1024 * 1024 + 3, 1) },
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
  })
}

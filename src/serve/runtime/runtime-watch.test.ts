/**
 * Hot swap driven by PostgreSQL change notifications: with polling set to a minute, the runtime still swaps soon
 * after a publish, an alias move or a delete, and after its LISTEN connection is killed.
 */
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openRegistry, type Registry } from '../../registry/registry.js'
import { createTestSchema, type TestSchema } from '../../registry/test-helpers/postgres-schema.js'
import { createServingRuntime, RUNTIME_DEFAULTS, type ServingRuntime, type SwapEvent } from './runtime.js'
import { constantRegressor } from './test-helpers/models.js'

/** Polling this slow never fires during a test: any swap seen comes from a notification. */
const SLOW_POLL_MS = 60_000
/** How long a swap may take before the test fails (a failure bound, not a measured claim). */
const SWAP_BOUND = { timeout: 5000, interval: 20 }

let schema: TestSchema
let registry: Registry
let runtime: ServingRuntime | undefined
let applicationName: string

beforeEach(async () => {
  schema = await createTestSchema('serve_watch')
  applicationName = `scaleml-serve-watch-${randomBytes(4).toString('hex')}`
  const url = new URL(schema.url)
  url.searchParams.set('application_name', applicationName)
  registry = await openRegistry({ url: url.toString() })
})

afterEach(async () => {
  await runtime?.close()
  runtime = undefined
  await registry.close()
  await schema.drop()
})

async function serving(ref: string): Promise<{ runtime: ServingRuntime; swaps: SwapEvent[] }> {
  const created = createServingRuntime({ registry, refs: [ref], pollMs: SLOW_POLL_MS })
  runtime = created
  const swaps: SwapEvent[] = []
  created.observe({ swap: (event) => swaps.push(event) })
  await created.start()
  return { runtime: created, swaps }
}

const versionOf = (r: ServingRuntime) => r.slots()[0]!.current?.version

describe('serving runtime with PostgreSQL change notifications', () => {
  it('swaps on publish and on delete without waiting for the (very slow) poll', async () => {
    await registry.register('hot', constantRegressor(1))
    const { runtime: r, swaps } = await serving('hot')
    expect(r.watching).toBe(true)
    expect(versionOf(r)).toBe(1)
    await registry.register('hot', constantRegressor(2))
    await vi.waitFor(() => expect(versionOf(r)).toBe(2), SWAP_BOUND)
    await registry.register('hot', constantRegressor(3))
    await vi.waitFor(() => expect(versionOf(r)).toBe(3), SWAP_BOUND)
    await registry.delete('hot:3')
    await vi.waitFor(() => expect(versionOf(r)).toBe(2), SWAP_BOUND)
    expect(swaps.map((s) => s.to)).toEqual([1, 2, 3, 2])
  })

  it('follows an alias as it moves, and ignores changes to other models', async () => {
    await registry.register('hot', constantRegressor(1))
    await registry.register('hot', constantRegressor(2))
    await registry.alias('hot', 'stable', 1)
    const { runtime: r, swaps } = await serving('hot@stable')
    await registry.register('other', constantRegressor(9))
    await registry.alias('hot', 'stable', 2)
    await vi.waitFor(() => expect(versionOf(r)).toBe(2), SWAP_BOUND)
    expect(swaps.map((s) => s.to)).toEqual([1, 2])
  })

  it('still swaps after its LISTEN connection is terminated (reconnect, then a full refresh)', async () => {
    await registry.register('hot', constantRegressor(1))
    const { runtime: r } = await serving('hot')
    const [listener] = await schema.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
      [applicationName],
    )
    expect(listener).toBeDefined()
    await schema.query('SELECT pg_terminate_backend($1)', [listener!.pid])
    // Likely published while the watch is down: only the refresh after reconnecting can notice it.
    await registry.register('hot', constantRegressor(2))
    await vi.waitFor(() => expect(versionOf(r)).toBe(2), SWAP_BOUND)
    await registry.register('hot', constantRegressor(3))
    await vi.waitFor(() => expect(versionOf(r)).toBe(3), SWAP_BOUND)
  })

  it('does not watch when told not to, or when hot swap is off', async () => {
    await registry.register('hot', constantRegressor(1))
    const unwatched = createServingRuntime({ registry, refs: ['hot'], pollMs: SLOW_POLL_MS, watch: false })
    await unwatched.start()
    expect(unwatched.watching).toBe(false)
    await unwatched.close()
    const frozen = createServingRuntime({ registry, refs: ['hot'], pollMs: 0 })
    await frozen.start()
    expect(frozen.watching).toBe(false)
    await frozen.close()
    expect(RUNTIME_DEFAULTS.watchedPollMs).toBeGreaterThan(RUNTIME_DEFAULTS.pollMs)
  })
})

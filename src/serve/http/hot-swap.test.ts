/**
 * Hot swap under load, over real HTTP: 50 clients keep predicting while 100 new versions are registered one after
 * the other and the poller swaps to each. Every request must succeed, and every answer must come from a version
 * the reference was serving at some instant between the request's start and its end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRegistry, type Registry } from '../../registry/registry.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { createServingRuntime, type ServingRuntime, type SwapEvent } from '../runtime/runtime.js'
import { constantRegressor } from '../runtime/test-helpers/models.js'
import { createApp } from './app.js'

const CLIENTS = 50
const SWAPS = 100

let home: TempHome
let registry: Registry

beforeAll(async () => {
  home = await createTempHome('serve-hot-swap')
  registry = await openRegistry({ home: home.path })
})

afterAll(async () => {
  await registry?.close()
  await home?.remove()
})

interface Answer {
  readonly started: number
  readonly ended: number
  readonly version: number
  readonly values: readonly number[]
}

describe('hot swap under load', () => {
  it(`swaps ${SWAPS} times under ${CLIENTS} concurrent clients with no failed request and no stale answer`, async () => {
    // Version v answers v for every row, so an answer also proves which model computed it.
    await registry.register('hot', constantRegressor(1))
    const runtime: ServingRuntime = createServingRuntime({ registry, refs: ['hot'], pollMs: 5 })
    const swaps: SwapEvent[] = []
    let onSwap: (event: SwapEvent) => void = () => {}
    runtime.observe({
      swap: (event) => {
        swaps.push(event)
        onSwap(event)
      },
    })
    await runtime.start()
    const app = createApp({ runtime })
    const url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/models/hot/predict`

    const answers: Answer[] = []
    const failures: string[] = []
    let running = true
    const client = async (id: number) => {
      for (let i = 0; running; i++) {
        const rows = (id + i) % 5 === 0 ? 3 : 1
        const body = JSON.stringify({ instances: Array.from({ length: rows }, (_, r) => ({ x: id + r })) })
        const started = performance.now()
        try {
          const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          const text = await response.text()
          const ended = performance.now()
          if (response.status !== 200) {
            failures.push(`${response.status} ${text}`)
            continue
          }
          const json = JSON.parse(text) as { model: { version: number }; predictions: { value: number }[] }
          if (response.headers.get('x-model-version') !== String(json.model.version)) failures.push('header mismatch')
          answers.push({ started, ended, version: json.model.version, values: json.predictions.map((p) => p.value) })
        } catch (error) {
          failures.push(String(error))
        }
      }
    }

    const clients = Array.from({ length: CLIENTS }, (_, id) => client(id))
    try {
      for (let version = 2; version <= SWAPS + 1; version++) {
        const swapped = new Promise<void>((resolve) => {
          onSwap = (event) => {
            if (event.to === version) resolve()
          }
        })
        // Registered as version `version`: the constant it answers.
        const ref = await registry.register('hot', constantRegressor(version))
        expect(ref.version).toBe(version)
        await swapped
      }
    } finally {
      running = false
      await Promise.all(clients)
      await app.close()
      await runtime.close()
    }

    expect(failures).toEqual([])
    expect(swaps.map((s) => s.to)).toEqual(Array.from({ length: SWAPS + 1 }, (_, i) => i + 1))
    // Version swaps[i].to served from swaps[i].at until swaps[i + 1].at.
    const served = swaps.map((s, i) => ({ version: s.to, from: s.at, until: swaps[i + 1]?.at ?? Infinity }))
    const stale = answers.filter((a) => {
      const interval = served.find((s) => s.version === a.version)
      return interval === undefined || interval.from > a.ended || interval.until < a.started
    })
    expect(stale).toEqual([])
    expect(answers.filter((a) => a.values.some((v) => v !== a.version))).toEqual([])
    // The load was real: many answers, from many versions.
    expect(answers.length).toBeGreaterThan(SWAPS * 5)
    expect(new Set(answers.map((a) => a.version)).size).toBeGreaterThan(SWAPS / 2)
  }, 240_000)
})

import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { siblingModule, startModuleWorker } from './worker.js'

describe('startModuleWorker', () => {
  it('runs a TypeScript worker module from sources', async () => {
    const url = siblingModule(new URL('./test-helpers/x', import.meta.url).href, 'echo-worker')
    expect(url.pathname.endsWith('echo-worker.ts')).toBe(true)
    const worker = startModuleWorker(url)
    try {
      worker.postMessage(21)
      const [answer] = await once(worker, 'message')
      expect(answer).toBe(42)
    } finally {
      await worker.terminate()
    }
  })
})

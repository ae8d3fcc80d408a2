/**
 * `scaleml serve` as a user runs it (the built CLI as a child process): SIGTERM drains the requests in flight and
 * exits 0, one process or several (`--workers`); bad flags are refused without a stack trace.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRegistry } from '../../src/registry/registry.js'
import { constantRegressor } from '../../src/serve/runtime/test-helpers/models.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { CLI, hasStackTrace, runCli } from '../helpers/cli.js'

let tmp: TempHome

beforeAll(async () => {
  tmp = await createTempHome('e2e-serve')
  const registry = await openRegistry({ home: tmp.path })
  await registry.register('tiny', constantRegressor(7))
  await registry.close()
})

afterAll(async () => {
  await tmp?.remove()
})

interface Server {
  readonly url: string
  readonly child: ChildProcess
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

/** Starts `scaleml serve …args` and resolves with its URL once it prints the serving line. */
function startServe(args: readonly string[], ready: RegExp): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--home', tmp.path, '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const exited = new Promise<number | null>((done) => child.on('close', done))
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      const match = ready.exec(stderr)
      if (match) resolve({ url: match[1]!, child, stderr: () => stderr, exited })
    })
    void exited.then((code) => reject(new Error(`serve exited ${code} before serving:\n${stderr}`)))
  })
}

const predict = (url: string, x: number) =>
  fetch(`${url}/v1/models/tiny/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: [{ x }] }),
  }).then(async (response) => ({
    status: response.status,
    body: (await response.json()) as { predictions: { value: number }[] },
  }))

describe('scaleml serve', () => {
  it('answers every request in flight when SIGTERM arrives, then exits 0', async () => {
    // A 3 s batching window holds the requests in the queue, so they are surely in flight at SIGTERM.
    const server = await startServe(
      ['--model', 'tiny', '--workers', '1', '--max-delay-ms', '3000', '--max-batch-size', '1000', '--poll-ms', '0'],
      /serving tiny \(version 1\) on (http:\/\/\S+)/,
    )
    const answers = Array.from({ length: 20 }, (_, i) => predict(server.url, i))
    for (;;) {
      const described = (await (await fetch(`${server.url}/v1/models/tiny`)).json()) as { queue: { queued: number } }
      if (described.queue.queued === 20) break
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    server.child.kill('SIGTERM')
    const results = await Promise.all(answers)
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect(results.every((r) => r.body.predictions[0]!.value === 7)).toBe(true)
    expect(await server.exited).toBe(0)
    expect(server.stderr()).toMatch(/shutting down: finishing in-flight requests/)
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow()
  }, 120_000)

  it('serves from several worker processes and drains them all on SIGTERM', async () => {
    const server = await startServe(
      ['--model', 'tiny', '--workers', '2', '--poll-ms', '0'],
      /serving on (http:\/\/\S+) with 2 worker processes/,
    )
    // The first worker listens before the second may have loaded: wait until both answer (each is ready itself).
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => predict(server.url, i)))
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(200))
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  }, 120_000)

  it('refuses a bad flag naming it, without a stack trace', async () => {
    const run = await runCli(['serve', '--home', tmp.path, '--unknown-fields', 'maybe', '--workers', '1'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/--unknown-fields must be one of reject, ignore; got 'maybe'/)
    expect(hasStackTrace(run.stderr)).toBe(false)
    const fallback = await runCli(['serve', '--home', tmp.path, '--fallback', '{"value": "x"}', '--workers', '1'])
    expect(fallback.code).toBe(2)
    expect(fallback.stderr).toMatch(/--fallback expects a JSON object of numbers and booleans/)
  })

  it('exits with the error when a reference does not resolve, with one process or several', async () => {
    for (const workers of ['1', '2']) {
      const run = await runCli(['serve', '--home', tmp.path, '--model', 'tinny', '--workers', workers, '--port', '0'])
      expect(run.code, run.stderr).toBe(6)
      expect(run.stderr).toMatch(/MODEL_NOT_FOUND.*No model named 'tinny'.*Did you mean 'tiny'/)
      expect(hasStackTrace(run.stderr)).toBe(false)
    }
  }, 60_000)
})

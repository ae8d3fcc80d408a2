/**
 * `scaleml serve --workers 2` (the built CLI as a child process): requests spread over both worker processes, and
 * every `/metrics` scrape — whichever worker answers it — counts all of them, in valid exposition text.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRegistry } from '../../src/registry/registry.js'
import { constantRegressor } from '../../src/serve/runtime/test-helpers/models.js'
import { type ParsedFamily, parseExposition, value } from '../../src/serve/runtime/test-helpers/prometheus.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { CLI } from '../helpers/cli.js'

let tmp: TempHome
let child: ChildProcess | undefined

beforeAll(async () => {
  tmp = await createTempHome('e2e-serve-cluster')
  const registry = await openRegistry({ home: tmp.path })
  await registry.register('tiny', constantRegressor(7))
  await registry.close()
})

afterAll(async () => {
  child?.kill('SIGKILL')
  await tmp?.remove()
})

/** One request on a connection of its own: the cluster primary hands each new connection to the next worker. */
function send(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          text += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const scrape = async (url: string): Promise<Map<string, ParsedFamily>> => {
  const response = await send(url, 'GET', '/metrics')
  expect(response.status).toBe(200)
  return parseExposition(response.text)
}

const OK = { model: 'tiny', version: '1', route: '/v1/models/:ref/predict', status: '200' }

describe('scaleml serve --workers 2, /metrics', () => {
  it('counts every request of every worker in every scrape', async () => {
    const server = spawn(process.execPath, [CLI, 'serve', '--home', tmp.path, '--port', '0', '--workers', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = server
    let stderr = ''
    const url = await new Promise<string>((resolve, reject) => {
      server.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString()
        const match = /serving on (http:\/\/\S+) with 2 worker processes/.exec(stderr)
        if (match) resolve(match[1]!)
      })
      server.on('close', (code) => reject(new Error(`serve exited ${code}:\n${stderr}`)))
    })
    // The first worker listens before the second may have: wait until the primary knows both.
    for (let i = 0; ; i++) {
      const families = await scrape(url)
      if (value(families, 'scaleml_cluster_workers') === 2) break
      if (i > 600) throw new Error(`the second worker never served:\n${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    const n = 40
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        send(url, 'POST', '/v1/models/tiny/predict', JSON.stringify({ instances: [{ x: i }] })),
      ),
    )
    expect(answers.map((a) => a.status)).toEqual(Array(n).fill(200))
    // A reply is counted when it has been written; the client may read it a moment before that.
    for (let i = 0; value(await scrape(url), 'scaleml_http_request_duration_seconds_count', OK) !== n; i++) {
      if (i > 100) throw new Error('the request count never reached the number of requests sent')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    // Each scrape is a new connection, so the workers take turns answering them; every one sees all requests.
    for (let scrapeNumber = 0; scrapeNumber < 6; scrapeNumber++) {
      const families = await scrape(url)
      expect(value(families, 'scaleml_http_request_duration_seconds_count', OK)).toBe(n)
      expect(value(families, 'scaleml_http_request_duration_seconds_bucket', { ...OK, le: '+Inf' })).toBe(n)
      expect(value(families, 'scaleml_predictions_total', { model: 'tiny', version: '1' })).toBe(n)
      expect(value(families, 'scaleml_cluster_workers')).toBe(2)
      expect(value(families, 'scaleml_cluster_workers_unanswered')).toBe(0)
      // Per-process gauges: one series per worker.
      const workers = families.get('scaleml_process_resident_memory_bytes')!.samples.map((s) => s.labels['worker'])
      expect(new Set(workers).size).toBe(2)
      expect(value(families, 'scaleml_http_requests_in_flight')).toBe(1) // the scrape itself
    }

    server.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => server.on('close', resolve))
    expect(code).toBe(0)
  }, 120_000)
})

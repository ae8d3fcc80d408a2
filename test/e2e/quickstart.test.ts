/**
 * The main job (`npm start` = `scaleml quickstart`) on the real 3M-row flights file: trains once, serves, and the
 * printed curl command returns a probability; a second start reuses the registered model.
 */
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { CLI } from '../helpers/cli.js'

const run = promisify(execFile)
let tmp: TempHome

beforeAll(async () => {
  tmp = await createTempHome('quickstart')
})
afterAll(async () => {
  await tmp?.remove()
})

interface Started {
  readonly curl: string
  readonly stderr: () => string
  readonly stop: () => Promise<number | null>
}

/** Starts the quickstart and resolves once it prints the curl command. */
function startQuickstart(): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'quickstart', '--port', '0'], {
      env: { ...process.env, SCALEML_HOME: tmp.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const exited = new Promise<number | null>((done) => child.on('close', done))
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      const line = stdout.split('\n').find((l) => l.startsWith('curl '))
      if (line) {
        resolve({
          curl: line,
          stderr: () => stderr,
          stop: () => {
            child.kill('SIGTERM')
            return exited
          },
        })
      }
    })
    void exited.then((code) => reject(new Error(`quickstart exited ${code} before serving:\n${stderr}`)))
  })
}

describe('npm start (scaleml quickstart)', () => {
  it('trains flights-delay on flights-3m, serves it, and the printed curl returns a probability', async () => {
    const server = await startQuickstart()
    try {
      expect(server.stderr()).toMatch(/registered flights-delay:1/)
      const { stdout } = await run('sh', ['-c', server.curl])
      const body = JSON.parse(stdout)
      expect(body.model).toEqual({ name: 'flights-delay', version: 1 })
      const p = body.predictions[0].probability
      expect(p).toBeGreaterThan(0)
      expect(p).toBeLessThan(1)
      expect(typeof body.predictions[0].label).toBe('boolean')
    } finally {
      expect(await server.stop()).toBe(0)
    }
  }, 300_000)

  it('reuses the registered model on the second start', async () => {
    const server = await startQuickstart()
    try {
      expect(server.stderr()).toMatch(/flights-delay is registered .*; reusing it/)
      expect(server.stderr()).not.toMatch(/training/)
      const { stdout } = await run('sh', ['-c', server.curl])
      expect(JSON.parse(stdout).model).toEqual({ name: 'flights-delay', version: 1 })
    } finally {
      expect(await server.stop()).toBe(0)
    }
  }, 120_000)
})

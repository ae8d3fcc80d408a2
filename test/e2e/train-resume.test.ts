/**
 * `scaleml train --checkpoint-dir … --resume` as a user meets it: the training process is killed with SIGKILL in
 * the middle of an epoch, and the resumed run registers exactly the model an uninterrupted run registers.
 */
import { spawn } from 'node:child_process'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodePayload } from '../../src/core/codec.js'
import { openRegistry } from '../../src/registry/registry.js'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { CLI, hasStackTrace, runCli } from '../helpers/cli.js'

let tmp: TempHome
let data: string
let home: string

beforeAll(async () => {
  tmp = await createTempHome('cli-resume')
  data = join(tmp.path, 'flights.parquet')
  home = join(tmp.path, 'home')
  await writeSyntheticFlights(data, { rows: 150_000, seed: 21 })
})

afterAll(async () => {
  await tmp?.remove()
})

const common = (): string[] => [
  'train',
  '--data',
  data,
  '--target',
  'delay > 15',
  '--holdout',
  'random:0.1',
  '--batch-size',
  '2048',
  '--epochs',
  '3',
  '--seed',
  '9',
  '--home',
  home,
  '--json',
]

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

/** The registered model's learned state as bytes (equal strings: bit-identical models). */
async function registeredModel(ref: string): Promise<string> {
  const registry = await openRegistry({ home })
  try {
    const { json, files } = encodePayload((await registry.load(ref)).model, { prefix: 'model' })
    return JSON.stringify(json) + files.map((f) => `${f.name}:${Buffer.from(f.bytes).toString('hex')}`).join(',')
  } finally {
    await registry.close()
  }
}

describe('scaleml train --resume after SIGKILL', () => {
  it('resumes a killed run mid-epoch and registers the uninterrupted model, bit for bit', async () => {
    const straight = await runCli([...common(), '--register', 'straight'])
    expect(straight.code, straight.stderr).toBe(0)

    const dir = join(tmp.path, 'ckpt')
    const child = spawn(
      process.execPath,
      [CLI, ...common(), '--register', 'resumed', '--checkpoint-dir', dir, '--checkpoint-every', '2'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    )
    let finished = false
    void exited.then(() => {
      finished = true
    })
    // Kill as soon as the first checkpoint is committed: a few batches into epoch 1 of 3.
    const deadline = Date.now() + 120_000
    while (!finished && !(await exists(join(dir, 'checkpoint.json'))) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5))
    }
    child.kill('SIGKILL')
    const end = await exited
    expect(end.signal, `the run ended before it could be killed: ${stderr}`).toBe('SIGKILL')

    const checkpoint = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'))
    const position = checkpoint.body.position
    expect(position.epochsCompleted).toBeLessThan(3)
    expect(position.stopped).toBe(false)

    const resumed = await runCli([
      ...common(),
      '--register',
      'resumed',
      '--checkpoint-dir',
      dir,
      '--checkpoint-every',
      '2',
      '--resume',
    ])
    expect(resumed.code, resumed.stderr).toBe(0)
    const out = JSON.parse(resumed.stdout)
    expect(out.training.resumedFrom).toEqual({ epoch: position.epoch, block: position.block, batch: position.batch })
    expect(out.metrics).toEqual(JSON.parse(straight.stdout).metrics)
    expect(await registeredModel('resumed:1')).toBe(await registeredModel('straight:1'))
  }, 300_000)

  it('refuses to overwrite a checkpoint without --resume, and a checkpoint of another model', async () => {
    const dir = join(tmp.path, 'ckpt-other')
    const first = await runCli([...common(), '--epochs', '1', '--register', 'other', '--checkpoint-dir', dir])
    expect(first.code, first.stderr).toBe(0)
    const again = await runCli([...common(), '--epochs', '1', '--register', 'other', '--checkpoint-dir', dir])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already holds a checkpoint .*pass --resume/)
    const otherModel = await runCli([
      ...common(),
      '--register',
      'other',
      '--checkpoint-dir',
      dir,
      '--resume',
      '--model',
      'sgd-regressor',
    ])
    expect(otherModel.code).toBe(2)
    expect(otherModel.stderr).toMatch(
      /^error \[INVALID_ARGUMENT\]: the checkpoint in .* was written by another job: modelKind differs/,
    )
    expect(hasStackTrace(otherModel.stderr)).toBe(false)
    const badFlag = await runCli([...common(), '--shuffle', 'sideways'])
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toMatch(/--shuffle expects one of none, window, segments; got 'sideways'/)
  }, 120_000)
})

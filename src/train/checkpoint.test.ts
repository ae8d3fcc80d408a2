import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { CHECKPOINT_FILE, checkIdentity, readCheckpoint, type TrainCheckpoint, writeCheckpoint } from './checkpoint.js'

let tmp: TempHome
beforeEach(async () => {
  tmp = await createTempHome('checkpoint')
})
afterEach(async () => {
  await tmp.remove()
})

function sample(epoch = 2): TrainCheckpoint {
  return {
    identity: { modelKind: 'sgd-classifier', seed: 3, params: { alpha: 0.0001 } },
    position: { epoch, block: 4, batch: 1, epochsCompleted: epoch - 1, rowsInEpoch: 1234, stopped: false },
    trainRows: 9000,
    classes: [0, 1],
    earlyStopping: { best: Number.NEGATIVE_INFINITY, epochsWithoutImprovement: 0, scores: [] },
    trainingLoss: { sum: 12.5, rows: 40 },
    scores: [0.61, Number.NaN],
    pipeline: { kind: 'pipeline', stats: new Float64Array([1.5, -0, Number.NaN]) },
    model: { kind: 'sgd-classifier', params: {}, state: { coef: new Float64Array([0.1, -2e-300, 3]), t: 41 } },
  }
}

describe('checkpoints', () => {
  it('round-trips typed arrays bit for bit and non-finite numbers', async () => {
    const dir = join(tmp.path, 'ckpt')
    expect(await readCheckpoint(dir)).toBeUndefined()
    await writeCheckpoint(dir, sample())
    const back = await readCheckpoint(dir)
    if (back === undefined) throw new Error('checkpoint expected')
    expect(back.position).toEqual(sample().position)
    expect(back.earlyStopping?.best).toBe(Number.NEGATIVE_INFINITY)
    expect(back.scores).toEqual([0.61, Number.NaN])
    const coef = (back.model as { state: { coef: Float64Array } }).state.coef
    expect(coef).toBeInstanceOf(Float64Array)
    expect(Buffer.from(coef.buffer)).toEqual(Buffer.from(new Float64Array([0.1, -2e-300, 3]).buffer))
    const stats = (back.pipeline as { stats: Float64Array }).stats
    expect(Object.is(stats[1], -0)).toBe(true)
    expect(Number.isNaN(stats[2])).toBe(true)
  })

  it('replaces the previous checkpoint and leaves one arrays file and no temporary file', async () => {
    const dir = join(tmp.path, 'ckpt')
    await writeCheckpoint(dir, sample(2))
    await writeCheckpoint(dir, sample(3))
    await writeCheckpoint(dir, sample(4))
    const files = (await readdir(dir)).sort()
    expect(files.filter((f) => f.endsWith('.bin'))).toHaveLength(1)
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([])
    expect((await readCheckpoint(dir))?.position.epoch).toBe(4)
  })

  it('refuses a corrupt, damaged or foreign checkpoint with ARTIFACT_INVALID naming the file', async () => {
    const dir = join(tmp.path, 'ckpt')
    await writeCheckpoint(dir, sample())
    const path = join(dir, CHECKPOINT_FILE)
    const original = await readFile(path, 'utf8')
    const expectInvalid = async (pattern: RegExp) => {
      const error = await readCheckpoint(dir).catch((e: unknown) => e)
      expect(isScalemlError(error, 'ARTIFACT_INVALID')).toBe(true)
      expect((error as Error).message).toMatch(pattern)
      expect((error as Error).message).toContain(path)
    }

    await writeFile(path, original.slice(0, 40))
    await expectInvalid(/is not valid JSON/)
    await writeFile(path, original.replace('"formatVersion":1', '"formatVersion":99'))
    await expectInvalid(/format version 99 and this scaleml reads version 1/)
    await writeFile(path, JSON.stringify({ format: 'something-else' }))
    await expectInvalid(/not a scaleml training checkpoint/)

    await writeFile(path, original)
    const bin = (await readdir(dir)).find((f) => f.endsWith('.bin'))!
    const bytes = await readFile(join(dir, bin))
    bytes[3] = bytes[3]! ^ 0xff
    await writeFile(join(dir, bin), bytes)
    await expectInvalid(/arrays file .* is damaged/)
  })

  it('identity differences are listed with both values', () => {
    const saved = { modelKind: 'sgd-regressor', seed: 3, params: { alpha: 0.0001, loss: 'squared_error' } }
    expect(() => checkIdentity('ckpt', saved, saved)).not.toThrow()
    const error = (() => {
      try {
        checkIdentity('ckpt', saved, {
          modelKind: 'sgd-classifier',
          seed: 3,
          params: { alpha: 0.001, loss: 'squared_error' },
        })
      } catch (e) {
        return e
      }
    })()
    expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
    expect((error as Error).message).toContain(
      'the checkpoint in ckpt was written by another job: modelKind differs (checkpoint "sgd-regressor", now "sgd-classifier"); params.alpha differs (checkpoint 0.0001, now 0.001)',
    )
  })
})

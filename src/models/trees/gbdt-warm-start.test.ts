import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { Random } from '../../core/random.js'
import { BinMapper, type BinnedData } from './binning.js'
import { GbdtClassifier, type GbdtClassifierParams, GbdtRegressor } from './gbdt.js'
import type { GbdtWarmStart } from './gbdt-warm-start.js'
import { treeCount } from './tree-ensemble.js'

/** A noisy problem over 4 numeric features and a 12-level categorical; labels by `label(z, rng)`. */
function problem(rows: number, seed: number, label: (z: number, rng: Random) => number) {
  const rng = new Random(seed)
  const cols = 5
  const data = new Float32Array(rows * cols)
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    const o = r * cols
    for (let f = 0; f < 4; f++) data[o + f] = rng.next() * 4 - 2
    data[o + 4] = rng.nextInt(12)
    if (rng.next() < 0.05) data[o] = Number.NaN
    const x0 = Number.isNaN(data[o]!) ? 0 : data[o]!
    const z =
      1.5 * x0 * (data[o + 1]! > 0 ? 1 : -1) + data[o + 2]! ** 2 - 1 + ([2, 5, 7].includes(data[o + 4]!) ? 1 : 0)
    y[r] = label(z, rng)
  }
  const X: DenseMatrix = { data, rows, cols }
  const binned = BinMapper.fit(X, { categoricalFeatures: [4] }).transform(X)
  return { X, y, binned }
}

const binary = (z: number, rng: Random) => (rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0)
const threeClasses = (z: number, rng: Random) => Math.min(2, Math.max(0, Math.round(z + rng.next() - 0.5)))
const numeric = (z: number, rng: Random) => 3 * z + rng.next() * 2

// Row and feature sampling draw from the generator every round: continuing must resume its stream exactly.
const SAMPLED: Partial<GbdtClassifierParams> = {
  learningRate: 0.2,
  maxLeaves: 12,
  subsample: 0.7,
  colsampleBytree: 0.6,
  seed: 3,
  nThreads: 1,
}

/** Fits `rounds[0]`, then continues to each next count; returns every model. */
function inSteps<M extends GbdtClassifier | GbdtRegressor>(
  make: (nEstimators: number) => M,
  fit: (model: M, options: { warmStart?: GbdtWarmStart; keepWarmStart: boolean }) => void,
  rounds: readonly number[],
): M[] {
  const models: M[] = []
  let warm: GbdtWarmStart | undefined
  for (const n of rounds) {
    const model = make(n)
    fit(model, { ...(warm === undefined ? {} : { warmStart: warm }), keepWarmStart: true })
    warm = model.warmStart
    models.push(model)
  }
  return models
}

describe('GBDT warm start', () => {
  it('continuing 15 → 25 → 40 rounds grows exactly the model of one 40-round fit (binary, sampled rows and features)', () => {
    const { X, y, binned } = problem(3000, 1, binary)
    const make = (n: number) => new GbdtClassifier({ ...SAMPLED, nEstimators: n })
    const steps = inSteps(make, (m, o) => m.fitBinned(binned, y, o), [15, 25, 40])
    const scratch = make(40)
    scratch.fitBinned(binned, y, { keepWarmStart: true })
    const continued = steps[2]!
    expect(treeCount(steps[0]!.ensemble)).toBe(15)
    expect(treeCount(continued.ensemble)).toBe(40)
    expect(continued.toJSON()).toEqual(scratch.toJSON())
    expect(continued.predictProba(X)).toEqual(scratch.predictProba(X))
    expect(continued.warmStart!.margin).toEqual(scratch.warmStart!.margin)
    expect(continued.warmStart!.randomState).toEqual(scratch.warmStart!.randomState)
    // The sampling is live: the 15-round model is not a prefix that 40 rounds merely repeat.
    expect(steps[0]!.predictProba(X)).not.toEqual(scratch.predictProba(X))
  })

  it('continues the eval set too: margins, per-round loss and best round', () => {
    const train = problem(2000, 2, binary)
    const valid = problem(800, 9, binary)
    const evalSet = { binned: train.binned.mapper.transform(valid.X), y: valid.y }
    const make = (n: number) => new GbdtClassifier({ ...SAMPLED, nEstimators: n })
    const [, continued] = inSteps(make, (m, o) => m.fitBinned(train.binned, train.y, { ...o, evalSet }), [10, 30])
    const scratch = make(30)
    scratch.fitBinned(train.binned, train.y, { evalSet, keepWarmStart: true })
    expect(continued!.validLoss).toHaveLength(30)
    expect(continued!.validLoss).toEqual(scratch.validLoss)
    expect(continued!.bestIteration).toBe(scratch.bestIteration)
    expect(continued!.warmStart!.evalMargin).toEqual(scratch.warmStart!.evalMargin)
    expect(continued!.toJSON()).toEqual(scratch.toJSON())
  })

  it('keeps only the eval margins with evalLoss false: same trees and margins, no per-round loss', () => {
    const train = problem(2000, 2, binary)
    const valid = problem(800, 9, binary)
    const evalSet = { binned: train.binned.mapper.transform(valid.X), y: valid.y }
    const make = (n: number) => new GbdtClassifier({ ...SAMPLED, nEstimators: n })
    const withLoss = make(30)
    withLoss.fitBinned(train.binned, train.y, { evalSet, keepWarmStart: true })
    const [, continued] = inSteps(
      make,
      (m, o) => m.fitBinned(train.binned, train.y, { ...o, evalSet, evalLoss: false }),
      [10, 30],
    )
    expect(withLoss.validLoss).toHaveLength(30)
    expect(continued!.validLoss).toEqual([])
    expect(continued!.warmStart!.evalMargin).toEqual(withLoss.warmStart!.evalMargin)
    expect(continued!.predictProba(valid.X)).toEqual(withLoss.predictProba(valid.X))
    const stopping = new GbdtClassifier({ ...SAMPLED, nEstimators: 30, earlyStoppingRounds: 5 })
    const error = (() => {
      try {
        stopping.fitBinned(train.binned, train.y, { evalSet, evalLoss: false })
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(isScalemlError(error) && error.code).toBe('INVALID_ARGUMENT')
    expect((error as Error).message).toContain('evalLoss false cannot be combined with earlyStoppingRounds')
  })

  it('continues softmax (one tree per class per round) and pseudo-Huber regression exactly', () => {
    const multi = problem(2400, 3, threeClasses)
    const makeC = (n: number) => new GbdtClassifier({ ...SAMPLED, nEstimators: n })
    const [, c] = inSteps(makeC, (m, o) => m.fitBinned(multi.binned, multi.y, o), [4, 12])
    const cScratch = makeC(12)
    cScratch.fitBinned(multi.binned, multi.y)
    expect(treeCount(c!.ensemble)).toBe(36)
    expect(c!.toJSON()).toEqual(cScratch.toJSON())

    const reg = problem(2400, 4, numeric)
    const makeR = (n: number) =>
      new GbdtRegressor({ ...SAMPLED, objective: 'pseudo_huber', huberSlope: 2, nEstimators: n })
    const [, r] = inSteps(makeR, (m, o) => m.fitBinned(reg.binned, reg.y, o), [7, 20])
    const rScratch = makeR(20)
    rScratch.fitBinned(reg.binned, reg.y)
    expect(r!.toJSON()).toEqual(rScratch.toJSON())
    expect(r!.predict(reg.X)).toEqual(rScratch.predict(reg.X))
  })

  it('is plain data: a structured clone (another worker thread) continues to the same model', () => {
    const { y, binned } = problem(1500, 5, binary)
    const first = new GbdtClassifier({ ...SAMPLED, nEstimators: 6 })
    first.fitBinned(binned, y, { keepWarmStart: true })
    const clone = structuredClone(first.warmStart!)
    const continued = new GbdtClassifier({ ...SAMPLED, nEstimators: 18 })
    continued.fitBinned(binned, y, { warmStart: clone })
    const scratch = new GbdtClassifier({ ...SAMPLED, nEstimators: 18 })
    scratch.fitBinned(binned, y)
    expect(continued.toJSON()).toEqual(scratch.toJSON())
    // Not asked to keep one: no margins held by the model.
    expect(scratch.warmStart).toBeUndefined()
  })

  it('refuses a warm start from other rows, labels, eval rows or more rounds, and with early stopping', () => {
    const { y, binned } = problem(1200, 6, binary)
    const first = new GbdtClassifier({ ...SAMPLED, nEstimators: 10 })
    first.fitBinned(binned, y, { keepWarmStart: true })
    const warm = first.warmStart!
    const message = (fn: () => void): string => {
      try {
        fn()
      } catch (error) {
        if (isScalemlError(error)) return `${error.code}: ${error.message}`
        throw error
      }
      throw new Error('expected a ScalemlError')
    }
    const fewerRows: BinnedData = { mapper: binned.mapper, nRows: 600, bins: binned.bins.slice(0, 600 * 5) }
    const next = (n = 20, more: Partial<GbdtClassifierParams> = {}) =>
      new GbdtClassifier({ ...SAMPLED, nEstimators: n, ...more })
    expect(message(() => next().fitBinned(fewerRows, y.subarray(0, 600), { warmStart: warm }))).toMatch(
      /INVALID_ARGUMENT: Cannot continue boosting from this warm start: it was left by a fit on 1200 rows; this fit has 600/,
    )
    expect(message(() => next(5).fitBinned(binned, y, { warmStart: warm }))).toMatch(
      /it has 10 rounds already; nEstimators = 5 cannot continue it/,
    )
    const flipped = y.map((v) => 1 - v)
    expect(message(() => next().fitBinned(binned, flipped, { warmStart: warm }))).toMatch(/base margin differs/)
    const evalSet = { binned, y }
    expect(message(() => next().fitBinned(binned, y, { warmStart: warm, evalSet }))).toMatch(
      /left with 0 eval rows; this fit has 1200/,
    )
    expect(
      message(() => next(20, { earlyStoppingRounds: 3 }).fitBinned(binned, y, { warmStart: warm, evalSet })),
    ).toMatch(/early stopping \(earlyStoppingRounds\) cannot be combined with a warm start/)
    expect(
      message(() => next(20, { earlyStoppingRounds: 3 }).fitBinned(binned, y, { keepWarmStart: true, evalSet })),
    ).toMatch(/keepWarmStart cannot be combined with earlyStoppingRounds/)
  })
})

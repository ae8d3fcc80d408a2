import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isScalemlError } from '../../../core/errors.js'
import type { DenseMatrix } from '../../../core/matrix.js'
import { Random } from '../../../core/random.js'
import { type BinnedData, DatasetSketch } from '../binning.js'
import {
  GBDT_CLASSIFIER_DEFAULTS,
  GbdtClassifier,
  type GbdtClassifierParams,
  GbdtRegressor,
  type GbdtRegressorParams,
} from '../gbdt.js'
import { boostExternal } from './external-boost.js'
import { ExternalRows } from './external-rows.js'

const spillRoot = mkdtempSync(join(tmpdir(), 'scaleml-extmem-test-'))
afterAll(() => rmSync(spillRoot, { recursive: true, force: true }))

/**
 * 10,007 rows (chunks of 1,000 end mid-way through nothing) of five features: a numeric with 10% missing values, a
 * numeric of 21 distinct integers, a 40-level categorical with missing values, noise, and a numeric that is
 * missing on a third of the rows; labels binary, 3-class and continuous from the same signal.
 */
function dataset(nRows = 10_007, seed = 5) {
  const rng = new Random(seed)
  const nFeatures = 5
  const data = new Float32Array(nRows * nFeatures)
  const binary = new Float64Array(nRows)
  const multi = new Float64Array(nRows)
  const target = new Float64Array(nRows)
  const wide = new Float64Array(nRows)
  const weight = new Float64Array(nRows)
  for (let r = 0; r < nRows; r++) {
    const x0 = rng.next() < 0.1 ? Number.NaN : rng.next() * 4 - 2
    const x1 = rng.nextInt(21)
    const x2 = rng.next() < 0.05 ? Number.NaN : rng.nextInt(40)
    const x3 = rng.next()
    const x4 = rng.next() < 0.33 ? Number.NaN : rng.next() * 10
    data.set([x0, x1, x2, x3, x4], r * nFeatures)
    const z =
      (Number.isNaN(x0) ? 0.7 : 1.5 * x0) +
      (x1 > 10 ? 0.8 : -0.4) +
      (Number.isNaN(x2) ? -1 : [3, 7, 11, 19, 23, 31].includes(x2) ? 1.2 : -0.3) +
      (Number.isNaN(x4) ? 0.5 : -0.1 * x4)
    binary[r] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0
    multi[r] = z < -0.5 ? 0 : z < 0.8 ? 1 : 2
    target[r] = z + rng.next() - 0.5
    // Weights over eight decades: gradients and hessians of such different sizes sum differently in another order.
    wide[r] = 10 ** (rng.next() * 8 - 4)
    weight[r] = 0.5 + rng.next()
  }
  const X: DenseMatrix = { data, rows: nRows, cols: nFeatures }
  const sketch = new DatasetSketch(nFeatures, { categoricalFeatures: [2], maxBins: 64 })
  sketch.partialFit(X)
  const binned = sketch.toBinMapper().transform(X)
  return { X, binned, binary, multi, target, wide, weight }
}

const data = dataset()
const external = { externalMemory: true, chunkRows: 1000, spillDir: spillRoot }

/** Train rows and eval rows of `binned` (the last 2,000 rows evaluate). */
function split(binned: BinnedData, nEval: number): { train: BinnedData; evalRows: BinnedData } {
  const { nRows, mapper, bins } = binned
  const part = (from: number, to: number): BinnedData => {
    const n = to - from
    const out = mapper.allocate(n)
    for (let f = 0; f < mapper.nFeatures; f++) out.bins.set(bins.subarray(f * nRows + from, f * nRows + to), f * n)
    return out
  }
  return { train: part(0, nRows - nEval), evalRows: part(nRows - nEval, nRows) }
}

function expectSameModel(a: GbdtClassifier | GbdtRegressor, b: GbdtClassifier | GbdtRegressor): void {
  expect(b.toJSON()).toEqual(a.toJSON())
  const pa = a instanceof GbdtClassifier ? a.decisionFunction(data.X) : a.predict(data.X)
  const pb = b instanceof GbdtClassifier ? b.decisionFunction(data.X) : b.predict(data.X)
  expect(pb).toEqual(pa)
}

function spillFolders(): string[] {
  return readdirSync(spillRoot)
}

describe('external-memory GBDT gives the in-memory model on the same bins', () => {
  const classifierCases: [string, Partial<GbdtClassifierParams>][] = [
    ['leaf-wise', { nEstimators: 12, maxLeaves: 15 }],
    ['depth-wise', { nEstimators: 10, growPolicy: 'depthwise', maxDepth: 4, maxLeaves: 12 }],
    ['unbounded leaves to a depth', { nEstimators: 5, maxLeaves: null, maxDepth: 6 }],
    ['row and feature sampling', { nEstimators: 10, subsample: 0.7, colsampleBytree: 0.6, seed: 3 }],
    ['row counts checked (minSamplesLeaf)', { nEstimators: 8, minSamplesLeaf: 40 }],
    ['one-hot categorical splits and gamma', { nEstimators: 8, maxCatToOnehot: 64, gamma: 0.5 }],
  ]
  for (const [name, params] of classifierCases) {
    it(`binary: ${name}`, () => {
      const inMemory = new GbdtClassifier(params)
      inMemory.fitBinned(data.binned, data.binary)
      const spilled = new GbdtClassifier(params)
      spilled.fitBinned(data.binned, data.binary, external)
      expectSameModel(inMemory, spilled)
    })
  }

  it('binary with sample weights and early stopping on an evaluation set', () => {
    const { train, evalRows } = split(data.binned, 2000)
    const y = data.binary.subarray(0, train.nRows)
    const evalSet = { binned: evalRows, y: data.binary.subarray(train.nRows) }
    const sampleWeight = data.weight.subarray(0, train.nRows)
    const params = { nEstimators: 60, learningRate: 0.3, earlyStoppingRounds: 3 }
    const inMemory = new GbdtClassifier(params)
    inMemory.fitBinned(train, y, { evalSet, sampleWeight })
    const spilled = new GbdtClassifier(params)
    spilled.fitBinned(train, y, { evalSet, sampleWeight, ...external })
    expect(inMemory.nRounds).toBeLessThan(60)
    expect(spilled.validLoss).toEqual(inMemory.validLoss)
    expectSameModel(inMemory, spilled)
  })

  it('multi-class (3 trees a round), leaf-wise and depth-wise, with an evaluation set', () => {
    const { train, evalRows } = split(data.binned, 1500)
    const y = data.multi.subarray(0, train.nRows)
    const evalSet = { binned: evalRows, y: data.multi.subarray(train.nRows) }
    for (const growPolicy of ['leafwise', 'depthwise'] as const) {
      const params = { nEstimators: 6, maxLeaves: 10, growPolicy, subsample: 0.8 }
      const inMemory = new GbdtClassifier(params)
      inMemory.fitBinned(train, y, { evalSet })
      const spilled = new GbdtClassifier(params)
      spilled.fitBinned(train, y, { evalSet, ...external, chunkRows: 777 })
      expect(spilled.ensemble.nOutputs).toBe(3)
      expectSameModel(inMemory, spilled)
    }
  })

  const regressorCases: [string, Partial<GbdtRegressorParams>][] = [
    ['squared error', { nEstimators: 10, maxLeaves: 20 }],
    ['pseudo-Huber from the median', { nEstimators: 8, objective: 'pseudo_huber', huberSlope: 0.5 }],
    ['squared error from a base score, depth-wise', { nEstimators: 6, baseScore: 0.25, growPolicy: 'depthwise' }],
  ]
  for (const [name, params] of regressorCases) {
    it(`regression: ${name}`, () => {
      const inMemory = new GbdtRegressor(params)
      inMemory.fitBinned(data.binned, data.target)
      const spilled = new GbdtRegressor(params)
      spilled.fitBinned(data.binned, data.target, external)
      expectSameModel(inMemory, spilled)
    })
  }

  it('regression whose histogram sums depend on the order of addition (chunks of an odd size)', () => {
    for (const growPolicy of ['leafwise', 'depthwise'] as const) {
      const params = { nEstimators: 6, maxLeaves: 8, growPolicy, minChildWeight: 1e-3 }
      const sampleWeight = data.wide
      const inMemory = new GbdtRegressor(params)
      inMemory.fitBinned(data.binned, data.target, { sampleWeight })
      const spilled = new GbdtRegressor(params)
      spilled.fitBinned(data.binned, data.target, { sampleWeight, ...external, chunkRows: 333 })
      expectSameModel(inMemory, spilled)
    }
  })

  it('nodes big enough to be cut into several row ranges (partial histograms summed in range order)', () => {
    // 40,009 rows: the in-memory builder cuts the root into 4 ranges of ≥ 8,192 rows and big children into 2 or 3.
    const big = dataset(40_009, 7)
    const regression = { nEstimators: 5, maxLeaves: 8, minChildWeight: 1e-3 }
    const inMemoryReg = new GbdtRegressor(regression)
    inMemoryReg.fitBinned(big.binned, big.target, { sampleWeight: big.wide })
    const spilledReg = new GbdtRegressor(regression)
    spilledReg.fitBinned(big.binned, big.target, { sampleWeight: big.wide, ...external, chunkRows: 2999 })
    expect(spilledReg.toJSON()).toEqual(inMemoryReg.toJSON())
    const binary = { nEstimators: 5, maxLeaves: 12, subsample: 0.9, seed: 4 }
    const inMemory = new GbdtClassifier(binary)
    inMemory.fitBinned(big.binned, big.binary)
    const spilled = new GbdtClassifier(binary)
    spilled.fitBinned(big.binned, big.binary, { ...external, chunkRows: 4096 })
    expect(spilled.toJSON()).toEqual(inMemory.toJSON())
    expect(spilled.decisionFunction(big.X)).toEqual(inMemory.decisionFunction(big.X))
  })

  it('regression with weights and a weighted pseudo-Huber median', () => {
    const params = { nEstimators: 5, objective: 'pseudo_huber' as const }
    const inMemory = new GbdtRegressor(params)
    inMemory.fitBinned(data.binned, data.target, { sampleWeight: data.weight })
    const spilled = new GbdtRegressor(params)
    spilled.fitBinned(data.binned, data.target, { sampleWeight: data.weight, ...external })
    expectSameModel(inMemory, spilled)
  })

  it('fitExternal on rows appended raw, batch by batch, equals fitBinned', () => {
    const rows = ExternalRows.create(data.binned.mapper, { chunkRows: 1000, dir: spillRoot })
    try {
      for (let at = 0; at < data.X.rows; at += 3001) {
        const n = Math.min(3001, data.X.rows - at)
        const part = {
          rows: n,
          cols: data.X.cols,
          data: data.X.data.subarray(at * data.X.cols, (at + n) * data.X.cols),
        }
        rows.append(part, data.binary.subarray(at, at + n))
      }
      rows.finish()
      expect(rows.nChunks).toBe(11)
      const params = { nEstimators: 8 }
      const inMemory = new GbdtClassifier(params)
      inMemory.fitBinned(data.binned, data.binary)
      const spilled = new GbdtClassifier(params)
      spilled.fitExternal(rows)
      expectSameModel(inMemory, spilled)
      // The rows keep their labels: a second fit gives the same model again.
      const again = new GbdtClassifier(params)
      again.fitExternal(rows, { classes: [0, 1] })
      expectSameModel(inMemory, again)
    } finally {
      rows.remove()
    }
    expect(spillFolders()).toEqual([])
  })
})

describe('external-memory growth', () => {
  it('splits every node the growth order may reach in one pass: far fewer passes than splits', () => {
    const rows = ExternalRows.create(data.binned.mapper, { chunkRows: 1000, dir: spillRoot })
    try {
      rows.appendBinned(data.binned, data.binary)
      rows.finish()
      for (const growPolicy of ['leafwise', 'depthwise'] as const) {
        const params = { ...GBDT_CLASSIFIER_DEFAULTS, nEstimators: 4, maxLeaves: 24, growPolicy }
        const result = boostExternal(params, rows, { problem: { objective: 'logistic', nOutputs: 1, delta: 1 } })
        const splits = result.ensemble.feature.filter((f) => f >= 0).length
        expect(splits).toBe(4 * 23)
        // One pass a tree between trees, then about one a level: 4 + 4 × ~6 here, against 4 + 92 one split at a time.
        expect(result.passes).toBeLessThan(splits / 2)
      }
    } finally {
      rows.remove()
    }
  })
})

describe('external-memory files', () => {
  it('are removed after training and after a failed training', () => {
    const model = new GbdtClassifier({ nEstimators: 3 })
    model.fitBinned(data.binned, data.binary, external)
    expect(spillFolders()).toEqual([])
    let error: unknown
    try {
      new GbdtClassifier({ nEstimators: 5 }).fitBinned(data.binned, data.binary, {
        ...external,
        onIteration: ({ iteration }) => {
          if (iteration === 1) {
            expect(spillFolders()).toHaveLength(1)
            throw new Error('stop here')
          }
        },
      })
    } catch (e) {
      error = e
    }
    expect((error as Error).message).toBe('stop here')
    expect(spillFolders()).toEqual([])
  })

  it('are used only above the memory budget', () => {
    // 20,000 rows × 5 features take about 1.2 MB in memory (bins twice, margins, gradients, row lists, labels).
    const big = dataset(20_000, 9)
    let sawFolder = false
    const watch = { onIteration: () => void (sawFolder ||= spillFolders().length > 0), spillDir: spillRoot }
    new GbdtClassifier({ nEstimators: 2 }).fitBinned(big.binned, big.binary, { memoryBudget: 2 * 2 ** 20, ...watch })
    expect(sawFolder).toBe(false)
    new GbdtClassifier({ nEstimators: 2 }).fitBinned(big.binned, big.binary, { memoryBudget: 2 ** 20, ...watch })
    expect(sawFolder).toBe(true)
    expect(spillFolders()).toEqual([])
  })

  it('rejects bad budgets naming the option', () => {
    for (const memoryBudget of [0, -5, 1.5, Number.NaN, 1000]) {
      let error: unknown
      try {
        new GbdtClassifier({ nEstimators: 1 }).fitBinned(data.binned, data.binary, { memoryBudget })
      } catch (e) {
        error = e
      }
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toMatch(/memoryBudget/)
    }
  })

  it('refuses warm start (warmStart, keepWarmStart) in external memory, naming the option', () => {
    const first = new GbdtClassifier({ nEstimators: 2 })
    first.fitBinned(data.binned, data.binary, { keepWarmStart: true })
    const warmStart = first.warmStart
    expect(warmStart).toBeDefined()
    for (const [name, options] of [
      ['keepWarmStart', { keepWarmStart: true }],
      ['warmStart', { warmStart }],
    ] as const) {
      let error: unknown
      try {
        new GbdtClassifier({ nEstimators: 3 }).fitBinned(data.binned, data.binary, { ...options, ...external })
      } catch (e) {
        error = e
      }
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toMatch(new RegExp(`${name} is not supported with external-memory training`))
    }
    expect(spillFolders()).toEqual([])
  })
})

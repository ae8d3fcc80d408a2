import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { type DenseMatrix, fromRows } from '../../core/matrix.js'
import { parseParamAssignments } from '../../core/params.js'
import { Random } from '../../core/random.js'
import { CLUSTER_CATALOG_ENTRIES } from './catalog-entries.js'
import { MINIBATCH_KMEANS_CONSTRAINTS, MiniBatchKMeans } from './minibatch-kmeans.js'

const MEANS = [
  [0, 0, 0],
  [40, 0, 0],
  [0, 40, 0],
  [0, 0, 40],
  [40, 40, 40],
]

/** Rows around MEANS (std ≈ 1 per feature), blob of row r is `blob[r]`. */
function blobs(rows: number, seed = 1): { X: DenseMatrix; blob: Int32Array } {
  const rng = new Random(seed)
  const data = new Float32Array(rows * 3)
  const blob = new Int32Array(rows)
  for (let r = 0; r < rows; r++) {
    const b = rng.nextInt(MEANS.length)
    blob[r] = b
    for (let f = 0; f < 3; f++) data[r * 3 + f] = MEANS[b]![f]! + (rng.next() + rng.next() + rng.next() - 1.5) * 2
  }
  return { X: { data, rows, cols: 3 }, blob }
}

function slice(X: DenseMatrix, a: number, b: number): DenseMatrix {
  return { data: X.data.slice(a * X.cols, b * X.cols), rows: b - a, cols: X.cols }
}

function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

function centerRows(model: MiniBatchKMeans): number[][] {
  const c = model.centers
  const d = model.nFeaturesIn!
  return Array.from({ length: model.nClusters }, (_, j) => Array.from(c.subarray(j * d, (j + 1) * d)))
}

function isRowOf(X: DenseMatrix, point: readonly number[]): boolean {
  for (let r = 0; r < X.rows; r++) {
    let same = true
    for (let f = 0; f < X.cols; f++) same &&= X.data[r * X.cols + f] === point[f]
    if (same) return true
  }
  return false
}

describe('MiniBatchKMeans', () => {
  it('recovers five well-separated blobs from 1024-row batches (every true mean within 0.5 of a center)', () => {
    const { X, blob } = blobs(10_240)
    const model = new MiniBatchKMeans({ nClusters: 5, seed: 3 })
    for (let a = 0; a < X.rows; a += 1024) model.partialFit(slice(X, a, a + 1024))
    const centers = centerRows(model)
    for (const mean of MEANS) {
      const nearest = Math.min(...centers.map((c) => Math.hypot(...c.map((v, f) => v - mean[f]!))))
      expect(nearest).toBeLessThan(0.5)
    }
    // Every blob maps to one cluster and distinct blobs to distinct clusters.
    const labels = model.predict(X)
    const clusterOfBlob = new Map<number, number>()
    let mislabelled = 0
    for (let r = 0; r < X.rows; r++) {
      const seen = clusterOfBlob.get(blob[r]!)
      if (seen === undefined) clusterOfBlob.set(blob[r]!, labels[r]!)
      else if (labels[r] !== seen) mislabelled++
    }
    expect(mislabelled).toBe(0)
    expect(new Set(clusterOfBlob.values()).size).toBe(5)
    expect(model.nSteps).toBe(10)
    expect(model.inertia(X)).toBeGreaterThan(0)
    expect(model.score(X)).toBe(-model.inertia(X))
  })

  it('k-means++ picks distinct rows of the first batch, one per blob, reproducibly from the seed', () => {
    const { X } = blobs(500, 2)
    const init = (seed: number, batch = X) => {
      // reassignmentRatio 0 and a zero-weight batch leave the initial centers untouched, so they can be read back.
      const model = new MiniBatchKMeans({ nClusters: 5, seed, reassignmentRatio: 0 })
      model.partialFit(batch, { sampleWeight: new Float64Array(batch.rows) })
      return centerRows(model)
    }
    const a = init(11)
    expect(init(11)).toEqual(a)
    for (const center of a) expect(isRowOf(X, center)).toBe(true)
    expect(new Set(a.map((c) => c.join(','))).size).toBe(5)
    // Greedy k-means++ on far-apart blobs lands one center in each blob.
    const blobsHit = new Set(a.map((c) => MEANS.findIndex((m) => Math.hypot(...c.map((v, f) => v - m[f]!)) < 10)))
    expect(blobsHit).toEqual(new Set([0, 1, 2, 3, 4]))
    const others = [12, 13, 14].map((seed) => init(seed))
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(a))).toBe(true)
  })

  it("'random' init picks distinct rows, reproducibly; a first batch above initSize is subsampled", () => {
    const { X } = blobs(300, 4)
    const init = (params: object) => {
      const model = new MiniBatchKMeans({ nClusters: 6, reassignmentRatio: 0, ...params })
      model.partialFit(X, { sampleWeight: new Float64Array(X.rows) })
      return centerRows(model)
    }
    const a = init({ init: 'random', seed: 5 })
    expect(init({ init: 'random', seed: 5 })).toEqual(a)
    for (const center of a) expect(isRowOf(X, center)).toBe(true)
    expect(new Set(a.map((c) => c.join(','))).size).toBe(6)
    // With initSize < rows the rows are drawn first, so the same seed picks differently than on the whole batch.
    const sub = init({ init: 'random', seed: 5, initSize: 20 })
    for (const center of sub) expect(isRowOf(X, center)).toBe(true)
    expect(sub).not.toEqual(a)
  })

  it('initializes from at most 3 × 1024 rows by default (scikit-learn: 3 × batch_size), drawn from a larger first batch', () => {
    const { X } = blobs(5000, 5)
    const init = (params: object) => {
      const model = new MiniBatchKMeans({ nClusters: 4, init: 'random', seed: 2, reassignmentRatio: 0, ...params })
      model.partialFit(X, { sampleWeight: new Float64Array(X.rows) })
      return centerRows(model)
    }
    expect(init({})).toEqual(init({ initSize: 3072 }))
    expect(init({})).not.toEqual(init({ initSize: 5000 }))
  })

  it('moves each center by the weighted mean of its batch rows at rate W / (count + W)', () => {
    const model = new MiniBatchKMeans({
      nClusters: 2,
      init: [
        [0, 0],
        [10, 10],
      ],
      reassignmentRatio: 0,
    })
    model.partialFit(
      fromRows([
        [1, 1],
        [3, 1],
        [9, 9],
      ]),
      { sampleWeight: new Float64Array([1, 3, 2]) },
    )
    // Counts start at 0, so each center becomes the weighted mean of its rows.
    expect(Array.from(model.centers)).toEqual([2.5, 1, 9, 9])
    expect(Array.from(model.counts)).toEqual([4, 2])
    model.partialFit(fromRows([[5.5, 2]]), { sampleWeight: new Float64Array([4]) })
    // center 0 + (x − center 0) · 4 / (4 + 4); center 1 untouched.
    expect(Array.from(model.centers)).toEqual([4, 1.5, 9, 9])
    expect(Array.from(model.counts)).toEqual([8, 2])
    // A weight-2 row moves a center exactly as the row twice.
    const twice = MiniBatchKMeans.fromJSON(model.toJSON())
    const once = MiniBatchKMeans.fromJSON(model.toJSON())
    twice.partialFit(
      fromRows([
        [1, 2],
        [0, 4],
      ]),
      { sampleWeight: new Float64Array([2, 1]) },
    )
    once.partialFit(
      fromRows([
        [1, 2],
        [1, 2],
        [0, 4],
      ]),
    )
    const t = twice.centers
    once.centers.forEach((v, i) => {
      expect(t[i]).toBeCloseTo(v, 12)
    })
  })

  it('reassigns a center no row reaches to a row of the batch (ratio > 0) and leaves it alone with ratio 0', () => {
    const { X } = blobs(400, 6)
    const init = [...MEANS.slice(0, 4), [1000, 1000, 1000]]
    const still = new MiniBatchKMeans({ nClusters: 5, init, reassignmentRatio: 0 })
    still.partialFit(X)
    expect(centerRows(still)[4]).toEqual([1000, 1000, 1000])
    expect(still.counts[4]).toBe(0)

    const moved = new MiniBatchKMeans({ nClusters: 5, init, seed: 9 })
    moved.partialFit(X)
    const center = centerRows(moved)[4]!
    expect(isRowOf(X, center)).toBe(true)
    const counts = moved.counts
    // Its count is raised to the smallest kept count, so it is not reassigned again at once.
    expect(counts[4]).toBe(Math.min(...Array.from(counts.subarray(0, 4))))
    expect(counts[4]).toBeGreaterThan(0)
  })

  it('transform gives Euclidean distances whose argmin is predict', () => {
    const { X } = blobs(200, 8)
    const model = new MiniBatchKMeans({ nClusters: 4, seed: 1 })
    model.partialFit(X)
    const dist = model.transform(X)
    const labels = model.predict(X)
    const centers = centerRows(model)
    expect(dist.length).toBe(X.rows * 4)
    for (let r = 0; r < X.rows; r++) {
      const row = Array.from(X.data.subarray(r * 3, r * 3 + 3))
      let best = 0
      for (let j = 0; j < 4; j++) {
        expect(dist[r * 4 + j]).toBeCloseTo(Math.hypot(...row.map((v, f) => v - centers[j]![f]!)), 10)
        if (dist[r * 4 + j]! < dist[r * 4 + best]!) best = j
      }
      expect(labels[r]).toBe(best)
    }
    let inertia = 0
    for (let r = 0; r < X.rows; r++) inertia += dist[r * 4 + labels[r]!]! ** 2
    expect(model.inertia(X)).toBeCloseTo(inertia, 8)
  })

  it('round-trips through toJSON / fromJSON and then trains on exactly as the original (reassignment included)', () => {
    const { X } = blobs(3000, 10)
    const model = new MiniBatchKMeans({ nClusters: 6, seed: 4, reassignmentRatio: 0.2 })
    model.partialFit(slice(X, 0, 1000))
    const copy = MiniBatchKMeans.fromJSON(model.toJSON())
    expect(copy.predict(X)).toEqual(model.predict(X))
    expect(copy.params).toEqual(model.params)
    for (let a = 1000; a < 3000; a += 100) {
      model.partialFit(slice(X, a, a + 100))
      copy.partialFit(slice(X, a, a + 100))
    }
    expect(copy.centers).toEqual(model.centers)
    expect(copy.counts).toEqual(model.counts)
    expect(copy.nSteps).toBe(21)
    // A snapshot does not change when the model trains on.
    const json = model.toJSON()
    const before = json.state.centers.slice()
    model.partialFit(slice(X, 0, 500))
    expect(json.state.centers).toEqual(before)
  })

  it('rejects malformed JSON with ARTIFACT_INVALID naming the field', () => {
    const { X } = blobs(50, 12)
    const model = new MiniBatchKMeans({ nClusters: 3 })
    model.partialFit(X)
    const json = model.toJSON()
    const bad =
      (state: object, params: Record<string, unknown> = json.params) =>
      () =>
        MiniBatchKMeans.fromJSON({ ...json, params, state: { ...json.state, ...state } })
    expect(catchError(bad({ centers: new Float64Array(4) })).message).toBe(
      'Invalid minibatch-kmeans state: state.centers must be 9 values, got 4 values.',
    )
    expect(catchError(bad({ counts: [1, -1, 2] })).message).toMatch(/state.counts must be non-negative/)
    expect(catchError(bad({ randomState: [1, 2] })).message).toMatch(/state.randomState must be an array of 4/)
    expect(catchError(bad({ nSteps: 1.5 })).code).toBe('ARTIFACT_INVALID')
    expect(catchError(bad({}, { ...json.params, nClusters: 0 })).message).toMatch(/Invalid minibatch-kmeans params/)
    expect(catchError(() => MiniBatchKMeans.fromJSON({ ...json, kind: 'sgd-regressor' })).code).toBe('ARTIFACT_INVALID')
  })

  describe('errors', () => {
    const { X } = blobs(40, 13)

    it('validates params on the first partialFit only (INVALID_PARAM, scikit-learn message shape)', () => {
      const model = new MiniBatchKMeans({ nClusters: 0 })
      expect(model.params.nClusters).toBe(0)
      expect(catchError(() => model.partialFit(X)).message).toBe(
        "The 'nClusters' parameter of MiniBatchKMeans must be an int in the range [1, inf). Got 0 instead.",
      )
      const fitWith = (params: object) => () => new MiniBatchKMeans(params).partialFit(X)
      expect(catchError(fitWith({ reassignmentRatio: 1.5 })).message).toMatch(
        /'reassignmentRatio' parameter of MiniBatchKMeans must be a float in the range \[0, 1\]/,
      )
      expect(catchError(fitWith({ init: 'kmeans++' })).message).toMatch(
        /'init' parameter .* must be one of "k-means\+\+"/,
      )
      expect(catchError(fitWith({ nClusters: 4, initSize: 3 })).message).toMatch(
        /'initSize' .* must be >= nClusters \(4\)/,
      )
      expect(catchError(fitWith({ nClusters: 3, init: [[0, 0, 0]] })).message).toMatch(
        /holds 1 centers, but nClusters is 3/,
      )
      expect(
        catchError(
          fitWith({
            nClusters: 2,
            init: [
              [0, 0, 0],
              [0, 0],
            ],
          }),
        ).message,
      ).toMatch(/center 1 must be an array of 3 numbers/)
      expect(catchError(fitWith({ nClusters: 1, init: [[0, Number.NaN, 0]] })).message).toMatch(
        /center 0, feature 1 must be a finite number/,
      )
      const wide = catchError(fitWith({ nClusters: 1, init: [[0, 0]] }))
      expect(wide.code).toBe('INVALID_PARAM')
      expect(wide.message).toBe(
        "The 'init' parameter of MiniBatchKMeans holds centers of 2 features, but X has 3 features.",
      )
      expect(catchError(fitWith({ bogus: 1 })).message).toMatch(/MiniBatchKMeans has no parameter 'bogus'/)
    })

    it('needs at least nClusters rows in the first batch (INVALID_DATA), then accepts any batch size', () => {
      const model = new MiniBatchKMeans({ nClusters: 8 })
      const error = catchError(() => model.partialFit(slice(X, 0, 5)))
      expect(error.code).toBe('INVALID_DATA')
      expect(error.message).toBe(
        'MiniBatchKMeans needs at least nClusters = 8 rows in its first batch to initialize the centers; got 5.',
      )
      expect(model.isFitted).toBe(false)
      expect(catchError(() => model.partialFit(slice(X, 0, 0))).code).toBe('INVALID_DATA')
      model.partialFit(slice(X, 0, 8))
      const centers = model.centers
      model.partialFit(slice(X, 8, 8))
      expect(model.centers).toEqual(centers)
      expect(model.nSteps).toBe(1)
      model.partialFit(slice(X, 8, 10))
      expect(model.nSteps).toBe(2)
    })

    it('names the row and feature of a NaN (INVALID_DATA) and leaves the model unchanged', () => {
      const model = new MiniBatchKMeans({ nClusters: 3 })
      const nan = slice(X, 0, 10)
      nan.data[4 * 3 + 2] = Number.NaN
      const first = catchError(() => model.partialFit(nan))
      expect(first.code).toBe('INVALID_DATA')
      expect(first.message).toBe(
        'X contains NaN at row 4, feature 2; MiniBatchKMeans needs finite features (impute or drop missing values first).',
      )
      expect(first.issues[0]!.path).toEqual(['X', 4, 2])
      expect(model.isFitted).toBe(false)
      model.partialFit(slice(X, 10, 20))
      const centers = model.centers
      const counts = model.counts
      expect(catchError(() => model.partialFit(nan)).code).toBe('INVALID_DATA')
      expect(model.centers).toEqual(centers)
      expect(model.counts).toEqual(counts)
      expect(model.nSteps).toBe(1)
      expect(catchError(() => model.predict(nan)).code).toBe('INVALID_DATA')
    })

    it('rejects a changed feature count (INVALID_INPUT), bad weights, and use before fitting (NOT_FITTED)', () => {
      const model = new MiniBatchKMeans({ nClusters: 2 })
      expect(catchError(() => model.predict(X)).code).toBe('NOT_FITTED')
      expect(catchError(() => model.toJSON()).message).toBe(
        'This MiniBatchKMeans is not fitted yet; call partialFit first.',
      )
      model.partialFit(X)
      const narrow = fromRows([[1, 2]])
      for (const call of [() => model.partialFit(narrow), () => model.predict(narrow), () => model.transform(narrow)]) {
        const error = catchError(call)
        expect(error.code).toBe('INVALID_INPUT')
        expect(error.message).toBe('X has 2 features, but MiniBatchKMeans was fitted with 3 features.')
      }
      expect(catchError(() => model.partialFit(X, { sampleWeight: new Float64Array(3) })).message).toBe(
        'sampleWeight has 3 values but X has 40 rows.',
      )
      const negative = new Float64Array(40).fill(1)
      negative[7] = -1
      const error = catchError(() => model.partialFit(X, { sampleWeight: negative }))
      expect(error.code).toBe('INVALID_DATA')
      expect(error.message).toBe(
        'sampleWeight contains -1 at row 7; MiniBatchKMeans needs finite, non-negative weights.',
      )
      negative[7] = Number.POSITIVE_INFINITY
      expect(catchError(() => model.inertia(X, { sampleWeight: negative })).message).toMatch(/Infinity at row 7/)
      expect(catchError(() => model.predict({ data: new Float32Array(5), rows: 2, cols: 3 })).code).toBe(
        'INVALID_INPUT',
      )
    })
  })
})

describe('CLUSTER_CATALOG_ENTRIES', () => {
  const entry = CLUSTER_CATALOG_ENTRIES['minibatch-kmeans']

  it('creates, validates and deserializes minibatch-kmeans', () => {
    expect(entry.task).toBe('clustering')
    const model = entry.create({ nClusters: 2, seed: 1 })
    expect(model.kind).toBe('minibatch-kmeans')
    expect(model.task).toBe('clustering')
    const { X } = blobs(30, 14)
    model.partialFit(X)
    const again = entry.fromJSON(model.toJSON())
    expect(again.predict(X)).toEqual(model.predict(X))
    expect(() => entry.validate({ nClusters: 3, initSize: 2 })).toThrow(/'initSize'/)
    expect(() => entry.validate({ nClusters: 3 })).not.toThrow()
    expect(entry.defaults).toMatchObject({ nClusters: 8, init: 'k-means++', reassignmentRatio: 0.01 })
  })

  it('parses CLI --param assignments with the constraint table', () => {
    expect(
      parseParamAssignments('minibatch-kmeans', entry.constraints, [
        'n_clusters=5',
        'init=random',
        'reassignment_ratio=0',
        'init_size=null',
      ]),
    ).toEqual({ nClusters: 5, init: 'random', reassignmentRatio: 0, initSize: null })
  })

  it('every constraint rejects an invalid value (C2)', () => {
    const invalid: Record<keyof typeof MINIBATCH_KMEANS_CONSTRAINTS, unknown> = {
      nClusters: 1.5,
      init: 'kmeans',
      seed: -1,
      reassignmentRatio: -0.1,
      initSize: 0,
    }
    expect(Object.keys(invalid).sort()).toEqual(Object.keys(MINIBATCH_KMEANS_CONSTRAINTS).sort())
    for (const [key, value] of Object.entries(invalid)) {
      const error = catchError(() => entry.validate({ [key]: value }))
      expect(error.code).toBe('INVALID_PARAM')
      expect(error.issues[0]!.path).toEqual([key])
    }
  })
})

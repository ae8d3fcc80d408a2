import { describe, expect, it, vi } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { Random } from '../../core/random.js'
import { GbdtClassifier, GbdtRegressor } from './gbdt.js'
import { DEFAULT_N_THREADS, histogramWorkerStats, liveHistogramWorkers } from './parallel-histogram.js'
import { RandomForestClassifier, RandomForestRegressor } from './random-forest.js'

/**
 * 120,000 rows (big enough for the threaded paths: nodes of ≥ 131k rows × features, partitions of ≥ 65k rows):
 * 5 numeric features (two with 10–20% missing), 2 categorical (40 and 6 levels); a binary, a 3-class and a real
 * target.
 */
function data() {
  const n = 120_000
  const cols = 7
  const rng = new Random(11)
  const X = new Float32Array(n * cols)
  const y2 = new Float64Array(n)
  const y3 = new Float64Array(n)
  const yr = new Float64Array(n)
  for (let r = 0; r < n; r++) {
    const a = rng.next() < 0.2 ? Number.NaN : rng.next() * 10
    const b = rng.next() < 0.1 ? Number.NaN : rng.nextInt(50)
    const city = rng.nextInt(40)
    const kind = rng.nextInt(6)
    X.set([a, b, rng.next(), rng.next() * 100, rng.nextInt(3), city, kind], r * cols)
    const s =
      (Number.isNaN(a) ? 2 : a - 5) +
      (Number.isNaN(b) ? -1 : b / 25) +
      (city % 5 === 0 ? 2 : -0.5) +
      (kind === 3 ? -2 : 0) +
      2 * (rng.next() - 0.5)
    y2[r] = s > 0 ? 1 : 0
    y3[r] = s < -1 ? 0 : s < 1.5 ? 1 : 2
    yr[r] = s
  }
  return { X: { data: X, rows: n, cols }, y2, y3, yr, categoricalFeatures: [5, 6] }
}

interface Model {
  readonly params: { readonly nThreads: number }
  toJSON(): { params: Record<string, unknown>; state: unknown }
}

/** The JSON of a model trained with 2 threads equals the one-thread model's, but for the nThreads param itself. */
function expectSameModel(one: Model, two: Model): void {
  expect(one.params.nThreads).toBe(1)
  expect(two.params.nThreads).toBe(2)
  const a = one.toJSON()
  const b = two.toJSON()
  expect(b.params).toEqual({ ...a.params, nThreads: 2 })
  expect(b.state).toEqual(a.state)
}

describe('tree models on worker threads', () => {
  it('train the same model with nThreads 1 and 2 (toJSON deep-equal): GBDT binary, softmax with sampling, regression, forests', () => {
    const d = data()
    const options = { categoricalFeatures: d.categoricalFeatures }
    const startedBefore = histogramWorkerStats.workersStarted
    const fit = <M extends Model>(make: (nThreads: number) => M, train: (m: M) => void) => {
      const [one, two] = [make(1), make(2)]
      train(one)
      train(two)
      expectSameModel(one, two)
    }
    fit(
      (nThreads) => new GbdtClassifier({ nEstimators: 15, nThreads }),
      (m) => m.fit(d.X, d.y2, options),
    )
    fit(
      (nThreads) => new GbdtClassifier({ nEstimators: 4, subsample: 0.8, colsampleBytree: 0.7, nThreads }),
      (m) => m.fit(d.X, d.y3, options),
    )
    fit(
      (nThreads) =>
        new GbdtRegressor({
          nEstimators: 5,
          growPolicy: 'depthwise',
          maxLeaves: null,
          maxDepth: 5,
          minSamplesLeaf: 20,
          nThreads,
        }),
      (m) => m.fit(d.X, d.yr, options),
    )
    fit(
      (nThreads) => new RandomForestClassifier({ nEstimators: 2, maxDepth: 8, nThreads }),
      (m) => m.fit(d.X, d.y3, options),
    )
    fit(
      (nThreads) => new RandomForestRegressor({ nEstimators: 2, maxDepth: 8, bootstrap: false, nThreads }),
      (m) => m.fit(d.X, d.yr, options),
    )
    // Proof that the threaded path was taken: worker pools started (on the first big node). Whether a share then ran
    // on a worker depends on how fast the threads come up (a cold start from TypeScript sources on a loaded CI
    // machine can outlast these small fits, and shares go only to ready workers); the builder and grower tests wait
    // for the workers and make them run every share.
    expect(histogramWorkerStats.workersStarted).toBeGreaterThan(startedBefore)
  })

  it('leaves no live worker thread when fit throws mid-way', async () => {
    const d = data()
    // Threads of earlier fits leave asynchronously (their exit events need the event loop).
    await vi.waitFor(() => expect(liveHistogramWorkers()).toBe(0), { timeout: 10_000 })
    const started = histogramWorkerStats.workersStarted
    const model = new GbdtClassifier({ nEstimators: 50, nThreads: 3 })
    const stop = new Error('stop at round 8')
    expect(() =>
      model.fit(d.X, d.y2, {
        categoricalFeatures: d.categoricalFeatures,
        onIteration: ({ iteration }) => {
          if (iteration === 8) throw stop
        },
      }),
    ).toThrow(stop)
    expect(model.isFitted).toBe(false)
    expect(histogramWorkerStats.workersStarted).toBe(started + 2)
    await vi.waitFor(() => expect(liveHistogramWorkers()).toBe(0), { timeout: 10_000 })
  })

  it('validates nThreads (an integer ≥ 1) and defaults to the available parallelism, at most 4', () => {
    expect(DEFAULT_N_THREADS).toBeGreaterThanOrEqual(1)
    expect(DEFAULT_N_THREADS).toBeLessThanOrEqual(4)
    expect(new GbdtRegressor().params.nThreads).toBe(DEFAULT_N_THREADS)
    expect(new RandomForestClassifier().params.nThreads).toBe(DEFAULT_N_THREADS)
    const X = { data: Float32Array.from({ length: 20 }, (_, i) => i), rows: 20, cols: 1 }
    const y = Float64Array.from({ length: 20 }, (_, i) => i % 2)
    for (const bad of [0, 1.5, -2]) {
      for (const model of [new GbdtClassifier({ nThreads: bad }), new RandomForestClassifier({ nThreads: bad })]) {
        let error: unknown
        try {
          model.fit(X, y)
        } catch (e) {
          error = e
        }
        expect(isScalemlError(error) && error.code).toBe('INVALID_PARAM')
        expect((error as Error).message).toMatch(/nThreads/)
      }
    }
  })
})

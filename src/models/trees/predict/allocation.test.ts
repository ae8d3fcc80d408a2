/**
 * Single-row prediction into caller-owned buffers allocates nothing. JavaScript has no allocation counter, so this
 * counts young-generation garbage collections (not time): many one-row predictions must cause far fewer
 * collections than the same number of calls that allocate one small array each.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { TreeEnsembleClassifier } from '../tree-ensemble-model.js'
import { randomEnsemble, randomRows } from './test-helpers.js'
import { predictRowInto } from './traverse.js'

const CALLS = 300_000

async function collectionsDuring(run: () => void): Promise<number> {
  let count = 0
  const observer = new PerformanceObserver((list) => {
    count += list.getEntries().length
  })
  observer.observe({ entryTypes: ['gc'] })
  run()
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  return count
}

describe('single-row predict', () => {
  it(`allocates nothing over ${CALLS} calls (GC count well below one small array a call)`, async () => {
    const nFeatures = 8
    const e = randomEnsemble({ nFeatures, nTrees: 10, nOutputs: 3, depth: 4, categoricalFeatures: [7], seed: 4 })
    const X = randomRows(nFeatures, 100, 6, [7])
    const out = new Float64Array(3)
    const rows = Array.from({ length: 100 }, (_, r) => ({ offset: r * nFeatures }))
    const model = TreeEnsembleClassifier.fromEnsemble(e, { accumulate: 'float32' })
    const x = X.subarray(0, nFeatures)
    let sink = 0
    // Local sums: a captured, reassigned number would itself be boxed on every iteration.
    const ours = () => {
      let s = 0
      for (let i = 0; i < CALLS; i++) {
        predictRowInto(e, X, out, rows[i % 100]!)
        model.decisionFunctionOne(x, out)
        s += out[0]!
      }
      sink += s
    }
    const allocating = () => {
      let s = 0
      for (let i = 0; i < CALLS; i++) s += new Float64Array(4)[0]! + i
      sink += s
    }
    ours() // warm up and compile the ensemble
    const baseline = await collectionsDuring(allocating)
    const measured = await collectionsDuring(ours)
    expect(baseline).toBeGreaterThan(4)
    expect(measured).toBeLessThanOrEqual(Math.max(1, baseline / 4))
    expect(Number.isFinite(sink)).toBe(true)
  })
})

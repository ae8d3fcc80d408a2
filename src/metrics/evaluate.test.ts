import { describe, expect, it } from 'vitest'
import { Accuracy } from './accuracy.js'
import { ClassificationMetrics, evaluateClassification, evaluateRegression, RegressionMetrics } from './evaluate.js'
import { LogLoss } from './log-loss.js'
import { describeMetricContract, syntheticBinary, syntheticMulticlass, syntheticRegression } from './metric.contract.js'
import { Mae, R2, Rmse } from './regression.js'
import { RocAuc } from './roc-auc.js'

const f64 = (values: number[]): Float64Array => Float64Array.from(values)

describeMetricContract('ClassificationMetrics binary', {
  create: () => new ClassificationMetrics(),
  fromJSON: ClassificationMetrics.fromJSON,
  data: syntheticBinary({ rows: 2000, seed: 61, weighted: true }),
  mergeTolerance: 1e-12,
})
const multiclass = syntheticMulticlass({ rows: 1500, seed: 62, classes: 3 })
describeMetricContract('ClassificationMetrics multiclass (labels 10, 20, 30)', {
  create: () => new ClassificationMetrics({ classes: [10, 20, 30] }),
  fromJSON: ClassificationMetrics.fromJSON,
  data: { yTrue: multiclass.yTrue.map((c) => 10 * (c + 1)), yPred: multiclass.yPred },
  mergeTolerance: 1e-14,
})
describeMetricContract('RegressionMetrics', {
  create: () => new RegressionMetrics(),
  fromJSON: RegressionMetrics.fromJSON,
  data: syntheticRegression({ rows: 2000, seed: 63, weighted: true }),
  mergeTolerance: 1e-13,
})

describe('evaluateClassification / ClassificationMetrics', () => {
  it('report the same numbers as the individual metrics', () => {
    const { yTrue, yPred, sampleWeight } = syntheticBinary({ rows: 3000, seed: 64, weighted: true })
    const report = evaluateClassification(yTrue, yPred, { sampleWeight })
    const auc = new RocAuc()
    auc.update(yTrue, yPred, sampleWeight)
    const loss = new LogLoss()
    loss.update(yTrue, yPred, sampleWeight)
    const accuracy = new Accuracy()
    accuracy.update(
      yTrue,
      yPred.map((p) => (p > 0.5 ? 1 : 0)),
      sampleWeight,
    )
    expect(report).toEqual({
      auc: auc.value(),
      aucMaxError: auc.maxError(),
      logLoss: loss.value(),
      accuracy: accuracy.value(),
      rows: 3000,
    })
    expect(report.auc).toBeGreaterThan(0.6)
  })

  it('gives the same report for a probability column and a predictProba matrix', () => {
    const { yTrue, yPred } = syntheticBinary({ rows: 1000, seed: 65 })
    const matrix = new Float64Array(2000)
    for (let i = 0; i < 1000; i++) {
      matrix[2 * i] = 1 - yPred[i]!
      matrix[2 * i + 1] = yPred[i]!
    }
    const column = evaluateClassification(yTrue, yPred)
    const proba = evaluateClassification(yTrue, matrix)
    expect(proba.auc).toBe(column.auc)
    expect(proba.accuracy).toBe(column.accuracy)
    expect(Math.abs(proba.logLoss - column.logLoss)).toBeLessThan(1e-15)
  })

  it('maps labels through classes: labels −1/1 with classes [−1, 1] equal labels 0/1', () => {
    const { yTrue, yPred } = syntheticBinary({ rows: 500, seed: 66 })
    const signed = yTrue.map((y) => (y === 1 ? 1 : -1))
    expect(evaluateClassification(signed, yPred, { classes: [-1, 1] })).toEqual(evaluateClassification(yTrue, yPred))
  })

  it('macro-averages one-vs-rest AUCs for multiclass', () => {
    const { yTrue, yPred } = syntheticMulticlass({ rows: 1200, seed: 67, classes: 3 })
    const report = evaluateClassification(yTrue, yPred, { classes: [0, 1, 2] })
    let mean = 0
    for (let c = 0; c < 3; c++) {
      const auc = new RocAuc()
      auc.updateOneVsRest(yTrue, yPred, { classIndex: c })
      mean += auc.value() / 3
    }
    expect(report.auc).toBeCloseTo(mean, 15)
    expect(report.accuracy).toBeGreaterThan(1 / 3)
  })

  it('picks the first most probable class on ties, as numpy argmax', () => {
    const report = evaluateClassification(f64([0, 1]), f64([0.5, 0.5, 0.5, 0.5]))
    expect(report.accuracy).toBe(0.5)
    const column = evaluateClassification(f64([0, 1]), f64([0.5, 0.5]))
    expect(column.accuracy).toBe(0.5)
  })

  it('rejects unknown labels and bad classes', () => {
    expect(() => evaluateClassification(f64([0, 2]), f64([0.3, 0.6]))).toThrowError(
      expect.objectContaining({
        code: 'INVALID_DATA',
        message: 'ClassificationMetrics.update: the label of row 1 is 2; expected one of the classes [0, 1].',
      }),
    )
    expect(() => new ClassificationMetrics({ classes: [1, 0] })).toThrowError(
      expect.objectContaining({ code: 'INVALID_PARAM' }),
    )
    expect(() => new ClassificationMetrics({ classes: [1] })).toThrowError(/at least 2 distinct/)
    expect(() => new ClassificationMetrics().merge(new ClassificationMetrics({ classes: [0, 2] }))).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })

  it('reuses its scratch buffers across batches (same results after a larger batch)', () => {
    const data = syntheticBinary({ rows: 600, seed: 68 })
    const metrics = new ClassificationMetrics()
    metrics.update(data.yTrue, data.yPred)
    metrics.update(data.yTrue.subarray(0, 10), data.yPred.subarray(0, 10))
    const reference = new ClassificationMetrics()
    reference.update(data.yTrue, data.yPred)
    reference.update(data.yTrue.slice(0, 10), data.yPred.slice(0, 10))
    expect(metrics.value()).toEqual(reference.value())
  })
})

describe('evaluateRegression / RegressionMetrics', () => {
  it('report the same numbers as the individual metrics', () => {
    const { yTrue, yPred, sampleWeight } = syntheticRegression({ rows: 1000, seed: 69, weighted: true })
    const rmse = new Rmse()
    const mae = new Mae()
    const r2 = new R2()
    for (const m of [rmse, mae, r2]) m.update(yTrue, yPred, sampleWeight)
    expect(evaluateRegression(yTrue, yPred, { sampleWeight })).toEqual({
      rmse: rmse.value(),
      mae: mae.value(),
      r2: r2.value(),
      rows: 1000,
    })
    expect(evaluateRegression(f64([1, 2, 3]), f64([1, 2, 4])).r2).toBe(0.5)
  })
})

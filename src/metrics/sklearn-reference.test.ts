/**
 * Differential tests against scikit-learn 1.2.1 (test/fixtures/sklearn-metrics, made by generate.py there).
 * Tolerance 1e-9 unless a test name says otherwise; binned AUC must lie within the bound it reports.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfusionMatrix } from './confusion-matrix.js'
import { ClassificationMetrics, evaluateClassification, evaluateRegression } from './evaluate.js'
import { LogLoss } from './log-loss.js'
import { RocAuc } from './roc-auc.js'

const DIR = new URL('../../test/fixtures/sklearn-metrics/', import.meta.url)
const TOL = 1e-9
const MACHINE_EPS = 2.220446049250313e-16

interface Fixture {
  name: string
  task: 'binary' | 'multiclass' | 'regression'
  sklearn: string
  yTrue: number[]
  yScore?: number[]
  proba?: number[]
  yPred?: number[]
  classes?: number[]
  sampleWeight: number[] | null
  reference: Record<string, number | number[]>
}

const fixtures: Fixture[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as Fixture)

const ref = (f: Fixture, key: string): number => {
  const v = f.reference[key]
  if (typeof v !== 'number') throw new Error(`${f.name}: reference.${key} missing`)
  return v
}
const weightsOf = (f: Fixture): Float64Array | undefined =>
  f.sampleWeight ? Float64Array.from(f.sampleWeight) : undefined
const expectClose = (actual: number, expected: number, tol = TOL): void => {
  expect(Number.isFinite(actual)).toBe(true)
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol)
}

it('finds every fixture case, made by scikit-learn 1.2.1', () => {
  expect(fixtures.map((f) => f.name)).toEqual([
    'binary-basic',
    'binary-imbalanced-extreme',
    'binary-margins',
    'binary-ties-weighted',
    'multiclass',
    'regression-basic',
    'regression-constant',
    'regression-offset-weighted',
  ])
  for (const f of fixtures) expect(f.sklearn).toBe('1.2.1')
})

for (const f of fixtures.filter((x) => x.task === 'binary')) {
  describe(`${f.name} vs scikit-learn`, () => {
    const y = Float64Array.from(f.yTrue)
    const s = Float64Array.from(f.yScore!)
    const w = weightsOf(f)

    it('exact RocAuc equals roc_auc_score (1e-9)', () => {
      const auc = new RocAuc({ mode: 'exact' })
      auc.update(y, s, w)
      expectClose(auc.value(), ref(f, 'rocAuc'))
    })

    for (const mantissaBits of [14, 6]) {
      it(`binned RocAuc (${mantissaBits} bits) is within its reported maxError of roc_auc_score`, () => {
        const auc = new RocAuc({ mantissaBits })
        auc.update(y, s, w)
        const { auc: value, maxError } = auc.summary()
        expect(Math.abs(value - ref(f, 'rocAuc'))).toBeLessThanOrEqual(maxError + 1e-12)
        if (mantissaBits === 14) expect(maxError).toBeLessThanOrEqual(1e-4)
        // Scores on a 0.01 grid never share a bin, even at 6 bits: the binned AUC is exact and says so.
        if (f.name === 'binary-ties-weighted') {
          expect(maxError).toBe(0)
          expectClose(value, ref(f, 'rocAuc'), 1e-12)
        } else if (mantissaBits === 6) {
          expect(maxError).toBeGreaterThan(0)
        }
      })
    }

    if (f.reference['logLoss'] === undefined) return

    it('LogLoss equals log_loss with eps 1e-15 and with eps = machine epsilon (1e-9)', () => {
      const loss = new LogLoss()
      loss.update(y, s, w)
      expectClose(loss.value(), ref(f, 'logLoss'))
      const machine = new LogLoss({ eps: MACHINE_EPS })
      machine.update(y, s, w)
      expectClose(machine.value(), ref(f, 'logLossMachineEps'))
    })

    it('evaluateClassification reports accuracy_score of p > 0.5, log_loss and roc_auc_score', () => {
      const report = evaluateClassification(y, s, { sampleWeight: w })
      expectClose(report.accuracy, ref(f, 'accuracy'))
      expectClose(report.logLoss, ref(f, 'logLoss'))
      expect(Math.abs(report.auc - ref(f, 'rocAuc'))).toBeLessThanOrEqual(report.aucMaxError + 1e-12)
      expect(report.rows).toBe(y.length)
    })

    it('ConfusionMatrix equals confusion_matrix of p > 0.5 (1e-9)', () => {
      const cm = new ConfusionMatrix()
      cm.update(
        y,
        s.map((p) => (p > 0.5 ? 1 : 0)),
        w,
      )
      const expected = f.reference['confusionMatrix'] as number[]
      expect(expected).toHaveLength(4)
      for (const [i, v] of cm.value().entries()) expectClose(v, expected[i]!)
    })
  })
}

for (const f of fixtures.filter((x) => x.task === 'multiclass')) {
  describe(`${f.name} vs scikit-learn`, () => {
    const classes = f.classes!
    const y = Float64Array.from(f.yTrue)
    const proba = Float64Array.from(f.proba!)
    const w = weightsOf(f)

    it('ClassificationMetrics matches log_loss, accuracy_score and macro OvR roc_auc_score', () => {
      const metrics = new ClassificationMetrics({ classes })
      metrics.update(y, proba, w)
      const report = metrics.value()
      expectClose(report.logLoss, ref(f, 'logLoss'))
      expectClose(report.accuracy, ref(f, 'accuracy'))
      expect(Math.abs(report.auc - ref(f, 'rocAucOvrMacro'))).toBeLessThanOrEqual(report.aucMaxError + 1e-12)
      expect(report.aucMaxError).toBeLessThanOrEqual(1e-4)
    })

    it('exact OvR AUCs average to roc_auc_score(multi_class="ovr") (1e-9)', () => {
      const report = evaluateClassification(y, proba, { classes, sampleWeight: w, auc: { mode: 'exact' } })
      expect(report.aucMaxError).toBe(0)
      expectClose(report.auc, ref(f, 'rocAucOvrMacro'))
    })

    it('LogLoss and ConfusionMatrix on class indices match (1e-9)', () => {
      const index = y.map((v) => classes.indexOf(v))
      const loss = new LogLoss({ nClasses: classes.length })
      loss.update(index, proba)
      expectClose(loss.value(), ref(f, 'logLossUnweighted'))
      const k = classes.length
      const predicted = index.map((_, i) => {
        let best = 0
        for (let c = 1; c < k; c++) if (proba[i * k + c]! > proba[i * k + best]!) best = c
        return best
      })
      const cm = new ConfusionMatrix({ nClasses: k })
      cm.update(index, predicted, w)
      const expected = f.reference['confusionMatrix'] as number[]
      expect(expected).toHaveLength(k * k)
      for (const [i, v] of cm.value().entries()) expectClose(v, expected[i]!)
    })
  })
}

for (const f of fixtures.filter((x) => x.task === 'regression')) {
  it(`${f.name}: evaluateRegression matches mean_squared_error (sqrt), mean_absolute_error, r2_score (1e-9)`, () => {
    const report = evaluateRegression(Float64Array.from(f.yTrue), Float64Array.from(f.yPred!), {
      sampleWeight: weightsOf(f),
    })
    expectClose(report.rmse, ref(f, 'rmse'))
    expectClose(report.mae, ref(f, 'mae'))
    expectClose(report.r2, ref(f, 'r2'))
    expect(report.rows).toBe(f.yTrue.length)
  })
}

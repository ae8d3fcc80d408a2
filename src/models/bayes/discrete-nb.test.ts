/**
 * What MultinomialNB and BernoulliNB share (discrete-nb.ts), run for both: exact count merges, JSON round trips,
 * class handling and input errors.
 */
import { describe, expect, it } from 'vitest'
import { fromRows } from '../../core/matrix.js'
import type { EstimatorJSON } from '../estimator.js'
import { BernoulliNB } from './bernoulli-nb.js'
import type { DiscreteNB, DiscreteNBParams } from './discrete-nb.js'
import { MultinomialNB } from './multinomial-nb.js'
import {
  bits,
  catchError,
  classesOf,
  type FeatureKind,
  type Problem,
  problem,
  relErr,
  slice,
  throughJsonText,
} from './test-helpers/data.js'

type Model = DiscreteNB<DiscreteNBParams>

const MODELS = [
  {
    name: 'MultinomialNB',
    create: (params: Partial<DiscreteNBParams> = {}): Model => new MultinomialNB(params),
    load: (json: EstimatorJSON): Model => MultinomialNB.fromJSON(json),
    kind: 'counts' as FeatureKind,
  },
  {
    name: 'BernoulliNB',
    create: (params: Partial<DiscreteNBParams> = {}): Model => new BernoulliNB(params),
    load: (json: EstimatorJSON): Model => BernoulliNB.fromJSON(json),
    kind: 'gaussian' as FeatureKind,
  },
] as const

function trained(model: Model, p: Problem, nClasses: number, weighted = false): Model {
  model.partialFit(p.X, p.y, { classes: classesOf(nClasses), ...(weighted ? { sampleWeight: p.w } : {}) })
  return model
}

for (const M of MODELS) {
  describe(`${M.name} (shared discrete behaviour)`, () => {
    it('merge(fit A, fit B) equals fit(A ∪ B) bit for bit on integer counts without weights, over 20 seeds', () => {
      for (let seed = 1; seed <= 20; seed++) {
        const nClasses = 2 + (seed % 3)
        const p = problem(100 + seed * 5, { nClasses, kind: M.kind, seed })
        const cut = 5 + ((seed * 31) % (p.X.rows - 10))
        const merged = trained(M.create(), slice(p, 0, cut), nClasses)
        merged.merge(trained(M.create(), slice(p, cut, p.X.rows), nClasses))
        const whole = trained(M.create(), p, nClasses)
        expect(merged.toJSON(), `seed ${seed}`).toEqual(whole.toJSON())
        expect(bits(merged.predictProba(p.X)), `seed ${seed}`).toEqual(bits(whole.predictProba(p.X)))
      }
    })

    it('with sample weights, merges agree with one fit to float rounding (1e-14) and commute bit for bit', () => {
      for (let seed = 1; seed <= 10; seed++) {
        const p = problem(150, { nClasses: 3, kind: M.kind, seed })
        const [a, b] = [slice(p, 0, 70), slice(p, 70, 150)]
        const ab = trained(M.create(), a, 3, true)
        ab.merge(trained(M.create(), b, 3, true))
        const ba = trained(M.create(), b, 3, true)
        ba.merge(trained(M.create(), a, 3, true))
        const whole = trained(M.create(), p, 3, true)
        expect(relErr(ab.featureCount, whole.featureCount), `seed ${seed}`).toBeLessThan(1e-14)
        expect(relErr(ab.classCount, whole.classCount), `seed ${seed}`).toBeLessThan(1e-14)
        expect(ab.toJSON()).toEqual(ba.toJSON())
      }
    })

    it('is associative on counts, and an unfitted model is the identity', () => {
      const p = problem(240, { nClasses: 2, kind: M.kind, seed: 3 })
      const [a, b, c] = [slice(p, 0, 60), slice(p, 60, 170), slice(p, 170, 240)]
      const left = trained(M.create(), a, 2)
      left.merge(trained(M.create(), b, 2))
      left.merge(trained(M.create(), c, 2))
      const bc = trained(M.create(), b, 2)
      bc.merge(trained(M.create(), c, 2))
      const right = trained(M.create(), a, 2)
      right.merge(bc)
      expect(left.toJSON()).toEqual(right.toJSON())
      const before = left.toJSON()
      left.merge(M.create())
      expect(left.toJSON()).toEqual(before)
      const empty = M.create()
      empty.merge(left)
      expect(empty.toJSON()).toEqual(before)
      left.partialFit(a.X, a.y)
      expect(empty.toJSON()).toEqual(before)
    })

    it('merging a model into itself doubles its counts', () => {
      const p = problem(50, { nClasses: 2, kind: M.kind, seed: 13 })
      const model = trained(M.create(), p, 2)
      const counts = model.featureCount
      model.merge(model)
      expect(Array.from(model.featureCount)).toEqual(Array.from(counts, (v) => 2 * v))
    })

    it('refuses to merge other params, classes, feature counts or another model kind (INVALID_ARGUMENT)', () => {
      const p = problem(40, { nClasses: 2, kind: M.kind, seed: 4 })
      const model = trained(M.create(), p, 2)
      expect(catchError(() => model.merge(trained(M.create({ alpha: 0.5 }), p, 2))).message).toMatch(
        new RegExp(`^${M.name}.merge needs models with the same params`),
      )
      expect(catchError(() => model.merge(trained(M.create(), p, 3))).message).toBe(
        `${M.name}.merge needs models with the same classes; got [10, 11, 12], expected [10, 11].`,
      )
      const wide = trained(M.create(), problem(40, { nClasses: 2, kind: M.kind, seed: 4, cols: 6 }), 2)
      expect(catchError(() => model.merge(wide)).message).toBe(
        `${M.name}.merge needs models with the same feature count; got 6, expected 4.`,
      )
      const stranger: Model = M.name === 'MultinomialNB' ? new BernoulliNB() : new MultinomialNB()
      expect(catchError(() => model.merge(stranger)).message).toBe(
        `${M.name}.merge needs another ${M.name}; got ${stranger.constructor.name}.`,
      )
    })

    it('round-trips through structuredClone and JSON text with bit-identical predictions, and keeps learning', () => {
      const p = problem(200, { nClasses: 3, kind: M.kind, seed: 5 })
      const model = M.create({ alpha: 0.3, classPrior: [0.2, 0.3, 0.5] })
      trained(model, slice(p, 0, 100), 3, true)
      for (const json of [structuredClone(model.toJSON()), throughJsonText(model.toJSON())]) {
        const again = M.load(json)
        expect(again.kind).toBe(model.kind)
        expect(again.params).toEqual(model.params)
        expect(bits(again.predictProba(p.X))).toEqual(bits(model.predictProba(p.X)))
        expect(bits(again.predictJointLogProba(p.X))).toEqual(bits(model.predictJointLogProba(p.X)))
        expect(Array.from(again.predict(p.X))).toEqual(Array.from(model.predict(p.X)))
        const rest = slice(p, 100, 200)
        const twin = M.load(json)
        twin.partialFit(rest.X, rest.y, { sampleWeight: rest.w })
        again.partialFit(rest.X, rest.y, { sampleWeight: rest.w })
        expect(again.toJSON()).toEqual(twin.toJSON())
      }
    })

    it('rejects malformed documents with ARTIFACT_INVALID naming the field', () => {
      const model = trained(M.create(), problem(30, { nClasses: 2, kind: M.kind, seed: 6 }), 2)
      const json = model.toJSON()
      const load = (j: EstimatorJSON) => () => M.load(j)
      const kind = catchError(load({ ...json, kind: 'gaussian-nb' }))
      expect(kind.code).toBe('ARTIFACT_INVALID')
      expect(kind.message).toBe(`Expected kind '${model.kind}', got 'gaussian-nb'.`)
      const counts = Float64Array.from([1, 2, 3])
      expect(catchError(load({ ...json, state: { ...json.state, featureCount: counts } })).message).toBe(
        `Invalid ${model.kind} state: state.featureCount must be 8 values, got 3 values.`,
      )
      const nan = Float64Array.from([1, Number.NaN])
      expect(catchError(load({ ...json, state: { ...json.state, classCount: nan } })).message).toMatch(
        /state.classCount must be finite values/,
      )
      expect(catchError(load({ ...json, params: { ...json.params, alpha: -1 } })).message).toMatch(
        new RegExp(`^Invalid ${model.kind} params: The 'alpha' parameter of ${M.name} must be a float`),
      )
    })

    it('validates params on the first partialFit: constraints and the class prior (INVALID_PARAM)', () => {
      const p = problem(20, { nClasses: 2, kind: M.kind, seed: 7 })
      const bad = M.create({ alpha: -0.1 })
      expect(bad.params.alpha).toBe(-0.1)
      expect(catchError(() => trained(bad, p, 2)).message).toBe(
        `The 'alpha' parameter of ${M.name} must be a float in the range [0, inf). Got -0.1 instead.`,
      )
      expect(catchError(() => trained(M.create({ fitPrior: 'yes' as never }), p, 2)).message).toBe(
        `The 'fitPrior' parameter of ${M.name} must be a boolean. Got "yes" instead.`,
      )
      expect(catchError(() => trained(M.create({ classPrior: [0.5, 0.3, 0.2] }), p, 2)).message).toBe(
        `The 'classPrior' parameter of ${M.name} must have one value per class: 2 classes but 3 priors.`,
      )
      expect(catchError(() => trained(M.create({ classPrior: [1, -1] }), p, 2)).code).toBe('INVALID_PARAM')
      // scikit-learn does not renormalize or check the sum of class_prior.
      expect(() => trained(M.create({ classPrior: [2, 2] }), p, 2)).not.toThrow()
    })

    it('uses log(classPrior) when given, uniform priors without fitPrior, and −Infinity for unseen classes', () => {
      const p = problem(50, { nClasses: 2, kind: M.kind, seed: 8 })
      expect(Array.from(trained(M.create({ classPrior: [0.25, 0.75] }), p, 2).classLogPrior)).toEqual([
        Math.log(0.25),
        Math.log(0.75),
      ])
      expect(Array.from(trained(M.create({ fitPrior: false }), p, 3).classLogPrior)).toEqual(
        Array(3).fill(-Math.log(3)),
      )
      const unseen = trained(M.create(), p, 3)
      expect(unseen.classLogPrior[2]).toBe(Number.NEGATIVE_INFINITY)
      const proba = unseen.predictProba(p.X)
      for (let r = 0; r < p.X.rows; r++) expect(proba[3 * r + 2]).toBe(0)
    })

    it('rejects NaN (INVALID_DATA naming row and feature), unknown labels, feature-count changes; unchanged on failure', () => {
      const p = problem(20, { nClasses: 2, kind: M.kind, seed: 9 })
      const model = trained(M.create(), p, 2)
      const before = model.toJSON()
      const X = { ...p.X, data: p.X.data.slice() }
      X.data[3 * 4 + 2] = Number.NaN
      const nan = catchError(() => model.partialFit(X, p.y))
      expect(nan.code).toBe('INVALID_DATA')
      expect(nan.message).toMatch(new RegExp(`^X contains NaN at row 3, feature 2; ${M.name} needs finite features`))
      expect(nan.issues[0]?.path).toEqual(['X', 3, 2])
      expect(catchError(() => model.predict(X)).code).toBe('INVALID_DATA')
      const y = p.y.slice()
      y[19] = 99
      expect(catchError(() => model.partialFit(p.X, y)).message).toBe(
        'y[19] = 99 is not one of the classes [10, 11] given on the first partialFit call.',
      )
      const narrow = fromRows([[1, 0, 1]])
      expect(catchError(() => model.predictProba(narrow)).message).toBe(
        `X has 3 features, but ${M.name} was fitted with 4 features.`,
      )
      expect(catchError(() => model.partialFit(narrow, new Float64Array([10]))).code).toBe('INVALID_INPUT')
      expect(model.toJSON()).toEqual(before)
      expect(catchError(() => M.create().predict(narrow)).code).toBe('NOT_FITTED')
    })

    it('raises alpha below 1e-10 to 1e-10 with one process warning per model (scikit-learn 1.2, force_alpha=False)', async () => {
      const warnings: Error[] = []
      const listener = (warning: Error) => warnings.push(warning)
      process.on('warning', listener)
      try {
        const p = problem(60, { nClasses: 2, kind: M.kind, seed: 10 })
        const zero = trained(M.create({ alpha: 0 }), p, 2)
        zero.partialFit(p.X, p.y)
        const floor = trained(M.create({ alpha: 1e-10 }), p, 2)
        floor.partialFit(p.X, p.y)
        expect(bits(zero.featureLogProb)).toEqual(bits(floor.featureLogProb))
        expect(zero.params.alpha).toBe(0)
        await new Promise((resolve) => setImmediate(resolve))
      } finally {
        process.off('warning', listener)
      }
      const ours = warnings.filter((w) => w.name === 'ScalemlWarning')
      expect(ours).toHaveLength(1)
      expect(ours[0]?.message).toBe(
        `${M.name}: alpha 0 is below 1e-10 and was raised to 1e-10 (as scikit-learn 1.2 does); alpha too small would give infinite log probabilities.`,
      )
    })

    it('decisionFunction is the log posterior odds for two classes and agrees with predict; rows predict alone as in a batch', () => {
      const p = problem(80, { nClasses: 2, kind: M.kind, seed: 11 })
      const model = trained(M.create(), p, 2)
      const margins = model.decisionFunction(p.X)
      const jll = model.predictJointLogProba(p.X)
      const pred = model.predict(p.X)
      for (let r = 0; r < p.X.rows; r++) {
        expect(margins[r]).toBe(jll[2 * r + 1]! - jll[2 * r]!)
        if (margins[r] !== 0) expect(pred[r]).toBe(margins[r]! > 0 ? 11 : 10)
        expect(model.predict(slice(p, r, r + 1).X)[0]).toBe(pred[r])
      }
    })

    it('accepts a single class (probability 1) and ignores zero-row calls', () => {
      const p = problem(10, { nClasses: 1, kind: M.kind, seed: 12 })
      const model = trained(M.create(), p, 1)
      expect(Array.from(model.predictProba(p.X))).toEqual(Array(10).fill(1))
      const before = model.toJSON()
      model.partialFit({ data: new Float32Array(0), rows: 0, cols: 4 }, new Float64Array(0))
      expect(model.toJSON()).toEqual(before)
    })
  })
}

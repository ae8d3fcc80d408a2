import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ScalemlError } from '../../core/errors.js'
import { logit } from '../trees/predict/link.js'
import { predictRowInto } from '../trees/predict/traverse.js'
import { importXgboostJson, parseXgboostJson, sanitizeXgboostJsonText } from './xgboost-json.js'

const DIR = fileURLToPath(new URL('../../../test/fixtures/xgboost/', import.meta.url))

/** A minimal XGBoost 1.7 model: one stump on f1 at 0.5, plus a pruned (unreachable) pair of nodes 3–4. */
// biome-ignore lint/suspicious/noExplicitAny: the tests mutate deep, loosely typed XGBoost JSON
type Loose = Record<string, any>

function minimal(): Loose {
  return {
    version: [1, 7, 4],
    learner: {
      attributes: {},
      feature_names: [],
      feature_types: [],
      learner_model_param: { base_score: '5E-1', num_class: '0', num_feature: '2', num_target: '1' },
      objective: { name: 'reg:squarederror', reg_loss_param: { scale_pos_weight: '1' } },
      gradient_booster: {
        name: 'gbtree',
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: '1', size_leaf_vector: '0' },
          tree_info: [0],
          trees: [
            {
              id: 0,
              tree_param: { num_deleted: '2', num_feature: '2', num_nodes: '5', size_leaf_vector: '0' },
              left_children: [1, -1, -1, -1, -1],
              right_children: [2, -1, -1, -1, -1],
              split_indices: [1, 0, 0, 0, 0],
              split_conditions: [0.5, -0.25, 0.75, 9, 9],
              split_type: [0, 0, 0, 0, 0],
              default_left: [0, 0, 0, 0, 0],
              sum_hessian: [10, 4, 6, 1, 1],
              base_weights: [0, -0.8, 2.5, 9, 9],
              loss_changes: [1, 0, 0, 0, 0],
              parents: [2147483647, 0, 0, 0, 0],
              categories: [],
              categories_nodes: [],
              categories_segments: [],
              categories_sizes: [],
            },
          ],
        },
      },
    },
  }
}

function error(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (e) {
    if (e instanceof ScalemlError) return e
    throw e
  }
  throw new Error('expected a ScalemlError')
}

describe('parseXgboostJson', () => {
  it('reads a minimal model, dropping unreachable nodes and taking leaf values from split_conditions', () => {
    const { ensemble, version } = parseXgboostJson(JSON.stringify(minimal()))
    expect(version).toEqual([1, 7, 4])
    expect([...ensemble.feature]).toEqual([1, -1, -1])
    expect([...ensemble.value]).toEqual([0, -0.25, 0.75])
    expect(ensemble.featureNames).toEqual(['f0', 'f1'])
    expect([...ensemble.baseMargin]).toEqual([0.5])
    const out = new Float64Array(1)
    predictRowInto(ensemble, Float32Array.of(0, 0.4), out)
    expect(out[0]).toBe(0.25)
  })

  it('accepts bytes, multi:softmax (as softprob) and the logit of base_score for logistic', () => {
    const m = minimal()
    m['learner'].objective = { name: 'multi:softmax' }
    m['learner'].learner_model_param.num_class = '3'
    m['learner'].gradient_booster.model.tree_info = [2]
    const { ensemble } = parseXgboostJson(new TextEncoder().encode(JSON.stringify(m)))
    expect(ensemble.objective).toBe('multi:softprob')
    expect(ensemble.nOutputs).toBe(3)
    expect([...ensemble.treeGroup]).toEqual([2])
    const binary = parseXgboostJson(readFileSync(`${DIR}binary-logistic-categorical.model.json`, 'utf8'))
    expect(binary.baseScore).toBeCloseTo(0.3, 12)
    expect(binary.ensemble.baseMargin[0]).toBeCloseTo(logit(0.3), 6)
    expect(binary.ensemble.featureNames).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'color'])
    expect(binary.featureTypes?.[5]).toBe('c')
  })

  it('reads bare NaN / Infinity tokens but leaves strings alone', () => {
    expect(sanitizeXgboostJsonText('{"a":NaN,"b":[-Infinity,Infinity],"s":"NaN \\"Infinity"}')).toBe(
      '{"a":null,"b":[-1e999,1e999],"s":"NaN \\"Infinity"}',
    )
    expect(JSON.parse(sanitizeXgboostJsonText('[-Infinity]'))).toEqual([Number.NEGATIVE_INFINITY])
  })

  const bad: [string, (m: Loose) => unknown, RegExp][] = [
    [
      'unsupported objective',
      (m) => (m['learner'].objective.name = 'rank:pairwise'),
      /learner\.objective\.name must be one of binary:logistic, multi:softprob.*got "rank:pairwise"/,
    ],
    ['version 2.x', (m) => (m['version'] = [2, 0, 3]), /version must be an XGBoost 1\.x model .*got "2\.0\.3"/],
    ['no version', (m) => delete m['version'], /version must be XGBoost's \[major, minor, patch\]/],
    ['gblinear', (m) => (m['learner'].gradient_booster.name = 'gblinear'), /gradient_booster\.name must be 'gbtree'/],
    [
      'child out of range',
      (m) => (m['learner'].gradient_booster.model.trees[0].left_children[0] = 9),
      /trees\[0\]\.left_children\[0\] must be a child node id/,
    ],
    [
      'cycle',
      (m) => (m['learner'].gradient_booster.model.trees[0].left_children[0] = 2),
      /trees\[0\]\.left_children\[0\]/,
    ],
    [
      'feature out of range',
      (m) => (m['learner'].gradient_booster.model.trees[0].split_indices[0] = 2),
      /split_indices\[0\] must be a feature index in \[0, 2\)/,
    ],
    [
      'short array',
      (m) => m['learner'].gradient_booster.model.trees[0].sum_hessian.pop(),
      /sum_hessian must be an array of 5 numbers/,
    ],
    [
      'tree_info',
      (m) => (m['learner'].gradient_booster.model.tree_info = [1]),
      /tree_info\[0\] must be an output index in \[0, 1\)/,
    ],
    [
      'logistic base_score',
      (m) => {
        m['learner'].objective.name = 'binary:logistic'
        m['learner'].learner_model_param.base_score = '1.5'
      },
      /base_score must be in \(0, 1\)/,
    ],
    ['multi-target', (m) => (m['learner'].learner_model_param.num_target = '2'), /num_target must be 1/],
    ['no learner', (m) => delete m['learner'], /learner must be an object/],
    [
      'missing leaf value',
      (m) => (m['learner'].gradient_booster.model.trees[0].split_conditions[1] = null),
      /split_conditions\[1\] must be a finite leaf value/,
    ],
  ]
  it.each(bad)('rejects %s with INVALID_INPUT naming the field', (_, mutate, pattern) => {
    const m = minimal()
    mutate(m)
    const e = error(() => parseXgboostJson(JSON.stringify(m)))
    expect(e.code).toBe('INVALID_INPUT')
    expect(e.message).toMatch(pattern)
  })

  it('rejects truncated and non-JSON files', () => {
    const text = readFileSync(`${DIR}reg-pseudohubererror.model.json`, 'utf8')
    const e = error(() => parseXgboostJson(text.slice(0, text.length / 2)))
    expect(e.code).toBe('INVALID_INPUT')
    expect(e.message).toMatch(/not valid JSON/)
    expect(error(() => parseXgboostJson('[1, 2]')).message).toMatch(/must be an object/)
  })
})

describe('importXgboostJson', () => {
  it('wraps by objective and sums in float32 by default', () => {
    const model = importXgboostJson(JSON.stringify(minimal()))
    expect(model.task).toBe('regression')
    expect(model.params.accumulate).toBe('float32')
    expect(() => model.partialFit()).toThrow(/not incrementally trainable/)
  })
})

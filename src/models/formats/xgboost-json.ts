/**
 * Imports an XGBoost 1.x model saved with `save_model("model.json")` into a {@link TreeEnsemble}.
 *
 * What is read (XGBoost 1.7's JSON schema): `version`; `learner.objective.name`; `learner.learner_model_param`
 * (`base_score` — in probability space for 'binary:logistic', so its logit becomes the base margin — `num_class`,
 * `num_feature`, `num_target`); `learner.feature_names`/`feature_types` when present;
 * `learner.gradient_booster` of type 'gbtree' with `model.tree_info` (the output each tree adds to) and
 * `model.trees[*]`: `left_children`, `right_children` (−1 at leaves), `split_indices`, `split_conditions` (the
 * threshold at a split, THE LEAF VALUE at a leaf — learning rate applied; `base_weights` holds the unscaled node
 * weights and is not used), `default_left`, `sum_hessian` (the covers), `split_type` (1 = categorical) and
 * `categories`/`categories_nodes`/`categories_segments`/`categories_sizes` (per categorical node, the categories
 * that go RIGHT). Nodes unreachable from the root (pruned ones) are dropped and the rest renumbered in preorder.
 *
 * XGBoost writes NaN and ±Infinity as bare tokens (not JSON); they are accepted. Numbers are rounded to float32 as
 * XGBoost stores them, so with float32 accumulation the margins equal XGBoost's `output_margin` exactly.
 *
 * Every problem with the file is a `ScalemlError('INVALID_INPUT')` naming the JSON path and what was expected:
 * the file is the user's input, not a stored scaleml artifact.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Issue } from '../../core/issues.js'
import { type TreeEnsemble, TreeEnsembleBuilder, type TreeObjective, type TreeSpec } from '../trees/tree-ensemble.js'
import { TreeEnsembleModel, type TreeEnsembleParams } from '../trees/tree-ensemble-model.js'

/** XGBoost objectives the importer accepts, and the ensemble objective each becomes. */
export const XGBOOST_OBJECTIVES: Readonly<Record<string, TreeObjective>> = {
  'binary:logistic': 'binary:logistic',
  'multi:softprob': 'multi:softprob',
  // Same trees and margins as softprob; only XGBoost's predict() differs (labels), and scaleml gives both.
  'multi:softmax': 'multi:softprob',
  'reg:squarederror': 'reg:squarederror',
  'reg:pseudohubererror': 'reg:pseudohubererror',
}

/** The XGBoost major version whose JSON schema is read (tested on 1.7.4). */
export const XGBOOST_SUPPORTED_MAJOR = 1

/** What {@link parseXgboostJson} returns. */
export interface XgboostImport {
  readonly ensemble: TreeEnsemble
  /** `version` of the file, `[major, minor, patch]`. */
  readonly version: readonly [number, number, number]
  /** The objective name as written in the file (e.g. 'multi:softmax'). */
  readonly xgboostObjective: string
  /** `learner.feature_types` ('float', 'int', 'c', …) when the file has them. */
  readonly featureTypes: readonly string[] | null
  /** `base_score` as written (probability space for logistic objectives). */
  readonly baseScore: number
}

type Json = Readonly<Record<string, unknown>>

function fail(path: (string | number)[], expected: string, received?: unknown): ScalemlError {
  const where = path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s === '' ? p : `${s}.${p}`), '')
  const got = received === undefined ? '' : `, got ${describe(received)}`
  const issue: Issue = {
    code: 'invalid_value',
    path,
    message: `expected ${expected}`,
    expected,
    ...(received === undefined ? {} : { received: describe(received) }),
  }
  return new ScalemlError('INVALID_INPUT', `XGBoost JSON: ${where} must be ${expected}${got}.`, [issue])
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return `an array of ${v.length}`
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  if (typeof v === 'object') return 'an object'
  return String(v)
}

/**
 * Replaces XGBoost's bare `NaN`, `Infinity` and `-Infinity` tokens (outside strings) by JSON that parses to the
 * same numbers or null: `NaN` → `null`, `Infinity` → `1e999` (which JSON.parse reads as Infinity).
 */
export function sanitizeXgboostJsonText(text: string): string {
  if (!text.includes('NaN') && !text.includes('Infinity')) return text
  const parts: string[] = []
  let from = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 78 /* N */ && text.startsWith('NaN', i)) {
      parts.push(text.slice(from, i), 'null')
      from = i + 3
      i += 2
    } else if (c === 73 /* I */ && text.startsWith('Infinity', i)) {
      parts.push(text.slice(from, i), '1e999')
      from = i + 8
      i += 7
    }
  }
  parts.push(text.slice(from))
  return parts.join('')
}

function parseText(input: string | Uint8Array): Json {
  let text: string
  if (typeof input === 'string') text = input
  else {
    // XGBoost's other format, UBJSON, starts with '{' too but is binary; a text file decodes cleanly.
    text = new TextDecoder('utf-8', { fatal: false }).decode(input)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(sanitizeXgboostJsonText(text))
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new ScalemlError(
      'INVALID_INPUT',
      `XGBoost JSON: the file is not valid JSON (${message}); expected the output of save_model("model.json") (UBJSON is not supported).`,
      [{ code: 'invalid_json', path: [], message }],
      { cause: error },
    )
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw fail(['(root)'], 'an object', parsed)
  return parsed as Json
}

function obj(parent: Json, key: string, path: (string | number)[]): Json {
  const v = parent[key]
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fail([...path, key], 'an object', v)
  return v as Json
}

/** A number written as a JSON number or, as XGBoost writes parameters, a decimal string. */
function num(parent: Json, key: string, path: (string | number)[], check: (x: number) => boolean, expected: string) {
  const v = parent[key]
  const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN
  if (!check(x)) throw fail([...path, key], expected, v)
  return x
}

function numbers(parent: Json, key: string, path: (string | number)[], length: number, nullAs = Number.NaN): number[] {
  const v = parent[key]
  if (!Array.isArray(v) || v.length !== length) {
    throw fail([...path, key], `an array of ${length} numbers`, v)
  }
  const out = new Array<number>(length)
  for (let i = 0; i < length; i++) {
    const x = v[i]
    if (typeof x === 'number') out[i] = x
    else if (typeof x === 'boolean') out[i] = x ? 1 : 0
    else if (x === null) out[i] = nullAs
    else throw fail([...path, key, i], 'a number', x)
  }
  return out
}

const isCount = (x: number) => Number.isInteger(x) && x >= 0

function readVersion(root: Json): [number, number, number] {
  const v = root['version']
  if (!Array.isArray(v) || v.length < 2 || !v.every((x) => Number.isInteger(x) && x >= 0)) {
    throw fail(
      ['version'],
      "XGBoost's [major, minor, patch] version array (this file was not written by save_model)",
      v,
    )
  }
  const version: [number, number, number] = [v[0] as number, v[1] as number, (v[2] as number | undefined) ?? 0]
  if (version[0] !== XGBOOST_SUPPORTED_MAJOR) {
    throw fail(
      ['version'],
      `an XGBoost ${XGBOOST_SUPPORTED_MAJOR}.x model (the supported versions are ${XGBOOST_SUPPORTED_MAJOR}.x, tested on 1.7.4; re-save the model with xgboost 1.7)`,
      version.join('.'),
    )
  }
  return version
}

/** Categories of each categorical node of one tree, by node id. */
function readCategories(tree: Json, path: (string | number)[], n: number): Map<number, number[]> {
  const out = new Map<number, number[]>()
  if (tree['categories_nodes'] === undefined) return out
  const nodes = tree['categories_nodes']
  if (!Array.isArray(nodes)) throw fail([...path, 'categories_nodes'], 'an array of node ids', nodes)
  const segments = numbers(tree, 'categories_segments', path, nodes.length)
  const sizes = numbers(tree, 'categories_sizes', path, nodes.length)
  const all = tree['categories']
  if (!Array.isArray(all)) throw fail([...path, 'categories'], 'an array of category codes', all)
  nodes.forEach((node, k) => {
    if (!Number.isInteger(node) || node < 0 || node >= n) {
      throw fail([...path, 'categories_nodes', k], `a node id in [0, ${n})`, node)
    }
    const start = segments[k]!
    const size = sizes[k]!
    if (!isCount(start) || !isCount(size) || start + size > all.length) {
      throw fail(
        [...path, 'categories_segments', k],
        `a segment within the ${all.length} categories`,
        `${start}+${size}`,
      )
    }
    const list = all.slice(start, start + size) as unknown[]
    list.forEach((c, j) => {
      if (!Number.isInteger(c) || (c as number) < 0) {
        throw fail([...path, 'categories', start + j], 'a non-negative integer category code', c)
      }
    })
    out.set(node as number, list as number[])
  })
  return out
}

/** One XGBoost tree → a {@link TreeSpec} of its reachable nodes in preorder. */
function readTree(tree: Json, path: (string | number)[], nFeatures: number): TreeSpec {
  const param = obj(tree, 'tree_param', path)
  const n = num(param, 'num_nodes', [...path, 'tree_param'], (x) => Number.isInteger(x) && x >= 1, 'a positive integer')
  num(
    param,
    'size_leaf_vector',
    [...path, 'tree_param'],
    (x) => x === 0 || Number.isNaN(x),
    '0 (vector leaves are not supported)',
  )
  const left = numbers(tree, 'left_children', path, n)
  const right = numbers(tree, 'right_children', path, n)
  const feature = numbers(tree, 'split_indices', path, n)
  const cond = numbers(tree, 'split_conditions', path, n)
  const defaultLeft = numbers(tree, 'default_left', path, n)
  const cover = numbers(tree, 'sum_hessian', path, n)
  const splitType =
    tree['split_type'] === undefined ? new Array<number>(n).fill(0) : numbers(tree, 'split_type', path, n)
  const categories = readCategories(tree, path, n)

  // Preorder over the reachable nodes; `order[k]` is the XGBoost id of new node k.
  const order: number[] = []
  const seen = new Uint8Array(n)
  const stack = [0]
  const newId = new Int32Array(n).fill(-1)
  while (stack.length > 0) {
    const id = stack.pop()!
    newId[id] = order.length
    order.push(id)
    if (left[id] === -1 && right[id] === -1) continue
    for (const [key, child] of [
      ['right_children', right[id]!],
      ['left_children', left[id]!],
    ] as const) {
      if (!Number.isInteger(child) || child <= 0 || child >= n || seen[child] === 1) {
        throw fail([...path, key, id], `a child node id in (0, ${n}) reached once (or -1 at a leaf)`, child)
      }
      seen[child] = 1
      stack.push(child)
    }
  }
  const m = order.length
  const spec = {
    feature: new Int32Array(m),
    threshold: new Float32Array(m),
    left: new Int32Array(m),
    right: new Int32Array(m),
    defaultLeft: new Uint8Array(m),
    value: new Float64Array(m),
    cover: new Float64Array(m),
    categories: new Array<number[] | null>(m).fill(null),
  }
  for (let k = 0; k < m; k++) {
    const id = order[k]!
    spec.cover[k] = Math.fround(cover[id]!)
    if (!(cover[id]! >= 0)) throw fail([...path, 'sum_hessian', id], 'a non-negative number', cover[id])
    if (left[id] === -1) {
      spec.feature[k] = -1
      spec.left[k] = -1
      spec.right[k] = -1
      if (!Number.isFinite(cond[id]!)) throw fail([...path, 'split_conditions', id], 'a finite leaf value', cond[id])
      spec.value[k] = Math.fround(cond[id]!)
      continue
    }
    const f = feature[id]!
    if (!Number.isInteger(f) || f < 0 || f >= nFeatures) {
      throw fail([...path, 'split_indices', id], `a feature index in [0, ${nFeatures}) (num_feature)`, f)
    }
    spec.feature[k] = f
    spec.left[k] = newId[left[id]!]!
    spec.right[k] = newId[right[id]!]!
    const d = defaultLeft[id]!
    if (d !== 0 && d !== 1) throw fail([...path, 'default_left', id], '0 or 1', d)
    spec.defaultLeft[k] = d
    const type = splitType[id]!
    if (type === 1) {
      spec.categories[k] = categories.get(id) ?? []
    } else if (type === 0) {
      if (Number.isNaN(cond[id]!)) throw fail([...path, 'split_conditions', id], 'a number at a numerical split', 'NaN')
      spec.threshold[k] = cond[id]!
    } else throw fail([...path, 'split_type', id], '0 (numerical) or 1 (categorical)', type)
  }
  return spec
}

/** The base margin of `baseScore` for an objective: logit for logistic, else the score itself (float32 as XGBoost). */
function baseMarginOf(objective: TreeObjective, baseScore: number): number {
  const s = Math.fround(baseScore)
  if (objective !== 'binary:logistic') return s
  // XGBoost 1.7 ProbToMargin: -logf(1.0f / base_score - 1.0f), in float32.
  return Math.fround(-Math.log(Math.fround(Math.fround(1 / s) - 1)))
}

/**
 * Parses an XGBoost 1.x `save_model` JSON (text, bytes or an already parsed object) into a validated ensemble.
 * Throws `INVALID_INPUT` naming the JSON path for a truncated or malformed file, an unsupported version (2.x),
 * booster ('gblinear', 'dart') or objective (e.g. 'rank:pairwise'), naming the supported set.
 */
export function parseXgboostJson(input: string | Uint8Array | Readonly<Record<string, unknown>>): XgboostImport {
  const root = typeof input === 'string' || input instanceof Uint8Array ? parseText(input) : (input as Json)
  if (root === null || typeof root !== 'object') throw fail(['(root)'], 'an object', root)
  const version = readVersion(root)
  const learner = obj(root, 'learner', [])
  const objectiveJson = obj(learner, 'objective', ['learner'])
  const name = objectiveJson['name']
  const objective = typeof name === 'string' ? XGBOOST_OBJECTIVES[name] : undefined
  if (objective === undefined) {
    throw fail(['learner', 'objective', 'name'], `one of ${Object.keys(XGBOOST_OBJECTIVES).join(', ')}`, name)
  }
  const mp = obj(learner, 'learner_model_param', ['learner'])
  const mpPath = ['learner', 'learner_model_param']
  const nFeatures = num(mp, 'num_feature', mpPath, (x) => Number.isInteger(x) && x >= 1, 'a positive integer')
  const numClass = num(mp, 'num_class', mpPath, isCount, 'a non-negative integer')
  if (mp['num_target'] !== undefined) {
    num(mp, 'num_target', mpPath, (x) => x === 1, '1 (multi-target models are not supported)')
  }
  const baseScore = num(mp, 'base_score', mpPath, Number.isFinite, 'a finite number')
  if (objective === 'binary:logistic' && !(baseScore > 0 && baseScore < 1)) {
    throw fail([...mpPath, 'base_score'], "in (0, 1) for 'binary:logistic' (a probability)", mp['base_score'])
  }
  let nOutputs = 1
  if (objective === 'multi:softprob') {
    if (!(numClass >= 2)) throw fail([...mpPath, 'num_class'], `at least 2 for '${String(name)}'`, mp['num_class'])
    nOutputs = numClass
  } else if (numClass > 1) {
    throw fail([...mpPath, 'num_class'], `0 or 1 for objective '${String(name)}'`, mp['num_class'])
  }

  const booster = obj(learner, 'gradient_booster', ['learner'])
  if (booster['name'] !== 'gbtree') {
    throw fail(
      ['learner', 'gradient_booster', 'name'],
      "'gbtree' (the supported booster; not gblinear or dart)",
      booster['name'],
    )
  }
  const modelPath = ['learner', 'gradient_booster', 'model']
  const model = obj(booster, 'model', ['learner', 'gradient_booster'])
  const trees = model['trees']
  if (!Array.isArray(trees)) throw fail([...modelPath, 'trees'], 'an array of trees', trees)
  const treeInfo = numbers(model, 'tree_info', modelPath, trees.length)

  const names = readStrings(learner, 'feature_names', nFeatures)
  const featureTypes = readStrings(learner, 'feature_types', nFeatures)
  const builder = new TreeEnsembleBuilder({
    nFeatures,
    nOutputs,
    objective,
    baseMargin: new Array<number>(nOutputs).fill(baseMarginOf(objective, baseScore)),
    ...(names === null ? {} : { featureNames: names }),
  })
  trees.forEach((tree, t) => {
    const path = [...modelPath, 'trees', t]
    if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) throw fail(path, 'an object', tree)
    const group = treeInfo[t]!
    if (!Number.isInteger(group) || group < 0 || group >= nOutputs) {
      throw fail([...modelPath, 'tree_info', t], `an output index in [0, ${nOutputs})`, group)
    }
    const spec = readTree(tree as Json, path, nFeatures)
    try {
      builder.addTree(spec, group)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      throw new ScalemlError('INVALID_INPUT', `XGBoost JSON: ${toPath(path)} is not a valid tree: ${message}`, [], {
        cause: error,
      })
    }
  })
  return { ensemble: builder.build(), version, xgboostObjective: name as string, featureTypes, baseScore }
}

function toPath(path: (string | number)[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('')
    .slice(1)
}

function readStrings(learner: Json, key: string, n: number): string[] | null {
  const v = learner[key]
  if (v === undefined || (Array.isArray(v) && v.length === 0)) return null
  if (!Array.isArray(v) || v.length !== n || !v.every((s) => typeof s === 'string')) {
    throw fail(['learner', key], `an array of ${n} strings (num_feature)`, v)
  }
  return [...(v as string[])]
}

/**
 * Parses an XGBoost JSON model and wraps it as an estimator (classifier or regressor by objective), summing in
 * float32 by default so that predictions reproduce XGBoost's.
 * @example
 * const model = importXgboostJson(await readFile('model.json', 'utf8'))
 * const proba = model.task === 'classification' ? model.predictProba(X) : model.predict(X)
 */
export function importXgboostJson(
  input: string | Uint8Array | Readonly<Record<string, unknown>>,
  params: Partial<TreeEnsembleParams> = { accumulate: 'float32' },
): TreeEnsembleModel {
  return TreeEnsembleModel.fromEnsemble(parseXgboostJson(input).ensemble, params)
}

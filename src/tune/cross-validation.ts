/**
 * Cross-validation splitters over rows held in memory — `kFold`, `stratifiedKFold`, `timeSeriesSplit`,
 * `groupKFold` — giving the same train and test indices as scikit-learn 1.2 (unshuffled; a committed fixture checks
 * it), and the streaming holdout for data bigger than memory, which decides each row's side from a seeded hash of its
 * index (`data/split.ts`), so an in-memory sample and a stream agree on every row.
 *
 * Shuffled splits (`shuffle: true`) permute with `Random(seed)` (xoshiro128**, Fisher–Yates from the last index
 * down) instead of NumPy's Mersenne Twister: fold sizes and stratification are scikit-learn's, the members differ.
 * - `kFold`: the rows are permuted by `Random(seed).permutation(n)` before being cut into consecutive folds.
 * - `stratifiedKFold`: each class's fold assignments (in appearance order of the classes) are shuffled in turn with
 *   one `Random(seed)`, as scikit-learn shuffles `folds_for_class` with one generator.
 * Indices come back ascending within every train and test set. Splitting only; no training.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { Random } from '../core/random.js'
import { isHoldoutRow } from '../data/split.js'
import { mixSeed } from '../train/shuffle.js'

/** One split: the rows to train on and the rows to score, ascending. */
export interface Fold {
  readonly train: Uint32Array
  readonly test: Uint32Array
}

/** Options of the k-fold splitters. */
export interface KFoldOptions {
  /** Folds, ≥ 2 (default 5, as scikit-learn). */
  readonly nSplits?: number
  /** Permute the rows first (default false). */
  readonly shuffle?: boolean
  /** Seed of the permutation (default 0). */
  readonly seed?: number
}

function checkSplits(nSplits: number): void {
  if (!Number.isInteger(nSplits) || nSplits < 2) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cross-validation needs at least 2 folds (a whole number); got ${nSplits}.`,
    )
  }
}

/** The folds whose test sets are the rows with each fold id, ascending. */
function foldsFromAssignment(testFold: Int32Array, nSplits: number): Fold[] {
  const n = testFold.length
  const counts = new Uint32Array(nSplits)
  for (let i = 0; i < n; i++) if (testFold[i]! >= 0) counts[testFold[i]!]!++
  const folds: Fold[] = []
  for (let f = 0; f < nSplits; f++) {
    const test = new Uint32Array(counts[f]!)
    const train = new Uint32Array(n - counts[f]!)
    let a = 0
    let b = 0
    for (let i = 0; i < n; i++) {
      if (testFold[i] === f) test[a++] = i
      else train[b++] = i
    }
    folds.push({ train, test })
  }
  return folds
}

/**
 * scikit-learn's `KFold`: `n` rows cut into `nSplits` consecutive folds, the first `n mod nSplits` one row larger.
 * @example
 * kFold(10, { nSplits: 3 }).map((f) => Array.from(f.test)) // [[0,1,2,3], [4,5,6], [7,8,9]]
 */
export function kFold(n: number, options: KFoldOptions = {}): Fold[] {
  const nSplits = options.nSplits ?? 5
  checkSplits(nSplits)
  if (nSplits > n) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot have number of splits n_splits=${nSplits} greater than the number of samples: n_samples=${n}.`,
    )
  }
  const order = options.shuffle ? new Random(options.seed ?? 0).permutation(n) : undefined
  const testFold = new Int32Array(n)
  let at = 0
  for (let f = 0; f < nSplits; f++) {
    const size = Math.floor(n / nSplits) + (f < n % nSplits ? 1 : 0)
    for (let j = 0; j < size; j++, at++) testFold[order ? order[at]! : at] = f
  }
  return foldsFromAssignment(testFold, nSplits)
}

/**
 * scikit-learn's `StratifiedKFold`: each fold gets about the same share of every class. Classes are numbered in
 * order of first appearance; the fold sizes per class come from dealing the label-sorted rows round robin; each
 * class's rows take their fold ids in blocks, in row order (shuffled with `shuffle`).
 *
 * @throws ScalemlError INVALID_ARGUMENT when every class has fewer rows than folds (scikit-learn's message).
 */
export function stratifiedKFold(y: ArrayLike<number | string>, options: KFoldOptions = {}): Fold[] {
  const nSplits = options.nSplits ?? 5
  checkSplits(nSplits)
  const n = y.length
  const codeOf = new Map<number | string, number>()
  const encoded = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const label = y[i]!
    let code = codeOf.get(label)
    if (code === undefined) {
      code = codeOf.size
      codeOf.set(label, code)
    }
    encoded[i] = code
  }
  const nClasses = codeOf.size
  const counts = new Uint32Array(nClasses)
  for (let i = 0; i < n; i++) counts[encoded[i]!]!++
  if (counts.every((c) => nSplits > c)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `n_splits=${nSplits} cannot be greater than the number of members in each class.`,
    )
  }
  // Dealing the rows sorted by class round robin: class k holds sorted positions [start_k, start_k + count_k).
  const testFold = new Int32Array(n)
  const random = options.shuffle ? new Random(options.seed ?? 0) : undefined
  let start = 0
  for (let k = 0; k < nClasses; k++) {
    const count = counts[k]!
    const folds = new Int32Array(count)
    let at = 0
    for (let f = 0; f < nSplits; f++) {
      // Positions p in [start, start + count) with p mod nSplits = f.
      const first = start + ((((f - start) % nSplits) + nSplits) % nSplits)
      const inFold = first >= start + count ? 0 : Math.floor((start + count - 1 - first) / nSplits) + 1
      folds.fill(f, at, at + inFold)
      at += inFold
    }
    random?.shuffle(folds)
    let j = 0
    for (let i = 0; i < n; i++) if (encoded[i] === k) testFold[i] = folds[j++]!
    start += count
  }
  return foldsFromAssignment(testFold, nSplits)
}

/** Options of {@link timeSeriesSplit}, scikit-learn's. */
export interface TimeSeriesSplitOptions {
  /** Folds (default 5). */
  readonly nSplits?: number
  /** Most rows a training set keeps (the latest ones); default all. */
  readonly maxTrainSize?: number
  /** Rows of each test set; default `⌊n / (nSplits + 1)⌋`. */
  readonly testSize?: number
  /** Rows left out between the end of each training set and its test set (default 0). */
  readonly gap?: number
}

/**
 * scikit-learn's `TimeSeriesSplit`: rows in time order; each test set follows its training set, which grows (or
 * slides, with `maxTrainSize`).
 */
export function timeSeriesSplit(n: number, options: TimeSeriesSplitOptions = {}): Fold[] {
  const nSplits = options.nSplits ?? 5
  checkSplits(nSplits)
  const gap = options.gap ?? 0
  const nFolds = nSplits + 1
  const testSize = options.testSize ?? Math.floor(n / nFolds)
  if (nFolds > n) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot have number of folds=${nFolds} greater than the number of samples=${n}.`,
    )
  }
  if (n - gap - testSize * nSplits <= 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Too many splits=${nSplits} for number of samples=${n} with test_size=${testSize} and gap=${gap}.`,
    )
  }
  const folds: Fold[] = []
  for (let testStart = n - nSplits * testSize; testStart < n; testStart += testSize) {
    const trainEnd = testStart - gap
    const trainStart =
      options.maxTrainSize !== undefined && options.maxTrainSize < trainEnd ? trainEnd - options.maxTrainSize : 0
    folds.push({ train: range(trainStart, trainEnd), test: range(testStart, Math.min(n, testStart + testSize)) })
  }
  return folds
}

/**
 * scikit-learn's `GroupKFold`: no group in two folds. Groups (sorted by value) go, largest first, to the fold with
 * the fewest rows so far (the first such fold on ties); groups of equal size are taken in reverse value order, as
 * NumPy's `argsort(...)[::-1]` orders them (for up to 16 groups; above, NumPy's order of ties is not stable).
 */
export function groupKFold(groups: ArrayLike<number | string>, options: { readonly nSplits?: number } = {}): Fold[] {
  const nSplits = options.nSplits ?? 5
  checkSplits(nSplits)
  const n = groups.length
  const values = [...new Set(Array.from({ length: n }, (_, i) => groups[i]!))]
  values.sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0,
  )
  if (nSplits > values.length) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot have number of splits n_splits=${nSplits} greater than the number of groups: ${values.length}.`,
    )
  }
  const index = new Map(values.map((v, i) => [v, i]))
  const sizes = new Float64Array(values.length)
  const groupOf = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    groupOf[i] = index.get(groups[i]!)!
    sizes[groupOf[i]!]!++
  }
  const order = Array.from({ length: values.length }, (_, g) => g).sort((a, b) => sizes[b]! - sizes[a]! || b - a)
  const foldRows = new Float64Array(nSplits)
  const foldOfGroup = new Int32Array(values.length)
  for (const g of order) {
    let lightest = 0
    for (let f = 1; f < nSplits; f++) if (foldRows[f]! < foldRows[lightest]!) lightest = f
    foldRows[lightest]! += sizes[g]!
    foldOfGroup[g] = lightest
  }
  const testFold = new Int32Array(n)
  for (let i = 0; i < n; i++) testFold[i] = foldOfGroup[groupOf[i]!]!
  return foldsFromAssignment(testFold, nSplits)
}

/** Salt of the tuning holdout's hash, so it differs from a training holdout drawn with the same seed. */
const HOLDOUT_SALT = 0x74756e65

/** A holdout decided row by row from a seeded hash of the row's index in the data. */
export interface StreamingHoldout {
  readonly fraction: number
  readonly seed: number
  /** True for rows that score (the holdout side). */
  isTest(rowIndex: number): boolean
}

/**
 * The streaming holdout: row `i` of the data is held out when `isHoldoutRow(mix(seed), i, fraction)` (see
 * `data/split.ts`), a pure function of the index, so every pass, batch size, shard and worker agrees, nothing is
 * stored, and a sample loaded in memory splits exactly as the full stream.
 *
 * @example
 * const holdout = streamingHoldout({ fraction: 0.2, seed: 1 })
 * const train = filterRows(source, (i) => !holdout.isTest(i))
 */
export function streamingHoldout(options: { readonly fraction: number; readonly seed?: number }): StreamingHoldout {
  const { fraction } = options
  if (!(fraction > 0 && fraction < 1)) {
    throw new ScalemlError('INVALID_ARGUMENT', `The holdout fraction must be in (0, 1); got ${fraction}.`)
  }
  const seed = options.seed ?? 0
  const salted = mixSeed(seed, HOLDOUT_SALT)
  return { fraction, seed, isTest: (i) => isHoldoutRow(salted, i, fraction) }
}

/**
 * The streaming holdout as one fold over rows held in memory, where `rowIndex[r]` is row r's index in the data.
 * @throws ScalemlError INVALID_ARGUMENT when a side is empty.
 */
export function holdoutFold(rowIndex: ArrayLike<number>, holdout: StreamingHoldout): Fold {
  const n = rowIndex.length
  const side = new Int32Array(n)
  for (let r = 0; r < n; r++) side[r] = holdout.isTest(rowIndex[r]!) ? 0 : -1
  const [fold] = foldsFromAssignment(side, 1)
  if (fold!.test.length === 0 || fold!.train.length === 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `A ${holdout.fraction} holdout of ${n} rows leaves one side empty; use more rows or another fraction.`,
    )
  }
  return fold!
}

/** How trials validate: k folds of a kind, or the streaming holdout. */
export type ValidationSpec =
  | {
      readonly kind: 'kfold' | 'stratified'
      readonly nSplits: number
      readonly shuffle?: boolean
      readonly seed?: number
    }
  | { readonly kind: 'time-series'; readonly nSplits: number; readonly gap?: number; readonly maxTrainSize?: number }
  | { readonly kind: 'group'; readonly nSplits: number }
  | { readonly kind: 'holdout'; readonly fraction: number; readonly seed?: number }

/** Number of folds a spec produces. */
export function foldCount(spec: ValidationSpec): number {
  return spec.kind === 'holdout' ? 1 : spec.nSplits
}

/**
 * The folds of `spec` over rows in memory: `y` for stratification, `groups` for group k-fold, `rowIndex` (each row's
 * index in the data) for the holdout.
 */
export function makeFolds(
  spec: ValidationSpec,
  data: {
    readonly n: number
    readonly y?: ArrayLike<number>
    readonly groups?: ArrayLike<number | string>
    readonly rowIndex?: ArrayLike<number>
  },
): Fold[] {
  switch (spec.kind) {
    case 'kfold':
      return kFold(data.n, spec)
    case 'stratified':
      if (data.y === undefined) throw new ScalemlError('INVALID_ARGUMENT', 'Stratified k-fold needs the labels.')
      return stratifiedKFold(data.y, spec)
    case 'time-series':
      return timeSeriesSplit(data.n, spec)
    case 'group':
      if (data.groups === undefined) {
        throw new ScalemlError('INVALID_ARGUMENT', 'Group k-fold needs a group column (--groups <column>).')
      }
      return groupKFold(data.groups, spec)
    case 'holdout':
      return [holdoutFold(data.rowIndex ?? range(0, data.n), streamingHoldout(spec))]
  }
}

function range(start: number, end: number): Uint32Array {
  const out = new Uint32Array(Math.max(0, end - start))
  for (let i = 0; i < out.length; i++) out[i] = start + i
  return out
}

/**
 * Inputs of the GBDT accuracy bench: the flights task read through `openFileSource` with the features computed in
 * TypeScript, and a seeded synthetic multiclass set; both written once under `.bench-data/gbdt/` as `.npy` files
 * for the Python peers.
 *
 * Flights features (row-major float32, 6 columns): hour (0–23), day of week (Monday = 0), month (1–12), distance,
 * origin code, destination code. Codes index one vocabulary of airports shared by both columns, in order of first
 * appearance. Label `delay > 15`. Train: `date < 2001-06-13 00:00`; test: the rest.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Random } from '../../src/core/random.js'
import { openFileSource } from '../../src/data/sources/file-source.js'
import { BENCH_DATA, flightsParquet } from '../lib/peers.js'

/** Where the bench writes its inputs. */
export const GBDT_DATA = join(BENCH_DATA, 'gbdt')

/** A train/test split of float32 rows with float64 labels. */
export interface Split {
  readonly name: string
  readonly featureNames: readonly string[]
  readonly categorical: readonly number[]
  readonly train: { readonly X: Float32Array; readonly y: Float64Array; readonly rows: number }
  readonly test: { readonly X: Float32Array; readonly y: Float64Array; readonly rows: number }
  readonly cols: number
  /** Paths of the .npy files, for the peers. */
  readonly files: { readonly Xtrain: string; readonly ytrain: string; readonly Xtest: string; readonly ytest: string }
}

const CUTOFF_MS = Date.UTC(2001, 5, 13)
const DAY_MS = 86_400_000
const FLIGHT_FEATURES = ['hour', 'dow', 'month', 'distance', 'origin', 'destination']

/** The flights split, from the cache when present. */
export async function flightsSplit(): Promise<Split> {
  const files = npyFiles('flights')
  if (!existsSync(files.ytest)) await writeFlights(files)
  return loadSplit('flights', FLIGHT_FEATURES, [4, 5], files)
}

async function writeFlights(files: Split['files']): Promise<void> {
  process.stderr.write('reading flights-3m through openFileSource (once)\n')
  const source = await openFileSource({
    path: flightsParquet(),
    columns: ['date', 'delay', 'distance', 'origin', 'destination'],
    batchSize: 262_144,
  })
  const vocabulary = new Map<string, number>()
  const trainY: number[] = []
  const testY: number[] = []
  const trainX: Float32Array[] = []
  const testX: Float32Array[] = []
  try {
    for await (const batch of source) {
      const date = batch.columns.get('date')
      const delay = batch.columns.get('delay')
      const distance = batch.columns.get('distance')
      const origin = batch.columns.get('origin')
      const destination = batch.columns.get('destination')
      if (
        date?.type !== 'timestamp' ||
        delay === undefined ||
        delay.type === 'string' ||
        distance === undefined ||
        distance.type === 'string' ||
        origin?.type !== 'string' ||
        destination?.type !== 'string'
      ) {
        throw new Error('flights-3m: unexpected column types')
      }
      const code = (dictionary: readonly string[]) =>
        dictionary.map((name) => {
          let c = vocabulary.get(name)
          if (c === undefined) {
            c = vocabulary.size
            vocabulary.set(name, c)
          }
          return c
        })
      const originCodes = code(origin.dictionary)
      const destinationCodes = code(destination.dictionary)
      const n = batch.length
      const isTrain = new Uint8Array(n)
      let nTrain = 0
      for (let i = 0; i < n; i++) {
        isTrain[i] = date.values[i]! < CUTOFF_MS ? 1 : 0
        nTrain += isTrain[i]!
      }
      const bTrain = new Float32Array(nTrain * 6)
      const bTest = new Float32Array((n - nTrain) * 6)
      for (let i = 0, a = 0, b = 0; i < n; i++) {
        const ms = date.values[i]!
        const d = new Date(ms)
        const row = [
          d.getUTCHours(),
          (Math.floor(ms / DAY_MS) + 3) % 7,
          d.getUTCMonth() + 1,
          distance.values[i]!,
          origin.codes[i]! < 0 ? Number.NaN : originCodes[origin.codes[i]!]!,
          destination.codes[i]! < 0 ? Number.NaN : destinationCodes[destination.codes[i]!]!,
        ]
        const label = delay.values[i]! > 15 ? 1 : 0
        if (isTrain[i] === 1) {
          bTrain.set(row, 6 * a++)
          trainY.push(label)
        } else {
          bTest.set(row, 6 * b++)
          testY.push(label)
        }
      }
      trainX.push(bTrain)
      testX.push(bTest)
    }
  } finally {
    await source.close()
  }
  mkdirSync(GBDT_DATA, { recursive: true })
  writeNpy(files.Xtrain, concat(trainX), [trainY.length, 6])
  writeNpy(files.ytrain, Float32Array.from(trainY), [trainY.length])
  writeNpy(files.Xtest, concat(testX), [testY.length, 6])
  writeNpy(files.ytest, Float32Array.from(testY), [testY.length])
}

/**
 * A synthetic 5-class problem, 200k train / 50k test rows, 10 features: 6 informative numeric features (class
 * means differ, interactions through a nonlinear score), 2 noise features, one 30-level categorical with
 * class-dependent frequencies, and 5% missing values in feature 0.
 */
export function multiclassSplit(): Split {
  const files = npyFiles('multiclass')
  if (!existsSync(files.ytest)) {
    const make = (rows: number, seed: number) => {
      const rng = new Random(seed)
      const X = new Float32Array(rows * 10)
      const y = new Float32Array(rows)
      const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
      for (let r = 0; r < rows; r++) {
        const o = r * 10
        for (let f = 0; f < 8; f++) X[o + f] = gauss()
        X[o + 8] = rng.nextInt(30)
        const score = [
          X[o]! + 0.5 * X[o + 1]! * X[o + 2]!,
          Math.sin(2 * X[o + 1]!) + X[o + 3]!,
          X[o + 2]! * X[o + 2]! - 1 + 0.3 * X[o + 4]!,
          -X[o]! + Math.abs(X[o + 5]!) - 0.8,
          0.7 * X[o + 3]! - 0.7 * X[o + 4]! + (X[o + 5]! > 1 ? 1 : 0),
        ]
        const cat = X[o + 8]!
        score[cat % 5] = score[cat % 5]! + (cat < 10 ? 1 : 0.4)
        let best = 0
        for (let k = 0; k < 5; k++) {
          score[k] = score[k]! + 0.8 * gauss()
          if (score[k]! > score[best]!) best = k
        }
        y[r] = best
        X[o + 9] = rng.next()
        if (rng.next() < 0.05) X[o] = Number.NaN
      }
      return { X, y }
    }
    const train = make(200_000, 11)
    const test = make(50_000, 12)
    mkdirSync(GBDT_DATA, { recursive: true })
    writeNpy(files.Xtrain, train.X, [200_000, 10])
    writeNpy(files.ytrain, train.y, [200_000])
    writeNpy(files.Xtest, test.X, [50_000, 10])
    writeNpy(files.ytest, test.y, [50_000])
  }
  return loadSplit(
    'multiclass',
    Array.from({ length: 10 }, (_, f) => `x${f}`),
    [8],
    files,
  )
}

function npyFiles(name: string): Split['files'] {
  return {
    Xtrain: join(GBDT_DATA, `${name}-Xtrain.npy`),
    ytrain: join(GBDT_DATA, `${name}-ytrain.npy`),
    Xtest: join(GBDT_DATA, `${name}-Xtest.npy`),
    ytest: join(GBDT_DATA, `${name}-ytest.npy`),
  }
}

function loadSplit(name: string, featureNames: string[], categorical: number[], files: Split['files']): Split {
  const Xtrain = readNpy(files.Xtrain)
  const Xtest = readNpy(files.Xtest)
  const cols = Xtrain.shape[1]!
  return {
    name,
    featureNames,
    categorical,
    cols,
    train: { X: Xtrain.data, y: Float64Array.from(readNpy(files.ytrain).data), rows: Xtrain.shape[0]! },
    test: { X: Xtest.data, y: Float64Array.from(readNpy(files.ytest).data), rows: Xtest.shape[0]! },
    files,
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** A little-endian float32 .npy file (format 1.0). */
function writeNpy(path: string, data: Float32Array, shape: readonly number[]): void {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n'
  const prefix = Buffer.alloc(10)
  prefix.write('\x93NUMPY', 0, 'latin1')
  prefix[6] = 1
  prefix.writeUInt16LE(header.length, 8)
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]))
}

function readNpy(path: string): { data: Float32Array; shape: number[] } {
  const buf = readFileSync(path)
  const headerLength = buf.readUInt16LE(8)
  const header = buf.toString('latin1', 10, 10 + headerLength)
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number)
  const start = 10 + headerLength
  const bytes = buf.subarray(start)
  const data = new Float32Array(bytes.length / 4)
  new Uint8Array(data.buffer).set(bytes)
  return { data, shape }
}

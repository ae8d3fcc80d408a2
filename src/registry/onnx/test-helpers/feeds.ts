/**
 * Test helpers: records → onnxruntime feeds for an exported model (the input convention of docs/guides/onnx.md:
 * strings with '' for missing, timestamps as float64 epoch ms with NaN for missing, other columns as float32 with
 * NaN for missing), and comparisons that report the worst difference.
 * @module
 */
import * as ort from 'onnxruntime-node'
import { parseIsoTimestamp } from '../../../data/records.js'
import type { OnnxValueInfo } from '../onnx-proto.js'

/** One `[N, 1]` tensor per exported input, from plain records (null/undefined = missing). */
export function onnxFeeds(
  inputs: readonly OnnxValueInfo[],
  records: readonly Record<string, unknown>[],
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {}
  const n = records.length
  for (const input of inputs) {
    const values = records.map((r) => r[input.name])
    if (input.type === 'string') {
      feeds[input.name] = new ort.Tensor(
        'string',
        values.map((v) => (v === null || v === undefined ? '' : String(v))),
        [n, 1],
      )
    } else if (input.type === 'double') {
      feeds[input.name] = new ort.Tensor('float64', Float64Array.from(values, toNumber), [n, 1])
    } else {
      feeds[input.name] = new ort.Tensor('float32', Float32Array.from(values, toNumber), [n, 1])
    }
  }
  return feeds
}

function toNumber(v: unknown): number {
  if (v === null || v === undefined) return Number.NaN
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'string') return parseIsoTimestamp(v) ?? Number.NaN
  return v as number
}

/** Largest `|a − b| / max(1, |b|)`; NaN in both at the same place counts as equal, NaN in one as Infinity. */
export function worstRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`)
  let worst = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return Number.POSITIVE_INFINITY
      continue
    }
    worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y)))
  }
  return worst
}

/** The numbers of an int64 or float tensor. */
export function tensorNumbers(tensor: ort.Tensor): number[] {
  return Array.from(tensor.data as ArrayLike<number | bigint>, (v) => Number(v))
}

import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import type { Batch } from '../data/batch.js'
import { DatetimeParts } from './datetime-parts.js'
import { dayNumber, dayOfWeek, hourOfDay, monthOfDay } from './kernels/calendar.js'
import { describeTransformerContract } from './transformer.contract.js'

interface DatetimeFixture {
  versions: Record<string, string>
  epochMs: number[]
  iso: string[]
  hour: number[]
  dayOfWeek: number[]
  month: number[]
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/sklearn-preprocess/datetime-parts.json', import.meta.url), 'utf8'),
) as DatetimeFixture

function timestampBatch(values: readonly (number | null)[]): Batch {
  const nulls = Uint8Array.from(values, (v) => (v === null ? 1 : 0))
  const data = Float64Array.from(values, (v) => v ?? Number.NaN)
  return { length: values.length, columns: new Map([['t', { type: 'timestamp', values: data, nulls }]]) }
}

function transformRows(parts: DatetimeParts, batch: Batch): Float32Array {
  const out = new Float32Array(batch.length * parts.nOutputs)
  parts.transform(batch, out, parts.nOutputs, 0)
  return out
}

const originalTz = process.env['TZ']
afterEach(() => {
  process.env['TZ'] = originalTz
})

describe('DatetimeParts', () => {
  describeTransformerContract({
    create: () => new DatetimeParts({ column: 'when' }),
    fromJSON: DatetimeParts.fromJSON,
    incompatible: () => new DatetimeParts({ column: 'when', encoding: 'cyclic' }),
  })

  describe('cyclic', () => {
    describeTransformerContract({
      create: () => new DatetimeParts({ column: 'when', parts: ['month', 'hour'], encoding: 'cyclic' }),
      fromJSON: DatetimeParts.fromJSON,
      incompatible: () => new DatetimeParts({ column: 'when', parts: ['hour', 'month'], encoding: 'cyclic' }),
    })
  })

  describe('ordinal', () => {
    describeTransformerContract({
      create: () => new DatetimeParts({ column: 'when', encoding: 'ordinal' }),
      fromJSON: DatetimeParts.fromJSON,
      incompatible: () => new DatetimeParts({ column: 'when', parts: ['hour'], encoding: 'ordinal' }),
      keepsMissingAsNaN: true,
    })

    it(`writes pandas' dt.hour, dt.dayofweek and dt.month values on the ${fixture.epochMs.length} fixture timestamps`, () => {
      const parts = new DatetimeParts({ column: 't', encoding: 'ordinal' })
      expect(parts.outputNames()).toEqual(['t.hour', 't.dayOfWeek', 't.month'])
      const out = transformRows(parts, timestampBatch(fixture.epochMs))
      fixture.epochMs.forEach((_, i) => {
        expect(Array.from(out.subarray(3 * i, 3 * i + 3)), fixture.iso[i]).toEqual([
          fixture.hour[i],
          fixture.dayOfWeek[i],
          fixture.month[i],
        ])
      })
    })

    it('writes NaN (missing) for a null or non-finite timestamp, densely and sparsely', () => {
      const parts = new DatetimeParts({ column: 't', parts: ['month'], encoding: 'ordinal' })
      const batch = timestampBatch([null, Number.NaN, Date.UTC(2001, 11, 31, 23)])
      expect(Array.from(transformRows(parts, batch))).toEqual([Number.NaN, Number.NaN, 12])
      const indices = new Int32Array(3)
      const values = new Float32Array(3)
      parts.transformSparse(batch, indices, values, 1, 0, 5)
      expect([Array.from(indices), Array.from(values)]).toEqual([
        [5, 5, 5],
        [Number.NaN, Number.NaN, 12],
      ])
    })
  })

  it(`matches pandas ${fixture.versions['pandas']} dt.hour / dt.dayofweek / dt.month on ${fixture.epochMs.length} timestamps (1700–2262, leap days, year ends, pre-1970)`, () => {
    const parts = new DatetimeParts({ column: 't' })
    const out = transformRows(parts, timestampBatch(fixture.epochMs))
    const width = parts.nOutputs
    expect(width).toBe(24 + 7 + 12)
    fixture.epochMs.forEach((ms, i) => {
      const row = Array.from(out.subarray(i * width, (i + 1) * width))
      const expected = new Array<number>(width).fill(0)
      expected[fixture.hour[i]!] = 1
      expected[24 + fixture.dayOfWeek[i]!] = 1
      expected[31 + fixture.month[i]! - 1] = 1
      expect(row, `${fixture.iso[i]} (${ms})`).toEqual(expected)
    })
  })

  it('the calendar kernel agrees with pandas field by field', () => {
    fixture.epochMs.forEach((ms, i) => {
      const day = dayNumber(ms)
      expect([hourOfDay(ms), dayOfWeek(day), monthOfDay(day)], fixture.iso[i]).toEqual([
        fixture.hour[i],
        fixture.dayOfWeek[i],
        fixture.month[i],
      ])
    })
  })

  it('the calendar kernel agrees with Date.getUTC* on every day from 1600 to 2400 and at every hour of one day', () => {
    const date = new Date(0)
    const wrong: string[] = []
    for (let day = dayNumber(Date.UTC(1600, 0, 1)); day < dayNumber(Date.UTC(2400, 0, 1)); day++) {
      date.setTime(day * 86_400_000)
      const expected = [date.getUTCMonth() + 1, (date.getUTCDay() + 6) % 7]
      if (monthOfDay(day) !== expected[0] || dayOfWeek(day) !== expected[1]) wrong.push(date.toISOString())
    }
    expect(wrong.slice(0, 5)).toEqual([])
    for (let ms = -86_400_000; ms < 86_400_000; ms += 59_999) {
      expect(hourOfDay(ms)).toBe(new Date(ms).getUTCHours())
    }
  })

  it('computes in UTC whatever the process time zone is', () => {
    const batch = timestampBatch(fixture.epochMs)
    const parts = new DatetimeParts({ column: 't', encoding: 'cyclic' })
    process.env['TZ'] = 'UTC'
    const utc = transformRows(parts, batch)
    process.env['TZ'] = 'Asia/Kolkata'
    // Proof the zone change took effect for Date, so the equality below could have failed.
    expect(new Date(0).getHours()).toBe(5)
    expect(transformRows(parts, batch)).toEqual(utc)
  })

  it('writes sin/cos pairs on each cycle, in the requested part order', () => {
    const parts = new DatetimeParts({ column: 't', parts: ['month', 'hour'], encoding: 'cyclic' })
    expect(parts.outputNames()).toEqual(['t.month_sin', 't.month_cos', 't.hour_sin', 't.hour_cos'])
    // 2001-04-01T06:00Z: month 4 → angle 2π·3/12 = π/2; hour 6 → angle 2π·6/24 = π/2.
    const out = transformRows(parts, timestampBatch([Date.UTC(2001, 3, 1, 6)]))
    expect(Array.from(out)).toEqual([1, Math.fround(Math.cos(Math.PI / 2)), 1, Math.fround(Math.cos(Math.PI / 2))])
  })

  it('writes zeros for a null, NaN or infinite timestamp in both encodings', () => {
    const batch = timestampBatch([null, Number.NaN, Number.POSITIVE_INFINITY])
    for (const encoding of ['onehot', 'cyclic'] as const) {
      const parts = new DatetimeParts({ column: 't', encoding })
      const out = new Float32Array(batch.length * parts.nOutputs).fill(7)
      parts.transform(batch, out, parts.nOutputs, 0)
      expect(out.every((v) => v === 0)).toBe(true)
    }
  })

  it('names its one-hot outputs by part and value', () => {
    const names = new DatetimeParts({ column: 'date' }).outputNames()
    expect([names[0], names[23], names[24], names[30], names[31], names[42]]).toEqual([
      'date.hour=0',
      'date.hour=23',
      'date.dayOfWeek=0',
      'date.dayOfWeek=6',
      'date.month=1',
      'date.month=12',
    ])
  })

  it('rejects unknown or repeated parts, an unknown encoding and a string column', () => {
    expect(
      () => new DatetimeParts({ column: 't', parts: ['hour', 'minute' as 'hour'] }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The 'parts' parameter of DatetimeParts must list distinct parts among "hour", "dayOfWeek", "month". Got "minute".]`,
    )
    expect(() => new DatetimeParts({ column: 't', parts: ['hour', 'hour'] })).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The 'parts' parameter of DatetimeParts must list distinct parts among "hour", "dayOfWeek", "month". Got "hour" twice.]`,
    )
    expect(() => new DatetimeParts({ column: 't', encoding: 'sparse' as 'onehot' })).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The 'encoding' parameter of DatetimeParts must be one of "onehot", "cyclic", "ordinal". Got "sparse" instead.]`,
    )
    const strings: Batch = {
      length: 1,
      columns: new Map([['t', { type: 'string', codes: new Int32Array(1), dictionary: ['2001-01-01'] }]]),
    }
    expect(() => new DatetimeParts({ column: 't' }).partialFit(strings)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: DatetimeParts needs a numeric column, but column "t" holds strings.]`,
    )
    expect(() =>
      DatetimeParts.fromJSON({ kind: 'datetime-parts', column: 't', parts: ['week'], encoding: 'onehot' }),
    ).toThrowError(expect.objectContaining({ code: 'ARTIFACT_INVALID' }))
  })
})

import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { formatIssues } from '../core/issues.js'
import type { Schema } from './batch.js'
import { valueAt } from './batch.js'
import { checkRecord, parseIsoTimestamp, parseRecords, parseRecordsOrThrow } from './records.js'

const schema: Schema = {
  fields: [
    { name: 'distance', type: 'float', nullable: false },
    { name: 'stops', type: 'int', nullable: true },
    { name: 'night', type: 'bool', nullable: false },
    { name: 'date', type: 'timestamp', nullable: true },
    { name: 'origin', type: 'string', nullable: true },
  ],
}

const valid = { distance: 300.5, stops: 1, night: false, date: '2001-03-04T10:00:00', origin: 'SFO' }

const originalTz = process.env['TZ']
afterEach(() => {
  process.env['TZ'] = originalTz
})

describe('checkRecord', () => {
  it('accepts a valid record and ignores fields the schema does not name', () => {
    expect(checkRecord(schema, { ...valid, comment: 'extra', '': 1 }, 0)).toEqual([])
    expect(checkRecord(schema, { ...valid, stops: null, date: null, origin: null }, 0)).toEqual([])
  })

  it('reports a missing field, naming it and what it expects', () => {
    const { distance: _, ...rest } = valid
    expect(checkRecord(schema, rest, 2)).toMatchInlineSnapshot(`
      [
        {
          "code": "missing_field",
          "expected": "number",
          "message": "Missing field "distance" (expected number).",
          "path": [
            2,
            "distance",
          ],
        },
      ]
    `)
    // A key inherited from Object.prototype is not a field of the record.
    const inherited: Schema = { fields: [{ name: 'toString', type: 'string', nullable: true }] }
    expect(checkRecord(inherited, {}, 0).map((i) => i.code)).toEqual(['missing_field'])
    expect(checkRecord(schema, { ...valid, stops: undefined }, 0)[0]?.message).toMatchInlineSnapshot(
      `"Missing field "stops" (expected integer or null)."`,
    )
  })

  it('says "expected number, received string "42"" for a numeric string (no coercion)', () => {
    expect(checkRecord(schema, { ...valid, distance: '42' }, 2)).toMatchInlineSnapshot(`
      [
        {
          "code": "invalid_type",
          "expected": "number",
          "message": "Expected number, received string "42".",
          "path": [
            2,
            "distance",
          ],
          "received": "string "42"",
        },
      ]
    `)
  })

  it('rejects null in a non-nullable field', () => {
    expect(checkRecord(schema, { ...valid, night: null }, 0)[0]).toMatchInlineSnapshot(`
      {
        "code": "invalid_type",
        "expected": "boolean",
        "message": "Expected boolean, received null (field "night" is not nullable).",
        "path": [
          0,
          "night",
        ],
        "received": "null",
      }
    `)
  })

  it('reports each wrong type with its own message', () => {
    const issues = checkRecord(schema, { distance: true, stops: 1.5, night: 1, date: false, origin: 7 }, 4)
    expect(formatIssues(issues)).toMatchInlineSnapshot(`
      "  ✖ Expected number, received boolean true. → at [4].distance
        ✖ Expected integer, received number 1.5. → at [4].stops
        ✖ Expected boolean, received number 1. → at [4].night
        ✖ Expected ISO 8601 string or epoch milliseconds, received boolean false. → at [4].date
        ✖ Expected string, received number 7. → at [4].origin"
    `)
    expect(issues.map((i) => i.code)).toEqual(Array(5).fill('invalid_type'))
  })

  it('reports non-finite numbers and unparsable timestamps', () => {
    const issues = checkRecord(
      schema,
      { ...valid, distance: Number.NaN, stops: Number.POSITIVE_INFINITY, date: '2001-02-29T10:00:00' },
      0,
    )
    expect(issues.map((i) => [i.code, i.message])).toMatchInlineSnapshot(`
      [
        [
          "not_finite",
          "Expected a finite number, received number NaN.",
        ],
        [
          "not_finite",
          "Expected a finite number, received number Infinity.",
        ],
        [
          "invalid_value",
          "Expected an ISO 8601 timestamp like "2001-01-31T14:05:00Z" or epoch milliseconds, received string "2001-02-29T10:00:00".",
        ],
      ]
    `)
  })

  it('rejects a record that is not an object', () => {
    expect(checkRecord(schema, [1, 2], 3)).toMatchInlineSnapshot(`
      [
        {
          "code": "invalid_type",
          "expected": "object",
          "message": "Expected an object mapping field names to values, received array.",
          "path": [
            3,
          ],
          "received": "array",
        },
      ]
    `)
    expect(checkRecord(schema, null, 0)[0]?.received).toBe('null')
    expect(checkRecord(schema, 'x', 0)[0]?.received).toBe('string "x"')
  })
})

describe('parseRecords', () => {
  it('builds a batch with the schema types: bools as 0/1, timestamps as epoch ms UTC, strings dictionary-encoded', () => {
    const { batch, issues } = parseRecords(schema, [
      valid,
      { distance: 12, stops: null, night: true, date: 978_307_200_000, origin: 'LAX' },
      { distance: -1, stops: 0, night: false, date: null, origin: 'SFO' },
    ])
    expect(issues).toEqual([])
    expect(batch.length).toBe(3)
    const read = (name: string) => [0, 1, 2].map((i) => valueAt(batch.columns.get(name)!, i))
    expect(read('distance')).toEqual([300.5, 12, -1])
    expect(read('stops')).toEqual([1, null, 0])
    expect(read('night')).toEqual([false, true, false])
    expect(read('date')).toEqual([Date.UTC(2001, 2, 4, 10), 978_307_200_000, null])
    expect(read('origin')).toEqual(['SFO', 'LAX', 'SFO'])
    const origin = batch.columns.get('origin')
    expect(origin?.type === 'string' && origin.dictionary).toEqual(['SFO', 'LAX'])
    expect([...batch.columns.keys()]).toEqual(schema.fields.map((f) => f.name))
  })

  it('collects every issue of every record, in record order, and stores nulls where values were bad', () => {
    const { batch, issues } = parseRecords(schema, [
      { ...valid, origin: 5 },
      'not a record',
      { ...valid, distance: '42', night: 'yes' },
    ])
    expect(issues.map((i) => i.path)).toEqual([[0, 'origin'], [1], [2, 'distance'], [2, 'night']])
    expect(valueAt(batch.columns.get('origin')!, 0)).toBe(null)
    expect(valueAt(batch.columns.get('distance')!, 1)).toBe(null)
    expect(valueAt(batch.columns.get('distance')!, 2)).toBe(null)
  })

  it('parseRecordsOrThrow throws INVALID_INPUT carrying all issues and listing them in the message', () => {
    const records = Array.from({ length: 25 }, (_, i) => ({ ...valid, distance: `${i}` }))
    let caught: unknown
    try {
      parseRecordsOrThrow(schema, records)
    } catch (error) {
      caught = error
    }
    expect(isScalemlError(caught, 'INVALID_INPUT')).toBe(true)
    if (!isScalemlError(caught)) return
    expect(caught.issues).toHaveLength(25)
    expect(caught.message.split('\n').slice(0, 2)).toEqual([
      '25 invalid value(s) in 25 record(s):',
      '  ✖ Expected number, received string "0". → at [0].distance',
    ])
    expect(caught.message.endsWith('  … and 5 more')).toBe(true)
    expect(parseRecordsOrThrow(schema, [valid]).length).toBe(1)
  })
})

describe('parseIsoTimestamp', () => {
  it('reads a string without offset as UTC, whatever the process time zone (unlike Date.parse)', () => {
    process.env['TZ'] = 'America/New_York'
    const naive = '2001-01-01T10:00:00'
    // Date.parse reads it as local time, 5 hours off here: the test would catch a parser that delegates to it.
    expect(Date.parse(naive)).toBe(Date.UTC(2001, 0, 1, 15))
    expect(parseIsoTimestamp(naive)).toBe(Date.UTC(2001, 0, 1, 10))
    expect(parseIsoTimestamp('2001-01-01 10:00:00')).toBe(Date.UTC(2001, 0, 1, 10))
    expect(parseRecords(schema, [{ ...valid, date: naive }]).batch.columns.get('date')).toMatchObject({
      values: new Float64Array([Date.UTC(2001, 0, 1, 10)]),
    })
  })

  it('accepts dates, minutes, seconds, fractions, Z and offsets', () => {
    const cases: [string, number][] = [
      ['2001-01-31', Date.UTC(2001, 0, 31)],
      ['2001-01-31T14:05', Date.UTC(2001, 0, 31, 14, 5)],
      ['2001-01-31T14:05:09.25Z', Date.UTC(2001, 0, 31, 14, 5, 9, 250)],
      ['2001-01-31t14:05:09,123456z', Date.UTC(2001, 0, 31, 14, 5, 9, 123)],
      ['2001-01-31 14:05:09+02:00', Date.UTC(2001, 0, 31, 12, 5, 9)],
      ['2001-01-31T14:05:09-0530', Date.UTC(2001, 0, 31, 19, 35, 9)],
      ['2001-01-31T00:30:00+01', Date.UTC(2001, 0, 30, 23, 30)],
      ['2000-02-29T23:59:59.999', Date.UTC(2000, 1, 29, 23, 59, 59, 999)],
      ['1969-12-31T23:59:59.999', -1],
      ['0001-01-01T00:00:00Z', -62_135_596_800_000],
    ]
    for (const [text, ms] of cases) expect(parseIsoTimestamp(text), text).toBe(ms)
  })

  it('rejects what is not a valid calendar date-time', () => {
    const bad = [
      '',
      'yesterday',
      '2001-1-31',
      '2001-02-29',
      '1900-02-29',
      '2001-13-01',
      '2001-04-31',
      '2001-01-31T24:00:00',
      '2001-01-31T10:60',
      '2001-01-31T10:00:61',
      '2001-01-31T10:00:00+25:00',
      '2001-01-31Z',
      '2001-01-31T10',
      ' 2001-01-31',
      '978307200000',
    ]
    for (const text of bad) expect(parseIsoTimestamp(text), text).toBeUndefined()
  })

  it('agrees with pandas on every fixture timestamp written as ISO without offset', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../../test/fixtures/sklearn-preprocess/datetime-parts.json', import.meta.url), 'utf8'),
    ) as { epochMs: number[]; iso: string[] }
    fixture.iso.forEach((text, i) => {
      expect(parseIsoTimestamp(text), text).toBe(fixture.epochMs[i])
    })
  })
})

describe('parseIsoTimestamp fast path', () => {
  /** The implementation before the char-code fast path, kept verbatim (regex only) as the reference. */
  const REFERENCE_ISO =
    /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)?)?$/
  const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const monthDays = (y: number, m: number) =>
    m === 2 ? (leap(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
  const civil = (year: number, month: number, day: number) => {
    const y = month <= 2 ? year - 1 : year
    const era = Math.floor(y / 400)
    const yoe = y - era * 400
    const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
    const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
    return era * 146_097 + doe - 719_468
  }
  function reference(text: string): number | undefined {
    const m = REFERENCE_ISO.exec(text)
    if (m === null) return undefined
    const year = Number(m[1])
    const month = Number(m[2])
    const day = Number(m[3])
    const hour = m[4] === undefined ? 0 : Number(m[4])
    const minute = m[5] === undefined ? 0 : Number(m[5])
    const second = m[6] === undefined ? 0 : Number(m[6])
    const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
    if (month < 1 || month > 12 || day < 1 || day > monthDays(year, month)) return undefined
    if (hour > 23 || minute > 59 || second > 59) return undefined
    let offsetMinutes = 0
    if (m[8] !== undefined) {
      const offsetHours = Number(m[9])
      const offsetMins = m[10] === undefined ? 0 : Number(m[10])
      if (offsetHours > 23 || offsetMins > 59) return undefined
      offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins)
    }
    return (
      civil(year, month, day) * 86_400_000 +
      hour * 3_600_000 +
      (minute - offsetMinutes) * 60_000 +
      second * 1000 +
      millis
    )
  }

  /** mulberry32: a seeded generator, so a failure replays. */
  function random(seed: number): () => number {
    let a = seed >>> 0
    return () => {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
    }
  }

  it('gives exactly the reference result for hand-picked edge cases', () => {
    const cases = [
      '2021-02-30',
      '2021-02-28T23:59:59.999Z',
      '2020-02-29',
      '2019-02-29',
      '2000-02-29T00:00:00',
      '1900-02-29T00:00:00',
      '2100-02-29',
      '0000-01-01',
      '0000-02-29',
      '9999-12-31T23:59:59.9999999z',
      '1970-01-01',
      '1970-01-01T00:00:00.000Z',
      '2001-00-10',
      '2001-10-00',
      '2001-06-31',
      '2001-01-31T23:60',
      '2001-01-31T24:00',
      '2001-01-31T10:00:60',
      '2001-01-31T10:00:59.',
      '2001-01-31T10:00:59,5',
      '2001-01-31T10:00.5',
      '2001-01-31T10:00Z',
      '2001-01-31t10:00:00',
      '2001-01-31 10:00:00',
      '2001-01-31  10:00:00',
      '2001-01-31T10:00:00 ',
      ' 2001-01-31T10:00:00',
      '2001-01-31T10:00:00+02:00',
      '2001-01-31T10:00:00-0530',
      '2001-01-31T10:00:00+01',
      '2001-01-31T10:00:00+24:00',
      '2001-01-31T10:00:00+01:60',
      '2001-01-31T10:00:00ZZ',
      '2001-01-31Z',
      '2001-01-31T',
      '2001-01-31T1:00',
      '2001-1-31',
      '20010131',
      '2001-01-31T10:00:00.123abc',
      '٢٠٠١-01-31',
      '2001-01-3１',
      '',
    ]
    for (const text of cases) expect(parseIsoTimestamp(text), text).toBe(reference(text))
  })

  it('gives exactly the reference result for 200 000 random near-ISO strings', () => {
    const next = random(20_261_127)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
    const int = (below: number) => Math.floor(next() * below)
    const pad = (value: number, width: number) => String(value).padStart(width, '0')
    const years = () => pick([pad(int(10_000), 4), '2000', '1900', '2004', '2100', '1970', '0000', '2021'])
    const noise = ['0', '5', '9', '-', ':', 'T', 't', ' ', 'Z', 'z', '.', ',', '+', 'x', '٣', '１', '\u00a0', '']
    let checked = 0
    let valid = 0
    for (let k = 0; k < 200_000; k++) {
      let text = `${years()}-${pad(int(14), 2)}-${pad(int(33), 2)}`
      if (next() < 0.85) {
        text += pick(['T', 't', ' ', 'T', 'T', 'x', '', 'Z'])
        text += `${pad(int(26), 2)}:${pad(int(62), 2)}`
        if (next() < 0.8) {
          text += `:${pad(int(62), 2)}`
          if (next() < 0.5) text += pick(['.', ',', '.', '']) + String(int(10 ** int(10))).padStart(int(8), '0')
        }
        text += pick(['', '', 'Z', 'z', '+02:00', '-05:30', '-0530', '+01', '+25:00', '+01:61', 'ZZ', ' ', '+', 'Z+01'])
      }
      // Sometimes break one character: replaced, inserted or removed.
      if (next() < 0.3) {
        const at = int(text.length + 1)
        const what = int(3)
        const char = pick(noise)
        text =
          what === 0
            ? text.slice(0, at) + char + text.slice(at + 1)
            : what === 1
              ? text.slice(0, at) + char + text.slice(at)
              : text.slice(0, at) + text.slice(at + 1)
      }
      const expected = reference(text)
      const actual = parseIsoTimestamp(text)
      if (!Object.is(actual, expected)) expect(actual, JSON.stringify(text)).toBe(expected)
      checked++
      if (expected !== undefined) valid++
    }
    expect(checked).toBe(200_000)
    // Both outcomes are well represented, so the comparison covered accepted and rejected inputs.
    expect(valid).toBeGreaterThan(20_000)
    expect(checked - valid).toBeGreaterThan(20_000)
  })
})

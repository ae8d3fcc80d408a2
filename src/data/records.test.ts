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

import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { toDotPath } from '../../core/issues.js'
import { parseRecordsOrThrow } from '../../data/records.js'
import { DatetimeParts } from '../../preprocess/datetime-parts.js'
import { OneHotEncoder } from '../../preprocess/one-hot-encoder.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import { StandardScaler } from '../../preprocess/standard-scaler.js'
import { createRequestReader, syntheticRecord } from './request-reader.js'

const inputs = [
  { name: 'distance', type: 'int', nullable: false },
  { name: 'origin', type: 'string', nullable: true },
  { name: 'date', type: 'timestamp', nullable: false },
] as const

const pipeline = new Pipeline({
  inputs,
  steps: [
    new StandardScaler({ columns: ['distance'] }),
    new OneHotEncoder({ column: 'origin' }),
    new DatetimeParts({ column: 'date' }),
  ],
}).partialFit(
  parseRecordsOrThrow({ fields: inputs }, [
    { distance: 300, origin: 'SFO', date: '2001-01-01T10:00:00' },
    { distance: 900, origin: 'ORD', date: '2001-02-01T12:00:00' },
  ]),
)

const ok = { distance: 500, origin: 'SFO', date: '2001-03-04T17:30:00' }

function problems(read: () => unknown): { code: string; message: string; details: [string, string][] } {
  try {
    read()
  } catch (error) {
    if (!isScalemlError(error)) throw error
    const e = error as ScalemlError
    return { code: e.code, message: e.message, details: e.issues.map((i) => [toDotPath(i.path), i.message]) }
  }
  throw new Error('expected the body to be refused')
}

describe('createRequestReader', () => {
  const reader = createRequestReader(pipeline)

  it('reads records and arrays in schema order into the same rows', () => {
    const records = reader.read({ instances: [ok, { ...ok, origin: null }] })
    const arrays = reader.read({
      inputs: [
        [500, 'SFO', '2001-03-04T17:30:00'],
        [500, null, '2001-03-04T17:30:00'],
      ],
    })
    expect(records.format).toBe('instances')
    expect(arrays.format).toBe('inputs')
    expect(pipeline.transform(arrays.batch).data).toEqual(pipeline.transform(records.batch).data)
  })

  it('lists every problem with its path: types, missing and unknown fields', () => {
    const found = problems(() =>
      reader.read({ instances: [ok, { distance: '500', date: 'yesterday', origin: 'SFO', speed: 3, colour: 'red' }] }),
    )
    expect(found.code).toBe('INVALID_INPUT')
    expect(found.details).toEqual([
      [
        'instances[1].speed',
        expect.stringMatching(/^Unknown field "speed": the model's inputs are distance, origin, date\.$/),
      ],
      ['instances[1].colour', expect.stringMatching(/^Unknown field "colour"/)],
      ['instances[1].distance', 'Expected integer, received string "500".'],
      ['instances[1].date', expect.stringMatching(/^Expected an ISO 8601 timestamp/)],
    ])
    expect(problems(() => reader.read({ instances: [{ distance: 1, date: 0 }] })).details).toEqual([
      ['instances[0].origin', 'Missing field "origin" (expected string or null).'],
    ])
  })

  it('ignores unknown fields under the ignore policy', () => {
    const lenient = createRequestReader(pipeline, { unknownFields: 'ignore' })
    expect(lenient.read({ instances: [{ ...ok, speed: 3 }], parameters: {} }).batch.length).toBe(1)
    expect(lenient.read({ inputs: [[500, 'SFO', 0, 'extra']] }).batch.length).toBe(1)
  })

  it('locates problems of arrays by row and column, naming the field', () => {
    const found = problems(() => reader.read({ inputs: [[500, 'SFO'], [1.5, 'SFO', 0], 'x', [1, 2, 0]] }))
    expect(found.details).toEqual([
      ['inputs[0]', 'Expected 3 values (distance, origin, date), received 2.'],
      ['inputs[1][0]', 'distance: Expected integer, received number 1.5.'],
      ['inputs[2]', 'Expected an array of 3 values (distance, origin, date), received string "x".'],
      ['inputs[3][1]', 'origin: Expected string, received number 2.'],
    ])
  })

  it('refuses bodies that are not {instances} or {inputs}', () => {
    for (const body of [null, [ok], 'x', {}, { instances: [ok], inputs: [] }, { instances: 'x' }, { instances: [] }]) {
      expect(problems(() => reader.read(body)).code, JSON.stringify(body)).toBe('INVALID_INPUT')
    }
    expect(problems(() => reader.read({ instances: [ok], extra: 1 })).details).toEqual([
      ['extra', 'Unknown field "extra": the body holds only "instances".'],
    ])
  })

  it('refuses more rows than maxInstances with PAYLOAD_TOO_LARGE naming the limit', () => {
    const small = createRequestReader(pipeline, { maxInstances: 2 })
    const found = problems(() => small.read({ instances: [ok, ok, ok] }))
    expect(found.code).toBe('PAYLOAD_TOO_LARGE')
    expect(found.message).toMatch(/At most 2 rows per request \(maxInstances\); got 3/)
  })

  it('encodes unknown categories as "other" by default, or refuses them naming the known ones', () => {
    expect(reader.read({ instances: [{ ...ok, origin: 'XYZ' }] }).batch.length).toBe(1)
    const strict = createRequestReader(pipeline, { unknownCategories: 'reject' })
    expect(strict.read({ instances: [ok, { ...ok, origin: null }] }).batch.length).toBe(2)
    expect(problems(() => strict.read({ instances: [ok, { ...ok, origin: 'XYZ' }] })).details).toEqual([
      [
        'instances[1].origin',
        'Unknown category "XYZ" for "origin": the model knows 2 ("ORD", "SFO"); unknown categories are refused (unknownCategories: reject).',
      ],
    ])
    expect(problems(() => strict.read({ inputs: [[1, 'XYZ', 0]] })).details[0]![0]).toBe('inputs[0][1]')
  })

  it('makes a synthetic record every reader accepts, with a known category', () => {
    const record = syntheticRecord(pipeline)
    expect(record).toEqual({ distance: 0, origin: 'ORD', date: '2001-01-01T00:00:00Z' })
    expect(
      createRequestReader(pipeline, { unknownCategories: 'reject' }).read({ instances: [record] }).batch.length,
    ).toBe(1)
  })
})

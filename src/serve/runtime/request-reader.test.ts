import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { toDotPath } from '../../core/issues.js'
import { Random } from '../../core/random.js'
import type { Batch } from '../../data/batch.js'
import { valueAt } from '../../data/batch.js'
import { parseRecordsOrThrow } from '../../data/records.js'
import { DatetimeParts } from '../../preprocess/datetime-parts.js'
import { OneHotEncoder } from '../../preprocess/one-hot-encoder.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import { StandardScaler } from '../../preprocess/standard-scaler.js'
import { createRequestReader, type RequestReaderOptions, type RowsRequest, syntheticRecord } from './request-reader.js'

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

describe('readRows and merge (the serving fast path)', () => {
  // Every field type, nullable and not, and a string input whose categories a one-hot encoder kept.
  const fields = [
    { name: 'f', type: 'float', nullable: true },
    { name: 'i', type: 'int', nullable: false },
    { name: 'b', type: 'bool', nullable: true },
    { name: 't', type: 'timestamp', nullable: false },
    { name: 's', type: 'string', nullable: true },
    { name: 'u', type: 'string', nullable: false },
  ] as const
  const wide = new Pipeline({ inputs: fields, steps: [new OneHotEncoder({ column: 's' })] }).partialFit(
    parseRecordsOrThrow({ fields }, [{ f: 1, i: 2, b: true, t: 0, s: 'SFO', u: 'x' }]),
  )
  // Valid and invalid values of every kind; `MISSING` leaves the field out.
  const MISSING = Symbol('missing')
  // biome-ignore format: a table of values
  const pool: unknown[] = [
    1.5, 2, -0, 1e300, Number.NaN, Number.POSITIVE_INFINITY, 978307200000, '3', true, false, null, MISSING,
    'SFO', 'XYZ', '2001-01-01T00:00:00', '2001-02-30', '2001-03-04 10:00:00+02:00', {}, [],
  ]
  const valid = { f: 0.5, i: 3, b: false, t: '2001-06-01T12:00:00Z', s: 'SFO', u: 'y' }

  /** The decoded rows of a batch, column by column (dictionary codes differ between equal batches). */
  const decoded = (batch: Batch) =>
    fields.map((field) => {
      const column = batch.columns.get(field.name)!
      return { type: column.type, values: Array.from({ length: batch.length }, (_, r) => valueAt(column, r)) }
    })

  const outcome = (run: () => Batch) => {
    try {
      return { batch: decoded(run()) }
    } catch (error) {
      if (!isScalemlError(error)) throw error
      return { code: error.code, message: error.message, issues: error.issues }
    }
  }

  function randomBody(random: Random): unknown {
    const rows = 1 + Math.floor(random.next() * 3)
    const asArrays = random.next() < 0.3
    const list: unknown[] = []
    for (let r = 0; r < rows; r++) {
      const record: Record<string, unknown> = { ...valid }
      // Mostly valid rows, so that whole bodies pass often; some with one or two odd values.
      for (const field of fields) {
        if (random.next() < 0.15) record[field.name] = pool[Math.floor(random.next() * pool.length)]
        if (record[field.name] === MISSING) delete record[field.name]
      }
      if (random.next() < 0.05) record['extra'] = 1
      list.push(asArrays ? fields.map((f) => record[f.name]) : random.next() < 0.03 ? 'not a record' : record)
    }
    const body: Record<string, unknown> = asArrays ? { inputs: list } : { instances: list }
    if (random.next() < 0.03) body['parameters'] = {}
    return body
  }

  const policies: RequestReaderOptions[] = [
    {},
    { unknownFields: 'ignore' },
    { unknownCategories: 'reject' },
    { unknownFields: 'ignore', unknownCategories: 'reject', maxInstances: 2 },
  ]

  it('accepts exactly the bodies read accepts, into the same rows, and refuses the others with the same error', () => {
    const random = new Random(7)
    let accepted = 0
    for (const options of policies) {
      const reader = createRequestReader(wide, options)
      for (let n = 0; n < 400; n++) {
        const body = randomBody(random)
        const slow = outcome(() => reader.read(body).batch)
        const fast = outcome(() => {
          const request = reader.readRows(body)
          return reader.merge([request], request.length)
        })
        expect(fast, JSON.stringify(body)).toEqual(slow)
        if ('batch' in slow) {
          accepted++
          // Accepted by the compiled check itself, not by falling back to `read`.
          expect(reader.readRows(body).batch, JSON.stringify(body)).toBeUndefined()
        }
      }
    }
    // Both outcomes are exercised.
    expect(accepted).toBeGreaterThan(200)
    expect(accepted).toBeLessThan(1400)
  })

  it('merges several requests into the rows of their bodies, in order, and keeps their values as read', () => {
    const reader = createRequestReader(wide)
    const bodies = [
      { instances: [valid, { ...valid, f: null, s: null, b: null, u: 'z' }] },
      { inputs: [[2.5, -4, true, 86_400_000, 'XYZ', 'y']] },
      { instances: [{ ...valid, t: '2001-03-04 10:00:00+02:00', s: 'SFO' }] },
    ]
    const requests: RowsRequest[] = bodies.map((body) => reader.readRows(body))
    // A request read by the general reader (kept as a batch) merges like the others.
    const general = reader.read(bodies[1])
    requests[1] = { length: 1, rows: general.rows, format: general.format, batch: general.batch }
    const merged = reader.merge(requests, 4)
    const same = reader.read({
      instances: [
        bodies[0]!.instances![0],
        bodies[0]!.instances![1],
        { f: 2.5, i: -4, b: true, t: 86_400_000, s: 'XYZ', u: 'y' },
        bodies[2]!.instances![0],
      ],
    })
    expect(merged.length).toBe(4)
    expect(decoded(merged)).toEqual(decoded(same.batch))
    expect(merged.columns.get('f')).toMatchObject({ nulls: Uint8Array.of(0, 1, 0, 0) })
    expect(wide.transform(merged).data).toEqual(wide.transform(same.batch).data)
    // A body changed after it was read does not change its rows.
    const body = { instances: [{ ...valid }] }
    const request = reader.readRows(body)
    body.instances[0]!.u = 'changed'
    expect(valueAt(reader.merge([request], 1).columns.get('u')!, 0)).toBe('y')
  })
})

import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDuckDb } from '../infra/duckdb.js'
import type { SgdClassifier } from '../models/linear/sgd-classifier.js'
import { writeSyntheticFlights } from '../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { trainJob } from './job.js'

let tmp: TempHome
let data: string

beforeAll(async () => {
  tmp = await createTempHome('class-weight')
  data = join(tmp.path, 'flights.parquet')
  await writeSyntheticFlights(data, { rows: 20_000, seed: 5 })
})
afterAll(async () => {
  await tmp?.remove()
})

describe("classWeight 'balanced' from streamed class counts", () => {
  it('weights each class n / (k × count) over the training rows, as scikit-learn computes it', async () => {
    const result = await trainJob({
      data,
      target: 'delay > 15',
      features: ['distance', 'origin'],
      paramAssignments: ['class_weight=balanced'],
      shuffle: 'none',
    })
    const db = await openDuckDb()
    let counts: number[]
    try {
      const rows = (
        await db.connection.runAndReadAll(
          `SELECT count(*) FILTER (WHERE NOT delay > 15), count(*) FILTER (WHERE delay > 15) FROM read_parquet('${data}')`,
        )
      ).getRowsJS()
      counts = (rows[0] as bigint[]).map(Number)
    } finally {
      await db.close()
    }
    const n = counts[0]! + counts[1]!
    const weights = (result.model as SgdClassifier).classWeights
    expect(weights[0]).toBeCloseTo(n / (2 * counts[0]!), 12)
    expect(weights[1]).toBeCloseTo(n / (2 * counts[1]!), 12)
    expect(weights[0]).not.toBeCloseTo(weights[1]!, 3)
  })
})

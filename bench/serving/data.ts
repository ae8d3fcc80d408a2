/**
 * Request bodies for the serving benchmark: real flights records (date, distance, origin, destination) from the
 * holdout period of flights-3m, as the JSON every server under test accepts: `{"instances":[{…}, …]}`.
 */
import { openDuckDb } from '../../src/infra/duckdb.js'
import { flightsParquet } from '../lib/peers.js'

/** One record as the predict route takes it; the date is ISO 8601 without an offset (UTC). */
export interface FlightRecord {
  readonly date: string
  readonly distance: number
  readonly origin: string
  readonly destination: string
}

/** Pre-serialized bodies: one record each, and `batchRows` records each. */
export interface RequestBodies {
  readonly single: readonly string[]
  readonly batch: readonly string[]
  readonly batchRows: number
}

/**
 * `singles` one-record bodies and `batches` bodies of `batchRows` records, all records distinct, from the holdout
 * period (after 2001-06-13: what the models did not train on), in a fixed pseudo-random order. Keep the counts in
 * the hundreds: autocannon builds every body once per connection before it starts.
 */
export async function requestBodies(options: {
  readonly singles: number
  readonly batches: number
  readonly batchRows: number
}): Promise<RequestBodies> {
  const { singles, batches, batchRows } = options
  const db = await openDuckDb({ threads: 1 })
  let records: FlightRecord[]
  try {
    const reader = await db.connection.runAndReadAll(
      `SELECT strftime(date, '%Y-%m-%dT%H:%M:%S') AS date, CAST(distance AS INTEGER) AS distance, origin, destination
       FROM read_parquet('${flightsParquet()}')
       WHERE date >= TIMESTAMP '2001-06-13'
       ORDER BY hash(date, origin, destination, distance)
       LIMIT ${singles + batches * batchRows}`,
    )
    records = reader.getRowObjectsJS().map((row) => ({
      date: String(row['date']),
      distance: Number(row['distance']),
      origin: String(row['origin']),
      destination: String(row['destination']),
    }))
  } finally {
    await db.close()
  }
  const single = records.slice(0, singles).map((record) => JSON.stringify({ instances: [record] }))
  const batch: string[] = []
  for (let start = singles; start + batchRows <= records.length; start += batchRows) {
    batch.push(JSON.stringify({ instances: records.slice(start, start + batchRows) }))
  }
  return { single, batch, batchRows }
}

import { test } from 'vitest'
import { openFileSource } from '../data/sources/file-source.js'
test('cost', async () => {
  const source = await openFileSource({ path: 'node_modules/vega-datasets/data/flights-3m.parquet', columns: ['date', 'delay', 'distance', 'origin', 'destination'], rowIndexColumn: 'row' })
  for (const size of [65536, 16384, 8192, 4096]) {
    const start = performance.now()
    let seen = 0
    for (let from = 0; from < 3_000_000; from += size)
      for await (const b of source.readSegment({ file: 0, start: from, end: Math.min(from + size, 3_000_000) })) seen += b.length
    console.log(size, seen, ((performance.now() - start) / 1000).toFixed(2), 's')
  }
  await source.close()
}, 120000)

import { test } from 'vitest'
import { openFileSource } from './file-source.js'
test('bench', async () => {
  const out: string[] = []
  for (let rep = 0; rep < 6; rep++) {
    const f = await openFileSource({ path: 'node_modules/vega-datasets/data/flights-3m.parquet', columns: ['date', 'delay', 'distance', 'origin', 'destination'] })
    const t1 = performance.now(); const c0 = process.cpuUsage()
    let n = 0
    for await (const b of f) n += b.length
    const cpu = process.cpuUsage(c0); 
    out.push(`${(n / (performance.now() - t1) * 1000 / 1e6).toFixed(2)}w/${(n / ((cpu.user + cpu.system) / 1e6) / 1e6).toFixed(2)}c`)
    await f.close()
  }
  console.log('M rows/s', out.join(' '))
})

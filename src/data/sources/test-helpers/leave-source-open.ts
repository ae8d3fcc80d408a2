/**
 * For file-source-reader.test.ts: reads a file source through its reader thread, leaves one pass with `break` and
 * abandons another mid-way without closing it or the source, then returns. The process must exit on its own: a reader
 * thread that kept it alive would hang it.
 */
import { openFileSource } from '../file-source.js'

const path = process.argv[2]
if (path === undefined) throw new Error('usage: leave-source-open.ts <parquet file>')
const source = await openFileSource({ path, batchSize: 1000, reader: 'worker' })
for await (const batch of source) {
  process.stdout.write(`first pass: ${batch.length} rows via ${source.reader}\n`)
  break
}
const abandoned = source[Symbol.asyncIterator]()
const first = await abandoned.next()
process.stdout.write(`abandoned pass: ${first.done === true ? 0 : first.value.length} rows\n`)

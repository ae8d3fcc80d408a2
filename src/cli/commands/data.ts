/**
 * `scaleml data inspect`: schema and per-column statistics of a file or glob in one streaming pass.
 * @module
 */
import type { Command } from 'commander'
import { inspectSource } from '../../data/inspect.js'
import { openFileSource } from '../../data/sources/file-source.js'
import { formatNumber, printJson, printTable } from '../output.js'

/** Adds `data …` to the program. */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('Look at data before training on it.')
  data
    .command('inspect')
    .description('Schema, row count and per-column null count / min / max / mean / distinct estimate, in one pass.')
    .argument('<path|glob>', 'Parquet or CSV file(s)')
    .option('--batch-size <n>', 'rows per batch', '65536')
    .option('--json', 'print JSON')
    .action(async (path: string, flags: { json?: boolean; batchSize: string }) => {
      const source = await openFileSource({ path, batchSize: Number(flags.batchSize) })
      try {
        const report = await inspectSource(source)
        if (flags.json) {
          printJson(report)
          return
        }
        process.stdout.write(`${path}: ${formatNumber(report.rows)} rows, ${report.columns.length} columns\n\n`)
        printTable(
          ['column', 'type', 'nulls', 'min', 'max', 'mean', 'distinct≈'],
          report.columns.map((c) => [
            c.name,
            c.type,
            formatNumber(c.nulls),
            show(c.min, c.type),
            show(c.max, c.type),
            c.mean === undefined || c.mean === null ? '' : formatNumber(c.mean),
            formatNumber(Math.round(c.distinct)),
          ]),
        )
      } finally {
        await source.close()
      }
    })
}

function show(value: unknown, type: string): string {
  if (value === undefined || value === null) return ''
  if (type === 'timestamp' && typeof value === 'number') return new Date(value).toISOString().replace('.000Z', 'Z')
  return typeof value === 'number' ? formatNumber(value) : String(value)
}

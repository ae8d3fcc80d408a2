/**
 * Output helpers: `--json` prints exactly one JSON object on stdout; people get aligned tables.
 * @module
 */

/** Prints one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** Prints rows as an aligned text table. */
export function printTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  for (const row of cells) {
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    )
  }
}

/** Formats a number for people: metrics with 4 decimals, large counts with separators. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US')
  return Math.abs(value) >= 1000 ? value.toLocaleString('en-US', { maximumFractionDigits: 1 }) : value.toFixed(4)
}

/** Formats bytes as MiB. */
export function formatBytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`
}

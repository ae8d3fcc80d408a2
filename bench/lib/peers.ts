/**
 * Shared plumbing for benchmarks: where the flights data is, the Python interpreter that has the peers, running
 * the scaleml CLI and a peer script as child processes, and printing a table.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flightsParquetPath } from '../../src/cli/commands/quickstart.js'
import { openDuckDb } from '../../src/infra/duckdb.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const CLI = join(ROOT, 'bin', 'scaleml.js')
export const BENCH_DATA = join(ROOT, '.bench-data')
/** Debian's interpreter, the one with python3-sklearn, python3-pandas, python3-scipy and python3-xgboost. */
export const PYTHON = process.env.SCALEML_BENCH_PYTHON ?? '/usr/bin/python3.11'

/** The 3M-row flights Parquet file from the npm package vega-datasets. */
export const flightsParquet = flightsParquetPath

/** Exits with a clear message unless the Python peer modules import. */
export function requirePython(modules: readonly string[], debianPackages: readonly string[]): void {
  const check = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' })
  if (check.status !== 0) {
    process.stderr.write(
      `This benchmark runs its peer under ${PYTHON} and needs the Python modules ${modules.join(', ')}.\n` +
        `Install them with: apt-get update && apt-get install -y ${debianPackages.join(' ')}\n` +
        `(or point SCALEML_BENCH_PYTHON at an interpreter that has them)\n${check.stderr ?? ''}`,
    )
    process.exit(2)
  }
  if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    process.stderr.write('Build scaleml first: npm run build\n')
    process.exit(2)
  }
}

/** flights-3m as CSV with `date` as `YYYY-MM-DD HH:MM:SS` (what pandas reads; Debian's pandas has no Parquet). */
export async function flightsCsv(): Promise<string> {
  mkdirSync(BENCH_DATA, { recursive: true })
  const out = join(BENCH_DATA, 'flights-3m.csv')
  if (existsSync(out)) return out
  process.stderr.write(`writing ${out} for the Python peer (once)\n`)
  const db = await openDuckDb()
  try {
    await db.connection.run(
      `COPY (SELECT strftime(date, '%Y-%m-%d %H:%M:%S') AS date, delay, distance, origin, destination FROM read_parquet('${flightsParquet()}')) TO '${out}.tmp' (HEADER, DELIMITER ',')`,
    )
  } finally {
    await db.close()
  }
  const { renameSync } = await import('node:fs')
  renameSync(`${out}.tmp`, out)
  return out
}

/** Runs a command to completion and parses the last line of its stdout as JSON. */
export function runJson(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr}`))
        return
      }
      try {
        resolve(JSON.parse(stdout.trim().startsWith('{') ? stdout : (stdout.trim().split('\n').pop() ?? '')))
      } catch (error) {
        reject(new Error(`could not parse the output of ${command}: ${String(error)}\n${stdout}`))
      }
    })
  })
}

/** Prints a Markdown table. */
export function printMarkdownTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`
  process.stdout.write(`${line(headers)}\n${line(headers.map(() => '---'))}\n${rows.map(line).join('\n')}\n`)
}

/** Formats a number with a fixed count of decimals. */
export const fixed = (value: unknown, digits: number): string =>
  typeof value === 'number' ? value.toFixed(digits) : 'n/a'
/** Formats a count with thousands separators. */
export const count = (value: unknown): string =>
  typeof value === 'number' ? Math.round(value).toLocaleString('en-US') : 'n/a'
/** Formats bytes as MiB. */
export const mib = (value: unknown): string => (typeof value === 'number' ? (value / 1048576).toFixed(0) : 'n/a')

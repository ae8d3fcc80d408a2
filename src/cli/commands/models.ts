/**
 * `scaleml models list | show | alias | unalias | compare | delete | restore | import | export | benchmark`: what the registry holds,
 * and how to name, retire and compare versions. Each command is one registry call; `--json` prints one object.
 * @module
 */
import type { Command } from 'commander'
import type { JsonValue } from '../../core/codec.js'
import { ScalemlError } from '../../core/errors.js'
import type { ModelComparison } from '../../registry/compare.js'
import { exportModelToJson } from '../../registry/export-json.js'
import { IMPORT_FORMATS, importModelFile } from '../../registry/import.js'
import { exportModelToOnnx } from '../../registry/onnx/export.js'
import { benchmarkModel } from '../../serve/model-benchmark.js'
import { formatNumber, printJson, printTable } from '../output.js'
import { addRegistryOptions, parseInteger, type RegistryFlags, withRegistry } from './shared.js'

interface JsonFlags extends RegistryFlags {
  json?: boolean
}

const REF_HELP = 'model reference: name (latest), name:version or name@alias'

/** Adds `models …` to the program. */
export function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('List, inspect, alias, compare and retire registered models.')

  addRegistryOptions(models.command('list'))
    .description('Every registered model with its latest version, aliases and metrics.')
    .option('--json', 'print JSON')
    .action((flags: JsonFlags) =>
      withRegistry(flags, async (registry) => {
        const entries = await registry.list()
        if (flags.json) {
          printJson({ models: entries })
          return
        }
        if (entries.length === 0) {
          process.stdout.write('no models registered yet (scaleml train … --register <name>)\n')
          return
        }
        printTable(
          ['name', 'latest', 'versions', 'aliases', 'created', 'metrics'],
          entries.map((e) => [
            e.name,
            e.latestVersion,
            e.versions.length,
            formatAliases(e.aliases),
            e.created,
            Object.entries(e.metrics)
              .map(([k, v]) => `${k}=${formatNumber(v)}`)
              .join(' '),
          ]),
        )
      }),
    )

  addRegistryOptions(models.command('show'))
    .description('The manifest of one model version: aliases, schema, params, metrics, lineage, files.')
    .argument('<ref>', REF_HELP)
    .option('--json', 'print JSON (the manifest, plus the aliases pointing at this version)')
    .action((ref: string, flags: JsonFlags) =>
      withRegistry(flags, async (registry) => {
        const shown = await registry.show(ref)
        if (flags.json) {
          printJson(shown)
          return
        }
        const out = process.stdout
        out.write(`${shown.name}:${shown.version}  ${shown.modelKind} (${shown.task})  created ${shown.created}\n`)
        out.write(`aliases: ${shown.aliases.length === 0 ? 'none' : shown.aliases.map((a) => `@${a}`).join(' ')}\n`)
        if (shown.target) out.write(`target: ${shown.target.expression}\n`)
        out.write(`inputs: ${shown.inputSchema.map((f) => `${f.name} ${f.type}${f.nullable ? '?' : ''}`).join(', ')}\n`)
        out.write(`params: ${JSON.stringify(shown.params)}\n`)
        out.write(
          `metrics: ${
            Object.entries(shown.metrics)
              .map(([k, v]) => `${k}=${formatNumber(v)}`)
              .join(' ') || 'none'
          }\n`,
        )
        out.write(`lineage: ${JSON.stringify(shown.lineage)}\n`)
        out.write(`files:\n`)
        for (const f of shown.files) out.write(`  ${f.path}  ${f.bytes} bytes  sha256 ${f.sha256.slice(0, 16)}…\n`)
      }),
    )

  addRegistryOptions(models.command('alias'))
    .description(
      'Point <name>@<alias> at a version (moving it if it points elsewhere), e.g. models alias flights stable 3.',
    )
    .argument('<name>', 'model name')
    .argument('<alias>', "alias: lower-case letters, digits, '_' or '-', starting with a letter")
    .argument('<version>', 'the version the alias points at')
    .option('--json', 'print JSON')
    .action((name: string, alias: string, version: string, flags: JsonFlags) =>
      withRegistry(flags, async (registry) => {
        const change = await registry.alias(name, alias, parseVersion(version))
        if (flags.json) {
          printJson(change)
          return
        }
        const was = change.previous === undefined ? '' : ` (was ${name}:${change.previous})`
        process.stdout.write(`${name}@${alias} → ${name}:${change.version}${was}\n`)
      }),
    )

  addRegistryOptions(models.command('unalias'))
    .description('Remove <name>@<alias>.')
    .argument('<name>', 'model name')
    .argument('<alias>', 'the alias to remove')
    .option('--json', 'print JSON')
    .action((name: string, alias: string, flags: JsonFlags) =>
      withRegistry(flags, async (registry) => {
        const change = await registry.unalias(name, alias)
        if (flags.json) {
          printJson(change)
          return
        }
        process.stdout.write(`removed ${name}@${alias} (it pointed at ${name}:${change.version})\n`)
      }),
    )

  addRegistryOptions(models.command('compare'))
    .description('Two versions side by side: metrics (with the change from the first) and params.')
    .argument('<a>', `the baseline (${REF_HELP})`)
    .argument('<b>', 'the version compared with it')
    .option('--json', 'print JSON')
    .action((a: string, b: string, flags: JsonFlags) =>
      withRegistry(flags, async (registry) => {
        const comparison = await registry.compare(a, b)
        if (flags.json) printJson(comparison)
        else printComparison(comparison)
      }),
    )

  addRegistryOptions(models.command('delete'))
    .description(
      'Soft-delete a version: hidden from listings, latest and serving, kept for restore. Refused while an alias points at it.',
    )
    .argument('<ref>', REF_HELP)
    .option('--restore', 'undo: restore the deleted version <ref> (name:version)')
    .option('--json', 'print JSON')
    .action((ref: string, flags: JsonFlags & { restore?: boolean }) =>
      withRegistry(flags, async (registry) => {
        const restore = flags.restore === true
        const change = restore ? await registry.restore(ref) : await registry.delete(ref)
        printDeletion(change, !restore, flags.json === true)
      }),
    )

  addRegistryOptions(models.command('restore'))
    .description('Restore a soft-deleted version (same as models delete --restore).')
    .argument('<ref>', 'name:version of the deleted version')
    .option('--json', 'print JSON')
    .action((ref: string, flags: JsonFlags) =>
      withRegistry(flags, async (registry) => {
        printDeletion(await registry.restore(ref), false, flags.json === true)
      }),
    )

  addRegistryOptions(models.command('import'))
    .description(
      'Register a model trained elsewhere (XGBoost JSON from save_model, or ONNX with float tensor inputs) so it is served like any other.',
    )
    .argument('<file>', 'the model file')
    .requiredOption('--format <format>', `model format: ${IMPORT_FORMATS.join(' | ')}`)
    .requiredOption('--name <name>', 'register under this name (next version)')
    .option('--features <a,b,…>', 'ONNX: feature names, in input order (default: the input names, or f0, f1, …)')
    .option('--classes <a,b,…>', 'ONNX classifiers: the classes, in probability-column order (default 0 … K−1)')
    .option('--task <task>', 'ONNX: classification | regression (default: classification when it has a label output)')
    .option('--json', 'print JSON')
    .action(
      async (
        file: string,
        flags: JsonFlags & { format: string; name: string; features?: string; classes?: string; task?: string },
      ) => {
        const content = await importModelFile(flags.format, file, onnxImportOptions(flags))
        await withRegistry(flags, async (registry) => {
          const ref = await registry.register(flags.name, content)
          if (flags.json) {
            printJson({ model: ref, modelKind: content.modelKind, task: content.task, features: content.features })
            return
          }
          process.stdout.write(
            `registered ${ref.name}:${ref.version} (${content.modelKind}, ${content.features.length} features) from ${file}\n`,
          )
        })
      },
    )

  addRegistryOptions(models.command('benchmark'))
    .description(
      'What serving each version costs, side by side: artifact size, load time, single-row latency p50/p99 and batch throughput (in process).',
    )
    .argument('<refs...>', REF_HELP)
    .option('--requests <n>', 'single-row requests timed per model', '2000')
    .option('--batch-rows <n>', 'rows per batch for the throughput figure', '1000')
    .option('--json', 'print JSON')
    .action(async (refs: string[], flags: JsonFlags & { requests: string; batchRows: string }) => {
      const singleRowRequests = parseInteger('--requests', flags.requests)
      const batchRows = parseInteger('--batch-rows', flags.batchRows)
      await withRegistry(flags, async (registry) => {
        const costs = []
        for (const ref of refs) costs.push(await benchmarkModel(registry, ref, { singleRowRequests, batchRows }))
        if (flags.json) {
          printJson({ models: costs })
          return
        }
        printTable(
          ['model', 'kind', 'artifact KiB', 'load ms', 'p50 µs', 'p99 µs', `rows/s (${batchRows}-row batches)`],
          costs.map((c) => [
            `${c.model.name}:${c.model.version}`,
            c.modelKind,
            formatNumber(Math.round(c.artifactBytes / 1024)),
            c.loadMs.toFixed(1),
            c.singleRow.p50Us.toFixed(1),
            c.singleRow.p99Us.toFixed(1),
            formatNumber(Math.round(c.batch.rowsPerSecond)),
          ]),
        )
      })
    })

  addRegistryOptions(models.command('export'))
    .description(
      'Write a registered version to a file: ONNX (standard operators, preprocessing included) for any ONNX runtime, or JSON.',
    )
    .argument('<ref>', REF_HELP)
    .requiredOption('--format <format>', 'onnx | json')
    .requiredOption('--out <file>', 'output file (written aside, then renamed: never partial)')
    .option(
      '--precision <p>',
      'ONNX: float64 (default; bit-identical preprocessing, standard ai.onnx operators) | float32 (classic ai.onnx.ml operators)',
      'float64',
    )
    .option('--json', 'print JSON')
    .action(async (ref: string, flags: JsonFlags & { format: string; out: string; precision: string }) => {
      if (flags.format !== 'onnx' && flags.format !== 'json') {
        throw new ScalemlError('INVALID_ARGUMENT', `--format must be onnx or json; got '${flags.format}'.`)
      }
      if (flags.precision !== 'float64' && flags.precision !== 'float32') {
        throw new ScalemlError('INVALID_ARGUMENT', `--precision must be float64 or float32; got '${flags.precision}'.`)
      }
      const precision = flags.precision
      await withRegistry(flags, async (registry) => {
        const result =
          flags.format === 'onnx'
            ? await exportModelToOnnx(registry, ref, flags.out, { precision })
            : { ...(await exportModelToJson(registry, ref, flags.out)), notes: [] as readonly string[] }
        if (flags.json) {
          printJson({ ...result, format: flags.format })
          return
        }
        process.stdout.write(
          `wrote ${result.model.name}:${result.model.version} as ${flags.format} to ${result.file} (${formatNumber(result.bytes)} bytes, sha256 ${result.sha256})\n`,
        )
        for (const note of result.notes) process.stdout.write(`  ${note}\n`)
      })
    })
}

/** The ONNX import flags as options (ignored by other formats). */
function onnxImportOptions(flags: { features?: string; classes?: string; task?: string }) {
  const list = (raw: string) =>
    raw
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean)
  if (flags.task !== undefined && flags.task !== 'classification' && flags.task !== 'regression') {
    throw new ScalemlError('INVALID_ARGUMENT', `--task must be classification or regression; got '${flags.task}'.`)
  }
  const classes = flags.classes === undefined ? undefined : list(flags.classes).map(Number)
  if (classes?.some((c) => !Number.isFinite(c))) {
    throw new ScalemlError('INVALID_ARGUMENT', `--classes must list numbers; got '${flags.classes}'.`)
  }
  return {
    ...(flags.features === undefined ? {} : { featureNames: list(flags.features) }),
    ...(classes === undefined ? {} : { classes }),
    ...(flags.task === undefined ? {} : { task: flags.task as 'classification' | 'regression' }),
  }
}

/** The version argument of `models alias`; the registry then says which versions exist. */
function parseVersion(raw: string): number {
  if (/^[1-9][0-9]{0,15}$/.test(raw)) return Number(raw)
  throw new ScalemlError('INVALID_ARGUMENT', `The version of 'models alias' must be a whole number ≥ 1; got '${raw}'.`)
}

function formatAliases(aliases: Readonly<Record<string, number>>): string {
  const entries = Object.entries(aliases)
  return entries.length === 0 ? '-' : entries.map(([alias, version]) => `@${alias}→${version}`).join(' ')
}

function printDeletion(
  change: { name: string; version: number; changed: boolean },
  deleted: boolean,
  json: boolean,
): void {
  const ref = `${change.name}:${change.version}`
  if (json) {
    printJson({ model: { name: change.name, version: change.version }, deleted, changed: change.changed })
    return
  }
  const text = deleted
    ? change.changed
      ? `deleted ${ref} (undo with: scaleml models restore ${ref})`
      : `${ref} was already deleted`
    : change.changed
      ? `restored ${ref}`
      : `${ref} was not deleted; nothing to restore`
  process.stdout.write(`${text}\n`)
}

function printComparison(c: ModelComparison): void {
  const a = `${c.a.name}:${c.a.version}`
  const b = `${c.b.name}:${c.b.version}`
  const rows: (string | number)[][] = [
    ['kind', c.a.modelKind, c.b.modelKind, c.a.modelKind === c.b.modelKind ? '' : '≠'],
    ['task', c.a.task, c.b.task, c.a.task === c.b.task ? '' : '≠'],
    ['created', c.a.created, c.b.created, ''],
    [
      'rows',
      c.a.rows === undefined ? '-' : formatNumber(c.a.rows),
      c.b.rows === undefined ? '-' : formatNumber(c.b.rows),
      '',
    ],
    ['features', c.a.features, c.b.features, c.features.onlyA.length + c.features.onlyB.length === 0 ? '' : '≠'],
  ]
  if (c.metrics.length > 0) rows.push(['metrics', '', '', ''])
  for (const m of c.metrics) {
    const difference = m.difference === undefined ? '' : `${m.difference >= 0 ? '+' : ''}${formatNumber(m.difference)}`
    rows.push([`  ${m.name}`, show(m.a), show(m.b), difference])
  }
  if (c.params.length > 0) rows.push(['params', '', '', ''])
  for (const p of c.params) rows.push([`  ${p.name}`, show(p.a), show(p.b), p.same ? '' : '≠'])
  printTable(['', a, b, 'change'], rows)
  if (c.features.onlyA.length > 0) process.stdout.write(`features only in ${a}: ${c.features.onlyA.join(', ')}\n`)
  if (c.features.onlyB.length > 0) process.stdout.write(`features only in ${b}: ${c.features.onlyB.join(', ')}\n`)
}

function show(value: JsonValue | undefined): string {
  if (value === undefined) return '-'
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : formatNumber(value)
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * `scaleml models list | show`: what the registry holds.
 * @module
 */
import type { Command } from 'commander'
import { IMPORT_FORMATS, importModelFile } from '../../registry/import.js'
import { openRegistry } from '../../registry/registry.js'
import { formatNumber, printJson, printTable } from '../output.js'
import { resolveHome } from './shared.js'

/** Adds `models …` to the program. */
export function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('List and inspect registered models.')
  models
    .command('list')
    .description('Every registered model with its latest version and metrics.')
    .option('--home <dir>', 'registry folder (default: $SCALEML_HOME or ./.scaleml)')
    .option('--json', 'print JSON')
    .action(async (flags: { home?: string; json?: boolean }) => {
      const registry = await openRegistry({ home: resolveHome(flags.home) })
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
        ['name', 'latest', 'versions', 'created', 'metrics'],
        entries.map((e) => [
          e.name,
          e.latestVersion,
          e.versions.length,
          e.created,
          Object.entries(e.metrics ?? {})
            .map(([k, v]) => `${k}=${formatNumber(v)}`)
            .join(' '),
        ]),
      )
    })
  models
    .command('show')
    .description('The manifest of one model version: schema, params, metrics, lineage, files.')
    .argument('<ref>', 'name (latest) or name:version')
    .option('--home <dir>', 'registry folder (default: $SCALEML_HOME or ./.scaleml)')
    .option('--json', 'print JSON')
    .action(async (ref: string, flags: { home?: string; json?: boolean }) => {
      const registry = await openRegistry({ home: resolveHome(flags.home) })
      const manifest = await registry.show(ref)
      if (flags.json) {
        printJson(manifest)
        return
      }
      const out = process.stdout
      out.write(
        `${manifest.name}:${manifest.version}  ${manifest.modelKind} (${manifest.task})  created ${manifest.created}\n`,
      )
      if (manifest.target) out.write(`target: ${manifest.target.expression}\n`)
      out.write(
        `inputs: ${manifest.inputSchema.map((f) => `${f.name} ${f.type}${f.nullable ? '?' : ''}`).join(', ')}\n`,
      )
      out.write(`params: ${JSON.stringify(manifest.params)}\n`)
      out.write(
        `metrics: ${
          Object.entries(manifest.metrics)
            .map(([k, v]) => `${k}=${formatNumber(v)}`)
            .join(' ') || 'none'
        }\n`,
      )
      out.write(`lineage: ${JSON.stringify(manifest.lineage)}\n`)
      out.write(`files:\n`)
      for (const f of manifest.files) out.write(`  ${f.path}  ${f.bytes} bytes  sha256 ${f.sha256.slice(0, 16)}…\n`)
    })
  models
    .command('import')
    .description('Register a model trained elsewhere (XGBoost JSON from save_model) so it is served like any other.')
    .argument('<file>', 'the model file')
    .requiredOption('--format <format>', `model format: ${IMPORT_FORMATS.join(' | ')}`)
    .requiredOption('--name <name>', 'register under this name (next version)')
    .option('--home <dir>', 'registry folder (default: $SCALEML_HOME or ./.scaleml)')
    .option('--json', 'print JSON')
    .action(async (file: string, flags: { format: string; name: string; home?: string; json?: boolean }) => {
      const content = await importModelFile(flags.format, file)
      const registry = await openRegistry({ home: resolveHome(flags.home) })
      try {
        const ref = await registry.register(flags.name, content)
        if (flags.json) {
          printJson({ model: ref, modelKind: content.modelKind, task: content.task, features: content.features })
          return
        }
        process.stdout.write(
          `registered ${ref.name}:${ref.version} (${content.modelKind}, ${content.features.length} features) from ${file}\n`,
        )
      } finally {
        await registry.close()
      }
    })
}

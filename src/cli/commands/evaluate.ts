/**
 * `scaleml evaluate`: score a registered model on a file or glob.
 * @module
 */
import type { Command } from 'commander'
import { ScalemlError } from '../../core/errors.js'
import { openRegistry } from '../../registry/registry.js'
import { loadServableModel } from '../../serve/model-loader.js'
import { evaluateOnData } from '../../train/evaluate-data.js'
import { formatNumber, printJson, printTable } from '../output.js'
import { createProgress } from '../progress.js'
import { addRegistryOptions, parseInteger, registryOptionsFrom } from './shared.js'

interface EvaluateFlags {
  model: string
  data: string
  target?: string
  batchSize: string
  home?: string
  registry?: string
  json?: boolean
}

/** Adds `evaluate` to the program. */
export function registerEvaluateCommand(program: Command): void {
  addRegistryOptions(program.command('evaluate'))
    .description(
      'Score a registered model on labelled data: classification or regression metrics in one streaming pass.',
    )
    .requiredOption('--model <ref>', 'model reference: name (latest) or name:version')
    .requiredOption('--data <path|glob>', 'Parquet or CSV file(s) holding the model inputs and the label')
    .option('--target <column|expression>', 'label (default: the target the model was trained on)')
    .option('--batch-size <n>', 'rows per batch', '65536')
    .option('--json', 'print one JSON object')
    .action(async (flags: EvaluateFlags) => {
      const registry = await openRegistry(registryOptionsFrom(flags))
      const servable = await loadServableModel(registry, flags.model)
      await registry.close()
      const target = flags.target ?? servable.manifest.target?.expression
      if (target === undefined && servable.model.task !== 'clustering') {
        throw new ScalemlError('INVALID_ARGUMENT', `Model ${flags.model} stores no target; pass --target.`)
      }
      const progress = createProgress(!flags.json)
      let report: Awaited<ReturnType<typeof evaluateOnData>>
      try {
        report = await evaluateOnData({
          data: flags.data,
          ...(target === undefined ? {} : { target }),
          pipeline: servable.pipeline,
          model: servable.model,
          batchSize: parseInteger('--batch-size', flags.batchSize),
          onProgress: (e) => progress.update(e),
        })
      } finally {
        progress.stop()
      }
      const out = { model: { name: servable.name, version: servable.version }, target, ...report }
      if (flags.json) {
        printJson(out)
        return
      }
      process.stdout.write(
        `${servable.name}:${servable.version} on ${flags.data} (${formatNumber(report.rows)} rows${target ? `, target ${target}` : ''})\n`,
      )
      for (const [k, v] of Object.entries(report.metrics))
        process.stdout.write(`  ${k.padEnd(12)} ${formatNumber(v)}\n`)
      if (report.confusionMatrix) {
        const { classes, counts } = report.confusionMatrix
        const label = (c: number) => (servable.manifest.target?.kind === 'boolean' ? String(c === 1) : String(c))
        process.stdout.write('\nconfusion matrix (rows: true, columns: predicted)\n')
        printTable(
          ['', ...classes.map(label)],
          counts.map((row, t) => [label(classes[t]!), ...row.map((n) => formatNumber(n))]),
        )
      }
    })
}

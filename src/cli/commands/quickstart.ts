/**
 * `scaleml quickstart` (what `npm start` runs): train `flights-delay` on 3M real flights if it is not registered,
 * then serve it and print a request to try.
 * @module
 */

import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Command } from 'commander'
import { isScalemlError } from '../../core/errors.js'
import { openRegistry } from '../../registry/registry.js'
import { loadServableModels } from '../../serve/model-loader.js'
import { trainJob } from '../../train/job.js'
import { formatNumber } from '../output.js'
import { createProgress } from '../progress.js'
import { registerTrained } from '../register-trained.js'
import { startServer } from './serve.js'
import { addRegistryOptions, parseInteger, registryOptionsFrom, resolveHome } from './shared.js'

/** The model the quickstart trains and serves. */
export const QUICKSTART_MODEL = 'flights-delay'

/** Where npm installed vega-datasets' 3M-row flights file. */
export function flightsParquetPath(): string {
  // The package's exports map hides package.json, so find its root from the entry point.
  let dir = dirname(createRequire(import.meta.url).resolve('vega-datasets'))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return join(dir, 'data', 'flights-3m.parquet')
}

/** Adds `quickstart` to the program. */
export function registerQuickstartCommand(program: Command): void {
  addRegistryOptions(program.command('quickstart'))
    .description(`Train '${QUICKSTART_MODEL}' on flights-3m.parquet if it is not registered yet, then serve it.`)
    .option('--port <n>', 'port to listen on', process.env.PORT ?? '8080')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--epochs <n>', 'passes over the training data', '1')
    .option('--no-serve', 'train (if needed) and exit without serving')
    .action(
      async (flags: {
        port: string
        host: string
        home?: string
        registry?: string
        epochs: string
        serve: boolean
      }) => {
        const home = resolveHome(flags.home)
        const registryOptions = registryOptionsFrom(flags)
        const registry = await openRegistry(registryOptions)
        if (await isRegistered(registry, QUICKSTART_MODEL)) {
          process.stderr.write(`${QUICKSTART_MODEL} is registered in ${home}; reusing it.\n`)
        } else {
          const data = flightsParquetPath()
          process.stderr.write(
            `training ${QUICKSTART_MODEL} on ${data} (target "delay > 15", last 10% by date held out)\n`,
          )
          const progress = createProgress(true)
          let result: Awaited<ReturnType<typeof trainJob>>
          try {
            result = await trainJob({
              data,
              target: 'delay > 15',
              features: ['date', 'distance', 'origin', 'destination'],
              holdout: 'time:date:0.1',
              epochs: parseInteger('--epochs', flags.epochs),
              seed: 0,
              onProgress: (e) => progress.update(e),
            })
          } finally {
            progress.stop()
          }
          const ref = await registerTrained(registryOptions, QUICKSTART_MODEL, result)
          const metrics = Object.entries(result.metrics)
            .map(([k, v]) => `${k} ${formatNumber(v)}`)
            .join(', ')
          process.stderr.write(
            `registered ${ref.name}:${ref.version} in ${result.seconds.toFixed(1)} s; holdout (${formatNumber(result.holdout?.rows ?? 0)} rows): ${metrics}\n`,
          )
        }
        if (!flags.serve) return
        const models = await loadServableModels(registry)
        const server = await startServer({
          models,
          port: parseInteger('--port', flags.port),
          host: flags.host,
          log: false,
        })
        const port = Number(new URL(server.url).port)
        process.stdout.write(
          `\nscaleml is serving ${[...models.values()].map((m) => `${m.name}:${m.version}`).join(', ')} on ${server.url}\nTry:\n\n${exampleCurl(port)}\n\n(Ctrl-C stops the server)\n`,
        )
        await server.closed
      },
    )
}

/** The request the README and the quickstart print. */
export function exampleCurl(port: number): string {
  const body = JSON.stringify({
    instances: [{ date: '2001-06-20T17:30:00', distance: 1744, origin: 'ORD', destination: 'LAX' }],
  })
  return `curl -s localhost:${port}/v1/models/${QUICKSTART_MODEL}/predict -H 'content-type: application/json' -d '${body}'`
}

async function isRegistered(registry: Awaited<ReturnType<typeof openRegistry>>, name: string): Promise<boolean> {
  try {
    await registry.resolve(name)
    return true
  } catch (error) {
    if (isScalemlError(error, 'MODEL_NOT_FOUND')) return false
    throw error
  }
}

/**
 * `scaleml serve`: serve the latest version of every registered model over HTTP.
 * @module
 */
import type { Command } from 'commander'
import { openRegistry } from '../../registry/registry.js'
import { createApp } from '../../serve/http/app.js'
import { loadServableModels } from '../../serve/model-loader.js'
import { parseInteger, resolveHome } from './shared.js'

interface ServeFlags {
  port: string
  host: string
  home?: string
  log?: boolean
}

/** Adds `serve` to the program. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve the latest version of every registered model over HTTP.')
    .option('--port <n>', 'port to listen on', process.env.PORT ?? '8080')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--home <dir>', 'registry folder (default: $SCALEML_HOME or ./.scaleml)')
    .option('--log', 'log every request as JSON lines')
    .action(async (flags: ServeFlags) => {
      const registry = await openRegistry({ home: resolveHome(flags.home) })
      const models = await loadServableModels(registry)
      const server = await startServer({
        models,
        port: parseInteger('--port', flags.port),
        host: flags.host,
        log: flags.log === true,
      })
      process.stderr.write(
        `serving ${[...models.values()].map((m) => `${m.name}:${m.version}`).join(', ') || 'no models'} on ${server.url}\n`,
      )
      await server.closed
    })
}

/** A running server. */
export interface RunningServer {
  readonly url: string
  /** Resolves once the server has shut down after SIGTERM/SIGINT. */
  readonly closed: Promise<void>
}

/** Starts the HTTP app and drains in-flight requests on SIGTERM/SIGINT before resolving `closed`. */
export async function startServer(options: {
  models: Parameters<typeof createApp>[0]['models']
  port: number
  host: string
  log: boolean
}): Promise<RunningServer> {
  const app = createApp({ models: options.models, logger: options.log })
  const address = await app.listen({ port: options.port, host: options.host })
  const closed = new Promise<void>((resolve) => {
    const shutdown = () => {
      process.stderr.write('shutting down: finishing in-flight requests\n')
      app.close().then(resolve, resolve)
    }
    process.once('SIGTERM', shutdown)
    process.once('SIGINT', shutdown)
  })
  return { url: address.replace('[::1]', 'localhost'), closed }
}

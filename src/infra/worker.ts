/**
 * Starting worker threads whose code is a module of this package, whether the package runs compiled (`dist/*.js`)
 * or from its TypeScript sources (tests, benches, `tsx`). Node cannot load a `.ts` worker on its own, so from
 * sources the worker gets tsx's loader.
 * @module
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * The URL of the worker module `name` next to the caller: `name.js` when it exists (compiled), else `name.ts`.
 *
 * @example
 * const url = siblingModule(import.meta.url, 'histogram-worker')
 */
export function siblingModule(callerUrl: string, name: string): URL {
  const compiled = new URL(`./${name}.js`, callerUrl)
  if (existsSync(fileURLToPath(compiled))) return compiled
  return new URL(`./${name}.ts`, callerUrl)
}

/**
 * Starts a worker on the module at `url`; a `.ts` module runs with tsx's loader (a devDependency: sources are only
 * run in development).
 *
 * @example
 * const worker = startModuleWorker(siblingModule(import.meta.url, 'histogram-worker'), { workerData: { id: 1 } })
 */
export function startModuleWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options)
  // `--import tsx` in execArgv registers the loader too late for the worker's entry module; registering it from a
  // small bootstrap first, then importing the entry, works.
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(bootstrap, { ...options, eval: true })
}

/**
 * A child process for the registry's crash and concurrency tests, run as `node --import tsx register-child.ts …`:
 * - `big <target> <name> <files> <mbPerFile>`: registers one large artifact (killed mid-write by the parent);
 * - `many <target> <name> <count> <tag>`: prints `ready`, waits for a line on stdin, then registers `count` versions
 *   at once and prints their numbers as JSON.
 * `<target>` is `files:<home>` (the files store), `home:<dir>` (the default registry under a home) or a registry
 * URL (`sqlite:<file>`, `postgres://…`). Test-only; never imported by the library.
 * @module
 */
import { createInterface } from 'node:readline'
import { openRegistry, type Registry } from '../registry.js'
import { createFilesStore } from '../stores/files.js'
import { sampleContent } from './sample-content.js'

function open(target: string): Promise<Registry> {
  if (target.startsWith('files:')) {
    const home = target.slice('files:'.length)
    return openRegistry({ home, store: createFilesStore({ home }) })
  }
  if (target.startsWith('home:')) return openRegistry({ home: target.slice('home:'.length) })
  return openRegistry({ url: target })
}

async function main(): Promise<void> {
  const [mode, target, name, a, b] = process.argv.slice(2)
  if (target === undefined || name === undefined) throw new Error('usage: register-child.ts big|many <target> <name> …')
  const registry = await open(target)
  if (mode === 'big') {
    const files = Number(a)
    const elements = (Number(b) * 1024 * 1024) / 8
    const state: Record<string, Float64Array> = {}
    for (let f = 0; f < files; f++) {
      const array = new Float64Array(elements)
      for (let i = 0; i < elements; i++) array[i] = i * 0.5 + f
      state[`w${f}`] = array
    }
    const { version } = await registry.register(name, sampleContent({ model: { kind: 'big', state } }))
    process.stdout.write(`registered ${version}\n`)
  } else if (mode === 'many') {
    const count = Number(a)
    const tag = b ?? 'child'
    process.stdout.write('ready\n')
    const lines = createInterface({ input: process.stdin })
    await new Promise<void>((resolve) => lines.once('line', () => resolve()))
    lines.close()
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        registry.register(name, sampleContent({ model: { kind: 'tagged', tag: `${tag}-${i}` } })),
      ),
    )
    process.stdout.write(`${JSON.stringify(results.map((r) => r.version))}\n`)
  } else {
    throw new Error(`unknown mode ${mode}`)
  }
  await registry.close()
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})

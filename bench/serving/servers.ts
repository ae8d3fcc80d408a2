/**
 * Child servers for the serving benchmark: started on a free loopback port, polled until they answer, and always
 * stopped — on success, on error, on Ctrl-C and on a deadline. Each child runs in its own process group so that
 * the processes it forks (uvicorn or cluster workers) go with it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** A running child server. */
export interface ChildServer {
  readonly name: string
  readonly url: string
  readonly pid: number
  /** The last lines the child wrote to stderr/stdout (for error messages). */
  output(): string
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves when it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>
}

const running = new Set<ChildProcess>()

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // Already gone.
  }
}

/** Kills every child still running (synchronously: safe in an `exit` handler). */
export function killAllChildren(): void {
  for (const child of running) killGroup(child, 'SIGKILL')
  running.clear()
}

let hooksInstalled = false
/**
 * Makes sure no child outlives the benchmark: on exit, on SIGINT/SIGTERM, on an uncaught error, and when
 * `deadlineMs` passes (then it exits 3 saying so).
 */
export function installCleanup(deadlineMs: number): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', killAllChildren)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the servers\n`)
      killAllChildren()
      process.exit(130)
    })
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${error.stack ?? String(error)}\n`)
    killAllChildren()
    process.exit(1)
  })
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    killAllChildren()
    process.exit(1)
  })
  setTimeout(() => {
    process.stderr.write(`\nThe benchmark passed its time limit (${Math.round(deadlineMs / 60_000)} min); stopping.\n`)
    killAllChildren()
    process.exit(3)
  }, deadlineMs).unref()
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'))
        else resolve(address.port)
      })
    })
  })
}

/** How to start a server and how to know it is ready. */
export interface StartOptions {
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
  readonly port: number
  readonly env?: Record<string, string>
  readonly cwd?: string
  /** A request that answers 2xx once the server can serve (a real predict request, so models are loaded). */
  readonly ready: { readonly path: string; readonly body?: string }
  readonly timeoutMs: number
}

/** Starts a child server and waits until `ready` answers 2xx; throws with the child's output if it never does. */
export async function startServer(options: StartOptions): Promise<ChildServer> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  running.add(child)
  let tail = ''
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child)
      resolve()
    })
  })
  const url = `http://127.0.0.1:${options.port}`
  const server: ChildServer = {
    name: options.name,
    url,
    pid: child.pid ?? -1,
    output: () => tail,
    async stop(graceMs = 5000) {
      killGroup(child, 'SIGTERM')
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
  const deadline = Date.now() + options.timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail}`)
    }
    try {
      const response = await fetch(url + options.ready.path, {
        method: options.ready.body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        ...(options.ready.body === undefined ? {} : { body: options.ready.body }),
        signal: AbortSignal.timeout(2000),
      })
      const text = await response.text()
      if (response.ok) return server
      last = `${response.status} ${text.slice(0, 300)}`
    } catch (error) {
      last = String(error)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  await server.stop(1000)
  throw new Error(
    `${options.name} was not ready within ${options.timeoutMs / 1000} s (last answer: ${last}). Output:\n${tail}`,
  )
}

/**
 * Runs `register-child.ts` for the crash and concurrency tests of every store: spawning, collecting output, killing
 * a registration mid-write, and registering from two processes at once. Test-only.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const childScript = fileURLToPath(new URL('./register-child.ts', import.meta.url))

/** Runs the test child through tsx (a devDependency), from the repo root so `--import tsx` resolves. */
export function spawnRegisterChild(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', childScript, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SCALEML_REGISTRY: '' },
  })
}

/** How a child ended. */
export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Collects a child's output; `exit` resolves when it has closed. */
export function collect(child: ChildProcess): { exit: Promise<Exit>; stdout: () => string } {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exit = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { exit, stdout: () => stdout }
}

/** What one attempt at killing a registration saw. */
export interface KillAttempt {
  /** The probe said the write was under way and the child was SIGKILLed before it said it had registered. */
  readonly killedMidWrite: boolean
  readonly exit: Exit
}

/**
 * Starts `big <target> <name> <files> <mbPerFile>` and SIGKILLs it as soon as `midWrite()` says the registration is
 * writing. A child that finishes first proves nothing, so the caller retries (rarely needed).
 */
export async function killWhileRegistering(options: {
  readonly target: string
  readonly name: string
  readonly files: number
  readonly mbPerFile: number
  readonly midWrite: () => Promise<boolean>
}): Promise<KillAttempt> {
  const child = spawnRegisterChild([
    'big',
    options.target,
    options.name,
    String(options.files),
    String(options.mbPerFile),
  ])
  const { exit, stdout } = collect(child)
  let exited = false
  void exit.then(() => (exited = true))
  let killed = false
  while (!exited) {
    if (await options.midWrite()) {
      if (!stdout().includes('registered')) {
        child.kill('SIGKILL')
        killed = true
      }
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  const result = await exit
  return { killedMidWrite: killed && result.signal === 'SIGKILL', exit: result }
}

/**
 * Two processes register `name` `count` times each, all at once; returns the versions each got, by tag (`a`, `b`).
 * Both children are started and waiting before either begins, so their registrations overlap.
 */
export async function registerFromTwoProcesses(
  target: string,
  name: string,
  count: number,
): Promise<Map<string, number[]>> {
  const children = ['a', 'b'].map((tag) => {
    const child = spawnRegisterChild(['many', target, name, String(count), tag])
    return { tag, child, ...collect(child) }
  })
  for (const { child, stdout, exit } of children) {
    let exited = false
    void exit.then(() => (exited = true))
    while (!stdout().includes('ready') && !exited) await new Promise((resolve) => setTimeout(resolve, 5))
    if (exited) expect.fail(`child ${child.pid} exited before it was ready: ${(await exit).stderr}`)
  }
  for (const { child } of children) child.stdin?.write('go\n')
  const results = await Promise.all(children.map((c) => c.exit))
  const versionsByTag = new Map<string, number[]>()
  for (const [i, result] of results.entries()) {
    expect(result.code, result.stderr).toBe(0)
    const line = result.stdout.trim().split('\n').pop()!
    versionsByTag.set(children[i]!.tag, JSON.parse(line) as number[])
  }
  return versionsByTag
}

/**
 * Studies across processes, as users run them: a study process killed with SIGKILL and resumed repeats no finished
 * trial; two processes sharing a PostgreSQL study never run the same trial twice.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { openStudyStore } from './storage/study-store.js'
import { TEST_POSTGRES_URL, uniqueSchema } from './test-helpers/postgres.js'

const CHILD = fileURLToPath(new URL('./test-helpers/study-child.ts', import.meta.url))

interface Child {
  readonly process: ChildProcess
  readonly lines: string[]
  readonly exited: Promise<number | null>
  stderr(): string
}

function startChild(config: Record<string, unknown>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let buffer = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString()
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    lines.push(...parts)
  })
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { process: child, lines, exited, stderr: () => stderr }
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** `pid number rung` lines of the objective's log. */
async function executions(logFile: string): Promise<{ pid: number; number: number; rung: number }[]> {
  const text = await readFile(logFile, 'utf8').catch(() => '')
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, number, rung] = line.split(' ').map(Number)
      return { pid: pid!, number: number!, rung: rung! }
    })
}

let tmp: TempHome
beforeEach(async () => {
  tmp = await createTempHome('tune-processes')
})
afterEach(async () => {
  await tmp.remove()
})

describe('resume after SIGKILL', () => {
  it.each([
    ['tpe', 16],
    ['halving', 27],
  ] as const)('%s: the resumed study repeats no finished trial or rung', async (strategy, nTrials) => {
    const storage = join(tmp.path, 'studies.db')
    const logFile = join(tmp.path, `${strategy}.log`)
    const config = { storage, study: `kill-${strategy}`, strategy, nTrials, delayMs: 60, logFile }
    const first = startChild(config)
    // Kill it in the middle of a job: five rungs reported, and one more started (its log line is written first).
    let started = 0
    const poll = setInterval(() => {
      void executions(logFile).then((log) => {
        started = log.length
      })
    }, 5)
    try {
      await until(
        () => (first.lines.length >= 5 && started > first.lines.length) || first.process.exitCode !== null,
        'five finished rungs and one under way',
      )
    } finally {
      clearInterval(poll)
    }
    first.process.kill('SIGKILL')
    await first.exited
    expect(first.lines).not.toContain('done')

    const store = await openStudyStore(storage)
    const killed = (await store.readStudy(config.study))!.trials
    await store.close()
    const finishedBefore = new Set<string>()
    for (const t of killed) for (const r of t.rungs) finishedBefore.add(`${t.number}:${r.rung}`)
    expect(finishedBefore.size).toBeGreaterThanOrEqual(5)
    // What the killed process was running is left 'running', held by a process that no longer exists.
    const interrupted = killed.filter((t) => t.state === 'running')

    const second = startChild(config)
    expect(await second.exited, second.stderr()).toBe(0)
    expect(second.lines[second.lines.length - 1]).toBe('done')

    const log = await executions(logFile)
    const resumedRuns = log.filter((e) => e.pid === second.process.pid)
    expect(resumedRuns.length).toBeGreaterThan(0)
    for (const run of resumedRuns) expect(finishedBefore.has(`${run.number}:${run.rung}`)).toBe(false)
    // …while the rung that was under way is run again, at once (its owner's process is gone).
    for (const t of interrupted) {
      expect(resumedRuns.some((r) => r.number === t.number && r.rung === t.rung)).toBe(true)
    }

    const after = await openStudyStore(storage)
    const trials = (await after.readStudy(config.study))!.trials
    await after.close()
    expect(trials.every((t) => t.state === 'complete' || t.state === 'pruned')).toBe(true)
    // Every finished rung is recorded once, and no rung finished twice.
    const ranLines = [...first.lines, ...second.lines].filter((l) => l.startsWith('ran '))
    expect(new Set(ranLines).size).toBe(ranLines.length)
    expect(trials.reduce((n, t) => n + t.rungs.length, 0)).toBe(ranLines.length)
    if (strategy === 'tpe') expect(trials.length).toBe(nTrials)
  })
})

describe('two processes on one PostgreSQL study', () => {
  it('share the trials without running any twice', async () => {
    const schema = uniqueSchema()
    try {
      const storage = `${TEST_POSTGRES_URL}?schema=${schema.name}`
      const logFile = join(tmp.path, 'pg.log')
      const config = { storage, study: 'shared', strategy: 'random', nTrials: 40, delayMs: 25, logFile }
      const a = startChild(config)
      const b = startChild(config)
      const [codeA, codeB] = await Promise.all([a.exited, b.exited])
      expect(codeA, a.stderr()).toBe(0)
      expect(codeB, b.stderr()).toBe(0)
      const ranA = a.lines.filter((l) => l.startsWith('ran ')).map((l) => Number(l.split(' ')[1]))
      const ranB = b.lines.filter((l) => l.startsWith('ran ')).map((l) => Number(l.split(' ')[1]))
      expect(ranA.length).toBeGreaterThan(0)
      expect(ranB.length).toBeGreaterThan(0)
      expect(ranA.filter((n) => ranB.includes(n))).toEqual([])
      expect([...ranA, ...ranB].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i))
      // The objective ran each trial exactly once (not merely reported once).
      const log = await executions(logFile)
      expect(log.length).toBe(40)
      expect(new Set(log.map((e) => e.number)).size).toBe(40)
      const store = await openStudyStore(storage)
      const trials = (await store.readStudy('shared'))!.trials
      await store.close()
      expect(trials.length).toBe(40)
      expect(trials.every((t) => t.state === 'complete' && t.rungs.length === 1)).toBe(true)
    } finally {
      await schema.drop()
    }
  })
})

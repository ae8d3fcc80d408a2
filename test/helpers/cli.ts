/**
 * Runs the built `scaleml` CLI as a child process, the way a user does (`npm test` builds `dist/` first).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The CLI entry point. */
export const CLI = fileURLToPath(new URL('../../bin/scaleml.js', import.meta.url))

/** What a CLI run printed and how it ended. */
export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `scaleml ...args` to completion. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** True when the text looks like a JavaScript stack trace (users must never see one for their own mistakes). */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+:\d+:\d+/.test(text)
}

/**
 * The package version and, when run from a git checkout, the commit — recorded in every artifact's lineage.
 * @module
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const packageJsonUrl = new URL('../../package.json', import.meta.url)

/** This package's version from package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packageJsonUrl, 'utf8')) as { version: string }
  return pkg.version
}

/** The git commit of the installed code, when it is a git checkout; undefined otherwise. */
export function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: new URL('.', packageJsonUrl),
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
    })
      .toString()
      .trim()
  } catch {
    return undefined
  }
}

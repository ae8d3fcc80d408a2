/**
 * Small helpers shared by the commands: repeatable flags, integer flags, the registry home and URL.
 * @module
 */
import type { Command } from 'commander'
import { ScalemlError } from '../../core/errors.js'
import { openRegistry, type Registry, type RegistryOptions } from '../../registry/registry.js'
import { REGISTRY_URL_FORMS } from '../../registry/stores/open-store.js'

/** Commander reducer for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** Parses an integer flag or throws naming the flag. */
export function parseInteger(flag: string, raw: string): number {
  const value = Number(raw)
  if (!Number.isInteger(value))
    throw new ScalemlError('INVALID_ARGUMENT', `${flag} expects a whole number; got '${raw}'.`)
  return value
}

/** The registry folder: the flag, else $SCALEML_HOME, else ./.scaleml. */
export function resolveHome(flag: string | undefined): string {
  return flag ?? process.env.SCALEML_HOME ?? '.scaleml'
}

/** The flags of every command that opens the registry. */
export interface RegistryFlags {
  home?: string
  registry?: string
}

/**
 * Adds `--home` and `--registry` to a command. Which registry is used: `--registry`, else `$SCALEML_REGISTRY`,
 * else the SQLite registry `<home>/registry.db`.
 *
 * @example
 * addRegistryOptions(program.command('serve')).action(async (flags: ServeFlags) => {
 *   const registry = await openRegistry(registryOptionsFrom(flags))
 * })
 */
export function addRegistryOptions(command: Command): Command {
  return command
    .option('--home <dir>', 'scaleml home (default: $SCALEML_HOME or ./.scaleml)')
    .option('--registry <url>', `registry: ${REGISTRY_URL_FORMS} (default: $SCALEML_REGISTRY, else <home>/registry.db)`)
}

/** `openRegistry` options from the flags; `$SCALEML_REGISTRY` is applied by `openRegistry` when `--registry` is absent. */
export function registryOptionsFrom(flags: RegistryFlags): RegistryOptions {
  return {
    home: resolveHome(flags.home),
    ...(flags.registry === undefined || flags.registry === '' ? {} : { url: flags.registry }),
  }
}

/** Opens the registry the flags name, runs `fn`, and closes it whatever happens. */
export async function withRegistry<T>(flags: RegistryFlags, fn: (registry: Registry) => Promise<T>): Promise<T> {
  const registry = await openRegistry(registryOptionsFrom(flags))
  try {
    return await fn(registry)
  } finally {
    await registry.close()
  }
}

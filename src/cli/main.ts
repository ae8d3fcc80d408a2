/**
 * The `scaleml` command line. Each command lives in `commands/` and is a thin shell over one library call.
 * @module
 */
import { Command, CommanderError } from 'commander'
import { registerDataCommands } from './commands/data.js'
import { registerEvaluateCommand } from './commands/evaluate.js'
import { registerModelsCommands } from './commands/models.js'
import { registerPredictCommand } from './commands/predict.js'
import { registerQuickstartCommand } from './commands/quickstart.js'
import { registerServeCommand } from './commands/serve.js'
import { registerTrainCommand } from './commands/train.js'
import { registerTuneCommand } from './commands/tune.js'
import { reportError } from './exit.js'
import { packageVersion } from './version.js'

/** Builds the command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command()
    .name('scaleml')
    .description('Production machine learning at scale for tabular data: train out-of-core, register, serve.')
    .version(packageVersion(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  registerTrainCommand(program)
  registerTuneCommand(program)
  registerEvaluateCommand(program)
  registerPredictCommand(program)
  registerServeCommand(program)
  registerModelsCommands(program)
  registerDataCommands(program)
  registerQuickstartCommand(program)
  return program
}

/** Runs the CLI and resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync([...argv])
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    return reportError(error, { json: argv.includes('--json') })
  }
}

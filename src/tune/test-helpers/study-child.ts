/**
 * A child process for the study tests, run as `node --import tsx study-child.ts '<json config>'`: opens (or
 * resumes) a study on the given storage and runs it with the synthetic objective, printing `ran <number> <rung>` for
 * every rung it finishes and `done` at the end. Test-only; never imported by the library.
 * @module
 */
import { inlineExecutor } from '../executor.js'
import { runStudy } from '../runner.js'
import { uniform } from '../space.js'
import { openStudyStore } from '../storage/study-store.js'
import { buildSearch, type Strategy } from '../strategies.js'
import { createObjective } from './synthetic-objective.js'

interface ChildConfig {
  readonly storage: string
  readonly study: string
  readonly strategy: Strategy
  readonly nTrials: number
  readonly maxResources?: number
  readonly delayMs: number
  readonly logFile?: string
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig
  const space = { x: uniform(0, 1) }
  const store = await openStudyStore(config.storage)
  try {
    await store.openStudy(
      {
        name: config.study,
        space,
        strategy: config.strategy,
        model: 'synthetic',
        metric: 'value',
        direction: 'maximize',
        settings: {},
      },
      { resume: true },
    )
    const { sampler, scheduler } = buildSearch(space, {
      strategy: config.strategy,
      nTrials: config.nTrials,
      seed: 1,
      maxResources: config.maxResources ?? 27,
      minResources: 1,
      context: { resource: 'epochs', nSplits: 3 },
    })
    const objective = createObjective({
      delayMs: config.delayMs,
      ...(config.logFile === undefined ? {} : { logFile: config.logFile }),
    })
    await runStudy({
      store,
      study: config.study,
      space,
      direction: 'maximize',
      sampler,
      scheduler,
      executor: inlineExecutor(objective),
      pollMs: 20,
      onEvent: (e) => {
        if (e.kind === 'finish') process.stdout.write(`ran ${e.number} ${e.rung}\n`)
      },
    })
    process.stdout.write('done\n')
  } finally {
    await store.close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})

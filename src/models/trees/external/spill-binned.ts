/**
 * External-memory boosting of rows that are already binned in memory (`fitBinned` above a memory budget): the
 * binned rows, labels and weights are spilled to chunk files, boosting runs over them ({@link boostExternal}), and
 * the files are removed. The per-row training state — several times the bins for narrow data — then lives on disk.
 * @module
 */
import type { BinnedData } from '../binning.js'
import type { GbdtCommonParams, GbdtIteration } from '../gbdt.js'
import { boostExternal, type ExternalBoostResult, type ExternalProblem } from './external-boost.js'
import { ExternalRows } from './external-rows.js'

/** Binned rows with their labels (class indices or targets) and weights (empty: unweighted). */
export interface LabelledBins {
  readonly binned: BinnedData
  readonly label: Float64Array
  readonly weight: Float64Array
}

/** Spills `train` (and `evalData`) to a spill folder under `spillDir`, boosts over them, removes the folder. */
export function boostBinnedExternal(
  params: GbdtCommonParams,
  train: LabelledBins,
  options: {
    readonly problem: ExternalProblem
    readonly chunkRows: number
    readonly spillDir?: string
    readonly evalData?: LabelledBins
    readonly classes?: readonly number[]
    readonly featureNames?: readonly string[]
    readonly onIteration?: (event: GbdtIteration) => void
  },
): ExternalBoostResult {
  const spill = (data: LabelledBins): ExternalRows => {
    const weighted = data.weight.length > 0
    const rows = ExternalRows.create(data.binned.mapper, {
      chunkRows: options.chunkRows,
      weighted,
      ...(options.spillDir === undefined ? {} : { dir: options.spillDir }),
    })
    try {
      rows.appendBinned(data.binned, data.label, weighted ? data.weight : undefined)
      rows.finish()
    } catch (error) {
      rows.remove()
      throw error
    }
    return rows
  }
  const rows = spill(train)
  let evalRows: ExternalRows | undefined
  try {
    if (options.evalData !== undefined) evalRows = spill(options.evalData)
    return boostExternal(params, rows, {
      problem: options.problem,
      ...(evalRows === undefined ? {} : { evalRows }),
      ...(options.classes === undefined ? {} : { classes: options.classes }),
      ...(options.featureNames === undefined ? {} : { featureNames: options.featureNames }),
      ...(options.onIteration === undefined ? {} : { onIteration: options.onIteration }),
    })
  } finally {
    rows.remove()
    evalRows?.remove()
  }
}

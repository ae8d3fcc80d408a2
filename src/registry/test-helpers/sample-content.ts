/**
 * Test data for registry tests: artifact content shaped like a scaler + one-hot pipeline and a linear model, with
 * typed arrays of several element types. Used by tests and the child processes of the crash and concurrency tests.
 * @module
 */
import type { ArtifactContent } from '../artifact.js'

/**
 * A small artifact shaped like a trained linear model behind a scaler. Override any field with `overrides`.
 */
export function sampleContent(overrides: Partial<ArtifactContent> = {}): ArtifactContent {
  const coef = new Float64Array(64)
  for (let i = 0; i < coef.length; i++) coef[i] = Math.sin(i) * 1e-3
  coef[5] = -0
  return {
    task: 'classification',
    modelKind: 'sgd-classifier',
    inputSchema: [
      { name: 'distance', type: 'int', nullable: false },
      { name: 'origin', type: 'string', nullable: true },
    ],
    target: { expression: 'delay > 15', kind: 'boolean' },
    features: ['distance', 'origin'],
    pipeline: {
      steps: [
        { kind: 'standard-scaler', state: { mean: new Float64Array([1234.5]), scale: new Float64Array([567.25]) } },
        { kind: 'one-hot', state: { vocabulary: ['JFK', 'LAX'], counts: new Uint32Array([10, 20]) } },
      ],
    },
    model: { kind: 'sgd-classifier', params: { alpha: 1e-4 }, state: { coef, intercept: new Float32Array([0.25]) } },
    params: { alpha: 1e-4, loss: 'log_loss' },
    metrics: { auc: 0.61, logLoss: 0.4921 },
    lineage: { dataFingerprint: 'sha256:abc', dataDescription: 'flights.parquet', rows: 1000, seed: 7 },
    created: '2001-06-13T00:00:00.000Z',
    ...overrides,
  }
}

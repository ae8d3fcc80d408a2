import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { toDotPath } from '../core/issues.js'
import { checkManifest, type Manifest, parseManifest } from './manifest.js'

function validManifest(): Manifest {
  return {
    formatVersion: 1,
    name: 'flights-delay',
    version: 3,
    created: '2001-06-13T00:00:00.000Z',
    task: 'classification',
    modelKind: 'sgd-classifier',
    inputSchema: [
      { name: 'distance', type: 'int', nullable: false },
      { name: 'origin', type: 'string', nullable: true },
    ],
    target: { expression: 'delay > 15', kind: 'boolean' },
    features: ['distance', 'origin'],
    pipeline: { steps: [] },
    model: { kind: 'sgd-classifier', state: { coef: { $array: 'model.state.coef.f64', dtype: 'float64', length: 2 } } },
    params: { alpha: 0.0001, loss: 'log_loss' },
    metrics: { auc: 0.61, logLoss: 0.49 },
    lineage: { packageVersion: '0.1.0', rows: 100, seed: 7, parent: { name: 'flights-delay', version: 2 }, epochs: 3 },
    files: [{ path: 'model.state.coef.f64', sha256: 'a'.repeat(64), bytes: 16 }],
  }
}

function withField(path: string, value: unknown): unknown {
  const manifest = JSON.parse(JSON.stringify(validManifest())) as Record<string, unknown>
  const parts = path.split('.')
  let node = manifest as Record<string, unknown>
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>
  const last = parts[parts.length - 1]!
  if (value === undefined) delete node[last]
  else node[last] = value
  return manifest
}

describe('checkManifest', () => {
  it('accepts a complete manifest, with or without a target', () => {
    expect(checkManifest(validManifest())).toEqual([])
    expect(checkManifest(withField('target', undefined))).toEqual([])
  })

  it.each([
    ['formatVersion', 2, 'formatVersion'],
    ['name', 'Flights Delay', 'name'],
    ['name', undefined, 'name'],
    ['version', 0, 'version'],
    ['version', 1.5, 'version'],
    ['created', 'yesterday', 'created'],
    ['created', '2001-13-45T00:00:00Z', 'created'],
    ['task', 'ranking', 'task'],
    ['modelKind', '', 'modelKind'],
    ['inputSchema', {}, 'inputSchema'],
    ['inputSchema.1.type', 'text', 'inputSchema[1].type'],
    ['inputSchema.0.nullable', 'no', 'inputSchema[0].nullable'],
    ['target.kind', 'categorical', 'target.kind'],
    ['features', ['distance', 3], 'features[1]'],
    ['pipeline', undefined, 'pipeline'],
    ['model', undefined, 'model'],
    ['params', [], 'params'],
    ['metrics.auc', 'high', 'metrics.auc'],
    ['lineage.packageVersion', undefined, 'lineage.packageVersion'],
    ['lineage.rows', -1, 'lineage.rows'],
    ['lineage.parent', { name: 'x', version: 'latest' }, 'lineage.parent'],
    ['files', 'all', 'files'],
    ['files.0.path', '../../etc/passwd', 'files[0].path'],
    ['files.0.path', 'sub/dir.f64', 'files[0].path'],
    ['files.0.path', 'manifest.json', 'files[0].path'],
    ['files.0.sha256', 'A'.repeat(64), 'files[0].sha256'],
    ['files.0.bytes', -5, 'files[0].bytes'],
    ['extra', true, 'extra'],
  ])('reports %s = %j at %s', (field, value, where) => {
    const issues = checkManifest(withField(field, value))
    expect(issues.map((i) => toDotPath(i.path))).toContain(where)
  })

  it('reports duplicated columns and files', () => {
    const manifest = validManifest()
    const twice = {
      ...manifest,
      inputSchema: [...manifest.inputSchema, manifest.inputSchema[0]!],
      files: [...manifest.files, { ...manifest.files[0]!, path: 'MODEL.state.coef.f64' }],
    }
    const paths = checkManifest(twice).map((i) => toDotPath(i.path))
    expect(paths).toEqual(['inputSchema[2].name', 'files[1].path'])
  })

  it('collects every problem, not just the first', () => {
    const bad = { ...validManifest(), version: -1, task: 'x', metrics: { auc: null } }
    expect(checkManifest(bad).map((i) => toDotPath(i.path))).toEqual(['version', 'task', 'metrics.auc'])
  })

  it('refuses non-objects', () => {
    expect(checkManifest([1])).toHaveLength(1)
    expect(checkManifest(null)).toHaveLength(1)
  })
})

describe('parseManifest', () => {
  it('returns a valid manifest unchanged', () => {
    const manifest = validManifest()
    expect(parseManifest(manifest, 'here')).toBe(manifest)
  })

  it('throws ARTIFACT_INVALID naming the artifact and the field', () => {
    try {
      parseManifest(withField('files.0.sha256', 'nope'), '/srv/models/flights/3')
      expect.unreachable()
    } catch (error) {
      expect(isScalemlError(error, 'ARTIFACT_INVALID')).toBe(true)
      const message = (error as Error).message
      expect(message).toContain('/srv/models/flights/3')
      expect(message).toContain("'files[0].sha256'")
    }
  })
})

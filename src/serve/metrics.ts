/**
 * Prometheus metrics for the server: counters, gauges and histograms in a registry that renders the text exposition
 * format 0.0.4 (what `GET /metrics` returns), plus {@link defaultServingMetrics}, the metric set the server records.
 * A registry's {@link MetricsRegistry.snapshot} is plain data: the snapshots of several worker processes merge into
 * one ({@link mergeSnapshots}) and render like a registry ({@link renderSnapshot}).
 *
 * Written for the hot path: `metric.labels({...})` resolves a label set once and returns a child whose
 * `inc`/`observe`/`set` touch only numbers (no allocation per observation); callers keep the child per model
 * version. The label-object forms (`counter.inc(labels)`) look the child up on every call and are for cold paths.
 * This module does no I/O and knows nothing about HTTP or models.
 *
 * @example
 * const registry = new MetricsRegistry()
 * const metrics = defaultServingMetrics(registry)
 * const latency = metrics.requestDuration.labels({ model: 'flights', version: 3, route: PREDICT_ROUTE, status: 200 })
 * latency.observe(0.0012)
 * reply.type(PROMETHEUS_CONTENT_TYPE).send(registry.render())
 * @module
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { ScalemlError } from '../core/errors.js'

/** The `Content-Type` of {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Label values by label name. Numbers and booleans are rendered with `String()`. */
export type LabelValues = Readonly<Record<string, string | number | boolean>>

/** The Prometheus client default buckets (seconds), for latencies of web requests. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Buckets for request latency in seconds, fine below 10 ms where a fast model answers. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

/** Buckets for time spent waiting in a micro-batch queue, in seconds. */
export const QUEUE_TIME_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
]

/** Buckets for rows per executed batch. */
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** One resolved series of a counter. */
export interface CounterChild {
  /** Adds `value` (default 1; must be ≥ 0: a counter only goes up). */
  inc(value?: number): void
  /** The current value. */
  readonly value: number
}

/** One resolved series of a gauge. */
export interface GaugeChild {
  set(value: number): void
  inc(value?: number): void
  dec(value?: number): void
  readonly value: number
}

/** One resolved series of a histogram. */
export interface HistogramChild {
  /** Counts `value` in the first bucket whose upper bound is ≥ it (bounds are inclusive, as Prometheus's `le`). */
  observe(value: number): void
  /** Number of observations. */
  readonly count: number
  /** Sum of the observations. */
  readonly sum: number
}

/** What every metric family offers. */
interface Family<Child> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  /**
   * The series for one label set, created on first use and the same object afterwards: resolve it once and keep it
   * (per model version, say) so that recording allocates nothing. Every declared label must be given, and no other.
   */
  labels(labels: LabelValues): Child
  /** Forgets the series of one label set (for example the versions a hot swap has freed). */
  remove(labels: LabelValues): void
  /** Forgets every series (an unlabelled metric goes back to zero). */
  reset(): void
}

/** A counter family: a value that only goes up (requests, predictions, errors). */
export interface Counter extends Family<CounterChild> {
  inc(labels?: LabelValues, value?: number): void
}

/**
 * How a gauge combines across the worker processes of one server (`scaleml serve --workers N`): `sum` adds the
 * workers' values (requests in flight, queue depth); `worker` keeps one series per worker, labelled
 * `worker="<id>"` (facts about one process: its memory, its event-loop delay, the version it serves). Counters and
 * histograms are always summed.
 */
export type ClusterAggregation = 'sum' | 'worker'

/** Options of {@link MetricsRegistry.gauge}. */
export interface GaugeOptions {
  /** Default `worker`: a value per process is never wrong, only longer. */
  readonly cluster?: ClusterAggregation
}

/** A gauge family: a value that goes up and down (queue depth, served version). */
export interface Gauge extends Family<GaugeChild> {
  readonly cluster: ClusterAggregation
  set(labels: LabelValues | undefined, value: number): void
  inc(labels?: LabelValues, value?: number): void
  dec(labels?: LabelValues, value?: number): void
}

/** A histogram family: observations counted into cumulative buckets (latency, batch size). */
export interface Histogram extends Family<HistogramChild> {
  readonly buckets: readonly number[]
  observe(labels: LabelValues | undefined, value: number): void
}

type MetricType = 'counter' | 'gauge' | 'histogram'

const EMPTY_LABELS: LabelValues = Object.freeze({})

class CounterSeries implements CounterChild {
  value = 0
  constructor(readonly labelValues: readonly string[]) {}
  inc(value = 1): void {
    // `!(value >= 0)` also rejects NaN.
    if (!(value >= 0)) {
      throw new ScalemlError('INVALID_ARGUMENT', `A counter can only go up: inc(${value}) is not allowed.`)
    }
    this.value += value
  }
  zero(): void {
    this.value = 0
  }
}

class GaugeSeries implements GaugeChild {
  value = 0
  constructor(readonly labelValues: readonly string[]) {}
  set(value: number): void {
    this.value = value
  }
  inc(value = 1): void {
    this.value += value
  }
  dec(value = 1): void {
    this.value -= value
  }
  zero(): void {
    this.value = 0
  }
}

class HistogramSeries implements HistogramChild {
  count = 0
  sum = 0
  /** Observations per bucket, not cumulative; the last slot is the `+Inf` bucket. */
  readonly counts: Float64Array
  constructor(
    readonly labelValues: readonly string[],
    private readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length + 1)
  }
  observe(value: number): void {
    if (Number.isNaN(value)) throw new ScalemlError('INVALID_ARGUMENT', 'A histogram cannot observe NaN.')
    const bounds = this.bounds
    let i = 0
    // Linear: bucket lists are short and most observations land in the first few buckets.
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.count++
    this.sum += value
  }
  zero(): void {
    this.count = 0
    this.sum = 0
    this.counts.fill(0)
  }
}

type AnySeries = CounterSeries | GaugeSeries | HistogramSeries

abstract class BaseFamily<S extends AnySeries> {
  abstract readonly type: MetricType
  /** Series by label-values key, in creation order (the order they are rendered). */
  readonly series = new Map<string, S>()
  /** The series of an unlabelled metric: created up front so that it renders 0 before the first observation. */
  readonly #solo: S | undefined

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly create: (labelValues: readonly string[]) => S,
  ) {
    this.#solo = labelNames.length === 0 ? this.#add('', []) : undefined
  }

  labels(labels: LabelValues): S {
    const values = this.#check(labels)
    if (this.#solo !== undefined) return this.#solo
    const key = JSON.stringify(values)
    return this.series.get(key) ?? this.#add(key, values)
  }

  remove(labels: LabelValues): void {
    const values = this.#check(labels)
    if (this.#solo === undefined) this.series.delete(JSON.stringify(values))
  }

  reset(): void {
    // In place, so that children callers resolved earlier stay attached.
    for (const series of this.series.values()) series.zero()
  }

  protected resolve(labels: LabelValues | undefined): S {
    return this.#solo !== undefined && labels === undefined ? this.#solo : this.labels(labels ?? EMPTY_LABELS)
  }

  #add(key: string, values: readonly string[]): S {
    const series = this.create(values)
    this.series.set(key, series)
    return series
  }

  #check(labels: LabelValues): string[] {
    const values: string[] = []
    let given = 0
    for (const name in labels) if (Object.hasOwn(labels, name)) given++
    for (const name of this.labelNames) {
      // Own properties only: a label named `constructor` must not read Object.prototype.
      const value = Object.hasOwn(labels, name) ? labels[name] : undefined
      if (value === undefined) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `Metric '${this.name}' needs the label '${name}' (labels: ${this.labelNames.join(', ')}).`,
        )
      }
      values.push(String(value))
    }
    if (given !== this.labelNames.length) {
      const unknown = Object.keys(labels).filter((n) => !this.labelNames.includes(n))
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Metric '${this.name}' has no label ${unknown.map((n) => `'${n}'`).join(', ')} (labels: ${this.labelNames.join(', ') || 'none'}).`,
      )
    }
    return values
  }
}

class CounterFamily extends BaseFamily<CounterSeries> implements Counter {
  readonly type = 'counter'
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, (values) => new CounterSeries(values))
  }
  inc(labels?: LabelValues, value?: number): void {
    this.resolve(labels).inc(value)
  }
}

class GaugeFamily extends BaseFamily<GaugeSeries> implements Gauge {
  readonly type = 'gauge'
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly cluster: ClusterAggregation,
  ) {
    super(name, help, labelNames, (values) => new GaugeSeries(values))
  }
  set(labels: LabelValues | undefined, value: number): void {
    this.resolve(labels).set(value)
  }
  inc(labels?: LabelValues, value?: number): void {
    this.resolve(labels).inc(value)
  }
  dec(labels?: LabelValues, value?: number): void {
    this.resolve(labels).dec(value)
  }
}

class HistogramFamily extends BaseFamily<HistogramSeries> implements Histogram {
  readonly type = 'histogram'
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly bounds: Float64Array,
  ) {
    super(name, help, labelNames, (values) => new HistogramSeries(values, bounds))
  }
  get buckets(): readonly number[] {
    return [...this.bounds]
  }
  observe(labels: LabelValues | undefined, value: number): void {
    this.resolve(labels).observe(value)
  }
}

type AnyFamily = CounterFamily | GaugeFamily | HistogramFamily

/**
 * Holds metric families and renders them. Registering a name again with the same type, labels (and buckets) returns
 * the existing family, so two modules can ask for the same metric; anything else under a taken name throws.
 */
export class MetricsRegistry {
  readonly #families = new Map<string, AnyFamily>()
  readonly #collectors: (() => void)[] = []

  /** A counter; by convention its name ends in `_total`. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#register('counter', name, labelNames, () => new CounterFamily(name, help, [...labelNames]))
  }

  /** A gauge; `options.cluster` says how it combines across worker processes (see {@link ClusterAggregation}). */
  gauge(name: string, help: string, labelNames: readonly string[] = [], options: GaugeOptions = {}): Gauge {
    const cluster = options.cluster ?? 'worker'
    if (labelNames.includes(WORKER_LABEL)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Gauge '${name}' cannot have a label '${WORKER_LABEL}' (it names the worker process in a cluster).`,
      )
    }
    const family = this.#register(
      'gauge',
      name,
      labelNames,
      () => new GaugeFamily(name, help, [...labelNames], cluster),
    )
    if (family.cluster !== cluster) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Gauge '${name}' is already registered with cluster aggregation '${family.cluster}'.`,
      )
    }
    return family
  }

  /**
   * A histogram with the given bucket upper bounds (strictly increasing, finite; `+Inf` is always added).
   * Its name should end in the unit (`_seconds`, `_rows`). The label `le` is reserved for buckets.
   */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = DEFAULT_BUCKETS,
  ): Histogram {
    const bounds = checkBuckets(name, buckets)
    if (labelNames.includes('le')) {
      throw new ScalemlError('INVALID_ARGUMENT', `Histogram '${name}' cannot have a label 'le' (it names buckets).`)
    }
    const family = this.#register(
      'histogram',
      name,
      labelNames,
      () => new HistogramFamily(name, help, [...labelNames], bounds),
    )
    if (family.bounds.length !== bounds.length || family.bounds.some((b, i) => b !== bounds[i])) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Histogram '${name}' is already registered with buckets ${family.bounds.join(', ')}.`,
      )
    }
    return family
  }

  /**
   * Runs `collect` at the start of every {@link render}: for gauges read from elsewhere at scrape time (queue
   * depth, cache size, event-loop delay) instead of being kept up to date on the hot path.
   */
  addCollector(collect: () => void): void {
    this.#collectors.push(collect)
  }

  /** The registered families, in registration order. */
  names(): string[] {
    return [...this.#families.keys()]
  }

  /** Every metric in the Prometheus text exposition format 0.0.4 (serve it with {@link PROMETHEUS_CONTENT_TYPE}). */
  render(): string {
    return renderSnapshot(this.snapshot())
  }

  /**
   * The current value of every series, as plain data (after running the collectors): what a worker process sends
   * its primary, to be merged with {@link mergeSnapshots} and written with {@link renderSnapshot}.
   */
  snapshot(): MetricsSnapshot {
    for (const collect of this.#collectors) collect()
    const families: FamilySnapshot[] = []
    for (const family of this.#families.values()) {
      if (family.type === 'histogram') {
        const series = [...family.series.values()].map((s) => ({
          labels: s.labelValues,
          counts: Array.from(s.counts),
          sum: s.sum,
          count: s.count,
        }))
        families.push({ ...familyHead(family), buckets: Array.from(family.bounds), series })
      } else {
        const series = [...family.series.values()].map((s) => ({ labels: s.labelValues, value: s.value }))
        families.push({ ...familyHead(family), series })
      }
    }
    return { families }
  }

  #register<F extends AnyFamily>(type: F['type'], name: string, labelNames: readonly string[], create: () => F): F {
    if (!METRIC_NAME.test(name)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Metric name '${name}' is not valid: expected letters, digits, '_' or ':', not starting with a digit.`,
      )
    }
    const seen = new Set<string>()
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `Label name '${label}' of metric '${name}' is not valid: expected letters, digits or '_', not starting with a digit or '__'.`,
        )
      }
      if (seen.has(label)) {
        throw new ScalemlError('INVALID_ARGUMENT', `Metric '${name}' lists the label '${label}' twice.`)
      }
      seen.add(label)
    }
    const existing = this.#families.get(name)
    if (existing !== undefined) {
      if (
        existing.type !== type ||
        existing.labelNames.length !== labelNames.length ||
        existing.labelNames.some((l, i) => l !== labelNames[i])
      ) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `Metric '${name}' is already registered as a ${existing.type} with labels (${existing.labelNames.join(', ')}).`,
        )
      }
      return existing as F
    }
    const family = create()
    this.#families.set(name, family)
    return family
  }
}

function checkBuckets(name: string, buckets: readonly number[]): Float64Array {
  const finite = buckets.filter((b) => b !== Number.POSITIVE_INFINITY)
  for (let i = 0; i < finite.length; i++) {
    const b = finite[i]!
    if (!Number.isFinite(b) || (i > 0 && b <= finite[i - 1]!)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `The buckets of histogram '${name}' must be finite and strictly increasing; got ${buckets.join(', ')}.`,
      )
    }
  }
  return Float64Array.from(finite)
}

function familyHead(family: AnyFamily): Omit<FamilySnapshot, 'series'> {
  return {
    name: family.name,
    help: family.help,
    type: family.type,
    labelNames: family.labelNames,
    cluster: family.type === 'gauge' ? family.cluster : 'sum',
  }
}

/** The label `worker` that {@link mergeSnapshots} adds to per-worker gauges. */
export const WORKER_LABEL = 'worker'

/** Every series of a registry as plain data (see {@link MetricsRegistry.snapshot}); structured-clone safe. */
export interface MetricsSnapshot {
  readonly families: readonly FamilySnapshot[]
}

/** One metric family of a {@link MetricsSnapshot}. */
export interface FamilySnapshot {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly labelNames: readonly string[]
  /** How the family combines across workers: `sum` for counters and histograms, a gauge's own choice otherwise. */
  readonly cluster: ClusterAggregation
  /** Histogram bucket upper bounds (without `+Inf`). */
  readonly buckets?: readonly number[]
  readonly series: readonly SeriesSnapshot[]
}

/** One series: `value` for a counter or gauge; `counts` (per bucket, `+Inf` last, not cumulative), `sum`, `count`. */
export interface SeriesSnapshot {
  readonly labels: readonly string[]
  readonly value?: number
  readonly counts?: readonly number[]
  readonly sum?: number
  readonly count?: number
}

/** One worker's snapshot, for {@link mergeSnapshots}. */
export interface WorkerSnapshot {
  /** The value of the `worker` label of its per-worker gauges. */
  readonly worker: string
  readonly snapshot: MetricsSnapshot
}

/**
 * The snapshots of several worker processes as one: counters and histogram buckets (with `_sum` and `_count`)
 * added series by series; gauges added (`cluster: 'sum'`) or kept one series per worker with a `worker` label
 * (`cluster: 'worker'`). `retired` (counters and histograms only, see {@link retireSnapshot}) is added too, so
 * that totals do not go down when a worker exits. A family whose type, labels or buckets differ from the first
 * worker's is skipped in the workers that differ.
 *
 * @example
 * renderSnapshot(mergeSnapshots([{ worker: '1', snapshot: a }, { worker: '2', snapshot: b }]))
 */
export function mergeSnapshots(parts: readonly WorkerSnapshot[], retired?: MetricsSnapshot): MetricsSnapshot {
  interface Merging {
    readonly head: FamilySnapshot
    readonly labelNames: readonly string[]
    readonly series: Map<
      string,
      { labels: readonly string[]; value: number; counts?: number[]; sum: number; count: number }
    >
  }
  const families = new Map<string, Merging>()
  const add = (family: FamilySnapshot, worker: string | undefined) => {
    let merging = families.get(family.name)
    if (merging === undefined) {
      const perWorker = family.type === 'gauge' && family.cluster === 'worker'
      merging = {
        head: family,
        labelNames: perWorker ? [...family.labelNames, WORKER_LABEL] : family.labelNames,
        series: new Map(),
      }
      families.set(family.name, merging)
    } else if (!sameShape(merging.head, family)) return
    const perWorker = family.type === 'gauge' && family.cluster === 'worker'
    // Per-worker gauges of exited workers are gone with them.
    if (perWorker && worker === undefined) return
    for (const series of family.series) {
      const labels = perWorker ? [...series.labels, worker!] : series.labels
      const key = JSON.stringify(labels)
      const found = merging.series.get(key)
      if (found === undefined) {
        merging.series.set(key, {
          labels,
          value: series.value ?? 0,
          ...(series.counts === undefined ? {} : { counts: [...series.counts] }),
          sum: series.sum ?? 0,
          count: series.count ?? 0,
        })
        continue
      }
      found.value += series.value ?? 0
      found.sum += series.sum ?? 0
      found.count += series.count ?? 0
      if (found.counts !== undefined && series.counts !== undefined) {
        for (let i = 0; i < found.counts.length; i++) found.counts[i]! += series.counts[i] ?? 0
      }
    }
  }
  for (const part of parts) for (const family of part.snapshot.families) add(family, part.worker)
  if (retired !== undefined) for (const family of retired.families) if (family.type !== 'gauge') add(family, undefined)
  return {
    families: [...families.values()].map(({ head, labelNames, series }) => ({
      name: head.name,
      help: head.help,
      type: head.type,
      labelNames,
      cluster: head.cluster,
      ...(head.buckets === undefined ? {} : { buckets: head.buckets }),
      series: [...series.values()].map((s) =>
        head.type === 'histogram'
          ? { labels: s.labels, counts: s.counts ?? [], sum: s.sum, count: s.count }
          : { labels: s.labels, value: s.value },
      ),
    })),
  }
}

/**
 * `retired` plus the counters and histograms of `snapshot`, the last one a worker sent before it exited: what
 * {@link mergeSnapshots} keeps adding so that totals stay monotonic across worker restarts.
 */
export function retireSnapshot(retired: MetricsSnapshot | undefined, snapshot: MetricsSnapshot): MetricsSnapshot {
  const counting = (s: MetricsSnapshot): MetricsSnapshot => ({ families: s.families.filter((f) => f.type !== 'gauge') })
  const parts = [{ worker: '', snapshot: counting(snapshot) }]
  return mergeSnapshots(parts, retired === undefined ? undefined : counting(retired))
}

function sameShape(a: FamilySnapshot, b: FamilySnapshot): boolean {
  return (
    a.type === b.type &&
    a.cluster === b.cluster &&
    a.labelNames.length === b.labelNames.length &&
    a.labelNames.every((l, i) => l === b.labelNames[i]) &&
    (a.buckets?.length ?? 0) === (b.buckets?.length ?? 0) &&
    (a.buckets ?? []).every((x, i) => x === b.buckets![i])
  )
}

/**
 * A snapshot in the Prometheus text exposition format 0.0.4 (serve it with {@link PROMETHEUS_CONTENT_TYPE}).
 *
 * @example
 * reply.type(PROMETHEUS_CONTENT_TYPE).send(renderSnapshot(registry.snapshot()))
 */
export function renderSnapshot(snapshot: MetricsSnapshot): string {
  const out: string[] = []
  for (const family of snapshot.families) {
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`)
    if (family.type === 'histogram') renderHistogram(family, out)
    else {
      for (const series of family.series) {
        out.push(`${family.name}${labelSet(family.labelNames, series.labels)} ${formatNumber(series.value ?? 0)}`)
      }
    }
  }
  out.push('')
  return out.join('\n')
}

function renderHistogram(family: FamilySnapshot, out: string[]): void {
  const { labelNames, name } = family
  const les = [...(family.buckets ?? []).map(formatNumber), '+Inf']
  const bucketNames = [...labelNames, 'le']
  for (const series of family.series) {
    let cumulative = 0
    for (let i = 0; i < les.length; i++) {
      cumulative += series.counts?.[i] ?? 0
      const labels = labelSet(bucketNames, [...series.labels, les[i]!])
      out.push(`${name}_bucket${labels} ${formatNumber(cumulative)}`)
    }
    const labels = labelSet(labelNames, series.labels)
    out.push(
      `${name}_sum${labels} ${formatNumber(series.sum ?? 0)}`,
      `${name}_count${labels} ${formatNumber(series.count ?? 0)}`,
    )
  }
}

function labelSet(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return ''
  let out = '{'
  for (let i = 0; i < names.length; i++) out += `${i > 0 ? ',' : ''}${names[i]}="${escapeLabelValue(values[i]!)}"`
  return `${out}}`
}

/** Label values escape backslash, double quote and line feed (the format's only escapes). */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}

/** HELP text escapes backslash and line feed only. */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))
}

/** Go's float syntax as Prometheus reads it: `+Inf`, `-Inf`, `NaN`, else JavaScript's shortest round-trip form. */
function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  if (Number.isNaN(value)) return 'NaN'
  return String(value)
}

/** The route label of a predict request (a route pattern, never a URL: label values must stay a small set). */
export const PREDICT_ROUTE = '/v1/models/:ref/predict'

/**
 * The metrics `scaleml serve` records; see {@link defaultServingMetrics}. With several worker processes `/metrics`
 * answers for all of them: counters and histograms summed; `scaleml_queue_depth` and
 * `scaleml_http_requests_in_flight` summed; the other gauges (load time, served version, event-loop delay, memory)
 * one series per worker, labelled `worker`.
 */
export interface ServingMetrics {
  /** `scaleml_http_request_duration_seconds{model,version,route,status}`: time from request to reply. */
  readonly requestDuration: Histogram
  /** `scaleml_predictions_total{model,version}`: rows predicted (a 100-row request counts 100). */
  readonly predictions: Counter
  /** `scaleml_errors_total{model,version,kind}`: failed requests by error code (`INVALID_INPUT`, timeouts, …). */
  readonly errors: Counter
  /** `scaleml_batch_size_rows{model,version}`: rows per executed model call (micro-batches and batch requests). */
  readonly batchSize: Histogram
  /** `scaleml_batch_queue_seconds{model,version}`: time a request waited in the micro-batch queue. */
  readonly queueTime: Histogram
  /** `scaleml_queue_depth{model}`: requests waiting in the model's queue (set it, or set it from a collector). */
  readonly queueDepth: Gauge
  /** `scaleml_http_requests_in_flight`: requests received and not yet answered. */
  readonly inFlight: Gauge
  /**
   * `scaleml_prediction_cache_hits_total{model,version}` and `…_misses_total`: the hit ratio is
   * `hits / (hits + misses)` (in PromQL, over `rate()` of each).
   */
  readonly cacheHits: Counter
  readonly cacheMisses: Counter
  /** `scaleml_prediction_cache_errors_total{tier}`: cache tiers that failed (a Redis timeout) and were skipped. */
  readonly cacheErrors: Counter
  /** `scaleml_fallbacks_total{model,version,reason}`: answers replaced by the configured fallback. */
  readonly fallbacks: Counter
  /** `scaleml_model_swaps_total{model}`: versions switched to by hot swap. */
  readonly swaps: Counter
  /** `scaleml_model_swap_failures_total{model,version,stage}`: versions that failed to `load` or `warm`. */
  readonly swapFailures: Counter
  /** `scaleml_model_load_seconds{model,version}`: time to load and warm each served version. */
  readonly modelLoadSeconds: Gauge
  /** `scaleml_model_version{model}`: the version each model reference currently answers with. */
  readonly servedVersion: Gauge
  /**
   * `scaleml_event_loop_delay_{mean,p50,p99,max}_seconds`: how late the event loop ran a 10 ms timer since the
   * previous scrape (each render reads and resets the `monitorEventLoopDelay` histogram).
   */
  readonly eventLoopDelay: {
    readonly mean: Gauge
    readonly p50: Gauge
    readonly p99: Gauge
    readonly max: Gauge
  }
  /** `scaleml_process_resident_memory_bytes`, read at each render. */
  readonly residentMemory: Gauge
  /** Stops the event-loop monitor (idempotent). */
  close(): void
}

/** Resolution of the event-loop delay monitor, in milliseconds. */
const EVENT_LOOP_RESOLUTION_MS = 10

/**
 * Registers the serving metric set in `registry` (names follow `scaleml_<noun>_<unit>`; see {@link ServingMetrics})
 * and starts the event-loop delay monitor; call `close()` on shutdown. Calling it twice on one registry returns
 * the same families (and starts a second monitor, so don't).
 */
export function defaultServingMetrics(registry: MetricsRegistry): ServingMetrics {
  const mv = ['model', 'version']
  const eventLoop = {
    mean: registry.gauge('scaleml_event_loop_delay_mean_seconds', 'Mean event-loop delay since the previous scrape.'),
    p50: registry.gauge('scaleml_event_loop_delay_p50_seconds', 'Median event-loop delay since the previous scrape.'),
    p99: registry.gauge(
      'scaleml_event_loop_delay_p99_seconds',
      '99th percentile event-loop delay since the previous scrape.',
    ),
    max: registry.gauge('scaleml_event_loop_delay_max_seconds', 'Largest event-loop delay since the previous scrape.'),
  }
  const residentMemory = registry.gauge('scaleml_process_resident_memory_bytes', 'Resident set size of the process.')
  const monitor = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS })
  monitor.enable()
  let closed = false
  const mean = eventLoop.mean.labels({})
  const p50 = eventLoop.p50.labels({})
  const p99 = eventLoop.p99.labels({})
  const max = eventLoop.max.labels({})
  const rss = residentMemory.labels({})
  // The monitor records whole timer intervals (≈10.1 ms when idle); the interval itself is not delay.
  const delay = (ns: number) => Math.max(0, ns / 1e6 - EVENT_LOOP_RESOLUTION_MS) / 1e3
  registry.addCollector(() => {
    rss.set(process.memoryUsage.rss())
    if (closed || monitor.count === 0) return
    mean.set(delay(monitor.mean))
    p50.set(delay(monitor.percentile(50)))
    p99.set(delay(monitor.percentile(99)))
    max.set(delay(monitor.max))
    monitor.reset()
  })
  return {
    requestDuration: registry.histogram(
      'scaleml_http_request_duration_seconds',
      'Time from receiving a request to sending its reply.',
      ['model', 'version', 'route', 'status'],
      LATENCY_BUCKETS,
    ),
    predictions: registry.counter('scaleml_predictions_total', 'Rows predicted.', mv),
    errors: registry.counter('scaleml_errors_total', 'Failed requests by error kind.', [...mv, 'kind']),
    batchSize: registry.histogram('scaleml_batch_size_rows', 'Rows per executed model call.', mv, BATCH_SIZE_BUCKETS),
    queueTime: registry.histogram(
      'scaleml_batch_queue_seconds',
      'Time a request waited in the micro-batch queue.',
      mv,
      QUEUE_TIME_BUCKETS,
    ),
    queueDepth: registry.gauge('scaleml_queue_depth', 'Requests waiting in the model queue.', ['model'], {
      cluster: 'sum',
    }),
    inFlight: registry.gauge('scaleml_http_requests_in_flight', 'Requests received and not yet answered.', [], {
      cluster: 'sum',
    }),
    cacheHits: registry.counter('scaleml_prediction_cache_hits_total', 'Predictions answered from the cache.', mv),
    cacheMisses: registry.counter(
      'scaleml_prediction_cache_misses_total',
      'Cache lookups that found nothing (the model answered).',
      mv,
    ),
    cacheErrors: registry.counter(
      'scaleml_prediction_cache_errors_total',
      'Cache operations that failed and were skipped.',
      ['tier'],
    ),
    fallbacks: registry.counter('scaleml_fallbacks_total', 'Answers replaced by the configured fallback prediction.', [
      ...mv,
      'reason',
    ]),
    swaps: registry.counter('scaleml_model_swaps_total', 'Model versions switched to by hot swap.', ['model']),
    swapFailures: registry.counter(
      'scaleml_model_swap_failures_total',
      'Model versions that failed to load or warm (the previous version kept serving).',
      [...mv, 'stage'],
    ),
    modelLoadSeconds: registry.gauge('scaleml_model_load_seconds', 'Time to load and warm a model version.', mv),
    servedVersion: registry.gauge('scaleml_model_version', 'The version a model reference currently answers with.', [
      'model',
    ]),
    eventLoopDelay: eventLoop,
    residentMemory,
    close() {
      if (closed) return
      closed = true
      monitor.disable()
    },
  }
}

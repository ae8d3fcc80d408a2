/**
 * A strict reader of the Prometheus text exposition format 0.0.4, written from the format's description: it throws
 * on anything a Prometheus server would reject (or that the format leaves undefined), so "it parses" means
 * something. For the metrics tests and the end-to-end scrape of `scaleml serve`.
 * @module
 */

/** One sample line. */
export interface Sample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}
/** A metric family and its samples, in order. */
export interface ParsedFamily {
  readonly name: string
  type: string
  help: string | undefined
  readonly samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/** A sample value as the format writes it (`+Inf`, `NaN`, decimal or exponent). */
export function parseFloatStrict(text: string, where: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad number '${text}'`)
  return Number(text)
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\'
    if (c === 'n') return '\n'
    throw new Error(`${where}: bad escape '\\${c}' in HELP`)
  })
}

/** Parses `{a="x",b="y"}` starting at `text[0] === '{'`; returns the labels and the rest of the line. */
function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {}
  let i = 1
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) }
    const name = LABEL.exec(text.slice(i))?.[0]
    if (name === undefined) throw new Error(`${where}: bad label name at '${text.slice(i)}'`)
    if (name in labels) throw new Error(`${where}: label '${name}' repeated`)
    i += name.length
    if (text.slice(i, i + 2) !== '="') throw new Error(`${where}: expected =" after label '${name}'`)
    i += 2
    let value = ''
    for (;;) {
      const c = text[i]
      if (c === undefined) throw new Error(`${where}: unterminated label value`)
      if (c === '\n') throw new Error(`${where}: raw line feed in label value`)
      if (c === '"') break
      if (c === '\\') {
        const e = text[i + 1]
        if (e === '\\') value += '\\'
        else if (e === '"') value += '"'
        else if (e === 'n') value += '\n'
        else throw new Error(`${where}: bad escape '\\${e}' in label value`)
        i += 2
        continue
      }
      value += c
      i++
    }
    labels[name] = value
    i++
    if (text[i] === ',') i++
    else if (text[i] !== '}') throw new Error(`${where}: expected , or } after label '${name}'`)
  }
}

/** The family a sample belongs to, given the declared types (histogram samples carry suffixes). */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length)
      if (types.get(base) === 'histogram' || (suffix !== '_bucket' && types.get(base) === 'summary')) return base
    }
  }
  return name
}

/** Parses `text`; throws naming the line on anything a Prometheus server would refuse. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed')
  const families = new Map<string, ParsedFamily>()
  const types = new Map<string, string>()
  const finished = new Set<string>()
  const seenSeries = new Set<string>()
  let current: string | undefined
  const family = (name: string, where: string): ParsedFamily => {
    if (current !== name) {
      if (finished.has(name)) throw new Error(`${where}: family '${name}' is not contiguous`)
      if (current !== undefined) finished.add(current)
      current = name
    }
    let f = families.get(name)
    if (!f) {
      f = { name, type: 'untyped', help: undefined, samples: [] }
      families.set(name, f)
    }
    return f
  }
  const lines = text.slice(0, -1).split('\n')
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`
    if (line === '') return
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(line)
      if (!m) return // any other comment
      const [, keyword, name, rest] = m
      if (!NAME.test(name!) || NAME.exec(name!)![0] !== name) throw new Error(`${where}: bad metric name '${name}'`)
      const f = family(name!, where)
      if (keyword === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for '${name}'`)
        f.help = unescapeHelp(rest ?? '', where)
      } else {
        if (types.has(name!)) throw new Error(`${where}: second TYPE for '${name}'`)
        if (f.samples.length > 0) throw new Error(`${where}: TYPE for '${name}' after its samples`)
        if (!TYPES.has(rest ?? '')) throw new Error(`${where}: unknown type '${rest}'`)
        types.set(name!, rest!)
        f.type = rest!
      }
      return
    }
    const name = NAME.exec(line)?.[0]
    if (name === undefined) throw new Error(`${where}: bad sample line '${line}'`)
    let rest = line.slice(name.length)
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where))
    const parts = rest.split(' ')
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) throw new Error(`${where}: expected ' value [ts]'`)
    const value = parseFloatStrict(parts[1]!, where)
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`${where}: bad timestamp`)
    const f = family(familyOf(name, types), where)
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    if (seenSeries.has(key)) throw new Error(`${where}: duplicate series ${key}`)
    seenSeries.add(key)
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`${where}: negative counter`)
    if (f.type === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) {
      throw new Error(`${where}: bucket without le`)
    }
    if (f.type !== 'histogram' && 'le' in labels) throw new Error(`${where}: le outside a histogram`)
    f.samples.push({ name, labels, value })
  })
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

/** Buckets ascending by `le`, cumulative, ending with `+Inf` equal to `_count`; `_sum` and `_count` present. */
function checkHistogram(f: ParsedFamily): void {
  const groups = new Map<string, Sample[]>()
  for (const s of f.samples) {
    const { le: _, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`)
    const count = samples.find((s) => s.name === `${f.name}_count`)
    const sum = samples.find((s) => s.name === `${f.name}_sum`)
    if (!count || !sum) throw new Error(`${f.name}${key}: missing _sum or _count`)
    const les = buckets.map((b) => parseFloatStrict(b.labels['le']!, `${f.name} le`))
    for (let i = 1; i < buckets.length; i++) {
      if (!(les[i]! > les[i - 1]!)) throw new Error(`${f.name}${key}: le not increasing`)
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${f.name}${key}: buckets not cumulative`)
    }
    if (les.at(-1) !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no +Inf bucket`)
    if (buckets.at(-1)!.value !== count.value) throw new Error(`${f.name}${key}: +Inf bucket ≠ _count`)
  }
}

/** The value of the sample `name` with exactly `labels`, if present. */
export const value = (families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}) => {
  const base = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''))
  const sample = base?.samples.find(
    (s) =>
      s.name === name &&
      JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
  )
  return sample?.value
}

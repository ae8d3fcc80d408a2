/**
 * UTC calendar fields of an epoch-milliseconds timestamp as ONNX arithmetic, exactly as scaleml computes them
 * (`preprocess/kernels/calendar.ts`): the same float64 operations in the same order — division, floor,
 * multiplication, subtraction on whole numbers below 2^53 — so every field is bit-identical. The month comes from
 * the month step of the days-to-civil algorithm (400-year eras counted from 0000-03-01), which needs only integer
 * division, so no calendar table or custom operator is involved. A missing timestamp (NaN, ±Infinity) gives NaN in
 * every field.
 * @module
 */
import type { DatetimePart } from '../../preprocess/datetime-parts.js'
import type { GraphBuilder } from './graph-builder.js'

/** Milliseconds in a UTC day and an hour (POSIX time: no leap seconds). */
const MS_PER_DAY = 86_400_000
const MS_PER_HOUR = 3_600_000

/** Position of each requested part within its cycle — hour 0–23, weekday 0–6 (Monday 0), month 0–11 — as double [N, 1]. */
export type CalendarPositions = Partial<Record<DatetimePart, string>>

/**
 * Adds the nodes computing `parts` of the double `[N, 1]` timestamp `ms` and returns each part's position tensor.
 *
 * @example
 * const { hour, month } = calendarPositions(g, 'date', ['hour', 'month'])
 */
export function calendarPositions(g: GraphBuilder, ms: string, parts: readonly DatetimePart[]): CalendarPositions {
  const c = (hint: string, value: number): string => g.doubles(hint, [value])
  // ±Infinity is missing in scaleml; turning it into NaN makes every field NaN, as for a null.
  const clean = g.op('Where', [g.op('IsInf', [ms]), c('nan', Number.NaN), ms], undefined, { hint: `${ms}.ms` })
  const floorDiv = (x: string, divisor: number, hint: string): string =>
    g.op('Floor', [g.op('Div', [x, c(`${hint}.divisor`, divisor)])], undefined, { hint })
  const day = floorDiv(clean, MS_PER_DAY, `${ms}.day`)
  const out: CalendarPositions = {}
  if (parts.includes('hour')) {
    // (ms − day · 86 400 000) / 3 600 000, truncated (non-negative, so the floor).
    const inDay = g.op('Sub', [clean, g.op('Mul', [day, c('ms_per_day', MS_PER_DAY)])])
    out.hour = floorDiv(inDay, MS_PER_HOUR, `${ms}.hour`)
  }
  if (parts.includes('dayOfWeek')) {
    // ((day + 3) mod 7), the floor modulo: 1970-01-01 was a Thursday (3 with Monday = 0).
    const shifted = g.op('Add', [day, c('three', 3)])
    const weeks = floorDiv(shifted, 7, `${ms}.weeks`)
    out.dayOfWeek = g.op('Sub', [shifted, g.op('Mul', [weeks, c('seven', 7)])], undefined, { hint: `${ms}.dow` })
  }
  if (parts.includes('month')) out.month = monthPosition(g, day, ms)
  return out
}

/** Month − 1 (0–11) of day number `day`, by the days-to-civil month step; every intermediate is a whole number. */
function monthPosition(g: GraphBuilder, day: string, hint: string): string {
  const c = (name: string, value: number): string => g.doubles(name, [value])
  const floorDiv = (x: string, divisor: number): string =>
    g.op('Floor', [g.op('Div', [x, c(`by_${divisor}`, divisor)])])
  const mul = (x: string, k: number): string => g.op('Mul', [x, c(`times_${k}`, k)])
  const z = g.op('Add', [day, c('epoch_shift', 719_468)])
  const era = floorDiv(z, 146_097)
  const doe = g.op('Sub', [z, mul(era, 146_097)])
  // yoe = (doe − doe/1460 + doe/36524 − doe/146096) / 365, each quotient truncated.
  let yoeNumerator = g.op('Sub', [doe, floorDiv(doe, 1460)])
  yoeNumerator = g.op('Add', [yoeNumerator, floorDiv(doe, 36_524)])
  yoeNumerator = g.op('Sub', [yoeNumerator, floorDiv(doe, 146_096)])
  const yoe = floorDiv(yoeNumerator, 365)
  // doy = doe − (365·yoe + yoe/4 − yoe/100)
  let yearStart = g.op('Add', [mul(yoe, 365), floorDiv(yoe, 4)])
  yearStart = g.op('Sub', [yearStart, floorDiv(yoe, 100)])
  const doy = g.op('Sub', [doe, yearStart])
  // mp = (5·doy + 2) / 153 counts months from March; month = mp < 10 ? mp + 3 : mp − 9, so month − 1 is below.
  const mp = floorDiv(g.op('Add', [mul(doy, 5), c('two', 2)]), 153)
  return g.op(
    'Where',
    [g.op('Less', [mp, c('ten', 10)]), g.op('Add', [mp, c('two', 2)]), g.op('Sub', [mp, c('ten', 10)])],
    undefined,
    { hint: `${hint}.month` },
  )
}

/**
 * Calendar fields of an epoch-milliseconds timestamp in UTC, by integer arithmetic on the day number (never `Date`,
 * never the process time zone). Proleptic Gregorian calendar, as pandas and JavaScript use.
 * @module
 */

/** Milliseconds in a UTC day (no leap seconds, as in POSIX time). */
export const MS_PER_DAY = 86_400_000
const MS_PER_HOUR = 3_600_000

/** Days since 1970-01-01 of the UTC day containing `ms` (floor, so -1 ms is day -1). */
export function dayNumber(ms: number): number {
  return Math.floor(ms / MS_PER_DAY)
}

/** Hour of the day 0–23 in UTC. */
export function hourOfDay(ms: number): number {
  const day = Math.floor(ms / MS_PER_DAY)
  // The remainder is in [0, MS_PER_DAY), so truncation (| 0) is the floor.
  return ((ms - day * MS_PER_DAY) / MS_PER_HOUR) | 0
}

/** Hour of the day 0–23 in UTC of `ms`, given its day number `day = dayNumber(ms)`: `hourOfDay` without the division. */
export function hourInDay(ms: number, day: number): number {
  return ((ms - day * MS_PER_DAY) / MS_PER_HOUR) | 0
}

/** Day of the week of day number `day`: Monday = 0 … Sunday = 6 (pandas' `dt.dayofweek`). 1970-01-01 was a Thursday. */
export function dayOfWeek(day: number): number {
  return (((day + 3) % 7) + 7) % 7
}

/**
 * Month 1–12 of day number `day` (the month step of Howard Hinnant's `civil_from_days`, which counts from
 * 0000-03-01 in 400-year eras so that leap days fall at the end of each computed year). Past the era division every
 * quantity is a non-negative int32, so `| 0` stands for the floor.
 */
export function monthOfDay(day: number): number {
  const z = day + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = ((doe - ((doe / 1460) | 0) + ((doe / 36_524) | 0) - ((doe / 146_096) | 0)) / 365) | 0
  const doy = doe - (365 * yoe + ((yoe / 4) | 0) - ((yoe / 100) | 0))
  const mp = ((5 * doy + 2) / 153) | 0
  return mp < 10 ? mp + 3 : mp - 9
}

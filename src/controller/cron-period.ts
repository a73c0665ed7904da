import { cronProblem } from '../api/index.js';

// How long a cron schedule may go between two runs. The Integrity safeguard calls a backup overdue
// when the last success is older than that (plus grace): a daily schedule tolerates a day, a weekly
// one a week. Pure arithmetic over calendar dates in UTC; a time zone shifts runs, not gaps (DST can
// move one run by an hour, which the grace covers).

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const BOUNDS = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
] as const;

function values(field: string, min: number, max: number): { set: Set<number>; restricted: boolean } {
  const set = new Set<number>();
  for (const item of field.split(',')) {
    const [range = '*', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let low = min;
    let high = max;
    if (range !== '*' && range !== '?') {
      const [a, b] = range.split('-');
      low = Number(a);
      // "5/15" means from 5 to the end in steps of 15, as robfig/cron (the CronJob controller) reads it.
      high = b !== undefined ? Number(b) : stepText !== undefined ? max : low;
    }
    for (let v = low; v <= high; v += step) set.add(v);
  }
  return { set, restricted: field !== '*' && field !== '?' };
}

/** Every run of the schedule in [from, to), as epoch minutes, in order. The schedule must be valid. */
export function* cronRuns(schedule: string, from: Date, to: Date): Generator<number> {
  const expression = MACROS[schedule.trim()] ?? schedule.trim();
  const problem = cronProblem(expression);
  if (problem) throw new Error(`invalid cron schedule "${schedule}": ${problem}`);
  const fields = expression.split(/\s+/).map((f, i) => values(f, BOUNDS[i]![0], BOUNDS[i]![1]));
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = fields as [ReturnType<typeof values>, ReturnType<typeof values>, ReturnType<typeof values>, ReturnType<typeof values>, ReturnType<typeof values>];
  if (daysOfWeek.set.has(7)) daysOfWeek.set.add(0);
  const sortedHours = [...hours.set].sort((a, b) => a - b);
  const sortedMinutes = [...minutes.set].sort((a, b) => a - b);
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  for (; day < to; day.setUTCDate(day.getUTCDate() + 1)) {
    if (!months.set.has(day.getUTCMonth() + 1)) continue;
    const domMatch = daysOfMonth.set.has(day.getUTCDate());
    const dowMatch = daysOfWeek.set.has(day.getUTCDay());
    // Both restricted: either may match (standard cron); otherwise the restricted one decides.
    const dayMatches = daysOfMonth.restricted && daysOfWeek.restricted ? domMatch || dowMatch : domMatch && dowMatch;
    if (!dayMatches) continue;
    for (const h of sortedHours) {
      for (const m of sortedMinutes) {
        const t = day.getTime() + (h * 60 + m) * 60_000;
        if (t >= from.getTime() && t < to.getTime()) yield t / 60_000;
      }
    }
  }
}

/**
 * The longest gap between consecutive runs, in minutes, over a five-year window that holds a leap
 * day, so schedules like "0 0 29 2 *" are measured too. Infinity when the schedule never fires twice.
 */
export function longestGapMinutes(schedule: string): number {
  let previous: number | undefined;
  let longest = Number.NEGATIVE_INFINITY;
  for (const run of cronRuns(schedule, new Date(Date.UTC(2024, 0, 1)), new Date(Date.UTC(2029, 0, 1)))) {
    if (previous !== undefined) longest = Math.max(longest, run - previous);
    previous = run;
  }
  return longest === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : longest;
}

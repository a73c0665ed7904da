import { describe, expect, it } from 'vitest';
import { cronRuns, longestGapMinutes } from '../../src/controller/cron-period.js';

// The backup schedule decides when the Integrity safeguard calls a backup overdue.

const HOUR = 60;
const DAY = 24 * HOUR;

describe('longestGapMinutes', () => {
  it.each<[string, number]>([
    ['0 2 * * *', DAY],
    ['@daily', DAY],
    ['@hourly', HOUR],
    ['*/30 * * * *', 30],
    ['5/15 * * * *', 15],
    ['0 2,14 * * *', 12 * HOUR],
    ['0 1 * * 1-5', 3 * DAY],
    ['15 3 * * 0', 7 * DAY],
    ['15 3 * * 7', 7 * DAY],
    ['@weekly', 7 * DAY],
    ['0 0 1 * *', 31 * DAY],
    // Day of month and day of week both restricted: either matches (the 1st, or any Monday).
    ['0 0 1 * 1', 7 * DAY],
    ['@yearly', 366 * DAY],
    ['0 0 29 2 *', (366 + 365 + 365 + 365) * DAY],
  ])('%s: %i minutes', (schedule, minutes) => {
    expect(longestGapMinutes(schedule)).toBe(minutes);
  });

  it('is infinite for a schedule that never fires twice', () => {
    expect(longestGapMinutes('0 0 31 2 *')).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses an invalid schedule', () => {
    expect(() => longestGapMinutes('0 24 * * *')).toThrow(/hour field/);
  });
});

describe('cronRuns', () => {
  it('lists the runs of a window in order', () => {
    const runs = [...cronRuns('30 1,13 * * *', new Date('2026-03-01T00:00:00Z'), new Date('2026-03-03T00:00:00Z'))].map((m) => new Date(m * 60_000).toISOString());
    expect(runs).toEqual(['2026-03-01T01:30:00.000Z', '2026-03-01T13:30:00.000Z', '2026-03-02T01:30:00.000Z', '2026-03-02T13:30:00.000Z']);
  });
});

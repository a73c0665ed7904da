import { describe, expect, it } from 'vitest';
import { applyRetention, type RetentionPolicy } from '../../src/backup/retention.js';

// Table-driven with an injected clock: backups taken daily at 02:00, "now" is 2026-11-23 03:00.
const now = new Date('2026-11-23T03:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 24 * 3600 * 1000 - 3600 * 1000);
const backup = (age: number) => ({ backupId: `b-${age}`, createdAt: daysAgo(age) });
const ages = (list: Array<{ backupId: string }>) => list.map((b) => Number(b.backupId.slice(2)));

const cases: Array<{ name: string; have: number[]; policy: RetentionPolicy; keep: number[] }> = [
  { name: 'count keeps the newest n', have: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], policy: { count: 7 }, keep: [0, 1, 2, 3, 4, 5, 6] },
  { name: 'count larger than what exists keeps all', have: [0, 1, 2], policy: { count: 7 }, keep: [0, 1, 2] },
  { name: 'count of one keeps only the newest', have: [3, 0, 5], policy: { count: 1 }, keep: [0] },
  { name: 'days keeps what is younger than the limit', have: [0, 1, 2, 3, 4, 5], policy: { days: 3 }, keep: [0, 1, 2] },
  { name: 'a backup exactly at the limit is kept', have: [0, 2], policy: { days: 2 + 1 / 24 }, keep: [0, 2] },
  { name: 'both: kept only while within both (count is the tighter)', have: [0, 1, 2, 3, 4, 5], policy: { count: 2, days: 30 }, keep: [0, 1] },
  { name: 'both: kept only while within both (days is the tighter)', have: [0, 1, 2, 3, 4, 5], policy: { count: 5, days: 2 }, keep: [0, 1] },
  { name: 'both: irregular ages', have: [0, 7, 8, 40, 41], policy: { count: 4, days: 30 }, keep: [0, 7, 8] },
  { name: 'order of listing does not matter', have: [5, 1, 4, 0, 3, 2], policy: { count: 3 }, keep: [0, 1, 2] },
  { name: 'nothing to prune', have: [], policy: { count: 3, days: 3 }, keep: [] },
];

describe('applyRetention', () => {
  for (const c of cases) {
    it(c.name, () => {
      const decision = applyRetention(c.have.map(backup), c.policy, now);
      expect(ages(decision.keep)).toEqual(c.keep);
      expect(ages(decision.remove).sort((a, b) => a - b)).toEqual(c.have.filter((a) => !c.keep.includes(a)).sort((a, b) => a - b));
    });
  }

  it('never removes the backup just written, even when a skewed clock makes it look old', () => {
    const decision = applyRetention([backup(10), backup(11)], { days: 3 }, now, 'b-10');
    expect(ages(decision.keep)).toEqual([10]);
    expect(ages(decision.remove)).toEqual([11]);
  });

  it('breaks ties in creation time by id, so two runs decide the same', () => {
    const t = daysAgo(1);
    const a = applyRetention([{ backupId: 'x', createdAt: t }, { backupId: 'y', createdAt: t }], { count: 1 }, now);
    const b = applyRetention([{ backupId: 'y', createdAt: t }, { backupId: 'x', createdAt: t }], { count: 1 }, now);
    expect(a.keep).toEqual(b.keep);
  });

  it('refuses a policy without limits or with nonsense limits', () => {
    expect(() => applyRetention([], {}, now)).toThrow(/count, days, or both/);
    expect(() => applyRetention([], { count: 0 }, now)).toThrow(/positive integer/);
    expect(() => applyRetention([], { days: -1 }, now)).toThrow(/positive/);
  });
});

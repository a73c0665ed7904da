// Which backups to keep. With a count and a number of days, a backup is kept while it is within
// both limits: among the `count` newest, and not older than `days`. Pure: the clock comes in as
// `now`, so the rules are tested table-driven.

export interface RetentionPolicy {
  count?: number;
  days?: number;
}

export interface RetainedBackup {
  backupId: string;
  createdAt: Date;
}

export interface RetentionDecision<T extends RetainedBackup> {
  keep: T[];
  remove: T[];
}

const DAY_MS = 24 * 3600 * 1000;

export function applyRetention<T extends RetainedBackup>(backups: readonly T[], policy: RetentionPolicy, now: Date, protect?: string): RetentionDecision<T> {
  if (policy.count === undefined && policy.days === undefined) throw new Error('a retention policy needs a count, days, or both');
  if (policy.count !== undefined && (!Number.isInteger(policy.count) || policy.count < 1)) throw new Error('retention count must be a positive integer');
  if (policy.days !== undefined && (!Number.isFinite(policy.days) || policy.days <= 0)) throw new Error('retention days must be positive');
  // Newest first; the id breaks ties so the result does not depend on listing order.
  const sorted = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.backupId < b.backupId ? 1 : -1));
  const keep: T[] = [];
  const remove: T[] = [];
  sorted.forEach((backup, rank) => {
    const withinCount = policy.count === undefined || rank < policy.count;
    const withinDays = policy.days === undefined || now.getTime() - backup.createdAt.getTime() <= policy.days * DAY_MS;
    // The backup just written is never removed, whatever a skewed clock says about its age.
    if ((withinCount && withinDays) || backup.backupId === protect) keep.push(backup);
    else remove.push(backup);
  });
  return { keep, remove };
}

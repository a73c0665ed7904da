import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { backupFacts } from '../../src/controller/observe.js';
import { renderBackupCronJob } from '../../src/render/backup.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// The Backup condition reads the Jobs of the backup CronJob. docs/backup.md has platform engineers
// make restore and verify Jobs from the same template (same labels, another command): those are not
// backups, and neither their failure nor their success may show as one. Found on the real node, where
// a failed restore Job turned the tenant's Backup condition to BackupFailed.

const tenant = tenantFixture('clinic', minimalSpec());
const cronJob = renderBackupCronJob(tenant, defaultSettings()) as unknown as { spec: { jobTemplate: { metadata: { labels: Record<string, string> }; spec: Record<string, any> } } };

function jobFromTemplate(name: string, created: string, outcome: 'Complete' | 'Failed', args?: string[]): Record<string, unknown> {
  const spec = structuredClone(cronJob.spec.jobTemplate.spec);
  if (args) spec['template']['spec']['containers'][0]['args'] = args;
  return {
    metadata: { name, creationTimestamp: created, labels: cronJob.spec.jobTemplate.metadata.labels },
    spec,
    status: { startTime: created, completionTime: created, conditions: [{ type: outcome, status: 'True', lastTransitionTime: created }] },
  };
}

describe('the Backup condition, from the CronJob’s Jobs', () => {
  const backup = jobFromTemplate('postgres-backup-1', '2026-11-29T02:00:00Z', 'Complete');

  it('a failed restore Job made from the template after a good backup leaves the backup succeeded', () => {
    const restore = jobFromTemplate('restore-1', '2026-11-29T10:00:00Z', 'Failed', ['restore', '--backup=latest', '--database=restored']);
    const facts = backupFacts(tenant, cronJob as never, [backup, restore] as never, undefined);
    expect(facts.reason).toBe('BackupSucceeded');
    expect(facts.lastResult).toBe('Succeeded');
    expect(facts.lastJobName).toBe('postgres-backup-1');
  });

  it('a successful verify Job is not a newer backup', () => {
    const verify = jobFromTemplate('verify-1', '2026-11-29T11:00:00Z', 'Complete', ['verify']);
    const facts = backupFacts(tenant, cronJob as never, [backup, verify] as never, undefined);
    expect(facts.lastSuccessfulTime).toBe('2026-11-29T02:00:00Z');
  });

  it('a failed backup Job still fails the condition', () => {
    const failed = jobFromTemplate('postgres-backup-2', '2026-11-30T02:00:00Z', 'Failed');
    const facts = backupFacts(tenant, cronJob as never, [backup, failed] as never, undefined);
    expect(facts.reason).toBe('BackupFailed');
  });
});

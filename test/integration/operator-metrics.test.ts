import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '../../src/render/index.js';
import { uniqueName } from '../harness/kube.js';
import { namesInExpression } from '../chart/support/promql.js';
import { createTenant, getTenant, installCrdAndStorage, objects, startOperator, tenantSpec, waitFor, waitForCondition, type TestOperator } from './support/operator.js';

// The alerts SiteOps pages on are only as good as the series behind them: scrape a running operator
// that has a Ready tenant with a successful backup, and check every metric the rules reference.

let op: TestOperator;
const ALERTS = new URL('../../charts/chat-tenant-operator/files/alerts.yaml', import.meta.url);

beforeAll(async () => {
  await installCrdAndStorage();
  op = await startOperator(uniqueName('metrics'), { metricsPort: 0, metricsHost: '127.0.0.1' });
});

afterAll(async () => {
  await op?.stop();
});

describe('the running operator exports what the alerts use', () => {
  it('every metric name in the alert rules is in its /metrics output, with tenant series', async () => {
    const name = uniqueName('metrics');
    await createTenant(name, tenantSpec());
    await waitForCondition(name, 'Ready', 'True');
    // A backup run, as `kubectl create job --from=cronjob/postgres-backup` makes one; kwok completes it.
    const cron = await objects().get<any>({ apiVersion: 'batch/v1', kind: 'CronJob', name: names.backup.cronJob, namespace: name });
    await objects().create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: `${names.backup.cronJob}-manual`,
        namespace: name,
        labels: cron.spec.jobTemplate.metadata.labels,
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cron.metadata.name, uid: cron.metadata.uid, controller: true }],
      },
      spec: cron.spec.jobTemplate.spec,
    } as never);
    await waitFor('backup succeeded in status', async () => (await getTenant(name))?.status?.backup?.lastResult === 'Succeeded', 120_000);
    await op.operator.idle();

    const text = await (await fetch(`http://127.0.0.1:${op.operator.metricsPort}/metrics`)).text();
    const rules = (yaml.load(await readFile(ALERTS, 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups.flatMap((g) => g.rules);
    const used = new Set(rules.flatMap((r) => namesInExpression(r.expr).metrics).filter((m) => m.startsWith('chat_tenant_operator_')));
    expect(used.size).toBeGreaterThan(8);
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const missing = [...used].filter((m) => !exported.has(m.replace(/_(bucket|sum|count)$/, '')));
    expect(missing).toEqual([]);
    // And the tenant's own series carry values a rule can act on.
    expect(text).toMatch(new RegExp(`^chat_tenant_operator_tenant_ready\\{tenant="${name}"\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^chat_tenant_operator_backup_last_failed\\{tenant="${name}"\\} 0$`, 'm'));
    expect(text).toMatch(new RegExp(`^chat_tenant_operator_backup_last_success_timestamp_seconds\\{tenant="${name}"\\} \\d+`, 'm'));
    expect(text).toMatch(new RegExp(`^chat_tenant_operator_certificate_expiry_timestamp_seconds\\{tenant="${name}",certificate="messaging"\\} \\d+`, 'm'));
    expect(text).toMatch(new RegExp(`^chat_tenant_operator_safeguard_holds\\{tenant="${name}",safeguard="TransmissionSecurity"\\} [01]$`, 'm'));
    expect(text).toMatch(/^chat_tenant_operator_leader 1$/m);
    expect(text).toMatch(/^chat_tenant_operator_reconcile_total\{result="success"\} [1-9]/m);
  });
});

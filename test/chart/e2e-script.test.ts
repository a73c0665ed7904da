// test/e2e/kind.sh cannot run here (no Docker engine); what can be checked without one is checked: the
// script parses and is shellcheck-clean, the tenant it applies is valid, and the helper that turns the
// backup CronJob into a verify Job produces a Job with the backup's pod and the verify arguments.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateChatTenant } from '../../src/api/index.js';
import { placeholderMaterial, renderTenant } from '../../src/render/index.js';
import { defaultSettings } from '../../src/api/index.js';
import { ensureShellcheck } from '../../scripts/chart-tools/shellcheck.js';
import { run } from '../../scripts/chart-tools/cache.js';
import { REPO_ROOT, type Json } from './support/chart.js';

const E2E = path.join(REPO_ROOT, 'test', 'e2e');
const SCRIPT = path.join(E2E, 'kind.sh');

describe('test/e2e/kind.sh', () => {
  let shellcheck = '';
  beforeAll(async () => {
    shellcheck = await ensureShellcheck(process.env, (line) => console.log(`[e2e lint] ${line}`));
  });

  it('parses (bash -n)', async () => {
    const r = await run('bash', ['-n', SCRIPT]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('is shellcheck-clean', async () => {
    const r = await run(shellcheck, ['-x', '--severity=style', SCRIPT]);
    expect(r.code, r.stdout).toBe(0);
  });

  it('is executable', async () => {
    await promisify(execFile)('test', ['-x', SCRIPT]);
  });
});

describe('the e2e tenant and helpers', () => {
  it('applies a valid ChatTenant that uses deletionPolicy Retain, two accounts and a PVC backup target', async () => {
    const result = validateChatTenant(yaml.load(await readFile(path.join(E2E, 'tenant.yaml'), 'utf8')));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.tenant.spec.deletionPolicy).toBe('Retain');
    expect(result.tenant.spec.messaging.admins.map((a) => a.username)).toEqual(['alice', 'bob']);
    expect(result.tenant.spec.backup.target.pvc).toBeDefined();
  });

  it('job-from-cronjob.mjs turns the rendered backup CronJob into a verify Job that is not counted as a backup', async () => {
    const result = validateChatTenant(yaml.load(await readFile(path.join(E2E, 'tenant.yaml'), 'utf8')));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const tenant = { ...result.tenant, metadata: { ...result.tenant.metadata, uid: 'e2e-uid' } };
    const objects = renderTenant({ tenant, material: placeholderMaterial(tenant), settings: defaultSettings(), capabilities: { cloudNativePG: true, certManager: true, prometheusOperator: false } }) as Json[];
    const cronJob = objects.find((o) => o['kind'] === 'CronJob' && o['metadata']['name'] === 'postgres-backup')!;
    const r = await run('node', [path.join(E2E, 'job-from-cronjob.mjs'), '--login-secret', 'postgres-superuser', 'verify-1', 'verify', '--backup', 'latest'], { input: JSON.stringify(cronJob) });
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout) as Json;
    expect(job['kind']).toBe('Job');
    expect(job['metadata']['namespace']).toBe('e2e-clinic');
    expect(job['metadata']['labels']['app.kubernetes.io/component']).toBeUndefined();
    const pod = job['spec']['template'];
    const backupPod = cronJob['spec']['jobTemplate']['spec']['template'];
    expect(pod['metadata']['labels']).toEqual(backupPod['metadata']['labels']);
    expect(pod['spec']['containers'][0]['args']).toEqual(['verify', '--backup', 'latest']);
    // The backup's environment and volumes, except the login: the superuser's Secret (restore and verify create databases).
    expect(pod['spec']['containers'][0]['env']).toEqual(backupPod['spec']['containers'][0]['env']);
    const volumes = (p: Json) => Object.fromEntries((p['spec']['volumes'] as Json[]).map((v) => [v['name'], v]));
    expect(volumes(pod)['database-login']['secret']['secretName']).toBe('postgres-superuser');
    expect(volumes(backupPod)['database-login']['secret']['secretName']).toBe('postgres-app');
    expect({ ...volumes(pod), 'database-login': undefined }).toEqual({ ...volumes(backupPod), 'database-login': undefined });
  });
});

import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { cronProblem } from '../../src/api/formats.js';
import { names, placeholderMaterial, ports, renderNetworkPolicies, ROLE_SELECTORS } from '../../src/render/index.js';
import { ARCHIVE_PURGE_APP, archivePurgeSchedule, renderArchivePurgeCronJob } from '../../src/render/ejabberd/archive-purge.js';
import { CLIENT_CONFIG_FILES } from '../../src/render/ejabberd/config-files.js';
import { POD_PATHS } from '../../src/render/ejabberd/pod-layout.js';
import { renderEjabberdConfigSecret } from '../../src/render/ejabberd/statefulset.js';
import { CONFIG_FILES } from '../../src/render/ejabberd/runtime.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { restrictedViolations } from '../support/pod-security.js';

const settings = defaultSettings();
type Json = Record<string, any>;
const tenant = (name = 'clinic', overrides: Parameters<typeof minimalSpec>[0] = {}) => tenantFixture(name, minimalSpec(overrides));
const job = (t = tenant()) => renderArchivePurgeCronJob(t, settings) as Json;
const podOf = (cronJob: Json) => cronJob['spec']['jobTemplate']['spec']['template'] as Json;

describe('archive purge CronJob', () => {
  it('runs the node script\'s purge with the retention from the spec, daily, never twice at once', () => {
    const cronJob = job(tenant('clinic', { messaging: { archiveRetentionDays: 90 } }));
    expect(cronProblem(cronJob['spec']['schedule'])).toBeUndefined();
    expect(cronJob['spec']['schedule']).toMatch(/^\d{1,2} 3 \* \* \*$/);
    expect(cronJob['spec']['concurrencyPolicy']).toBe('Forbid');
    const container = podOf(cronJob)['spec']['containers'][0];
    expect(container['command']).toEqual(['/bin/sh', `${POD_PATHS.configDir}/${CONFIG_FILES.nodeScript}`, 'purge-archive', '90']);
    expect(container['image']).toMatch(/^ghcr\.io\/processone\/ejabberd:/);
  });

  it('spreads tenants over the hour, the same minute for a tenant every time', () => {
    expect(archivePurgeSchedule(tenant('clinic'))).toBe(archivePurgeSchedule(tenant('clinic')));
    const minutes = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => archivePurgeSchedule(tenant(`clinic-${n}`))));
    expect(minutes.size).toBeGreaterThan(1);
  });

  it('is a restricted pod with the cookie, the messaging certificate (TLS distribution) and the client files only: no ejabberd.yml, so no database password', () => {
    const t = tenant();
    const pod = podOf(job(t));
    expect(restrictedViolations(pod['spec'])).toEqual([]);
    const config = pod['spec']['volumes'].find((v: Json) => v['name'] === 'config');
    expect(config['secret']['items'].map((i: Json) => i['key'])).toEqual([...CLIENT_CONFIG_FILES]);
    expect(CLIENT_CONFIG_FILES).not.toContain(CONFIG_FILES.ejabberd);
    const dbPassword = placeholderMaterial(t).databaseAppPassword;
    expect(Buffer.from((renderEjabberdConfigSecret(t, settings, placeholderMaterial(t))['data'] as Record<string, string>)[CONFIG_FILES.ejabberd]!, 'base64').toString()).toContain(dbPassword);
    expect(JSON.stringify(pod)).not.toContain(names.database.appSecret);
    expect(pod['spec']['volumes'].map((v: Json) => v['secret']?.['secretName']).filter(Boolean)).toEqual([names.messaging.configMap, names.messaging.cookieSecret, names.messaging.tlsSecret]);
    const tls = pod['spec']['volumes'].find((v: Json) => v['name'] === 'tls');
    expect(tls['secret']['items'].map((i: Json) => i['key'])).toEqual(['tls.crt', 'tls.key', 'ca.crt']);
    expect(CLIENT_CONFIG_FILES).toContain(CONFIG_FILES.sslDistOptions);
  });

  it('may reach the ejabberd nodes on the distribution port and nothing else', () => {
    const t = tenant();
    const labels = podOf(job(t))['metadata']['labels'];
    expect(labels['app.kubernetes.io/name']).toBe(ARCHIVE_PURGE_APP);
    expect(labels).toMatchObject(ROLE_SELECTORS.archivePurge);
    const policies = renderNetworkPolicies(t, settings);
    const egress = policies.find((p) => p.metadata.name === names.network.archivePurgeEgress)!;
    expect(egress.spec).toEqual({ podSelector: { matchLabels: ROLE_SELECTORS.archivePurge }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: ROLE_SELECTORS.messaging } }], ports: [{ protocol: 'TCP', port: ports.erlangDistribution }] }] });
    const ingress = policies.find((p) => p.metadata.name === names.network.messagingFromArchivePurge)!;
    expect(ingress.spec).toEqual({ podSelector: { matchLabels: ROLE_SELECTORS.messaging }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: ROLE_SELECTORS.archivePurge } }], ports: [{ protocol: 'TCP', port: ports.erlangDistribution }] }] });
  });
});

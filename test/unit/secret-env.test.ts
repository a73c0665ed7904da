import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatTenantManifest, defaultSettings, validateChatTenant, type ChatTenantSpecInput } from '../../src/api/index.js';
import { placeholderMaterial, renderTenant } from '../../src/render/index.js';
import { specArbitrary, tenantName } from '../support/arbitraries.js';
import { secretFedEnv } from '../support/secret-env.js';

// Issue 18, part 2: no password or key reaches any container as an environment variable. Every
// tenant shape (both database providers, S3 and PVC targets, all TLS modes) and every object, pod
// templates and the CloudNativePG Cluster alike. The chart's side is in test/chart/secret-env.test.ts.

const settings = defaultSettings();
const capabilities = { cloudNativePG: true, certManager: true, prometheusOperator: false };

function render(name: string, spec: ChatTenantSpecInput) {
  const result = validateChatTenant({ ...chatTenantManifest(name, spec), metadata: { name, uid: `uid-${name}` } });
  if (!result.ok) throw new Error(`generated spec is invalid: ${JSON.stringify(result.problems)}`);
  return renderTenant({ tenant: result.tenant, material: placeholderMaterial(result.tenant), settings, capabilities });
}

describe('secrets reach containers as files, never as environment variables', () => {
  it('the checker finds what it must find', () => {
    const pod = { spec: { template: { spec: { initContainers: [{ env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }], containers: [{ envFrom: [{ secretRef: { name: 't' } }] }] } } } };
    expect(secretFedEnv(pod)).toHaveLength(2);
    expect(secretFedEnv({ spec: { env: [{ name: 'A', value: 'x' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } })).toEqual([]);
  });

  it('in no rendered object of any tenant shape', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(tenantName, specArbitrary, (name, spec) => {
        const objects = render(name, spec);
        for (const o of objects) seen.add(o.kind);
        expect(objects.flatMap((o) => secretFedEnv(o).map((f) => `${o.kind}/${o.metadata.name} ${f}`))).toEqual([]);
      }),
      { numRuns: 80 },
    );
    // The shapes the property must have covered: every kind that runs a process.
    for (const kind of ['StatefulSet', 'Job', 'CronJob', 'Cluster']) expect(seen, kind).toContain(kind);
  });
});

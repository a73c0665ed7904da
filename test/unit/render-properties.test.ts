import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, chatTenantManifest, defaultSettings, validateChatTenant, type ChatTenant, type ChatTenantSpecInput } from '../../src/api/index.js';
import { ANNOTATION_RETAIN, ANNOTATION_TENANT_UID, LABEL_TENANT, renderTenant, type KubeObject, type TenantMaterial } from '../../src/render/index.js';
import { toYamlDocuments } from '../../src/cli/output.js';
import { specArbitrary, tenantName } from '../support/arbitraries.js';
import { markedMaterial as marked } from '../support/marked-material.js';
import { podSpecsOf, restrictedViolations } from '../support/pod-security.js';

const settings = defaultSettings();
const capabilities = { cloudNativePG: true, certManager: true, prometheusOperator: false };

function tenantOf(name: string, spec: ChatTenantSpecInput): ChatTenant {
  const result = validateChatTenant({ ...chatTenantManifest(name, spec), metadata: { name, uid: `uid-${name}` } });
  if (!result.ok) throw new Error(`generated spec is invalid: ${JSON.stringify(result.problems)}`);
  return result.tenant;
}

/** Material whose every value is a unique marker, so a leak into a non-Secret object can be found. */
const markedMaterial = (tenant: ChatTenant) => marked(tenant, `${tenant.metadata.name}-7f3a9c`);

function secretValues(material: TenantMaterial): string[] {
  const c = material.certificates!;
  return [material.erlangCookie, material.databaseSuperuserPassword, material.databaseAppPassword, material.backupKey, ...Object.values(material.adminPasswords), c.ca.keyPem, c.messaging.keyPem, c.database.keyPem, c.databaseClient.keyPem];
}

const render = (tenant: ChatTenant, material = markedMaterial(tenant)) => renderTenant({ tenant, material, settings, capabilities });
const runs = { numRuns: 60 };

describe('renderTenant, over generated specs', () => {
  it('every pod template meets Pod Security "restricted"', () => {
    fc.assert(
      fc.property(tenantName, specArbitrary, (name, spec) => {
        const objects = render(tenantOf(name, spec));
        const violations = objects.flatMap((o) => podSpecsOf(o).flatMap((p) => restrictedViolations(p).map((v) => `${o.kind}/${o.metadata.name}: ${v}`)));
        expect(violations).toEqual([]);
        expect(objects.filter((o) => podSpecsOf(o).length > 0).length).toBeGreaterThanOrEqual(2);
      }),
      runs,
    );
  });

  it('every object carries the tenant labels; what holds no data is owned by the ChatTenant, what Retain keeps is not', () => {
    fc.assert(
      fc.property(tenantName, specArbitrary, (name, spec) => {
        const tenant = tenantOf(name, spec);
        for (const o of render(tenant)) {
          const what = `${o.kind}/${o.metadata.name}`;
          expect(o.metadata.labels?.[LABEL_TENANT], what).toBe(name);
          expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('chat-tenant-operator');
          // The garbage collector acts on ownerReferences without the operator: the namespace, keys,
          // credentials, volumes and the database must never hang off the tenant.
          const kept = o.kind === 'Namespace' || o.kind === 'Secret' || o.kind === 'PersistentVolumeClaim' || o.kind === 'Cluster';
          expect(kept || o.metadata.annotations?.[ANNOTATION_RETAIN] !== 'true', what).toBe(true);
          if (kept) expect(o.metadata.ownerReferences, what).toBeUndefined();
          else expect(o.metadata.ownerReferences, what).toEqual([{ apiVersion: API_GROUP_VERSION, kind: 'ChatTenant', name, uid: `uid-${name}`, controller: true, blockOwnerDeletion: true }]);
        }
        expect(render(tenant).find((o) => o.kind === 'Namespace')?.metadata.annotations?.[ANNOTATION_TENANT_UID]).toBe(`uid-${name}`);
      }),
      runs,
    );
  });

  it('puts everything in the tenant namespace and never names or selects another tenant\'s namespace', () => {
    fc.assert(
      fc.property(specArbitrary, specArbitrary, (specA, specB) => {
        const a = tenantOf('tenant-alpha', specA);
        const b = tenantOf('tenant-bravo', specB);
        for (const [self, other] of [[a, b], [b, a]] as const) {
          const objects = render(self);
          for (const o of objects) {
            if (o.kind === 'Namespace') expect(o.metadata.name).toBe(self.metadata.name);
            else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(self.metadata.name);
          }
          expect(JSON.stringify(objects)).not.toContain(other.metadata.name);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('puts secret values in Secrets only, and each of them in some Secret', () => {
    fc.assert(
      fc.property(tenantName, specArbitrary, (name, spec) => {
        const tenant = tenantOf(name, spec);
        const material = markedMaterial(tenant);
        const objects = render(tenant, material);
        const nonSecrets = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
        const secretsDecoded = objects
          .filter((o) => o.kind === 'Secret')
          .flatMap((o) => Object.values((o['data'] as Record<string, string>) ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')))
          .join('\n');
        expect(nonSecrets).not.toContain('SECRET-');
        expect(nonSecrets).not.toContain('7f3a9c');
        const expected = secretValues(material).filter((v) => tenant.spec.tls.mode === 'OperatorCA' || !/-(ca|messaging|database|client)-key-/.test(v));
        for (const value of expected) expect(secretsDecoded).toContain(value);
      }),
      runs,
    );
  });

  it('is deterministic: the same input gives byte-identical YAML', () => {
    fc.assert(
      fc.property(tenantName, specArbitrary, (name, spec) => {
        const tenant = tenantOf(name, spec);
        const material = markedMaterial(tenant);
        expect(toYamlDocuments(render(tenant, material))).toBe(toYamlDocuments(render(structuredClone(tenant), structuredClone(material))));
      }),
      { numRuns: 30 },
    );
  });

  it('gives every object a unique identity and puts the namespace first', () => {
    fc.assert(
      fc.property(tenantName, specArbitrary, (name, spec) => {
        const objects: KubeObject[] = render(tenantOf(name, spec));
        const keys = objects.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
        expect(new Set(keys).size).toBe(keys.length);
        expect(objects[0]!.kind).toBe('Namespace');
        const firstWorkload = objects.findIndex((o) => ['StatefulSet', 'Cluster', 'CronJob'].includes(o.kind));
        const lastPolicy = objects.map((o) => o.kind).lastIndexOf('NetworkPolicy');
        expect(lastPolicy).toBeLessThan(firstWorkload);
      }),
      runs,
    );
  });
});

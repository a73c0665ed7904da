import { describe, expect, it } from 'vitest';
import { certificateFacts, tlsRolloutPending, type LiveWorld } from '../../src/controller/observe.js';
import { ANNOTATION_TLS_CHECKSUM, withTlsChecksum } from '../../src/render/tls-rollout.js';
import type { KubeObject } from '../../src/render/index.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// Status says what the pods serve: a certificate the Secret holds but the pods have not loaded yet
// is not reported as served.

const statefulSet = (name: string, checksum: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name, namespace: 't' },
  spec: { template: { metadata: { annotations: { [ANNOTATION_TLS_CHECKSUM]: checksum } } } },
});

const live = (checksum: string, status: { generation?: number; observedGeneration?: number; currentRevision?: string; updateRevision?: string }) => ({
  metadata: { generation: status.generation ?? 2 },
  spec: { template: { metadata: { annotations: { [ANNOTATION_TLS_CHECKSUM]: checksum } } } },
  status: { observedGeneration: status.observedGeneration ?? 2, currentRevision: status.currentRevision ?? 'r2', updateRevision: status.updateRevision ?? 'r2' },
});

describe('tlsRolloutPending', () => {
  it.each<[string, ReturnType<typeof live> | undefined, boolean]>([
    ['every pod on the template with the checksum', live('new', {}), false],
    ['the live template still has the old checksum', live('old', {}), true],
    ['the controller has not seen the new generation', live('new', { observedGeneration: 1 }), true],
    ['pods still on the previous revision', live('new', { currentRevision: 'r1' }), true],
    ['not created yet', undefined, true],
  ])('%s', (_what, liveObject, pending) => {
    const world: LiveWorld = [{ object: statefulSet('ejabberd', 'new'), live: liveObject }];
    expect(tlsRolloutPending(world, 'new', ANNOTATION_TLS_CHECKSUM)).toEqual(pending ? ['StatefulSet/ejabberd'] : []);
  });
});

describe('certificateFacts', () => {
  const tenant = tenantFixture('t', minimalSpec({ tls: { mode: 'Provided', secrets: { messaging: 'm', database: 'd' } } }));
  const notAfter = (pem: string) => new Date(pem === 'renewed' ? '2027-06-01T00:00:00Z' : '2027-01-01T00:00:00Z');
  const now = new Date('2026-11-29T00:00:00Z');
  const world: LiveWorld = [];

  it('while pods still roll, reports what they served before and says the new certificate is not served yet', () => {
    const facts = certificateFacts(tenant, { pems: { messaging: 'renewed', database: 'renewed' }, rolloutPending: ['StatefulSet/ejabberd'], previousNotAfter: { messaging: '2027-01-01T00:00:00.000Z', database: '2027-01-01T00:00:00.000Z' } }, world, now, notAfter);
    expect(facts).toMatchObject({ status: 'False', reason: 'CertificateRolloutPending' });
    expect(facts.notAfter).toEqual({ messaging: '2027-01-01T00:00:00.000Z', database: '2027-01-01T00:00:00.000Z' });
  });

  it('once every pod runs with it, reports the Secret\'s certificate (all TLS modes)', () => {
    const facts = certificateFacts(tenant, { pems: { messaging: 'renewed', database: 'renewed' }, rolloutPending: [], previousNotAfter: { messaging: '2027-01-01T00:00:00.000Z' } }, world, now, notAfter);
    expect(facts).toMatchObject({ status: 'True', reason: 'CertificatesReady' });
    expect(facts.notAfter).toEqual({ messaging: '2027-06-01T00:00:00.000Z', database: '2027-06-01T00:00:00.000Z' });
  });
});

describe('withTlsChecksum', () => {
  const sts = [statefulSet('ejabberd', 'x')];
  const checksumOf = (platformCertificates: string[]) => (withTlsChecksum(sts, { platformCertificates })[0]!['spec'] as any).template.metadata.annotations[ANNOTATION_TLS_CHECKSUM];

  it('changes with what the platform\'s Secrets hold (Provided, CertManager)', () => {
    expect(checksumOf(['cert-a', 'ca'])).toMatch(/^[0-9a-f]{64}$/);
    expect(checksumOf(['cert-a', 'ca'])).toBe(checksumOf(['cert-a', 'ca']));
    expect(checksumOf(['cert-b', 'ca'])).not.toBe(checksumOf(['cert-a', 'ca']));
  });
});

import { describe, expect, it } from 'vitest';
import { chatTenantManifest, type ChatTenant, type ChatTenantObject } from '../../src/api/index.js';
import { adoptionRefusal } from '../../src/controller/adoption.js';
import { locationsOverlap, s3LocationOf } from '../../src/controller/backup-target-claim.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// Two tenants may not keep backups in overlapping S3 locations; the one created first keeps it.

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-02-01T00:00:00Z';
const ENDPOINT = 'https://minio.hospital.example:9000';

type S3 = { endpoint?: string; bucket?: string; prefix?: string };
const s3Spec = (s3: S3, domain: string) =>
  minimalSpec({ xmppDomains: [domain], backup: { target: { s3: { endpoint: ENDPOINT, bucket: 'clinic-backups', credentialsSecret: 's3-credentials', egressCIDR: '10.20.0.0/24', ...s3 } } } });

function tenant(name: string, s3: S3 | undefined, created = T1): ChatTenant {
  const t = tenantFixture(name, s3 ? s3Spec(s3, `chat.${name}.example`) : minimalSpec({ xmppDomains: [`chat.${name}.example`] }));
  return { ...t, metadata: { ...t.metadata, creationTimestamp: created } };
}

/** Another tenant as the informer lists it: raw, without defaults (a missing prefix means its name). */
function other(name: string, s3: S3 | undefined, created?: string): ChatTenantObject {
  const manifest = chatTenantManifest(name, s3 ? s3Spec(s3, `chat.${name}.example`) : minimalSpec({ xmppDomains: [`chat.${name}.example`] }));
  return { ...manifest, metadata: { name, uid: `uid-${name}`, ...(created ? { creationTimestamp: created } : {}) } };
}

const at = (prefix: string, endpoint = ENDPOINT, bucket = 'clinic-backups') => s3LocationOf('unused', { backup: { target: { s3: { endpoint, bucket, prefix } } } })!;

describe('locationsOverlap', () => {
  it.each([
    ['the same prefix', at('backups'), at('backups'), true],
    ['one prefix inside the other', at('backups'), at('backups/clinic-a'), true],
    ['the other way round', at('backups/clinic-a/daily'), at('backups'), true],
    ['slashes at the ends do not matter (the runner strips them)', at('/backups/'), at('backups'), true],
    ['host case and the default port do not matter', at('x', 'https://MinIO.Hospital.Example:443/'), at('x', 'https://minio.hospital.example'), true],
    ['a prefix that is only a string prefix, not a path prefix', at('clinic'), at('clinic-a'), false],
    ['siblings under one parent', at('backups/clinic-a'), at('backups/clinic-b'), false],
    ['another bucket', at('backups'), at('backups', ENDPOINT, 'other-bucket'), false],
    ['another endpoint', at('backups'), at('backups', 'https://s3.eu-central-1.amazonaws.com'), false],
  ])('%s', (_name, a, b, expected) => {
    expect(locationsOverlap(a, b)).toBe(expected);
    expect(locationsOverlap(b, a)).toBe(expected);
  });

  it('an S3 target without a prefix is at the tenant name; a PVC target has no S3 location', () => {
    expect(s3LocationOf('clinic-a', { backup: { target: { s3: { endpoint: ENDPOINT, bucket: 'b-1' } } } })).toEqual({ endpoint: ENDPOINT, bucket: 'b-1', segments: ['clinic-a'] });
    expect(s3LocationOf('clinic-a', { backup: { target: { pvc: {} } } })).toBeUndefined();
    expect(s3LocationOf('clinic-a', { backup: { target: { s3: { bucket: 7 } } } })).toBeUndefined();
  });
});

describe('adoptionRefusal: the backup location', () => {
  it('refuses the later tenant whose prefix overlaps an earlier tenant\'s, naming the field and the rival', () => {
    const refusal = adoptionRefusal(tenant('clinic-b', { prefix: 'shared' }, T1), undefined, [other('clinic-a', { prefix: 'shared' }, T0)]);
    expect(refusal).toMatchObject({ reason: 'BackupTargetClaimed', field: 'spec.backup.target.s3.prefix' });
    expect(refusal!.message).toBe(
      'spec.backup.target.s3.prefix: s3://clinic-backups/shared at https://minio.hospital.example:9000 is the same place as s3://clinic-backups/shared at https://minio.hospital.example:9000, ' +
        'where ChatTenant "clinic-a" (created earlier) keeps its backups; give each tenant a prefix of its own that neither contains nor lies inside another tenant\'s',
    );
  });

  it('first created wins: the earlier tenant is not refused', () => {
    expect(adoptionRefusal(tenant('clinic-a', { prefix: 'shared' }, T0), undefined, [other('clinic-b', { prefix: 'shared' }, T1)])).toBeUndefined();
  });

  it('refuses a prefix that contains an earlier tenant\'s', () => {
    expect(adoptionRefusal(tenant('clinic-b', { prefix: 'backups' }, T1), undefined, [other('clinic-a', { prefix: 'backups/clinic-a' }, T0)])?.message).toContain(
      'contains s3://clinic-backups/backups/clinic-a at',
    );
  });

  it('an earlier tenant without a prefix keeps its backups at its name', () => {
    const refusal = adoptionRefusal(tenant('clinic-b', { prefix: 'clinic-a' }, T1), undefined, [other('clinic-a', {}, T0)]);
    expect(refusal?.reason).toBe('BackupTargetClaimed');
    expect(refusal?.message).toContain('is the same place as s3://clinic-backups/clinic-a');
  });

  it('refuses a prefix inside an earlier tenant\'s', () => {
    expect(adoptionRefusal(tenant('clinic-b', { prefix: 'shared/clinic-b' }, T1), undefined, [other('clinic-a', { prefix: 'shared' }, T0)])?.message).toContain('lies inside');
  });

  it('on equal creation times the name decides, the same way for both', () => {
    expect(adoptionRefusal(tenant('clinic-a', { prefix: 'shared' }, T0), undefined, [other('clinic-b', { prefix: 'shared' }, T0)])).toBeUndefined();
    expect(adoptionRefusal(tenant('clinic-b', { prefix: 'shared' }, T0), undefined, [other('clinic-a', { prefix: 'shared' }, T0)])?.reason).toBe('BackupTargetClaimed');
  });

  it('lets tenants with separate locations, or PVC targets, be', () => {
    const t = tenant('clinic-b', {}, T1);
    expect(adoptionRefusal(t, undefined, [other('clinic-a', {}, T0)])).toBeUndefined();
    expect(adoptionRefusal(t, undefined, [other('clinic-a', { prefix: 'clinic-b', bucket: 'other-bucket' }, T0)])).toBeUndefined();
    expect(adoptionRefusal(t, undefined, [other('clinic-a', undefined, T0)])).toBeUndefined();
    expect(adoptionRefusal(tenant('clinic-c', undefined, T1), undefined, [other('clinic-a', {}, T0)])).toBeUndefined();
  });

  it('a tenant created later does not make an earlier one refused, nor does the tenant itself', () => {
    const t = tenant('clinic-a', { prefix: 'shared' }, T0);
    expect(adoptionRefusal(t, undefined, [other('clinic-b', { prefix: 'shared' }, T1), other('clinic-a', { prefix: 'shared' }, T0)])).toBeUndefined();
  });
});

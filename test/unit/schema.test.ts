import { describe, expect, it } from 'vitest';
import { chatTenantManifest, validateChatTenant, type SpecProblem } from '../../src/api/index.js';
import { directoryIdentity, minimalSpec } from '../support/tenants.js';

// A table of specs and the exact problems each one gets. Messages are part of the interface: they
// show up in `validate`, in status conditions and in the docs.

function problemsOf(object: unknown): SpecProblem[] {
  const result = validateChatTenant(object);
  return result.ok ? [] : result.problems;
}

const spec = (overrides: Record<string, unknown>) => ({ ...minimalSpec(), ...overrides });
const manifest = (overrides: Record<string, unknown>, name = 'clinic') => chatTenantManifest(name, spec(overrides) as never);

describe('valid specs', () => {
  it.each([
    ['minimal', manifest({})],
    ['cloudnative-pg with HA', manifest({ database: { provider: 'cloudnative-pg', instances: 3, storage: { storageClassName: 'enc' } } })],
    ['cloudnative-pg single instance', manifest({ database: { provider: 'cloudnative-pg', instances: 1, storage: { storageClassName: 'enc' } } })],
    ['standalone with explicit 1 instance', manifest({ database: { provider: 'standalone', instances: 1, storage: { storageClassName: 'enc', size: '5Gi' } } })],
    ['s3 backup target', manifest({ backup: { target: { s3: { endpoint: 'https://minio.local:9000', bucket: 'backups', credentialsSecret: 's3-creds', egressCIDR: '10.1.2.0/24' } } } })],
    ['retention by days only', manifest({ backup: { retention: { days: 30 } } })],
    ['cron macro', manifest({ backup: { schedule: '@daily' } })],
    ['cron with ranges, lists and steps', manifest({ backup: { schedule: '*/15 1-5,22 * 1-12/2 0,6' } })],
    ['IPv6 client CIDR', manifest({ network: { clientCIDRs: ['fd00:10::/64', '10.0.0.0/8'] } })],
    ['cert-manager issuer', manifest({ tls: { mode: 'CertManager', issuerRef: { name: 'hospital-ca' } } })],
    ['provided secrets', manifest({ tls: { mode: 'Provided', secrets: { messaging: 'xmpp-tls', database: 'db-tls' } } })],
    ['admin on a second domain', manifest({ xmppDomains: ['a.example', 'b.example'], messaging: { admins: [{ username: 'root', domain: 'b.example' }] } })],
    ['quota overrides', manifest({ quota: { 'requests.cpu': '8', pods: '40' } })],
    ['directory identity', manifest({ identity: directoryIdentity() })],
    ['directory with a filter that excludes disabled AD accounts', manifest({ identity: directoryIdentity({ accessFilter: '(&(memberOf=CN=Chat,DC=h,DC=example)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))' }) })],
  ])('%s', (_name, object) => {
    expect(problemsOf(object)).toEqual([]);
  });

  it('fills in every default', () => {
    const result = validateChatTenant(manifest({}));
    if (!result.ok) throw new Error('expected valid');
    const s = result.tenant.spec;
    expect(s.messaging.replicas).toBe(3);
    expect(s.messaging.idleSessionTimeoutMinutes).toBe(15);
    expect(s.messaging.federation).toBe(false);
    expect(s.backup).toEqual({ schedule: '0 2 * * *', suspend: false, retention: { count: 7 }, target: { pvc: { size: '20Gi' } } });
    expect(s.tls.mode).toBe('OperatorCA');
    expect(s.deletionPolicy).toBe('Retain');
    expect(s.network.monitoringNamespace).toBe('monitoring');
    expect(s.identity).toEqual({ source: 'Internal' });
  });

  it('fills in the directory defaults: LDAPS on 636, a one-minute cache and session check', () => {
    const result = validateChatTenant(manifest({ identity: directoryIdentity() }));
    if (!result.ok) throw new Error('expected valid');
    expect(result.tenant.spec.identity.directory).toMatchObject({ encryption: 'LDAPS', port: 636, cacheSeconds: 60, sessionCheckSeconds: 60, caSecret: { name: 'directory-ca', key: 'ca.crt' } });
  });
});

describe('invalid specs get the exact problem', () => {
  it.each<[string, unknown, SpecProblem[]]>([
    ['not an object', 'hello', [{ path: '', message: 'expected a ChatTenant object' }]],
    ['wrong apiVersion', { ...manifest({}), apiVersion: 'v1' }, [{ path: 'apiVersion', message: 'must be chat.tenant-operator.dev/v1alpha1' }]],
    ['missing spec', { apiVersion: 'chat.tenant-operator.dev/v1alpha1', kind: 'ChatTenant', metadata: { name: 'x' } }, [{ path: 'spec', message: 'is required' }]],
    ['upper-case name', manifest({}, 'Clinic'), [{ path: 'metadata.name', message: 'must be a DNS label (lower-case letters, digits, "-"): it becomes the tenant namespace' }]],
    ['name too long', manifest({}, 'a'.repeat(64)), [{ path: 'metadata.name', message: 'must be at most 63 characters: it becomes the tenant namespace' }]],
    ['reserved name', manifest({}, 'kube-system'), [{ path: 'metadata.name', message: '"kube-system" is a namespace of the cluster itself and cannot be a tenant' }]],
    ['empty display name', manifest({ displayName: '' }), [{ path: 'spec.displayName', message: 'Too small: expected string to have >=1 characters' }]],
    ['no domains', manifest({ xmppDomains: [] }), [{ path: 'spec.xmppDomains', message: 'Too small: expected array to have >=1 items' }]],
    ['bad domain', manifest({ xmppDomains: ['Chat.Example'] }), [{ path: 'spec.xmppDomains[0]', message: 'must be a lower-case DNS name such as chat.hospital.example' }]],
    ['duplicate domain', manifest({ xmppDomains: ['a.example', 'a.example'] }), [{ path: 'spec.xmppDomains[1]', message: 'domain "a.example" is listed twice' }]],
    ['replicas zero', manifest({ messaging: { replicas: 0 } }), [{ path: 'spec.messaging.replicas', message: 'Too small: expected number to be >=1' }]],
    ['replicas not an integer', manifest({ messaging: { replicas: 2.5 } }), [{ path: 'spec.messaging.replicas', message: 'Invalid input: expected int, received number' }]],
    ['replicas as string', manifest({ messaging: { replicas: '3' } }), [{ path: 'spec.messaging.replicas', message: 'Invalid input: expected number, received string' }]],
    ['unknown field', manifest({ colour: 'blue' }), [{ path: 'spec.colour', message: 'unknown field' }]],
    ['unknown service type', manifest({ messaging: { service: { type: 'ExternalName' } } }), [{ path: 'spec.messaging.service.type', message: 'Invalid option: expected one of "ClusterIP"|"NodePort"|"LoadBalancer"' }]],
    ['standalone with 2 instances', manifest({ database: { provider: 'standalone', instances: 2, storage: { storageClassName: 'enc' } } }), [{ path: 'spec.database.instances', message: 'the standalone provider runs exactly 1 instance; use cloudnative-pg for more' }]],
    ['missing storage class', manifest({ database: { provider: 'standalone', storage: {} } }), [{ path: 'spec.database.storage.storageClassName', message: 'is required (string)' }]],
    ['bad quantity', manifest({ database: { provider: 'standalone', storage: { storageClassName: 'enc', size: '10 GB' } } }), [{ path: 'spec.database.storage.size', message: 'must be a Kubernetes quantity such as 500m, 2Gi or 10' }]],
    ['cron with 6 fields', manifest({ backup: { schedule: '0 0 2 * * *' } }), [{ path: 'spec.backup.schedule', message: 'invalid cron schedule: expected 5 fields (minute hour day-of-month month day-of-week), got 6' }]],
    ['cron hour 24', manifest({ backup: { schedule: '0 24 * * *' } }), [{ path: 'spec.backup.schedule', message: 'invalid cron schedule: hour field "24": 24 is outside 0-23' }]],
    ['cron backwards range', manifest({ backup: { schedule: '0 5-2 * * *' } }), [{ path: 'spec.backup.schedule', message: 'invalid cron schedule: hour field "5-2": range "5-2" runs backwards' }]],
    ['empty retention', manifest({ backup: { retention: {} } }), [{ path: 'spec.backup.retention', message: 'set count, days, or both' }]],
    ['two backup targets', manifest({ backup: { target: { pvc: {}, s3: { endpoint: 'https://s3.local', bucket: 'bkt', credentialsSecret: 'c', egressCIDR: '10.0.0.0/8' } } } }), [{ path: 'spec.backup.target', message: 'set exactly one of pvc or s3' }]],
    ['plain http s3', manifest({ backup: { target: { s3: { endpoint: 'http://s3.local', bucket: 'bkt', credentialsSecret: 'c', egressCIDR: '10.0.0.0/8' } } } }), [{ path: 'spec.backup.target.s3.endpoint', message: 'must be an https:// URL' }]],
    ['bad CIDR', manifest({ network: { clientCIDRs: ['10.0.0.0/33'] } }), [{ path: 'spec.network.clientCIDRs[0]', message: '"10.0.0.0/33" is not a CIDR (expected e.g. 10.20.0.0/16 or fd00::/64)' }]],
    ['address without prefix', manifest({ network: { clientCIDRs: ['10.0.0.1'] } }), [{ path: 'spec.network.clientCIDRs[0]', message: '"10.0.0.1" is not a CIDR (expected e.g. 10.20.0.0/16 or fd00::/64)' }]],
    ['cert-manager without issuer', manifest({ tls: { mode: 'CertManager' } }), [{ path: 'spec.tls.issuerRef', message: 'mode CertManager needs issuerRef' }]],
    ['provided without secrets', manifest({ tls: { mode: 'Provided' } }), [{ path: 'spec.tls.secrets', message: 'mode Provided needs secrets' }]],
    ['admin on a foreign domain', manifest({ messaging: { admins: [{ username: 'root', domain: 'other.example' }] } }), [{ path: 'spec.messaging.admins[0].domain', message: 'domain "other.example" is not one of spec.xmppDomains' }]],
    ['admin with upper case', manifest({ messaging: { admins: [{ username: 'Root' }] } }), [{ path: 'spec.messaging.admins[0].username', message: 'must be a lower-case XMPP localpart (a-z, 0-9, ".", "_", "-")' }]],
    ['bad deletion policy', manifest({ deletionPolicy: 'Orphan' }), [{ path: 'spec.deletionPolicy', message: 'Invalid option: expected one of "Retain"|"Delete"' }]],
    ['idle timeout too long', manifest({ messaging: { idleSessionTimeoutMinutes: 2000 } }), [{ path: 'spec.messaging.idleSessionTimeoutMinutes', message: 'Too big: expected number to be <=1440' }]],
  ])('%s', (_name, object, expected) => {
    expect(problemsOf(object)).toEqual(expected);
  });

  it('reports every problem of a spec at once', () => {
    const problems = problemsOf(manifest({ displayName: '', messaging: { replicas: 0 }, backup: { schedule: 'nope' } }, 'Bad'));
    expect(problems.map((p) => p.path)).toEqual(['metadata.name', 'spec.displayName', 'spec.messaging.replicas', 'spec.backup.schedule']);
  });
});

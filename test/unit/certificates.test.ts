import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { inspectCertificate, isSignedBy, issueLeaf, issueTenantCa, keyMatchesCertificate, planCertificates, renewalReason, tenantCaSubject } from '../../src/controller/certificates.js';
import { leafRequests } from '../../src/controller/material.js';
import { databaseDnsNames, messagingDnsNames, type KeyPairPem, type TenantCertificates } from '../../src/render/index.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// The per-tenant CA and its certificates, checked with @peculiar/x509 and, independently, with the
// openssl command line (chain, purpose, host names).

const DAY = 24 * 3600 * 1000;
const NOW = new Date('2026-11-23T12:00:00Z');
const settings = defaultSettings();
const run = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'certs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
async function pemFile(pem: string): Promise<string> {
  const file = path.join(dir, `${fileCount++}.pem`);
  await writeFile(file, pem);
  return file;
}

/** openssl verify at a given time; resolves with its output, rejects when verification fails. */
async function opensslVerify(ca: string, leaf: string, extra: string[] = [], at = NOW): Promise<string> {
  const { stdout } = await run('openssl', ['verify', '-attime', String(Math.floor(at.getTime() / 1000)), ...extra, '-CAfile', await pemFile(ca), await pemFile(leaf)]);
  return stdout;
}

const clinic = tenantFixture('clinic', minimalSpec({ xmppDomains: ['chat.clinic.example', 'chat.clinic-branch.example'] }));
const requests = leafRequests(clinic, settings);

let plan: Awaited<ReturnType<typeof planCertificates>>;
beforeAll(async () => {
  plan = await planCertificates('clinic', {}, requests, NOW, 30);
});

describe('issuing from nothing', () => {
  it('issues a CA and every leaf, and says why', () => {
    expect(plan.issued).toEqual([
      { name: 'ca', reason: 'missing' },
      { name: 'messaging', reason: 'missing' },
      { name: 'database', reason: 'missing' },
      { name: 'databaseClient', reason: 'missing' },
    ]);
  });

  it('the CA is this tenant\'s, self-signed, a CA that cannot sign further CAs', async () => {
    const facts = inspectCertificate(plan.certificates.ca.certPem);
    expect(facts.subject).toBe(tenantCaSubject('clinic'));
    expect(facts.issuer).toBe(facts.subject);
    const { stdout } = await run('openssl', ['x509', '-noout', '-text', '-in', await pemFile(plan.certificates.ca.certPem)]);
    expect(stdout).toMatch(/CA:TRUE, pathlen:0/);
    expect(stdout).toMatch(/Certificate Sign, CRL Sign/);
    expect(stdout).toMatch(/ASN1 OID: prime256v1/);
  });

  it.each(['messaging', 'database', 'databaseClient'] as const)('%s chains to the CA by signature (x509 and openssl verify)', async (name) => {
    const leaf = plan.certificates[name];
    expect(await isSignedBy(leaf.certPem, plan.certificates.ca.certPem)).toBe(true);
    const purpose = name === 'databaseClient' ? 'sslclient' : 'sslserver';
    expect(await opensslVerify(plan.certificates.ca.certPem, leaf.certPem, ['-purpose', purpose])).toContain(': OK');
    expect(keyMatchesCertificate(leaf)).toBe(true);
  });

  it('the database certificates are not valid as each other\'s; the messaging one is both (TLS distribution is mutual)', async () => {
    await expect(opensslVerify(plan.certificates.ca.certPem, plan.certificates.database.certPem, ['-purpose', 'sslclient'])).rejects.toThrow();
    await opensslVerify(plan.certificates.ca.certPem, plan.certificates.messaging.certPem, ['-purpose', 'sslclient']);
    await opensslVerify(plan.certificates.ca.certPem, plan.certificates.messaging.certPem, ['-purpose', 'sslserver']);
    await expect(opensslVerify(plan.certificates.ca.certPem, plan.certificates.databaseClient.certPem, ['-purpose', 'sslserver'])).rejects.toThrow();
  });

  it('SANs are exactly messagingDnsNames and databaseDnsNames; the client certificate carries the database user', async () => {
    expect(inspectCertificate(plan.certificates.messaging.certPem).dnsNames.sort()).toEqual(messagingDnsNames(clinic, settings).sort());
    expect(inspectCertificate(plan.certificates.database.certPem).dnsNames.sort()).toEqual(databaseDnsNames(clinic, settings).sort());
    expect(inspectCertificate(plan.certificates.databaseClient.certPem)).toMatchObject({ subject: 'CN=ejabberd', dnsNames: [] });
  });

  it('openssl accepts the host names clients use and rejects others', async () => {
    const { ca, messaging, database } = plan.certificates;
    for (const host of ['chat.clinic.example', 'pubsub.chat.clinic-branch.example', 'ejabberd-1.ejabberd-headless.clinic.svc.cluster.local']) {
      expect(await opensslVerify(ca.certPem, messaging.certPem, ['-verify_hostname', host])).toContain(': OK');
    }
    expect(await opensslVerify(ca.certPem, database.certPem, ['-verify_hostname', 'postgres.clinic.svc.cluster.local'])).toContain(': OK');
    await expect(opensslVerify(ca.certPem, messaging.certPem, ['-verify_hostname', 'chat.other.example'])).rejects.toThrow();
    await expect(opensslVerify(ca.certPem, database.certPem, ['-verify_hostname', 'postgres.other-tenant.svc.cluster.local'])).rejects.toThrow();
  });

  it('leaves are valid from a few minutes before now for a year; never beyond the CA', async () => {
    const leaf = inspectCertificate(plan.certificates.messaging.certPem);
    expect(leaf.notBefore.getTime()).toBeLessThan(NOW.getTime());
    expect(leaf.notAfter.getTime()).toBe(NOW.getTime() + 365 * DAY);
    const shortCa = await issueTenantCa('clinic', NOW, 100);
    const capped = await issueLeaf(shortCa, requests.messaging, NOW);
    expect(inspectCertificate(capped.certPem).notAfter.getTime()).toBe(inspectCertificate(shortCa.certPem).notAfter.getTime());
    await expect(opensslVerify(plan.certificates.ca.certPem, plan.certificates.messaging.certPem, [], new Date(NOW.getTime() + 366 * DAY))).rejects.toThrow();
  });
});

describe('renewal', () => {
  it('keeps every certificate that is valid, byte for byte', async () => {
    const again = await planCertificates('clinic', plan.certificates, requests, new Date(NOW.getTime() + 100 * DAY), 30);
    expect(again.issued).toEqual([]);
    expect(again.certificates).toEqual(plan.certificates);
  });

  it('renews a leaf when fewer than renewBeforeDays remain, not a day earlier', async () => {
    const leaf = plan.certificates.messaging;
    const ca = plan.certificates.ca;
    expect(await renewalReason(leaf, ca, requests.messaging, new Date(NOW.getTime() + (365 - 31) * DAY), 30)).toBeUndefined();
    expect(await renewalReason(leaf, ca, requests.messaging, new Date(NOW.getTime() + (365 - 29) * DAY), 30)).toBe('expiring');
    expect(await renewalReason(leaf, ca, requests.messaging, new Date(NOW.getTime() + (365 - 59) * DAY), 60)).toBe('expiring');
    const later = new Date(NOW.getTime() + (365 - 29) * DAY);
    const renewed = await planCertificates('clinic', plan.certificates, requests, later, 30);
    expect(renewed.issued).toEqual([
      { name: 'messaging', reason: 'expiring' },
      { name: 'database', reason: 'expiring' },
      { name: 'databaseClient', reason: 'expiring' },
    ]);
    expect(renewed.certificates.ca).toEqual(plan.certificates.ca);
    expect(inspectCertificate(renewed.certificates.messaging.certPem).notAfter.getTime()).toBe(later.getTime() + 365 * DAY);
  });

  it('reissues the messaging certificate when the domains change, and only it', async () => {
    const moved = tenantFixture('clinic', minimalSpec({ xmppDomains: ['chat.clinic.example', 'chat.new-branch.example'] }));
    const replan = await planCertificates('clinic', plan.certificates, leafRequests(moved, settings), NOW, 30);
    expect(replan.issued).toEqual([{ name: 'messaging', reason: 'names changed' }]);
    expect(inspectCertificate(replan.certificates.messaging.certPem).dnsNames).toContain('chat.new-branch.example');
  });

  it('the messaging certificate serves both ends of TLS distribution; one issued for server auth only is reissued', async () => {
    const usages = inspectCertificate(plan.certificates.messaging.certPem).extendedKeyUsages;
    expect(usages).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    const serverOnly = await issueLeaf(plan.certificates.ca, { ...requests.messaging, usage: 'server' }, NOW);
    const replan = await planCertificates('clinic', { ...plan.certificates, messaging: serverOnly }, requests, NOW, 30);
    expect(replan.issued).toEqual([{ name: 'messaging', reason: 'usages changed' }]);
  });

  it('reissues the database certificate when the provider changes its service names', async () => {
    const cnpg = tenantFixture('clinic', minimalSpec({ xmppDomains: ['chat.clinic.example', 'chat.clinic-branch.example'], database: { provider: 'cloudnative-pg', storage: { storageClassName: 'x' } } }));
    const replan = await planCertificates('clinic', plan.certificates, leafRequests(cnpg, settings), NOW, 30);
    expect(replan.issued).toEqual([{ name: 'database', reason: 'names changed' }]);
  });

  it('a new CA (missing, expiring, another tenant\'s, or with the wrong key) reissues every leaf under it', async () => {
    const cases: Array<[string, Partial<TenantCertificates>, Date]> = [
      ['missing', { ...plan.certificates, ca: undefined }, NOW],
      ['expiring', plan.certificates, new Date(NOW.getTime() + (3650 - 119) * DAY)],
      ['not this tenant\'s CA', { ...plan.certificates, ca: await issueTenantCa('other-tenant', NOW) }, NOW],
      ['key does not match', { ...plan.certificates, ca: { certPem: plan.certificates.ca.certPem, keyPem: (await issueTenantCa('clinic', NOW)).keyPem } }, NOW],
    ];
    for (const [reason, existing, at] of cases) {
      const replan = await planCertificates('clinic', existing, requests, at, 30);
      expect(replan.issued[0], reason).toEqual({ name: 'ca', reason });
      expect(replan.issued.map((i) => i.name)).toEqual(['ca', 'messaging', 'database', 'databaseClient']);
      for (const name of ['messaging', 'database', 'databaseClient'] as const) {
        expect(await isSignedBy(replan.certificates[name].certPem, replan.certificates.ca.certPem)).toBe(true);
      }
    }
  });

  it('a leaf that is unreadable, signed by another CA, or paired with a foreign key is reissued', async () => {
    const ca = plan.certificates.ca;
    const otherCa = await issueTenantCa('clinic', NOW);
    const foreignLeaf = await issueLeaf(otherCa, requests.database, NOW);
    expect(await renewalReason({ certPem: 'not a certificate', keyPem: 'x' }, ca, requests.database, NOW, 30)).toBe('unreadable');
    expect(await renewalReason(foreignLeaf, ca, requests.database, NOW, 30)).toBe('issued by another CA');
    const mismatched: KeyPairPem = { certPem: plan.certificates.database.certPem, keyPem: foreignLeaf.keyPem };
    expect(await renewalReason(mismatched, ca, requests.database, NOW, 30)).toBe('key does not match');
  });
});

describe('a CA per tenant', () => {
  it('two tenants never share a CA, and one tenant\'s certificates do not verify under the other\'s CA', async () => {
    const other = tenantFixture('other', minimalSpec({ xmppDomains: ['chat.other.example'] }));
    const otherPlan = await planCertificates('other', {}, leafRequests(other, settings), NOW, 30);
    expect(otherPlan.certificates.ca.certPem).not.toBe(plan.certificates.ca.certPem);
    expect(otherPlan.certificates.ca.keyPem).not.toBe(plan.certificates.ca.keyPem);
    expect(inspectCertificate(otherPlan.certificates.ca.certPem).subject).toBe(tenantCaSubject('other'));
    expect(await isSignedBy(otherPlan.certificates.messaging.certPem, plan.certificates.ca.certPem)).toBe(false);
    await expect(opensslVerify(plan.certificates.ca.certPem, otherPlan.certificates.messaging.certPem)).rejects.toThrow();
    await expect(opensslVerify(otherPlan.certificates.ca.certPem, plan.certificates.database.certPem)).rejects.toThrow();
  });

  it('a CA copied from another tenant is replaced, not used', async () => {
    const other = await planCertificates('other', {}, requests, NOW, 30);
    const replan = await planCertificates('clinic', { ca: other.certificates.ca }, requests, NOW, 30);
    expect(replan.issued[0]).toEqual({ name: 'ca', reason: 'not this tenant\'s CA' });
    expect(replan.certificates.ca.certPem).not.toBe(other.certificates.ca.certPem);
  });

  it('serial numbers are random and positive', async () => {
    const serials = new Set<string>();
    for (const pair of Object.values(plan.certificates)) {
      const { stdout } = await run('openssl', ['x509', '-noout', '-serial', '-in', await pemFile(pair.certPem)]);
      const serial = stdout.trim().replace('serial=', '');
      // 16 random bytes, top bit cleared: positive and below 2^127 (shorter if it starts with zero bytes).
      expect(serial).toMatch(/^[0-9A-F]+$/);
      expect(BigInt(`0x${serial}`)).toBeGreaterThan(0n);
      expect(BigInt(`0x${serial}`)).toBeLessThan(1n << 127n);
      serials.add(serial);
    }
    expect(serials.size).toBe(4);
  });
});

describe('database certificate addresses', () => {
  it('is reissued when the Service addresses it must carry change, and kept when they do not', async () => {
    const { issueTenantCa, issueLeaf, renewalReason, inspectCertificate } = await import('../../src/controller/certificates.js');
    const now = new Date('2026-11-23T00:00:00Z');
    const ca = await issueTenantCa('ips', now);
    const request = { commonName: 'postgres', dnsNames: ['postgres'], usage: 'server' as const, ipAddresses: ['10.0.0.17'] };
    const leaf = await issueLeaf(ca, request, now);
    expect(inspectCertificate(leaf.certPem).ipAddresses).toEqual(['10.0.0.17']);
    expect(await renewalReason(leaf, ca, request, now, 30)).toBeUndefined();
    expect(await renewalReason(leaf, ca, { ...request, ipAddresses: ['10.0.0.99'] }, now, 30)).toBe('addresses changed');
    expect(await renewalReason(leaf, ca, { ...request, ipAddresses: [] }, now, 30)).toBe('addresses changed');
  });
});

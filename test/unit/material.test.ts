import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultSettings, type ChatTenant } from '../../src/api/index.js';
import { resolveMaterial, type ObservedSecrets, type RandomSource } from '../../src/controller/material.js';
import { inspectCertificate } from '../../src/controller/certificates.js';
import { names, renderCredentialSecrets, renderTlsObjects, type KubeObject, type TenantMaterial } from '../../src/render/index.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// Secret material is read when it exists and generated only when it is missing. A regenerated
// database password or backup key would lock a tenant out of its own data.

const settings = defaultSettings();
const NOW = new Date('2026-11-23T12:00:00Z');
const clinic = tenantFixture('clinic', minimalSpec({ messaging: { admins: [{ username: 'admin' }, { username: 'ops' }] } }));

/** What the controller would observe after applying the rendered Secrets: decoded data by name. */
function observedFrom(objects: KubeObject[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const o of objects) {
    if (o.kind !== 'Secret') continue;
    const data = o['data'] as Record<string, string>;
    out.set(o.metadata.name, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])));
  }
  return out;
}

function secretsOf(tenant: ChatTenant, material: TenantMaterial): Map<string, Record<string, string>> {
  return observedFrom([...renderCredentialSecrets(tenant, material), ...renderTlsObjects(tenant, settings, material.certificates)]);
}

/** A random source that records how many bytes each call asked for. */
function recordingRandom(): { random: RandomSource; requests: number[] } {
  const requests: number[] = [];
  return { requests, random: (n) => (requests.push(n), randomBytes(n)) };
}

describe('first reconcile: everything is generated', () => {
  it('generates every value, names what it generated, and never lists values', async () => {
    const { material, generated, issued } = await resolveMaterial(clinic, settings, new Map(), NOW);
    expect(generated.sort()).toEqual(
      [
        `${names.messaging.adminSecret}/admin_at_chat.test-clinic.example`,
        `${names.messaging.adminSecret}/ops_at_chat.test-clinic.example`,
        `${names.messaging.cookieSecret}/cookie`,
        `${names.database.superuserSecret}/password`,
        `${names.database.appSecret}/password`,
        `${names.backup.keySecret}/key`,
      ].sort(),
    );
    expect(issued.map((i) => i.name)).toEqual(['ca', 'messaging', 'database', 'databaseClient']);
    const text = JSON.stringify({ generated, issued });
    for (const value of [material.erlangCookie, material.databaseAppPassword, material.databaseSuperuserPassword, material.backupKey, ...Object.values(material.adminPasswords)]) {
      expect(text).not.toContain(value);
    }
  });

  it('values have the expected length and alphabet: passwords 192 bits, cookie 160 bits, backup key 256 bits', async () => {
    const { random, requests } = recordingRandom();
    const { material } = await resolveMaterial(clinic, settings, new Map(), NOW, random);
    // Two admins, superuser, app: four passwords of 24 bytes; a 20-byte cookie; a 32-byte key.
    expect([...requests].sort((a, b) => a - b)).toEqual([20, 24, 24, 24, 24, 32]);
    for (const p of [material.databaseAppPassword, material.databaseSuperuserPassword, ...Object.values(material.adminPasswords)]) expect(p).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(material.erlangCookie).toMatch(/^[0-9a-f]{40}$/);
    expect(Buffer.from(material.backupKey, 'base64')).toHaveLength(32);
    expect(Buffer.from(material.backupKey, 'base64').toString('base64')).toBe(material.backupKey);
  });

  it('draws from the random source it is given (deterministic source, deterministic values)', async () => {
    const counter: RandomSource = (() => {
      let next = 0;
      return (n: number) => Buffer.from(Array.from({ length: n }, () => next++ % 256));
    })();
    const { material } = await resolveMaterial(tenantFixture(), settings, new Map(), NOW, counter);
    expect(material.erlangCookie).toBe(Buffer.from(Array.from({ length: 20 }, (_, i) => i)).toString('hex'));
  });

  it('every generated value is distinct, within a tenant and across 200 tenants', async () => {
    const seen = new Set<string>();
    let count = 0;
    for (let i = 0; i < 200; i++) {
      const t = tenantFixture(`t${i}`, minimalSpec({ tls: { mode: 'Provided', secrets: { messaging: 'm', database: 'd' } }, messaging: { admins: [{ username: 'admin' }] } }));
      const { material } = await resolveMaterial(t, settings, new Map(), NOW);
      for (const v of [material.erlangCookie, material.databaseAppPassword, material.databaseSuperuserPassword, material.backupKey, ...Object.values(material.adminPasswords)]) {
        seen.add(v);
        count++;
      }
    }
    expect(seen.size).toBe(count);
  });

  it('generated bytes look uniform: each of the 16 hex digits of 2000 cookies is near 1/16', async () => {
    const counts = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < 200; i++) {
      const { material } = await resolveMaterial(tenantFixture('clinic', minimalSpec({ tls: { mode: 'Provided', secrets: { messaging: 'm', database: 'd' } } })), settings, new Map(), NOW);
      for (const ch of material.erlangCookie) {
        counts.set(ch, (counts.get(ch) ?? 0) + 1);
        total++;
      }
    }
    expect(counts.size).toBe(16);
    // 8000 digits: expected 500 each, standard deviation about 22; 400..600 fails only on a broken source.
    for (const n of counts.values()) expect(n / total).toBeGreaterThan(400 / 8000);
    for (const n of counts.values()) expect(n / total).toBeLessThan(600 / 8000);
  });
});

describe('later reconciles: nothing that exists is regenerated', () => {
  it('gives back exactly the values and certificates that exist, and generates nothing', async () => {
    const first = await resolveMaterial(clinic, settings, new Map(), NOW);
    const observed: ObservedSecrets = secretsOf(clinic, first.material);
    const never: RandomSource = () => {
      throw new Error('must not draw randomness when everything exists');
    };
    const again = await resolveMaterial(clinic, settings, observed, new Date(NOW.getTime() + 90 * 24 * 3600 * 1000), never);
    expect(again.generated).toEqual([]);
    expect(again.issued).toEqual([]);
    expect(again.material).toEqual(first.material);
  });

  it('fills in only what is missing: a new admin gets a password, everything else stays', async () => {
    const first = await resolveMaterial(clinic, settings, new Map(), NOW);
    const observed = secretsOf(clinic, first.material);
    const grown = tenantFixture('clinic', minimalSpec({ messaging: { admins: [{ username: 'admin' }, { username: 'ops' }, { username: 'night' }] } }));
    const again = await resolveMaterial(grown, settings, observed, NOW);
    expect(again.generated).toEqual([`${names.messaging.adminSecret}/night_at_chat.test-clinic.example`]);
    expect(again.material.adminPasswords['admin@chat.test-clinic.example']).toBe(first.material.adminPasswords['admin@chat.test-clinic.example']);
    expect(again.material.backupKey).toBe(first.material.backupKey);
    expect(again.material.certificates).toEqual(first.material.certificates);
  });

  it('a lost backup key Secret is regenerated alone; an empty value counts as missing', async () => {
    const first = await resolveMaterial(clinic, settings, new Map(), NOW);
    const observed = secretsOf(clinic, first.material);
    observed.delete(names.backup.keySecret);
    observed.set(names.database.appSecret, { ...observed.get(names.database.appSecret)!, password: '' });
    const again = await resolveMaterial(clinic, settings, observed, NOW);
    expect(again.generated.sort()).toEqual([`${names.backup.keySecret}/key`, `${names.database.appSecret}/password`]);
    expect(again.material.databaseSuperuserPassword).toBe(first.material.databaseSuperuserPassword);
  });

  it('values it did not generate are kept as they are (rotation is an explicit act, not reconcile)', async () => {
    const observed = new Map([[names.database.appSecret, { username: 'ejabberd', password: 'set-by-the-platform-team' }]]);
    const { material } = await resolveMaterial(clinic, settings, observed, NOW);
    expect(material.databaseAppPassword).toBe('set-by-the-platform-team');
  });

  it('a missing CA Secret reissues the CA and every leaf; the leaves then chain to the new CA', async () => {
    const first = await resolveMaterial(clinic, settings, new Map(), NOW);
    const observed = secretsOf(clinic, first.material);
    observed.delete(names.tls.caSecret);
    const again = await resolveMaterial(clinic, settings, observed, NOW);
    expect(again.issued.map((i) => i.name)).toEqual(['ca', 'messaging', 'database', 'databaseClient']);
    expect(inspectCertificate(again.material.certificates!.messaging.certPem).issuer).toBe(inspectCertificate(again.material.certificates!.ca.certPem).subject);
    expect(again.generated).toEqual([]);
  });

  it('with certificates not issued by the operator there is no CA material at all', async () => {
    const provided = tenantFixture('clinic', minimalSpec({ tls: { mode: 'Provided', secrets: { messaging: 'm', database: 'd' } } }));
    const certManager = tenantFixture('clinic', minimalSpec({ tls: { mode: 'CertManager', issuerRef: { name: 'hospital' } } }));
    for (const t of [provided, certManager]) {
      const { material, issued } = await resolveMaterial(t, settings, new Map(), NOW);
      expect(material.certificates).toBeUndefined();
      expect(issued).toEqual([]);
    }
  });
});

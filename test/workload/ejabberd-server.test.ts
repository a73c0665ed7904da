import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import { issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import { adminSecretKey } from '../../src/render/index.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { credential, startEjabberdStack, type EjabberdStack } from './support/ejabberd-stack.js';
import type { EjabberdNode } from './support/ejabberd-node.js';
import { loginXmpp, type XmppLoginOptions, type XmppSession } from './support/ejabberd-client.js';
import { XmppWire } from './support/ejabberd-wire.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// One ejabberd node (Debian's 23.01) with the configuration the operator renders, started by the
// rendered node script on a real PostgreSQL (TLS + SCRAM only), driven by a real XMPP client and by
// raw sockets for what no well-behaved client would try.

const domain = 'chat.test-clinic.example';
const tenant = tenantFixture('test-clinic', minimalSpec({ xmppDomains: [domain], messaging: { admins: [{ username: 'alice' }], archiveRetentionDays: 30 } }));
const alice = `alice@${domain}`;
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

let stack: EjabberdStack;
let node: EjabberdNode;
const bobPassword = credential();
const sessions: XmppSession[] = [];

async function login(username: string, password: string, extra: Partial<XmppLoginOptions> = {}): Promise<XmppSession> {
  const session = await loginXmpp({ host: node.address, port: node.ports.c2sStartTls, domain, username, password, ca: stack.ca.certPem, ...extra });
  sessions.push(session);
  return session;
}

const body = (text: string) => xml('body', {}, text);

/** Client options that really do speak TLS 1.0/1.1 (OpenSSL 3 only allows them at security level 0). */
const OLD_TLS: tls.ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };

beforeAll(async () => {
  stack = await startEjabberdStack(tenant);
  node = await stack.addNode(2);
  const registered = node.ctl('register', 'bob', domain, bobPassword);
  expect(registered.code, registered.output).toBe(0);
}, 300_000);

afterAll(async () => {
  for (const s of sessions) await s.stop();
  await stack?.stop();
}, 120_000);

describe('messaging', () => {
  it('two accounts log in over STARTTLS with SCRAM-SHA-256, exchange a message, and find it again in the archive, which is in PostgreSQL', async () => {
    const a = await login('alice', stack.adminPasswords[alice]!);
    const b = await login('bob', bobPassword);
    expect(a.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(a.mechanism).toBe('SCRAM-SHA-256');
    expect(a.serverVerified).toBe(true);
    expect(b.serverVerified).toBe(true);

    const arrived = b.next((s) => s.is('message') && s.getChildText('body') === 'hello bob, lab results are in');
    await a.send(xml('message', { to: `bob@${domain}`, type: 'chat', id: 'm1' }, body('hello bob, lab results are in')));
    expect((await arrived).attrs['from']).toMatch(new RegExp(`^${alice}/`));

    const results: Element[] = [];
    const collect = (s: Element) => {
      const r = s.getChild('result', 'urn:xmpp:mam:2');
      if (r?.attrs['queryid'] === 'q1') results.push(r);
    };
    b.client.on('stanza', collect);
    const fin = await b.iq.request(xml('iq', { type: 'set' }, xml('query', { xmlns: 'urn:xmpp:mam:2', queryid: 'q1' })));
    b.client.off('stanza', collect);
    expect(fin.getChild('fin', 'urn:xmpp:mam:2')).toBeDefined();
    const bodies = results.map((r) => r.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message')?.getChildText('body'));
    expect(bodies).toContain('hello bob, lab results are in');

    const rows = await stack.db.query<{ username: string; bare_peer: string }>('SELECT username, bare_peer FROM archive WHERE server_host = $1 AND txt = $2 ORDER BY username', [domain, 'hello bob, lab results are in']);
    expect(rows.rows).toEqual([
      { username: 'alice', bare_peer: `bob@${domain}` },
      { username: 'bob', bare_peer: alice },
    ]);
  });

  it('offers SCRAM-SHA-256 and PLAIN only once TLS is up, never ANONYMOUS, and PLAIN inside TLS works for SCRAM-SHA-1-only clients', async () => {
    const s = await login('bob', bobPassword, { mechanisms: ['PLAIN'] });
    expect(s.offered).toContain('SCRAM-SHA-256');
    expect(s.offered).not.toContain('SCRAM-SHA-1');
    expect(s.offered).not.toContain('ANONYMOUS');
    expect(s.offered).not.toContain('DIGEST-MD5');
    expect(s.mechanism).toBe('PLAIN');
  });

  it('refuses a wrong password', async () => {
    await expect(login('bob', 'not-the-password')).rejects.toThrow(/not-authorized/);
  });
});

describe('refused', () => {
  it('authentication without TLS: port 5222 offers nothing but STARTTLS, and an attempt fails', async () => {
    const wire = await XmppWire.plain(node.address, node.ports.c2sStartTls);
    try {
      wire.openStream(domain);
      const features = (await wire.waitFor(/<stream:features>[\s\S]*?<\/stream:features>/))[0];
      expect(features).toMatch(/<starttls xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]><required\/><\/starttls>/);
      expect(features).not.toContain('mechanism');
      const plain = Buffer.from(`\0bob\0${bobPassword}`).toString('base64');
      const before = wire.received.length;
      wire.send(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${plain}</auth>`);
      await wire.waitFor(/<failure|<stream:error|<\/stream:stream>/, 10_000, before).catch(() => undefined);
      expect(wire.received.slice(before)).not.toContain('<success');
    } finally {
      wire.close();
    }
  });

  it('TLS 1.0 and 1.1, on STARTTLS and on direct TLS, while the same client reaches TLS 1.2', async () => {
    // The client options really negotiate old TLS: a permissive local server accepts them.
    const leaf = await issueLeaf(stack.ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' }, new Date());
    const permissive = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((resolve) => permissive.listen(0, '127.0.0.1', resolve));
    const port = (permissive.address() as { port: number }).port;
    const control = await XmppWire.tls('127.0.0.1', port, { ...OLD_TLS, rejectUnauthorized: false });
    expect(control.protocol).toMatch(/^TLSv1(\.1)?$/);
    control.close();
    permissive.close();

    await expect(XmppWire.tls(node.address, node.ports.c2sDirectTls, { ...OLD_TLS, ca: stack.ca.certPem, servername: domain })).rejects.toThrow();
    const starttls = await XmppWire.plain(node.address, node.ports.c2sStartTls);
    starttls.openStream(domain);
    await starttls.waitFor(/<\/stream:features>/);
    await expect(starttls.startTls(domain, { ...OLD_TLS, ca: stack.ca.certPem })).rejects.toThrow();
    starttls.close();

    const modern = await XmppWire.tls(node.address, node.ports.c2sDirectTls, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ca: stack.ca.certPem, servername: domain });
    expect(modern.protocol).toBe('TLSv1.2');
    modern.openStream(domain);
    const features = (await modern.waitFor(/<stream:features>[\s\S]*?<\/stream:features>/))[0];
    expect(features).toContain('SCRAM-SHA-256');
    modern.close();
  });

  it('anonymous login and in-band registration; no account appears', async () => {
    const secured = async () => {
      const wire = await XmppWire.plain(node.address, node.ports.c2sStartTls);
      wire.openStream(domain);
      await wire.waitFor(/<\/stream:features>/);
      await wire.startTls(domain, { ca: stack.ca.certPem });
      wire.openStream(domain);
      const features = (await wire.waitFor(/<stream:features>[\s\S]*?<\/stream:features>/))[0];
      return { wire, features };
    };
    const first = await secured();
    try {
      expect(first.features).not.toContain('ANONYMOUS');
      expect(first.features).not.toContain('http://jabber.org/features/iq-register');
      // Registration before login is answered with an error, or the stream is closed on it.
      first.wire.send(`<iq type='set' id='reg1'><query xmlns='jabber:iq:register'><username>mallory</username><password>mallory-password</password></query></iq>`);
      const answer = (await first.wire.waitFor(/<iq[^>]*id=['"]reg1['"][\s\S]*?(<\/iq>|\/>)|<stream:error>[\s\S]*?<\/stream:error>/))[0];
      expect(answer).toMatch(/type=['"]error['"]|<not-authorized/);
    } finally {
      first.wire.close();
    }
    const second = await secured();
    try {
      const anonymous = await second.wire.exchange(`<auth xmlns='${NS_SASL}' mechanism='ANONYMOUS'/>`, /<failure[\s\S]*?<\/failure>|<stream:error>[\s\S]*?<\/stream:error>/);
      expect(anonymous[0]).not.toContain('<success');
      expect(anonymous[0]).toMatch(/invalid-mechanism|not-authorized/);
    } finally {
      second.wire.close();
    }
    expect(node.ctl('check_account', 'mallory', domain).code).not.toBe(0);
    const rows = await stack.db.query('SELECT username FROM users WHERE server_host = $1 ORDER BY username', [domain]);
    expect(rows.rows.map((r) => r['username'])).toEqual(['alice', 'bob']);
  });

  it('BOSH and WebSocket over plain HTTP: the HTTP listener speaks TLS only', async () => {
    const viaTls = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get({ host: node.address, port: node.ports.https, path: '/bosh', ca: stack.ca.certPem, servername: domain, minVersion: 'TLSv1.2' }, (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        })
        .on('error', reject);
    });
    expect(viaTls.status).toBe(200);
    expect(viaTls.body.toLowerCase()).toContain('bosh');
    const viaPlain = new Promise((resolve, reject) => {
      http.get({ host: node.address, port: node.ports.https, path: '/bosh', timeout: 5000 }, resolve).on('error', reject).on('timeout', () => reject(new Error('timeout')));
    });
    await expect(viaPlain).rejects.toThrow();
  });

  it('a database whose certificate does not chain to the tenant CA: the node never becomes ready', async () => {
    const stranger = await issueTenantCa('someone-else', new Date());
    const untrusting = await stack.addNode(3, { databaseCaPem: stranger.certPem, waitReady: false, peers: [] });
    const refused = /pgsql connection failed:\s+\*\* Reason:[^*]{0,200}?\{tls_alert,\s+\{unknown_ca/;
    const deadline = Date.now() + 60_000;
    while (!refused.test(untrusting.log()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(untrusting.log()).toMatch(refused);
    expect(untrusting.log()).not.toMatch(/ejabberd-node: ready/);
    await untrusting.dispose();
    stack.nodes.splice(stack.nodes.indexOf(untrusting), 1);
  });
});

describe('admin accounts', () => {
  it('exist after start with the password from the credentials Secret, and a restart with a changed Secret neither fails nor changes the password', async () => {
    const original = stack.adminPasswords[alice]!;
    expect(node.ctl('check_password', 'alice', domain, original).code).toBe(0);
    writeFileSync(join(node.runtime.paths.adminSecretDir, adminSecretKey(alice)), credential());
    expect(await node.stop()).toBe(0);
    await node.start();
    expect(node.log()).toMatch(/admin account alice@chat\.test-clinic\.example exists/);
    expect(node.ctl('check_password', 'alice', domain, original).code).toBe(0);
    const s = await login('alice', original);
    expect(s.jid).toMatch(new RegExp(`^${alice}/`));
  }, 180_000);
});

describe('audit log', () => {
  it('records logins and admin requests, never message bodies or passwords', async () => {
    const a = await login('alice', stack.adminPasswords[alice]!);
    const b = await login('bob', bobPassword);
    const secret = 'diagnosis: confidential-marker-93be';
    const arrived = b.next((s) => s.getChildText('body') === secret);
    await a.send(xml('message', { to: `bob@${domain}`, type: 'chat' }, body(secret)));
    await arrived;
    await a.iq.request(xml('iq', { type: 'set', to: domain }, xml('command', { xmlns: 'http://jabber.org/protocol/commands', node: 'http://jabber.org/protocol/admin#get-online-users-num', action: 'execute' })));
    const log = node.log();
    expect(log).toMatch(/Accepted c2s SCRAM-SHA-256 authentication for alice@chat\.test-clinic\.example by sql backend from 127\.0\.0\.1/);
    expect(log).toMatch(/Admin audit: alice@chat\.test-clinic\.example\/\S+ requested ad-hoc command "http:\/\/jabber\.org\/protocol\/admin#get-online-users-num" \(execute\)/);
    expect(log).toMatch(/registered admin account alice@chat\.test-clinic\.example|admin account alice@chat\.test-clinic\.example exists/);
    expect(log).not.toContain('confidential-marker-93be');
    expect(log).not.toContain(stack.adminPasswords[alice]!);
    expect(log).not.toContain(bobPassword);
    expect(log).not.toContain(stack.db.password);
  });
});

describe('archive retention', () => {
  it('the purge job command removes archived messages older than the retention and keeps newer ones', async () => {
    const a = await login('alice', stack.adminPasswords[alice]!);
    const b = await login('bob', bobPassword);
    for (const text of ['old-1', 'old-2', 'recent-1']) {
      const arrived = b.next((s) => s.getChildText('body') === text);
      await a.send(xml('message', { to: `bob@${domain}`, type: 'chat' }, body(text)));
      await arrived;
    }
    // Age two of them past the 30-day retention (timestamps are microseconds since the epoch).
    const days = (n: number) => BigInt(n) * 86_400n * 1_000_000n;
    const now = BigInt(Date.now()) * 1000n;
    await stack.db.query(`UPDATE archive SET timestamp = $1 WHERE txt IN ('old-1', 'old-2')`, [String(now - days(31))]);
    await stack.db.query(`UPDATE archive SET timestamp = $1 WHERE txt = 'recent-1'`, [String(now - days(29))]);

    const purge = node.nodeScript('purge-archive', String(tenant.spec.messaging.archiveRetentionDays));
    expect(purge.code, purge.output).toBe(0);

    const left = await stack.db.query<{ txt: string }>(`SELECT txt FROM archive WHERE txt IN ('old-1', 'old-2', 'recent-1') ORDER BY txt`);
    expect(left.rows.map((r) => r.txt)).toEqual(['recent-1', 'recent-1']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import type { ChatTenant } from '../../src/api/index.js';
import { issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import type { KeyPairPem } from '../../src/render/index.js';
import { probeDirectory } from '../../src/controller/directory-probe.js';
import { directoryIdentity, minimalSpec, tenantFixture } from '../support/tenants.js';
import { credential, startEjabberdStack, type EjabberdStack } from './support/ejabberd-stack.js';
import type { EjabberdNode } from './support/ejabberd-node.js';
import { loginXmpp, type XmppSession } from './support/ejabberd-client.js';
import { ACCESS_FILTER, DIRECTORY_CERT_NAMES, PEOPLE, SERVICE_ACCOUNT_DN, chatGroupLdif, personLdif, removeFromChatGroupLdif, startSlapd, type Slapd } from './support/slapd.js';

// Staff sign in with the hospital directory, for real: Debian's ejabberd 23.01 runs the rendered
// configuration against OpenLDAP (slapd) with a CA of the test's own. Members of the chat group sign
// in with their directory password and chat; others are refused; a member removed from the group is
// refused once the auth cache expires and loses the session they had open; a directory whose
// certificate does not verify, or that speaks plain LDAP only, never receives a bind.

const domain = 'chat.directory-clinic.example';
const CACHE_SECONDS = 5;
const CHECK_SECONDS = 5;

const tenantFor = (port: number): ChatTenant =>
  tenantFixture(
    'directory-clinic',
    minimalSpec({
      xmppDomains: [domain],
      messaging: { admins: [{ username: 'root' }] },
      identity: directoryIdentity({
        servers: ['localhost'],
        port,
        caSecret: { name: 'directory-ca' },
        baseDN: PEOPLE,
        uidAttribute: 'uid',
        accessFilter: ACCESS_FILTER,
        cacheSeconds: CACHE_SECONDS,
        sessionCheckSeconds: CHECK_SECONDS,
        cidrs: ['127.0.0.1/32'],
      }),
    }),
  );

const servicePassword = credential();
const passwords = { alice: credential(), dave: credential(), carol: credential(), bob: credential() };
let directoryCa: KeyPairPem;
let slapd: Slapd;
let stack: EjabberdStack;
let node: EjabberdNode;
const sessions: XmppSession[] = [];
const bindAccount = () => ({ caPem: directoryCa.certPem, bindDN: SERVICE_ACCOUNT_DN, bindPassword: servicePassword });

beforeAll(async () => {
  const now = new Date();
  directoryCa = await issueTenantCa('hospital-directory', now);
  const serverCert = await issueLeaf(directoryCa, { commonName: 'localhost', dnsNames: DIRECTORY_CERT_NAMES, usage: 'server' }, now);
  slapd = await startSlapd({ ldaps: { certificate: serverCert, caPem: directoryCa.certPem }, servicePassword });
  for (const [uid, password] of Object.entries(passwords)) slapd.modify(personLdif(uid, password));
  // bob has an account in the directory but is not in the chat group.
  slapd.modify(chatGroupLdif(['alice', 'dave', 'carol']));
  const tenant = tenantFor(slapd.ldapsPort!);
  stack = await startEjabberdStack(tenant);
  node = await stack.addNode(2, { directory: bindAccount(), peers: [] });
}, 300_000);

afterAll(async () => {
  for (const s of sessions) await s.stop().catch(() => undefined);
  await stack?.stop();
  await slapd?.stop();
}, 120_000);

const login = async (target: EjabberdNode, user: string, password: string) => {
  const s = await loginXmpp({ host: target.address, port: target.ports.c2sStartTls, domain, username: user, password, ca: stack.ca.certPem, mechanisms: ['PLAIN'] });
  sessions.push(s);
  return s;
};

describe('sign-in with the directory', () => {
  it('a member of the chat group signs in with the directory password and chats with another member', async () => {
    const alice = await login(node, 'alice', passwords.alice);
    const dave = await login(node, 'dave', passwords.dave);
    // With LDAP the server cannot hold SCRAM keys: only PLAIN, and only inside TLS.
    expect(alice.offered).toEqual(['PLAIN']);
    expect(alice.tlsProtocol).toMatch(/TLSv1\.[23]/);
    const received = dave.next((s) => s.is('message') && s.getChildText('body') === 'rounds at 9');
    await alice.send(xml('message', { to: `dave@${domain}`, type: 'chat' }, xml('body', {}, 'rounds at 9')));
    expect((await received).attrs['from']).toMatch(new RegExp(`^alice@${domain.replace(/\./g, '\\.')}/`));
  });

  it('refuses a wrong directory password, a directory user outside the group, and a name the directory does not know', async () => {
    await expect(login(node, 'alice', 'not-her-password')).rejects.toThrow(/not-authorized/);
    await expect(login(node, 'bob', passwords.bob)).rejects.toThrow(/not-authorized/);
    await expect(login(node, 'mallory', credential())).rejects.toThrow(/not-authorized/);
  });

  it('the spec\'s admin (an SQL account, the emergency access) still signs in', async () => {
    const root = await login(node, 'root', stack.adminPasswords[`root@${domain}`]!);
    expect(root.jid).toMatch(new RegExp(`^root@${domain.replace(/\./g, '\\.')}/`));
  });

  it('ejabberd binds as the service account and as each user only over TLS, verified', () => {
    const log = slapd.log();
    const binds = slapd.binds();
    expect(binds.some((l) => l.includes(`dn="${SERVICE_ACCOUNT_DN}"`))).toBe(true);
    expect(binds.some((l) => l.includes(`dn="uid=alice,${PEOPLE}"`))).toBe(true);
    // Every connection that bound had completed TLS first (slapd logs "TLS established" per connection).
    const connOf = (line: string) => / (conn=\d+) /.exec(line)?.[1];
    const tlsConns = new Set(log.split('\n').filter((l) => l.includes('TLS established')).map(connOf));
    expect(binds.map(connOf).filter((c) => !tlsConns.has(c))).toEqual([]);
  });

  it(`a member removed from the group loses the open session within cache + check (${CACHE_SECONDS + CHECK_SECONDS} s) and cannot sign in again`, async () => {
    const carol = await login(node, 'carol', passwords.carol);
    const ended = carol.ended;
    slapd.modify(removeFromChatGroupLdif('carol'));
    const removedAt = Date.now();
    const end = await Promise.race([ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('carol kept her session')), (CACHE_SECONDS + CHECK_SECONDS) * 1000 + 15_000))]);
    expect(Date.now() - removedAt).toBeLessThan((CACHE_SECONDS + CHECK_SECONDS) * 1000 + 10_000);
    expect(end.condition).toBe('policy-violation');
    expect(node.log()).toContain(`Directory check: carol@${domain} is no longer admitted by the directory`);
    // The cache window has passed: the directory is asked again and says no.
    await expect(login(node, 'carol', passwords.carol)).rejects.toThrow(/not-authorized/);
    // Members who stay keep their sessions.
    expect(node.ctl('connected_users').output).toContain(`alice@${domain}/`);
  }, 60_000);
});

/**
 * A sign-in against a directory ejabberd cannot use: it is refused, or it gets no answer at all
 * (ejabberd queues the check while its LDAP connection keeps failing). Either way nobody signs in.
 */
async function signInOutcome(target: EjabberdNode, user: string, password: string, waitMs = 20_000): Promise<'signed-in' | 'refused' | 'no-answer'> {
  const attempt = login(target, user, password);
  const outcome = await Promise.race([
    attempt.then(() => 'signed-in' as const, () => 'refused' as const),
    new Promise<'no-answer'>((r) => setTimeout(() => r('no-answer'), waitMs)),
  ]);
  return outcome;
}

describe('directories that must not be trusted', () => {
  let impostor: Slapd;
  let plainOnly: Slapd;

  beforeAll(async () => {
    const now = new Date();
    // A directory with a certificate from some other CA, for the same name.
    const otherCa = await issueTenantCa('somebody-else', now);
    const otherCert = await issueLeaf(otherCa, { commonName: 'localhost', dnsNames: DIRECTORY_CERT_NAMES, usage: 'server' }, now);
    impostor = await startSlapd({ ldaps: { certificate: otherCert, caPem: otherCa.certPem }, servicePassword });
    plainOnly = await startSlapd({ plain: true, servicePassword });
  }, 60_000);

  afterAll(async () => {
    await impostor?.stop();
    await plainOnly?.stop();
  });

  it('a directory whose certificate does not chain to the configured CA gets no bind, and sign-in is refused and logged', async () => {
    const n = await stack.addNode(3, { tenant: tenantFor(impostor.ldapsPort!), directory: bindAccount(), peers: [] });
    expect(await signInOutcome(n, 'alice', passwords.alice)).not.toBe('signed-in');
    expect(impostor.log()).toMatch(/ACCEPT from IP=127\.0\.0\.1/);
    expect(impostor.binds()).toEqual([]);
    expect(n.log()).toMatch(/LDAP connection to localhost:\d+ failed: TLS client: .*Unknown CA/);
  }, 120_000);

  it('the operator\'s probe: the real directory verifies; the impostor and the plain one do not, and none of them sees a bind from it', async () => {
    const bindsBefore = [impostor.binds().length, plainOnly.binds().length];
    expect(await probeDirectory(['localhost'], slapd.ldapsPort!, directoryCa.certPem)).toEqual({ reachable: true, verified: true, message: '' });
    const wrongCa = await probeDirectory(['localhost'], impostor.ldapsPort!, directoryCa.certPem);
    expect(wrongCa).toMatchObject({ reachable: true, verified: false });
    expect(wrongCa.message).toMatch(/^localhost:\d+: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    const plain = await probeDirectory(['localhost'], plainOnly.plainPort!, directoryCa.certPem, 3000);
    expect(plain).toMatchObject({ reachable: true, verified: false });
    expect([impostor.binds().length, plainOnly.binds().length]).toEqual(bindsBefore);
    // A server name the certificate does not carry fails too, even with the right CA.
    const wrongName = await probeDirectory(['127.0.0.1'], slapd.ldapsPort!, directoryCa.certPem);
    expect(wrongName).toMatchObject({ reachable: true, verified: false });
    expect(wrongName.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('a directory that speaks plain LDAP only gets a TLS hello, never a bind', async () => {
    const n = await stack.addNode(4, { tenant: tenantFor(plainOnly.plainPort!), directory: bindAccount(), peers: [] });
    expect(await signInOutcome(n, 'alice', passwords.alice)).not.toBe('signed-in');
    expect(plainOnly.log()).toMatch(/ACCEPT from IP=127\.0\.0\.1/);
    expect(plainOnly.binds()).toEqual([]);
  }, 120_000);

  it('why admission refuses StartTLS: ejabberd 23.01 given ldap_encrypt starttls binds in plaintext', async () => {
    const n = await stack.addNode(5, {
      tenant: tenantFor(plainOnly.plainPort!),
      directory: bindAccount(),
      peers: [],
      editEjabberdYml: (yml) => yml.replace('ldap_encrypt: tls', 'ldap_encrypt: starttls'),
    });
    await signInOutcome(n, 'alice', passwords.alice, 10_000);
    expect(plainOnly.binds().some((l) => l.includes(`dn="${SERVICE_ACCOUNT_DN}"`))).toBe(true);
    expect(plainOnly.log()).not.toMatch(/TLS established/);
  }, 120_000);
});

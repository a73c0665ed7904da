import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import { messagingDnsNames } from '../../src/render/index.js';
import { erlangNodeHost } from '../../src/render/ejabberd/pod-layout.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { credential, startEjabberdStack, type EjabberdStack } from './support/ejabberd-stack.js';
import { asEjabberd, type EjabberdNode } from './support/ejabberd-node.js';
import { loginXmpp, type XmppSession } from './support/ejabberd-client.js';
import { clusterMembers, expectDelivered } from './support/cluster-checks.js';

// Erlang distribution over TLS between two real ejabberd nodes (Debian's 23.01) configured by the
// renderer. A recording relay sits in front of each node's distribution port (the node's host name
// resolves to it), so every distribution connection between the nodes, and every ejabberdctl call,
// is captured on loopback.

const domain = 'chat.dist-clinic.example';
const tenant = tenantFixture('dist-clinic', minimalSpec({ xmppDomains: [domain], messaging: { replicas: 2, admins: [{ username: 'alice' }] } }));

let stack: EjabberdStack;
let first: EjabberdNode;
let second: EjabberdNode;
const bobPassword = credential();
const sessions: XmppSession[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'cto-dist-probe-'));

async function login(node: EjabberdNode, username: string, password: string): Promise<XmppSession> {
  const s = await loginXmpp({ host: node.address, port: node.ports.c2sStartTls, domain, username, password, ca: stack.ca.certPem });
  sessions.push(s);
  return s;
}



/** A bare Erlang VM with the tenant's cookie that pings node 2, as an intruder without a certificate would. */
function probe(extraArgs: string[]): string {
  const host = erlangNodeHost(tenant, defaultSettings(), 19);
  const args = ['-name', `probe@${host}`, '-setcookie', stack.cookie, '-erl_epmd_port', String(stack.distributionPort), '-start_epmd', 'false', '-dist_listen', 'false', '-hidden', '-noinput'];
  const ping = `io:format("~p~n", [net_adm:ping('${stack.nodeName(2)}')]), halt().`;
  const c = asEjabberd('/usr/bin/erl', [...args, ...extraArgs, '-eval', ping], stack.hostsFile);
  const r = spawnSync(c.cmd, c.args, { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: scratch, LANG: 'C.UTF-8' }, cwd: scratch, timeout: 60_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

beforeAll(async () => {
  stack = await startEjabberdStack(tenant, { peerCount: 2, relayDistribution: true });
  first = await stack.addNode(2);
  second = await stack.addNode(3);
  expect(first.ctl('register', 'bob', domain, bobPassword).code).toBe(0);
}, 400_000);

afterAll(async () => {
  for (const s of sessions) await s.stop();
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 180_000);

describe('TLS Erlang distribution', () => {
  it('the nodes cluster over TLS: every distribution connection opens with a TLS handshake', () => {
    expect(clusterMembers(first)).toEqual([stack.nodeName(2), stack.nodeName(3)]);
    const connections = [...stack.relays.values()].flatMap((r) => r.connections).filter((c) => c.fromClient.length > 0);
    expect(connections.length).toBeGreaterThan(0);
    // A TLS record of type handshake (22), version 3.x; plain distribution starts with a length and 'N'.
    for (const c of connections) expect([...c.fromClient[0]!.subarray(0, 2)]).toEqual([0x16, 0x03]);
  });

  it('a message between users on different nodes crosses the distribution port, never in clear', async () => {
    const alice = await login(first, 'alice', stack.adminPasswords[`alice@${domain}`]!);
    const bob = await login(second, 'bob', bobPassword);
    const relays = [...stack.relays.values()];
    const before = relays.reduce((n, r) => n + r.capturedBytes(), 0);
    const there = `to node two ${randomBytes(8).toString('hex')}`;
    const back = `back to node one ${randomBytes(8).toString('hex')}`;
    await expectDelivered(alice, bob, there);
    await expectDelivered(bob, alice, back);
    // The relay's worker reports what it forwarded asynchronously.
    await new Promise((r) => setTimeout(r, 500));
    expect(relays.reduce((n, r) => n + r.capturedBytes(), 0)).toBeGreaterThan(before);
    for (const relay of relays) {
      expect(relay.sawInClear(there)).toBe(false);
      expect(relay.sawInClear(back)).toBe(false);
    }
  });

  it('a node with the tenant cookie, trusting the tenant CA, but with a certificate from another tenant\'s CA cannot join', async () => {
    const otherCa = await issueTenantCa('other-clinic', new Date());
    // The same names as the real messaging certificate: only the issuer is wrong.
    const foreign = await issueLeaf(otherCa, { commonName: domain, dnsNames: messagingDnsNames(tenant, defaultSettings()), usage: 'peer' }, new Date());
    // It trusts both CAs (its own ejabberdctl must reach it), so only the tenant nodes' check can refuse it.
    const intruder = await stack.addNode(4, { distributionTls: { ca: `${stack.ca.certPem.trim()}\n${otherCa.certPem.trim()}\n`, identity: foreign }, peers: [stack.nodeName(2), stack.nodeName(3)] });
    expect(intruder.log()).toMatch(/no peer answered: this node starts the cluster/);
    expect(clusterMembers(first)).toEqual([stack.nodeName(2), stack.nodeName(3)]);
    expect(clusterMembers(intruder)).toEqual([stack.nodeName(4)]);
    expect(await intruder.stop()).toBe(0);
  }, 240_000);

  it('the dialling side checks the host name: a node whose certificate does not name it is unreachable, even by its own ejabberdctl', async () => {
    // Signed by the tenant CA, but without *.<headless>.<ns>.svc.<domain>.
    const unnamed = await issueLeaf(stack.ca, { commonName: domain, dnsNames: [domain], usage: 'peer' }, new Date());
    const node = await stack.addNode(5, { distributionTls: { ca: stack.ca.certPem, identity: unnamed }, waitReady: false, peers: [] });
    // The client (ejabberdctl) aborts the handshake; the server logs the alert it received.
    const refused = /TLS server: In state \w+ received CLIENT ALERT: Fatal - Handshake Failure/;
    const deadline = Date.now() + 60_000;
    let status = node.ctl('status');
    while (status.code !== 0 && !refused.test(node.log()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2000));
      status = node.ctl('status');
    }
    expect(status.code, status.output).not.toBe(0);
    expect(node.log()).toMatch(refused);
    expect(node.ctl('status').code).not.toBe(0);
    await node.stop();
  }, 150_000);

  it('a VM with the tenant cookie but no certificate cannot connect, over TLS or in plaintext', () => {
    const clientOnly = join(scratch, 'no-certificate.conf');
    writeFileSync(clientOnly, `[{server, []}, {client, [{cacertfile, "${first.runtime.distribution.tls.caFile}"}, {verify, verify_peer}, {customize_hostname_check, [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}]}]}].\n`, { mode: 0o644 });
    spawnSync('chmod', ['755', scratch]);
    expect(probe(['-proto_dist', 'inet_tls', '-ssl_dist_optfile', clientOnly])).toMatch(/^pang$/m);
    expect(probe([])).toMatch(/^pang$/m);
    expect(clusterMembers(first)).toEqual([stack.nodeName(2), stack.nodeName(3)]);
  }, 120_000);
});

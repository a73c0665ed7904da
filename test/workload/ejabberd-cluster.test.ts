import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { credential, startEjabberdStack, type EjabberdStack } from './support/ejabberd-stack.js';
import type { EjabberdNode } from './support/ejabberd-node.js';
import { loginXmpp, type XmppSession } from './support/ejabberd-client.js';
import { clusterMembers, expectDelivered } from './support/cluster-checks.js';

// Two ejabberd nodes on this machine, started the way the StatefulSet starts its pods: the same
// rendered node script, the same peer list for both, Erlang distribution over TLS on one shared port
// number without epmd, each node on its own loopback address (as each pod has its own IP) and named as
// its pod would be.

const domain = 'chat.cluster-clinic.example';
const tenant = tenantFixture('cluster-clinic', minimalSpec({ xmppDomains: [domain], messaging: { replicas: 2, admins: [{ username: 'alice' }] } }));

let stack: EjabberdStack;
let first: EjabberdNode;
let second: EjabberdNode;
const bobPassword = credential();
const sessions: XmppSession[] = [];

async function login(node: EjabberdNode, username: string, password: string): Promise<XmppSession> {
  const s = await loginXmpp({ host: node.address, port: node.ports.c2sStartTls, domain, username, password, ca: stack.ca.certPem });
  sessions.push(s);
  return s;
}



beforeAll(async () => {
  stack = await startEjabberdStack(tenant, { peerCount: 2 });
  first = await stack.addNode(2);
  second = await stack.addNode(3);
  expect(first.ctl('register', 'bob', domain, bobPassword).code).toBe(0);
}, 400_000);

afterAll(async () => {
  for (const s of sessions) await s.stop();
  await stack?.stop();
}, 180_000);

describe('ejabberd cluster', () => {
  it('the second node joins the first on start, and the admin account is provisioned once for both', () => {
    expect(first.log()).toMatch(/no peer answered: this node starts the cluster/);
    expect(second.log()).toContain(`joined the cluster through ${stack.nodeName(2)}`);
    expect(clusterMembers(first)).toEqual([stack.nodeName(2), stack.nodeName(3)]);
    expect(clusterMembers(second)).toEqual([stack.nodeName(2), stack.nodeName(3)]);
    expect(first.log()).toMatch(/registered admin account alice@/);
    expect(second.log()).toMatch(/admin account alice@\S+ exists/);
  });

  it('a user on one node reaches a user on the other', async () => {
    const alice = await login(first, 'alice', stack.adminPasswords[`alice@${domain}`]!);
    const bob = await login(second, 'bob', bobPassword);
    await expectDelivered(alice, bob, 'from node one to node two');
    await expectDelivered(bob, alice, 'and back');
  });

  it('a node that leaves (preStop) is gone from the cluster, and the other keeps serving', async () => {
    const bobOnSecond = await login(second, 'bob', bobPassword);
    const left = second.nodeScript('leave');
    expect(left.code, left.output).toBe(0);
    expect(left.output).toMatch(/leaving the cluster/);
    // leave_cluster stops the node: its script ends on its own, and its clients are disconnected.
    expect(await second.stop()).toBe(0);
    await bobOnSecond.ended;
    expect(clusterMembers(first)).toEqual([stack.nodeName(2)]);

    const alice = await login(first, 'alice', stack.adminPasswords[`alice@${domain}`]!);
    const bob = await login(first, 'bob', bobPassword);
    await expectDelivered(alice, bob, 'still serving on node one');
  }, 120_000);

  it('a replacement pod (fresh Mnesia directory) joins again', async () => {
    second.wipeSpool();
    await second.start();
    expect(clusterMembers(first)).toEqual([stack.nodeName(2), stack.nodeName(3)]);
    const alice = await login(first, 'alice', stack.adminPasswords[`alice@${domain}`]!);
    const bob = await login(second, 'bob', bobPassword);
    await expectDelivered(alice, bob, 'after the rejoin');
  }, 180_000);

  it('a node that died without leaving comes back with a fresh Mnesia directory and is a member again', async () => {
    await second.kill();
    second.wipeSpool();
    await second.start();
    expect(clusterMembers(first)).toEqual([stack.nodeName(2), stack.nodeName(3)]);
    expect(clusterMembers(second)).toEqual([stack.nodeName(2), stack.nodeName(3)]);
    const alice = await login(first, 'alice', stack.adminPasswords[`alice@${domain}`]!);
    const bob = await login(second, 'bob', bobPassword);
    await expectDelivered(bob, alice, 'after a crash');
  }, 180_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { credential, startEjabberdStack, type EjabberdStack } from './support/ejabberd-stack.js';
import type { EjabberdNode } from './support/ejabberd-node.js';
import { loginXmpp, type XmppSession } from './support/ejabberd-client.js';

// One ejabberd node (Debian's 23.01) with the configuration the operator renders, on a real
// PostgreSQL, driven by a real XMPP client.

const domain = 'chat.test-clinic.example';
const tenant = tenantFixture('test-clinic', minimalSpec({ xmppDomains: [domain], messaging: { admins: [{ username: 'alice' }], archiveRetentionDays: 30 } }));

let stack: EjabberdStack;
let node: EjabberdNode;
const bobPassword = credential();
const sessions: XmppSession[] = [];

async function login(username: string, password: string, extra: Partial<Parameters<typeof loginXmpp>[0]> = {}): Promise<XmppSession> {
  const session = await loginXmpp({ host: node.address, port: node.ports.c2sStartTls, domain, username, password, ca: stack.ca.certPem, ...extra });
  sessions.push(session);
  return session;
}

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

describe('ejabberd node with the rendered configuration', () => {
  it('lets two accounts log in over STARTTLS with SCRAM-SHA-256 and exchange a message', async () => {
    const alice = await login('alice', stack.adminPasswords[`alice@${domain}`]!);
    const bob = await login('bob', bobPassword);
    expect(alice.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(alice.mechanism).toBe('SCRAM-SHA-256');
    expect(alice.serverVerified).toBe(true);
    const arrived = bob.next((s) => s.is('message') && s.getChildText('body') === 'hello bob');
    await alice.send(xml('message', { to: `bob@${domain}`, type: 'chat', id: 'm1' }, xml('body', {}, 'hello bob')));
    const message = await arrived;
    expect(message.attrs['from']).toMatch(new RegExp(`^alice@${domain}/`));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { credential, startEjabberdStack, type EjabberdStack } from './support/ejabberd-stack.js';
import type { EjabberdNode } from './support/ejabberd-node.js';
import { loginXmpp, type XmppSession } from './support/ejabberd-client.js';

// HIPAA automatic logoff, for real: with idleSessionTimeoutMinutes at its minimum (1), a session
// whose user does nothing is closed after a minute even though its client keeps the connection alive
// with pings, while a session whose user keeps chatting stays.

const domain = 'chat.idle-clinic.example';
const tenant = tenantFixture('idle-clinic', minimalSpec({ xmppDomains: [domain], messaging: { idleSessionTimeoutMinutes: 1 } }));

let stack: EjabberdStack;
let node: EjabberdNode;
const sessions: XmppSession[] = [];
const passwords = { idle: credential(), busy: credential() };

beforeAll(async () => {
  stack = await startEjabberdStack(tenant);
  node = await stack.addNode(2);
  for (const [user, password] of Object.entries(passwords)) expect(node.ctl('register', user, domain, password).code).toBe(0);
}, 300_000);

afterAll(async () => {
  for (const s of sessions) await s.stop();
  await stack?.stop();
}, 120_000);

const login = async (user: keyof typeof passwords) => {
  const s = await loginXmpp({ host: node.address, port: node.ports.c2sStartTls, domain, username: user, password: passwords[user], ca: stack.ca.certPem });
  sessions.push(s);
  return s;
};

describe('idle session timeout', () => {
  it('closes a session after a minute without user activity, keepalive pings notwithstanding, and keeps an active one', async () => {
    const idle = await login('idle');
    const busy = await login('busy');
    const loggedInAt = Date.now();
    let idleEndedAt = 0;
    const idleEnded = idle.ended.then((e) => {
      idleEndedAt = Date.now();
      return e;
    });
    let busyEnded = false;
    void busy.ended.then(() => (busyEnded = true));

    // Every 15 s: the idle client only pings the server (keepalive); the busy one sends a message.
    for (let i = 1; i <= 5 && !idleEndedAt; i++) {
      await new Promise((r) => setTimeout(r, 15_000));
      if (!idleEndedAt) await idle.iq.request(xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' }))).catch(() => undefined);
      const echo = busy.next((s) => s.getChildText('body') === `still here ${i}`);
      await busy.send(xml('message', { to: `busy@${domain}`, type: 'chat' }, xml('body', {}, `still here ${i}`)));
      await echo;
    }
    const ended = await Promise.race([idleEnded, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the idle session was never closed')), 15_000))]);
    expect(ended.condition).toBe('policy-violation');
    expect(ended.text).toMatch(/automatic logoff/);
    // Not before the minute is up, and not much after (the timer fires on time).
    expect(idleEndedAt - loggedInAt).toBeGreaterThanOrEqual(59_000);
    expect(idleEndedAt - loggedInAt).toBeLessThan(75_000);

    expect(busyEnded).toBe(false);
    const online = node.ctl('connected_users');
    expect(online.output).toContain(`busy@${domain}/`);
    expect(online.output).not.toContain(`idle@${domain}/`);
    expect(node.log()).toMatch(new RegExp(`Automatic logoff: closing the session of idle@${domain.replace(/\./g, '\\.')}/\\S+ after 6\\d seconds without activity`));
  }, 150_000);
});

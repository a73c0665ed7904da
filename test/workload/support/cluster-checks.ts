import xml from '@xmpp/xml';
import { expect } from 'vitest';
import type { XmppSession } from './ejabberd-client.js';
import type { EjabberdNode } from './ejabberd-node.js';

// What the two-node cluster tests check, whatever carries the distribution (plain or TLS).

/** The members a node sees, without the quotes 23.01 prints. */
export const clusterMembers = (node: EjabberdNode): string[] =>
  node
    .ctl('list_cluster')
    .output.split('\n')
    .map((l) => l.replace(/'/g, '').trim())
    .filter((l) => l.includes('@'))
    .sort();

/** Sends a chat message and waits until the other session receives it from the sender. */
export async function expectDelivered(from: XmppSession, to: XmppSession, text: string): Promise<void> {
  const arrived = to.next((s) => s.getChildText('body') === text);
  await from.send(xml('message', { to: to.jid.replace(/\/.*/, ''), type: 'chat' }, xml('body', {}, text)));
  expect((await arrived).attrs['from']).toMatch(new RegExp(`^${from.jid.replace(/\/.*/, '')}/`));
}

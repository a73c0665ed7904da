/**
 * Sends one chat message between two accounts of a tenant over XMPP with STARTTLS, and checks it arrives.
 * Run by test/e2e/kind.sh against a `kubectl port-forward` to the tenant's ejabberd Service.
 *
 * Uses the workload tests' client (test/workload/support/ejabberd-client.ts): xmpp.js with the server
 * certificate verified against the tenant CA and the XMPP domain, TLS 1.2+, SCRAM-SHA-256 with the server's
 * signature checked. Passwords are read from files (never argv, never printed).
 *
 * Environment: XMPP_HOST, XMPP_PORT, XMPP_DOMAIN, XMPP_CA_FILE, SENDER, SENDER_PASSWORD_FILE, RECIPIENT,
 * RECIPIENT_PASSWORD_FILE (SENDER/RECIPIENT are local parts, e.g. alice).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import xml from '@xmpp/xml';
import { loginXmpp, type XmppSession } from '../workload/support/ejabberd-client.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const common = {
    host: env('XMPP_HOST'),
    port: Number(env('XMPP_PORT')),
    domain: env('XMPP_DOMAIN'),
    ca: readFileSync(env('XMPP_CA_FILE'), 'utf8'),
    mechanisms: ['SCRAM-SHA-256'] as Array<'SCRAM-SHA-256'>,
  };
  const sessions: XmppSession[] = [];
  try {
    const recipient = await loginXmpp({ ...common, username: env('RECIPIENT'), password: readFileSync(env('RECIPIENT_PASSWORD_FILE'), 'utf8').trim() });
    sessions.push(recipient);
    const sender = await loginXmpp({ ...common, username: env('SENDER'), password: readFileSync(env('SENDER_PASSWORD_FILE'), 'utf8').trim() });
    sessions.push(sender);
    for (const s of sessions) {
      if (!s.tlsProtocol || !['TLSv1.2', 'TLSv1.3'].includes(s.tlsProtocol)) throw new Error(`${s.jid}: TLS protocol is ${s.tlsProtocol}`);
      if (s.mechanism !== 'SCRAM-SHA-256' || !s.serverVerified) throw new Error(`${s.jid}: SCRAM-SHA-256 with server signature expected (got ${s.mechanism}, verified ${s.serverVerified})`);
    }
    const body = `e2e ${randomBytes(8).toString('hex')}`;
    const recipientBare = `${env('RECIPIENT')}@${common.domain}`;
    const arrived = recipient.next((stanza) => stanza.is('message') && stanza.getChildText('body') === body, 30_000);
    await sender.send(xml('message', { to: recipientBare, type: 'chat', id: randomBytes(6).toString('hex') }, xml('body', {}, body)));
    const message = await arrived;
    console.log(`message from ${message.attrs['from']} to ${recipient.jid} arrived over ${recipient.tlsProtocol} (${recipient.mechanism})`);
  } finally {
    await Promise.all(sessions.map((s) => s.stop()));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`xmpp-message: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

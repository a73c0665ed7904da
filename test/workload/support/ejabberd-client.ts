import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Client } from '@xmpp/client-core';
import tcp from '@xmpp/tcp';
import middleware from '@xmpp/middleware';
import streamFeatures from '@xmpp/stream-features';
import iqCaller, { type IqCaller } from '@xmpp/iq/caller.js';
import iqCallee from '@xmpp/iq/callee.js';
import sasl from '@xmpp/sasl';
import resourceBinding from '@xmpp/resource-binding';
import plain from '@xmpp/sasl-plain';
import { upgrade } from '@xmpp/starttls/starttls.js';
import SASLFactory from 'saslmechanisms';
import xml, { type Element } from '@xmpp/xml';

// A real XMPP client for the workload tests: xmpp.js's connection, SASL and resource binding, put
// together as @xmpp/client does, with two additions @xmpp/client lacks:
//  - STARTTLS verifies the server certificate against the tenant CA (xmpp.js takes no CA option);
//  - SCRAM-SHA-256 (xmpp.js 0.14 speaks SCRAM-SHA-1 and PLAIN only), including the check of the
//    server's signature, so a login proves the server holds the account's SCRAM keys.

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';

interface ScramState {
  expectedServerSignature?: Buffer;
  serverVerified: boolean;
}

/** RFC 5802 / RFC 7677 client side, in the shape saslmechanisms expects. */
function scramSha256(state: ScramState) {
  const hmac = (key: Buffer, text: string | Buffer) => createHmac('sha256', key).update(text).digest();
  class ScramSha256 {
    private stage: 'first' | 'final' | 'done' = 'first';
    private clientFirstBare = '';
    private serverFirst = '';
    response(credentials: { username: string; password: string }): string {
      if (this.stage === 'first') {
        const nonce = randomBytes(18).toString('base64');
        this.clientFirstBare = `n=${credentials.username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
        this.stage = 'final';
        return `n,,${this.clientFirstBare}`;
      }
      if (this.stage === 'final') {
        const attrs = Object.fromEntries(this.serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
        const salted = pbkdf2Sync(credentials.password, Buffer.from(attrs['s']!, 'base64'), Number(attrs['i']), 32, 'sha256');
        const clientKey = hmac(salted, 'Client Key');
        const storedKey = createHash('sha256').update(clientKey).digest();
        const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${attrs['r']}`;
        const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
        const signature = hmac(storedKey, authMessage);
        const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
        state.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
        this.stage = 'done';
        return `${withoutProof},p=${proof.toString('base64')}`;
      }
      return '';
    }
    challenge(text: string): this {
      this.serverFirst = text;
      return this;
    }
  }
  // saslmechanisms reads the name (and xmpp.js clientFirst) from the prototype.
  Object.defineProperties(ScramSha256.prototype, { name: { value: 'SCRAM-SHA-256' }, clientFirst: { value: true } });
  return ScramSha256;
}

export interface XmppLoginOptions {
  /** Where to connect (a node's loopback address and STARTTLS port). */
  host: string;
  port: number;
  domain: string;
  username: string;
  password: string;
  /** The tenant CA: the server certificate must chain to it and name the domain. */
  ca: string;
  resource?: string;
  /** Mechanisms to try, by preference; the server's offer decides among them. */
  mechanisms?: Array<'SCRAM-SHA-256' | 'PLAIN'>;
  /** Called once the session is bound, before the initial presence (which releases offline messages). */
  beforePresence?: (client: Client) => Promise<void> | void;
}

export interface XmppSession {
  jid: string;
  client: Client;
  /** SASL mechanisms the server offered (after TLS) and the one used. */
  offered: string[];
  mechanism: string;
  /** The server proved it holds the account's SCRAM keys (SCRAM only). */
  serverVerified: boolean;
  tlsProtocol: string | undefined;
  iq: IqCaller;
  send(element: Element): Promise<void>;
  /** Resolves with the next stanza that matches. */
  next(match: (stanza: Element) => boolean, timeoutMs?: number): Promise<Element>;
  /** Resolves when the server ends the session, with the stream error condition if it sent one. */
  ended: Promise<{ condition?: string; text?: string }>;
  stop(): Promise<void>;
}

export async function loginXmpp(options: XmppLoginOptions): Promise<XmppSession> {
  const scram: ScramState = { serverVerified: false };
  const entity = new Client({ service: `xmpp://${options.host}:${options.port}`, domain: options.domain });
  tcp({ entity });
  const mw = middleware({ entity });
  const features = streamFeatures({ middleware: mw });
  const iq = iqCaller({ middleware: mw, entity });
  iqCallee({ middleware: mw, entity }).get('urn:xmpp:ping', 'ping', () => ({}));
  let tlsProtocol: string | undefined;
  features.use('starttls', NS_TLS, async ({ entity: e }) => {
    const proceed = await e.sendReceive(xml('starttls', { xmlns: NS_TLS }));
    if (!proceed.is('proceed', NS_TLS)) throw new Error('STARTTLS refused');
    const secured = (await upgrade(e.socket, { host: options.domain, servername: options.domain, ca: options.ca, minVersion: 'TLSv1.2' })) as { socket: { getProtocol(): string | null } };
    tlsProtocol = secured.socket.getProtocol() ?? undefined;
    e._attachSocket(secured);
    await e.restart();
  });
  const factory = new SASLFactory();
  const preference = options.mechanisms ?? ['SCRAM-SHA-256', 'PLAIN'];
  if (preference.includes('SCRAM-SHA-256')) factory.use(scramSha256(scram));
  if (preference.includes('PLAIN')) plain(factory);
  let offered: string[] = [];
  let mechanism = '';
  features.use('mechanisms', NS_SASL, async (_ctx, next, element) => {
    offered = element.getChildren('mechanism', NS_SASL).map((m) => m.text());
    await next();
  });
  sasl({ streamFeatures: features, saslFactory: factory }, async (authenticate: (creds: unknown, mech: string) => Promise<void>, mechanisms: string[]) => {
    const chosen = preference.find((p) => mechanisms.includes(p));
    if (!chosen) throw new Error(`no acceptable SASL mechanism among ${mechanisms.join(', ')}`);
    mechanism = chosen;
    await authenticate({ username: options.username, password: options.password }, chosen);
  });
  resourceBinding({ streamFeatures: features, iqCaller: iq }, options.resource ?? `test-${randomBytes(4).toString('hex')}`);
  entity.on('nonza', (el) => {
    if (el.is('success', NS_SASL) && scram.expectedServerSignature) {
      const v = Buffer.from(el.text(), 'base64').toString().replace(/^v=/, '');
      const got = Buffer.from(v, 'base64');
      scram.serverVerified = got.length === scram.expectedServerSignature.length && timingSafeEqual(got, scram.expectedServerSignature);
    }
  });
  const ended = new Promise<{ condition?: string; text?: string }>((resolve) => {
    let streamError: { condition?: string; text?: string } = {};
    entity.on('error', (error: Error & { condition?: string; text?: string }) => {
      if (error.condition) streamError = { condition: error.condition, ...(error.text ? { text: error.text } : {}) };
    });
    entity.on('offline', () => resolve(streamError));
    entity.on('disconnect', () => resolve(streamError));
  });
  await entity.start();
  await options.beforePresence?.(entity);
  // Available, as a chat client is once logged in: messages to the bare JID reach this resource.
  await entity.send(xml('presence'));
  return {
    jid: String(entity.jid),
    client: entity,
    offered,
    mechanism,
    serverVerified: scram.serverVerified,
    tlsProtocol,
    iq,
    send: (element) => entity.send(element),
    next: (match, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const listener = (stanza: Element) => {
          if (!match(stanza)) return;
          clearTimeout(timer);
          entity.off('stanza', listener);
          resolve(stanza);
        };
        const timer = setTimeout(() => {
          entity.off('stanza', listener);
          reject(new Error('no matching stanza in time'));
        }, timeoutMs);
        entity.on('stanza', listener);
      }),
    ended,
    async stop() {
      if (entity.status !== 'offline') await entity.stop().catch(() => undefined);
    },
  };
}

import net from 'node:net';
import tls from 'node:tls';
import { XmppWire } from './ejabberd-wire.js';

// Which TLS 1.2 suites a listener accepts, found the way a scanner (sslscan, testssl.sh) finds them:
// one handshake per suite, the client offering that suite alone. The expectation is written out
// here from Mozilla's "intermediate" profile (ssl-config.mozilla.org, guidelines 5.7), not taken
// from the code under test.

/** Mozilla intermediate, TLS 1.2: ECDHE/DHE key exchange with AEAD ciphers only (OpenSSL names). */
export const MOZILLA_INTERMEDIATE_TLS12 = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
]);

/** Every TLS 1.2 (and older) suite this Node's OpenSSL can offer; TLS 1.3 suites are named tls_*. */
export function tls12SuitesNodeKnows(): string[] {
  return tls.getCiphers().filter((c) => !c.startsWith('tls_')).map((c) => c.toUpperCase());
}

/** Opens a TLS session over whatever the listener speaks first; rejects when the handshake fails. */
export type TlsConnector = (options: tls.ConnectionOptions) => Promise<tls.TLSSocket>;

const HANDSHAKE_TIMEOUT_MS = 10_000;

function handshake(socket: tls.TLSSocket): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('TLS handshake timed out'));
    }, HANDSHAKE_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

export const directTls = (host: string, port: number): TlsConnector => (options) => handshake(tls.connect({ host, port, ...options }));

/** XMPP STARTTLS (port 5222): open a stream, wait for the offer, ask to proceed, then handshake. */
export const xmppStartTls = (host: string, port: number, domain: string): TlsConnector => async (options) => {
  const wire = await XmppWire.plain(host, port);
  try {
    wire.openStream(domain);
    await wire.waitFor(/<starttls[^>]*xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]/);
    await wire.startTls(domain, options);
    return wire.tlsSocket!;
  } catch (error) {
    wire.close();
    throw error;
  }
};

/** PostgreSQL: the 8-byte SSLRequest, a single 'S' back, then the handshake on the same socket. */
export const postgresSslRequest = (host: string, port: number): TlsConnector => async (options) => {
  const socket = net.connect({ host, port });
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const answer = await new Promise<Buffer>((resolve, reject) => {
      socket.once('data', resolve).once('error', reject);
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(80877103, 4);
      socket.write(request);
    });
    if (answer.toString('latin1') !== 'S') throw new Error(`PostgreSQL answered the SSLRequest with ${JSON.stringify(answer.toString('latin1'))}`);
    return await handshake(tls.connect({ socket, ...options }));
  } catch (error) {
    socket.destroy();
    throw error;
  }
};

/** Security level 0: the client must be able to offer SHA-1, CBC and old protocols, or the scan proves nothing. */
const OFFER_ANYTHING = '@SECLEVEL=0';

export interface ScanResult {
  /** Suites the listener completed a TLS 1.2 handshake with. */
  acceptedTls12: string[];
  /** Protocol versions below 1.2 the listener completed a handshake with. */
  acceptedOldProtocols: string[];
}

export async function scanListener(connect: TlsConnector): Promise<ScanResult> {
  const base: tls.ConnectionOptions = { rejectUnauthorized: false };
  const acceptedTls12: string[] = [];
  for (const suite of tls12SuitesNodeKnows()) {
    try {
      const socket = await connect({ ...base, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: `${suite}:${OFFER_ANYTHING}` });
      acceptedTls12.push(socket.getCipher().name);
      socket.destroy();
    } catch {
      // Refused, or a suite that this certificate's key type cannot serve: either way not accepted.
    }
  }
  const acceptedOldProtocols: string[] = [];
  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    try {
      const socket = await connect({ ...base, minVersion: version, maxVersion: version, ciphers: `DEFAULT:${OFFER_ANYTHING}` });
      acceptedOldProtocols.push(socket.getProtocol() ?? version);
      socket.destroy();
    } catch {
      // Refused, as it must be.
    }
  }
  return { acceptedTls12: [...new Set(acceptedTls12)].sort(), acceptedOldProtocols };
}

/** A control: the scan's client really completes a handshake within the profile on this listener. */
export async function acceptsProfileSuite(connect: TlsConnector): Promise<boolean> {
  try {
    const socket = await connect({ rejectUnauthorized: false, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: [...MOZILLA_INTERMEDIATE_TLS12].join(':') });
    socket.destroy();
    return true;
  } catch {
    return false;
  }
}

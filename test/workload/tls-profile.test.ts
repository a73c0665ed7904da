import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { startEjabberdStack, type EjabberdStack } from './support/ejabberd-stack.js';
import type { EjabberdNode } from './support/ejabberd-node.js';
import { startPostgres, type PostgresServer } from './support/postgres-server.js';
import { MOZILLA_INTERMEDIATE_TLS12, acceptsProfileSuite, directTls, postgresSslRequest, scanListener, xmppStartTls, type TlsConnector } from './support/tls-scan.js';

// Every TLS listener of a rendered tenant, on the real servers (Debian's ejabberd 23.01 and
// PostgreSQL 15 started with the rendered configuration), held to Mozilla's intermediate profile:
// no TLS 1.2 suite outside it, no TLS 1.0/1.1, and HSTS on the HTTPS listener.

const domain = 'chat.tls-scan.example';
const tenant = tenantFixture('tls-scan', minimalSpec({ xmppDomains: [domain], messaging: { admins: [{ username: 'alice' }] } }));

let stack: EjabberdStack;
let node: EjabberdNode;
/** The operator's own certificates are ECDSA; Provided and CertManager ones may be RSA, which opens the RSA suites. */
let rsaPostgres: PostgresServer;

/** A self-signed RSA certificate for localhost (the scan does not verify; the server's own readiness check does). */
function rsaKeyPair(): { certPem: string; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cto-rsa-'));
  try {
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
    return { certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  stack = await startEjabberdStack(tenant);
  node = await stack.addNode(2);
  const rsa = rsaKeyPair();
  rsaPostgres = await startPostgres({ tls: { ca: rsa.certPem, server: rsa } });
}, 300_000);

afterAll(async () => {
  await rsaPostgres?.stop();
  await stack?.stop();
}, 120_000);

const listeners: Array<[string, () => TlsConnector]> = [
  ['ejabberd c2s STARTTLS (5222)', () => xmppStartTls(node.address, node.ports.c2sStartTls, domain)],
  ['ejabberd c2s direct TLS (5223)', () => directTls(node.address, node.ports.c2sDirectTls)],
  ['ejabberd HTTPS, BOSH and WebSocket (5443)', () => directTls(node.address, node.ports.https)],
  ['PostgreSQL (SSLRequest)', () => postgresSslRequest(stack.postgres.host, stack.postgres.port)],
  ['PostgreSQL (SSLRequest) with an RSA certificate', () => postgresSslRequest(rsaPostgres.host, rsaPostgres.port)],
];

describe('TLS listeners at the Mozilla intermediate profile', () => {
  it.each(listeners)('%s: only profile suites under TLS 1.2, no TLS 1.0 or 1.1', async (_name, connector) => {
    const connect = connector();
    // Without this control a listener the client cannot reach at all would pass the scan.
    expect(await acceptsProfileSuite(connect)).toBe(true);
    const result = await scanListener(connect);
    expect(result.acceptedTls12.length).toBeGreaterThan(0);
    expect(result.acceptedTls12.filter((suite) => !MOZILLA_INTERMEDIATE_TLS12.has(suite))).toEqual([]);
    expect(result.acceptedOldProtocols).toEqual([]);
  });

  it('the HTTPS listener sends Strict-Transport-Security with at least a year', async () => {
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      https.get({ host: node.address, port: node.ports.https, path: '/bosh', ca: stack.ca.certPem, servername: domain }, (r) => {
        r.resume();
        resolve(r);
      }).on('error', reject);
    });
    const hsts = res.headers['strict-transport-security'];
    expect(hsts, JSON.stringify(res.headers)).toBeDefined();
    const maxAge = Number(/max-age=(\d+)/.exec(String(hsts))?.[1] ?? 0);
    expect(maxAge).toBeGreaterThanOrEqual(31_536_000);
  });
});

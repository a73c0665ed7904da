import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import { startPostgres, type PostgresServer } from './support/postgres-server.js';

// The harness itself: a PostgreSQL with the operator's configuration accepts TLS+SCRAM and nothing else.

let server: PostgresServer;

beforeAll(async () => {
  const now = new Date();
  const ca = await issueTenantCa('harness', now);
  const leaf = await issueLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' }, now);
  server = await startPostgres({ tls: { ca: ca.certPem, server: leaf } });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('postgres test server', () => {
  it('accepts a verified TLS connection with SCRAM', async () => {
    const result = await server.query<{ ssl: boolean; version: string }>('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    expect(result.rows[0]).toMatchObject({ ssl: true });
    expect(result.rows[0]!.version).toMatch(/^TLSv1\.[23]$/);
  });

  it('refuses a plaintext connection', async () => {
    const client = new pg.Client({ ...server.clientConfig(), ssl: false });
    await expect(client.connect()).rejects.toThrow(/pg_hba.conf rejects connection|no encryption/);
  });
});

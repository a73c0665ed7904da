import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import type { KeyPairPem } from '../../src/render/index.js';
import { POSTGRES_BIN, startPostgres, type PostgresServer } from './support/postgres-server.js';

// Who gets into a PostgreSQL running the operator's configuration (rendered postgresql.conf and
// pg_hba): TLS with SCRAM, and nobody else. The server key is laid out as a Secret volume with
// fsGroup leaves it in the standalone pod (root-owned, group of the server, 0440).

let ca: KeyPairPem;
let leaf: KeyPairPem;
let server: PostgresServer;
const APP_PASSWORD = 'app-password-for-scram';
const LEGACY_PASSWORD = 'legacy-md5-password';

async function tryConnect(config: pg.ClientConfig): Promise<string> {
  const client = new pg.Client(config);
  try {
    await client.connect();
    const r = await client.query<{ ssl: boolean; version: string | null }>('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return `connected ssl=${r.rows[0]!.ssl} ${r.rows[0]!.version}`;
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

beforeAll(async () => {
  const now = new Date();
  ca = await issueTenantCa('auth-test', now);
  leaf = await issueLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' }, now);
  server = await startPostgres({ tls: { ca: ca.certPem, server: leaf }, keyFileAsSecretVolume: { mode: 0o440 } });
  await server.query(`CREATE ROLE ejabberd LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${APP_PASSWORD}'`);
  await server.query('CREATE DATABASE ejabberd OWNER ejabberd');
  // A role whose password is stored as md5: it can only log in with an md5 exchange.
  // (One round trip: the helper opens a connection per query.)
  await server.query(`SET password_encryption = 'md5'; CREATE ROLE legacy LOGIN PASSWORD '${LEGACY_PASSWORD}'`);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('PostgreSQL with the operator configuration', () => {
  it('runs with the key owned by root, group-readable only (as a Secret volume with fsGroup leaves it)', async () => {
    const stat = spawnSync('stat', ['-c', '%U:%G %a', `${server.caFile.replace(/ca\.crt$/, 'tls.key')}`], { encoding: 'utf8' }).stdout.trim();
    expect(stat).toBe('root:postgres 440');
    expect(await tryConnect(server.clientConfig())).toMatch(/^connected ssl=true/);
  });

  it('accepts the messaging role over verified TLS with SCRAM, TLS 1.2 or newer', async () => {
    const result = await tryConnect(server.clientConfig({ user: 'ejabberd', password: APP_PASSWORD, database: 'ejabberd' }));
    expect(result).toMatch(/^connected ssl=true TLSv1\.[23]$/);
    const stored = await server.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = 'ejabberd'");
    expect(stored.rows[0]!.rolpassword).toMatch(/^SCRAM-SHA-256\$/);
  });

  it('refuses a plaintext connection, for any role', async () => {
    for (const user of ['ejabberd', 'postgres']) {
      const result = await tryConnect({ ...server.clientConfig({ user, password: APP_PASSWORD, database: 'ejabberd' }), ssl: false });
      expect(result, user).toMatch(/^refused: .*(pg_hba\.conf rejects connection|no encryption)/);
    }
  });

  it('refuses a login that is not SCRAM: a role whose password is stored as md5 cannot get in', async () => {
    const stored = await server.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = 'legacy'");
    expect(stored.rows[0]!.rolpassword).toMatch(/^md5/);
    const result = await tryConnect(server.clientConfig({ user: 'legacy', password: LEGACY_PASSWORD }));
    expect(result).toMatch(/^refused: password authentication failed for user "legacy"/);
  });

  it('refuses a wrong password and a TLS client that cannot verify the server', async () => {
    expect(await tryConnect(server.clientConfig({ user: 'ejabberd', password: 'wrong', database: 'ejabberd' }))).toMatch(/^refused: password authentication failed/);
    const otherCa = await issueTenantCa('someone-else', new Date());
    expect(await tryConnect({ ...server.clientConfig(), ssl: { ca: otherCa.certPem, rejectUnauthorized: true, servername: 'localhost' } })).toMatch(/^refused: .*(self.signed|unable to verify|certificate)/i);
  });

  it('refuses a client that offers only TLS 1.1', async () => {
    const result = await tryConnect({ ...server.clientConfig(), ssl: { ca: ca.certPem, rejectUnauthorized: true, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' } });
    expect(result).toMatch(/^refused: /);
  });

  it('libpq (psql) with sslmode=verify-full gets in; with sslmode=disable it is refused', () => {
    const env = { PATH: process.env['PATH'], PGHOST: 'localhost', PGHOSTADDR: '127.0.0.1', PGPORT: String(server.port), PGUSER: 'ejabberd', PGPASSWORD: APP_PASSWORD, PGDATABASE: 'ejabberd', PGSSLROOTCERT: server.caFile };
    const ok = spawnSync(`${POSTGRES_BIN}/psql`, ['-XAtc', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], { env: { ...env, PGSSLMODE: 'verify-full' }, encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe('t');
    const plain = spawnSync(`${POSTGRES_BIN}/psql`, ['-XAtc', 'SELECT 1'], { env: { ...env, PGSSLMODE: 'disable' }, encoding: 'utf8' });
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/pg_hba\.conf rejects connection .* no encryption/);
  });
});

describe('the server key permissions PostgreSQL insists on', () => {
  it('refuses to start with a root-owned key that everyone may read (a wrong defaultMode)', async () => {
    await expect(startPostgres({ tls: { ca: ca.certPem, server: leaf }, keyFileAsSecretVolume: { mode: 0o444 } })).rejects.toThrow(/has group or world access|permissions should be/);
  });
});

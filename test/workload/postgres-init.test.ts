import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import { names } from '../../src/render/index.js';
import { initScript } from '../../src/render/postgres/standalone.js';
import { POSTGRES_BIN, startPostgres, type PostgresServer } from './support/postgres-server.js';

// The standalone provider's init script (what the official image runs from
// /docker-entrypoint-initdb.d on first start), run by the postgres OS user against a real server
// over the Unix socket, with the messaging role's password as the file of a Secret volume
// (root-owned, group postgres, 0440) and in no environment.

let server: PostgresServer;
let dir: string;
const APP_PASSWORD = "app:pass'word\\with-quotes";

beforeAll(async () => {
  const now = new Date();
  const ca = await issueTenantCa('init-test', now);
  const leaf = await issueLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' }, now);
  server = await startPostgres({ tls: { ca: ca.certPem, server: leaf } });
  dir = mkdtempSync(join(tmpdir(), 'cto-pg-init-'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('standalone init script', () => {
  it('creates the messaging role with the password read from its file', () => {
    if (process.getuid?.() !== 0) throw new Error('needs root: the server runs as the postgres OS user, the file belongs to root');
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const passwordFile = join(dir, 'app-password');
    writeFileSync(passwordFile, APP_PASSWORD);
    chownSync(passwordFile, 0, gid);
    chmodSync(passwordFile, 0o440);
    const script = join(dir, 'init.sh');
    writeFileSync(script, initScript());
    chmodSync(dir, 0o755);
    chmodSync(script, 0o555);
    const env = { PATH: `${POSTGRES_BIN}:/usr/bin:/bin`, PGHOST: join(dirname(server.dataDir), 'run'), PGPORT: String(server.port), APP_PASSWORD_FILE: passwordFile };
    const run = spawnSync('runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), '/bin/sh', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(APP_PASSWORD);
  });

  it('the role logs in over TLS with exactly that password, and owns its database', async () => {
    const client = new pg.Client(server.clientConfig({ user: names.database.appUser, password: APP_PASSWORD, database: names.database.appDatabase }));
    await client.connect();
    try {
      const owner = await client.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()');
      expect(owner.rows[0]!.owner).toBe(names.database.appUser);
    } finally {
      await client.end();
    }
  });
});

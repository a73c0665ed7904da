import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BackupKey } from '../../../src/backup/crypto.js';
import type { DatabaseConnection } from '../../../src/backup/database.js';
import type { RunnerDeps } from '../../../src/backup/runner.js';
import { issueLeaf, issueTenantCa } from '../../../src/controller/certificates.js';
import { POSTGRES_BIN, startPostgres, type PostgresServer } from './postgres-server.js';
import { stopIfLaterStepsFail } from './setup-steps.js';

// A real PostgreSQL (startPostgres: the operator's TLS + SCRAM configuration) with the messaging
// server's least-privilege role and database, as the backup runner meets them in a cluster, plus
// the files the runner's environment points at (CA certificate, key file, database logins as the
// files of a kubernetes.io/basic-auth Secret volume).

export const APP_USER = 'ejabberd';
export const APP_DATABASE = 'ejabberd';

export interface BackupFixture {
  server: PostgresServer;
  dir: string;
  caFile: string;
  keyFile: string;
  key: BackupKey;
  /** As the CronJob connects: the app role, by name, TLS verify-full. */
  app: DatabaseConnection;
  /** As on-call restores: a role that may create databases. */
  admin: DatabaseConnection;
  /** The two logins as Secret volume files (username, password; mode 0440 as kubelet leaves them). */
  appLogin: LoginFiles;
  adminLogin: LoginFiles;
  appClient(database?: string): Promise<pg.Client>;
  adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult<T>>;
  stop(): Promise<void>;
}

export interface LoginFiles {
  userFile: string;
  passwordFile: string;
}

function writeLoginFiles(dir: string, connection: DatabaseConnection): LoginFiles {
  const files = { userFile: join(dir, 'username'), passwordFile: join(dir, 'password') };
  mkdirSync(dir);
  writeFileSync(files.userFile, connection.user, { mode: 0o440 });
  writeFileSync(files.passwordFile, connection.password, { mode: 0o440 });
  return files;
}

export async function startBackupFixture(): Promise<BackupFixture> {
  const now = new Date();
  const ca = await issueTenantCa('backup-test', now);
  const leaf = await issueLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' }, now);
  const server = await startPostgres({ tls: { ca: ca.certPem, server: leaf } });
  let createdDir: string | undefined;
  const stopServer = async () => {
    await server.stop();
    if (createdDir) rmSync(createdDir, { recursive: true, force: true });
  };
  return stopIfLaterStepsFail(stopServer, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cto-backup-'));
    createdDir = dir;
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, ca.certPem);
    const keyText = randomBytes(32).toString('base64');
    const keyFile = join(dir, 'backup.key');
    writeFileSync(keyFile, keyText, { mode: 0o600 });
    const appPassword = randomBytes(18).toString('base64url');
    await server.query(`CREATE ROLE ${APP_USER} LOGIN PASSWORD '${appPassword}'`);
    await server.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${APP_USER}`);
    await server.query(`REVOKE ALL ON DATABASE ${APP_DATABASE} FROM PUBLIC`);
    const base = { host: 'localhost', hostaddr: '127.0.0.1', port: server.port, sslRootCertFile: caFile };
    const app: DatabaseConnection = { ...base, database: APP_DATABASE, user: APP_USER, password: appPassword };
    const admin: DatabaseConnection = { ...base, database: 'postgres', user: server.superuser.user, password: server.superuser.password };
    return {
      server,
      dir,
      caFile,
      keyFile,
      key: BackupKey.fromFileContent(Buffer.from(keyText)),
      app,
      admin,
      appLogin: writeLoginFiles(join(dir, 'app-login'), app),
      adminLogin: writeLoginFiles(join(dir, 'admin-login'), admin),
      async appClient(database = APP_DATABASE) {
        const client = new pg.Client(server.clientConfig({ user: APP_USER, password: appPassword, database }));
        await client.connect();
        return client;
      },
      adminQuery: (sql, params, database) => server.query(sql, params, database),
      async stop() {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

/** Runner dependencies with a clock that advances a minute per call, so backup ids never collide. */
export function testDeps(start = new Date('2026-11-23T02:00:00Z'), log: string[] = []): RunnerDeps & { lines: string[] } {
  let t = start.getTime();
  return {
    now: () => new Date((t += 60_000)),
    randomBytes,
    log: (line) => log.push(line),
    lines: log,
    tools: { binDir: POSTGRES_BIN },
  };
}

/** As restore and verify Jobs run (docs/backup.md): the superuser's login Secret mounted instead. */
export function adminRunnerEnv(fixture: BackupFixture, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, PGUSER_FILE: fixture.adminLogin.userFile, PGPASSWORD_FILE: fixture.adminLogin.passwordFile };
}

/** The environment the rendered CronJob gives the runner, pointed at the fixture. */
export function runnerEnv(fixture: BackupFixture, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    TENANT: 'test-clinic',
    PGHOST: fixture.app.host,
    PGHOSTADDR: fixture.app.hostaddr!,
    PGPORT: String(fixture.app.port),
    PGDATABASE: fixture.app.database,
    PGUSER_FILE: fixture.appLogin.userFile,
    PGPASSWORD_FILE: fixture.appLogin.passwordFile,
    PGSSLMODE: 'verify-full',
    PGSSLROOTCERT: fixture.caFile,
    BACKUP_KEY_FILE: fixture.keyFile,
    PG_BINDIR: POSTGRES_BIN,
    ...extra,
  };
}

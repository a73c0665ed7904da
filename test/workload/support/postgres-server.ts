import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { renderPgHba, renderPostgresqlConf } from '../../../src/render/index.js';
import type { KeyPairPem } from '../../../src/render/index.js';
import { WORKLOAD_PACKAGES, ensureDebianPackages } from './debian.js';
import { freePort } from './ports.js';
import { stopProcessGroup } from './process-group.js';

// A real PostgreSQL (Debian's) started with the configuration the operator renders: the same
// postgresql.conf and pg_hba.conf, only the paths and the port adapted. PostgreSQL refuses to run as
// root, so when the tests run as root the server runs as the `postgres` OS user.

export interface PostgresServer {
  host: '127.0.0.1';
  port: number;
  /** Superuser over TCP+TLS+SCRAM (the only way in, as in the cluster). */
  superuser: { user: string; password: string };
  caFile: string;
  dataDir: string;
  /** A pg client config for `database` as `user`, TLS verified against the tenant CA. */
  clientConfig(options?: { user?: string; password?: string; database?: string }): pg.ClientConfig;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult<T>>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface PostgresServerOptions {
  /** Server certificate and key for `localhost`/127.0.0.1, and the CA that issued it. */
  tls: { ca: string; server: KeyPairPem };
  superuserPassword?: string;
  /** Extra postgresql.conf parameters (tests only, e.g. to loosen TLS and prove it is refused). */
  extraParameters?: Record<string, string>;
  hba?: string;
  /**
   * Ownership of the server key as a Kubernetes Secret volume leaves it: owned by root, group of the
   * server (fsGroup), this mode. Default: owned by the server user, 0600. Needs root.
   */
  keyFileAsSecretVolume?: { mode: number };
}

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

function asPostgresUser(command: string, args: string[], env: NodeJS.ProcessEnv = {}): { cmd: string; args: string[] } {
  if (process.getuid?.() !== 0) return { cmd: command, args };
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return { cmd: 'runuser', args: ['-u', 'postgres', '--', 'env', ...envArgs, command, ...args] };
}

export async function startPostgres(options: PostgresServerOptions): Promise<PostgresServer> {
  ensureDebianPackages(WORKLOAD_PACKAGES.postgres);
  const dir = mkdtempSync(join(tmpdir(), 'cto-pg-'));
  const dataDir = join(dir, 'data');
  const confDir = join(dir, 'conf');
  const runDir = join(dir, 'run');
  for (const d of [confDir, runDir]) spawnSync('mkdir', ['-p', d]);
  const password = options.superuserPassword ?? 'superuser-test-password';
  const files: Record<string, string> = {
    'conf/ca.crt': options.tls.ca,
    'conf/tls.crt': options.tls.server.certPem,
    'conf/tls.key': options.tls.server.keyPem,
    'conf/pg_hba.conf': options.hba ?? renderPgHba(),
    pwfile: `${password}\n`,
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o600 });
  const port = await freePort();
  const conf =
    renderPostgresqlConf({ certFile: join(confDir, 'tls.crt'), keyFile: join(confDir, 'tls.key'), caFile: join(confDir, 'ca.crt') }, options.extraParameters) +
    `port = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${runDir}'\nhba_file = '${join(confDir, 'pg_hba.conf')}'\n`;
  writeFileSync(join(confDir, 'postgresql.conf'), conf, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const pwd = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const uid = Number(pwd.stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    spawnSync('chown', ['-R', `${uid}:${gid}`, dir]);
    chownSync(dir, uid, gid);
    if (options.keyFileAsSecretVolume) {
      chownSync(join(confDir, 'tls.key'), 0, gid);
      chmodSync(join(confDir, 'tls.key'), options.keyFileAsSecretVolume.mode);
    }
  }
  chmodSync(dir, 0o700);
  const init = asPostgresUser(`${POSTGRES_BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', `--pwfile=${join(dir, 'pwfile')}`, '--auth-local=peer', '--auth-host=scram-sha-256', '--data-checksums', '-E', 'UTF8', '--locale=C.UTF-8']);
  const initResult = spawnSync(init.cmd, init.args, { encoding: 'utf8' });
  if (initResult.status !== 0) throw new Error(`initdb failed: ${initResult.stderr}${initResult.stdout}`);
  const logFile = join(dir, 'postgres.log');
  writeFileSync(logFile, '');
  if (process.getuid?.() === 0) spawnSync('chown', ['postgres', logFile]);
  const run = asPostgresUser(`${POSTGRES_BIN}/postgres`, ['-D', dataDir, '-c', `config_file=${join(confDir, 'postgresql.conf')}`]);
  const child: ChildProcess = spawn('sh', ['-c', `exec "$0" "$@" >>'${logFile}' 2>&1`, run.cmd, ...run.args], { stdio: 'ignore', detached: true });
  const server: PostgresServer = {
    host: '127.0.0.1',
    port,
    superuser: { user: 'postgres', password },
    caFile: join(confDir, 'ca.crt'),
    dataDir,
    clientConfig: (o = {}) => ({
      host: '127.0.0.1',
      port,
      user: o.user ?? 'postgres',
      password: o.password ?? password,
      database: o.database ?? 'postgres',
      // verify-full against the tenant CA; the server certificate names localhost and 127.0.0.1.
      ssl: { ca: options.tls.ca, rejectUnauthorized: true, servername: 'localhost' },
    }),
    async query(sql, params, database) {
      const client = new pg.Client(server.clientConfig({ database: database ?? 'postgres' }));
      await client.connect();
      try {
        return await client.query(sql, params as unknown[]);
      } finally {
        await client.end();
      }
    },
    logTail: (lines = 40) => readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n'),
    async stop() {
      await stopProcessGroup(child, 'SIGINT', 10_000); // fast shutdown
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitUntilAccepting(server, child);
  return server;
}

async function waitUntilAccepting(server: PostgresServer, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const tail = server.logTail();
      await server.stop();
      throw new Error(`postgres exited (${child.exitCode}):\n${tail}`);
    }
    try {
      await server.query('SELECT 1');
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await server.stop();
  throw new Error(`postgres did not accept TLS connections in 30s: ${String(lastError)}\n${server.logTail()}`);
}

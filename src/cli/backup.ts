import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BackupKey } from '../backup/crypto.js';
import type { DatabaseConnection } from '../backup/database.js';
import type { RetentionPolicy } from '../backup/retention.js';
import { defaultDeps, listBackups, restoreBackup, runBackup, verifyBackup, type RunnerDeps } from '../backup/runner.js';
import { DirectoryStore } from '../backup/targets/pvc.js';
import { S3Store } from '../backup/targets/s3.js';
import type { BackupStore } from '../backup/targets/store.js';
import type { Io } from './commands.js';

// The backup runner's commands: `backup` (what the CronJob runs), `restore`, `verify` and
// `list-backups` (what on-call runs). The environment is the contract with the CronJob rendered in
// src/render/backup.ts; it is read here, once, into typed configuration. It names files for every
// password and key (`*_FILE`) and never carries one itself: an environment is readable in
// /proc/<pid>/environ and inherited by every child process.

export class BackupConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`backup configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BackupConfigError';
  }
}

export interface RunnerConfig {
  tenant: string;
  connection: DatabaseConnection;
  key: BackupKey;
  store: BackupStore;
  retention?: RetentionPolicy;
  pgBinDir?: string;
}

class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  required(name: string): string {
    const value = this.env[name];
    if (value === undefined || value === '') {
      this.problems.push(`${name} is not set`);
      return '';
    }
    return value;
  }

  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  positiveInteger(name: string): number | undefined {
    const text = this.optional(name);
    if (text === undefined) return undefined;
    if (!/^[1-9][0-9]*$/.test(text)) {
      this.problems.push(`${name} must be a positive integer, got "${text}"`);
      return undefined;
    }
    return Number(text);
  }

  /** A secret from the file `<NAME>_FILE` names; the secret itself in the environment (`<NAME>`) is refused. */
  secretFile(name: string, what: string, options: { trim: boolean }): string {
    const inEnvironment = name.replace(/_FILE$/, '');
    if (this.env[inEnvironment] !== undefined) this.problems.push(`${inEnvironment} is not read: give the ${what} as a file, in ${name}`);
    return this.textFile(name, what, options);
  }

  textFile(name: string, what: string, options: { trim: boolean }): string {
    const content = this.file(name, what)?.toString('utf8');
    if (content === undefined) return '';
    const value = options.trim ? content.trim() : content;
    if (value === '') this.problems.push(`${name}: the ${what} file is empty`);
    return value;
  }

  file(name: string, what: string): Buffer | undefined {
    const path = this.required(name);
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      this.problems.push(`${name}: cannot read the ${what} at ${path}: ${(error as Error).message}`);
      return undefined;
    }
  }
}

/** Reads and checks the whole contract; every problem is reported at once, no secret is echoed. */
export function runnerConfigFromEnv(env: NodeJS.ProcessEnv, options: { needRetention: boolean }): RunnerConfig {
  const r = new EnvReader(env);
  const tenant = r.required('TENANT');
  const sslMode = r.optional('PGSSLMODE') ?? 'verify-full';
  if (sslMode !== 'verify-full') r.problems.push(`PGSSLMODE must be verify-full (the server certificate is checked against the tenant CA and the host name), got "${sslMode}"`);
  const portText = r.optional('PGPORT') ?? '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) r.problems.push(`PGPORT must be a port number, got "${portText}"`);
  const sslRootCertFile = r.required('PGSSLROOTCERT');
  if (sslRootCertFile) r.file('PGSSLROOTCERT', 'database CA certificate');
  const hostaddr = r.optional('PGHOSTADDR');
  const connection: DatabaseConnection = {
    host: r.required('PGHOST'),
    ...(hostaddr ? { hostaddr } : {}),
    port,
    database: r.required('PGDATABASE'),
    // The user name is no secret, but it comes with the password from the same login Secret.
    user: r.optional('PGUSER') ?? r.textFile('PGUSER_FILE', 'database user name', { trim: true }),
    // Verbatim: the server stored exactly the Secret's bytes.
    password: r.secretFile('PGPASSWORD_FILE', 'database password', { trim: false }),
    sslRootCertFile,
  };
  let key: BackupKey | undefined;
  const keyContent = r.file('BACKUP_KEY_FILE', 'backup key');
  if (keyContent) {
    try {
      key = BackupKey.fromFileContent(keyContent);
    } catch (error) {
      r.problems.push(`BACKUP_KEY_FILE: ${(error as Error).message}`);
    }
  }
  const store = storeFromEnv(r);
  const count = r.positiveInteger('BACKUP_RETENTION_COUNT');
  const days = r.positiveInteger('BACKUP_RETENTION_DAYS');
  if (options.needRetention && count === undefined && days === undefined) r.problems.push('set BACKUP_RETENTION_COUNT, BACKUP_RETENTION_DAYS, or both');
  if (r.problems.length > 0 || !key || !store) throw new BackupConfigError(r.problems);
  const pgBinDir = r.optional('PG_BINDIR');
  return {
    tenant,
    connection,
    key,
    store,
    ...(count !== undefined || days !== undefined ? { retention: { ...(count !== undefined ? { count } : {}), ...(days !== undefined ? { days } : {}) } } : {}),
    ...(pgBinDir ? { pgBinDir } : {}),
  };
}

function storeFromEnv(r: EnvReader): BackupStore | undefined {
  const target = r.required('BACKUP_TARGET');
  if (target === 'pvc') {
    const dir = r.required('BACKUP_DIR');
    return dir ? new DirectoryStore(dir) : undefined;
  }
  if (target === 's3') {
    const endpoint = r.required('S3_ENDPOINT');
    if (endpoint && !endpoint.startsWith('https://')) r.problems.push(`S3_ENDPOINT must be an https:// URL, got "${endpoint}"`);
    const caPem = r.optional('S3_CA_FILE') ? r.file('S3_CA_FILE', 'S3 endpoint CA certificate')?.toString('utf8') : undefined;
    const config = {
      endpoint,
      bucket: r.required('S3_BUCKET'),
      prefix: (r.optional('S3_PREFIX') ?? '').replace(/^\/+|\/+$/g, ''),
      region: r.optional('S3_REGION') ?? 'us-east-1',
      // Access keys never hold whitespace; a trailing newline from `kubectl create secret --from-file` is dropped.
      accessKeyId: r.secretFile('AWS_ACCESS_KEY_ID_FILE', 'S3 access key id', { trim: true }),
      secretAccessKey: r.secretFile('AWS_SECRET_ACCESS_KEY_FILE', 'S3 secret access key', { trim: true }),
      ...(caPem ? { caPem } : {}),
    };
    return r.problems.length === 0 ? new S3Store(config) : undefined;
  }
  if (target) r.problems.push(`BACKUP_TARGET must be pvc or s3, got "${target}"`);
  return undefined;
}

function depsFor(io: Io, config: RunnerConfig): RunnerDeps {
  return defaultDeps((line) => io.err(`${new Date().toISOString()} ${line}\n`), config.pgBinDir ? { binDir: config.pgBinDir } : {});
}

async function guarded(io: Io, action: () => Promise<number>): Promise<number> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof BackupConfigError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    io.err(`error: ${(error as Error).message}\n`);
    return 1;
  }
}

export function backupCommand(io: Io, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return guarded(io, async () => {
    parseArgs({ args, options: {}, strict: true });
    const config = runnerConfigFromEnv(env, { needRetention: true });
    const manifest = await runBackup({ tenant: config.tenant, connection: config.connection, key: config.key, store: config.store, ...(config.retention ? { retention: config.retention } : {}) }, depsFor(io, config));
    io.out(`${manifest.backupId}\n`);
    return 0;
  });
}

export function restoreCommand(io: Io, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseArgs({ args, options: { backup: { type: 'string' }, database: { type: 'string' }, clean: { type: 'boolean', default: false } }, strict: true });
    if (!values.backup || !values.database) {
      io.err('restore: --backup ID|latest and --database NAME are required\n');
      return 2;
    }
    const config = runnerConfigFromEnv(env, { needRetention: false });
    const manifest = await restoreBackup({ connection: config.connection, key: config.key, store: config.store, backup: values.backup, targetDatabase: values.database, clean: values.clean }, depsFor(io, config));
    io.out(`restored ${manifest.backupId} into ${values.database}\n`);
    return 0;
  });
}

export function verifyCommand(io: Io, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseArgs({ args, options: { backup: { type: 'string', default: 'latest' } }, strict: true });
    const config = runnerConfigFromEnv(env, { needRetention: false });
    const report = await verifyBackup({ connection: config.connection, key: config.key, store: config.store, backup: values.backup }, depsFor(io, config));
    io.out(`${JSON.stringify(report)}\n`);
    return report.ok ? 0 : 1;
  });
}

export function listBackupsCommand(io: Io, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return guarded(io, async () => {
    parseArgs({ args, options: {}, strict: true });
    const config = runnerConfigFromEnv(env, { needRetention: false });
    for (const m of await listBackups(config.store)) {
      const rows = m.tables.reduce((n, t) => n + t.rows, 0);
      io.out(`${m.backupId}\t${m.createdAt}\t${m.ciphertext.bytes} bytes\t${m.tables.length} tables\t${rows} rows\tPostgreSQL ${m.serverVersion}\n`);
    }
    return 0;
  });
}

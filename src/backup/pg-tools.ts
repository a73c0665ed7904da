import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { DatabaseConnection } from './database.js';
import { writePassfile, type Passfile } from './passfile.js';

// pg_dump and pg_restore, run as child processes with a libpq environment that only allows a
// verified TLS connection. Version rule: pg_dump must be at least the server's major version (it
// refuses newer servers), and pg_restore at least the version of the pg_dump that wrote the archive.

export interface PgTools {
  /** Directory holding pg_dump and pg_restore; undefined: found on PATH. */
  binDir?: string;
}

export function toolPath(tools: PgTools, name: 'pg_dump' | 'pg_restore'): string {
  return tools.binDir ? join(tools.binDir, name) : name;
}

/** Only what libpq needs: nothing else of the runner's environment reaches the tools, and no password. */
export function libpqEnvironment(connection: DatabaseConnection, database: string, passfile: Passfile): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    PGHOST: connection.host,
    ...(connection.hostaddr ? { PGHOSTADDR: connection.hostaddr } : {}),
    PGPORT: String(connection.port),
    PGDATABASE: database,
    PGUSER: connection.user,
    PGPASSFILE: passfile.path,
    PGSSLMODE: 'verify-full',
    PGSSLROOTCERT: connection.sslRootCertFile,
    PGSSLMINPROTOCOLVERSION: 'TLSv1.2',
    PGCONNECT_TIMEOUT: '30',
    PGAPPNAME: 'chat-tenant-operator-backup',
  };
}

export interface ToolVersion {
  text: string;
  major: number;
}

export function toolVersion(tools: PgTools, name: 'pg_dump' | 'pg_restore'): ToolVersion {
  const result = spawnSync(toolPath(tools, name), ['--version'], { encoding: 'utf8' });
  if (result.error) throw new Error(`${name} not found (${result.error.message}); install the PostgreSQL client (Debian: postgresql-client-<major>)`);
  const text = result.stdout.trim();
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(text);
  if (!match) throw new Error(`cannot read the version of ${name} from "${text}"`);
  return { text, major: Number(match[1]) };
}

/** Fails early, with the rule spelled out, where pg_dump would fail later and less clearly. */
export function assertDumpCompatible(dump: ToolVersion, serverMajor: number): void {
  if (dump.major < serverMajor) {
    throw new Error(`pg_dump ${dump.major} cannot dump a PostgreSQL ${serverMajor} server: pg_dump must be at least the server's major version. Use an operator image with postgresql-client-${serverMajor} or newer.`);
  }
}

class ToolFailed extends Error {
  constructor(name: string, code: number | null, signal: NodeJS.Signals | null, stderr: string) {
    super(`${name} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}`);
    this.name = 'ToolFailed';
  }
}

function collectStderr(stream: Readable): () => string {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    // The tail is what explains a failure; keep memory bounded.
    text = (text + chunk).slice(-8192);
  });
  return () => text;
}

/**
 * pg_dump's output as an async iterable that throws after the last byte if pg_dump failed, so an
 * encrypting stream fed from it never writes its final chunk for an incomplete dump.
 */
export async function* pgDumpOutput(tools: PgTools, connection: DatabaseConnection, args: string[]): AsyncGenerator<Buffer> {
  const passfile = writePassfile(connection.password);
  const child = spawn(toolPath(tools, 'pg_dump'), args, { env: libpqEnvironment(connection, connection.database, passfile), stdio: ['ignore', 'pipe', 'pipe'] });
  for (const event of ['close', 'error'] as const) child.once(event, () => passfile.remove());
  const stderr = collectStderr(child.stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const { code, signal } = await exited;
    if (code !== 0) throw new ToolFailed('pg_dump', code, signal, stderr());
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export interface RunningRestore {
  stdin: Writable;
  /** Resolves when pg_restore succeeded, rejects with its message otherwise. */
  done: Promise<void>;
  /** Stops pg_restore before its input is complete: its transaction is rolled back. */
  abort(): void;
}

export function startPgRestore(tools: PgTools, connection: DatabaseConnection, database: string, args: string[]): RunningRestore {
  const passfile = writePassfile(connection.password);
  const env = libpqEnvironment(connection, database, passfile);
  const child: ChildProcessByStdio<Writable, null, Readable> = spawn(toolPath(tools, 'pg_restore'), args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
  for (const event of ['close', 'error'] as const) child.once(event, () => passfile.remove());
  const stderr = collectStderr(child.stderr);
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new ToolFailed('pg_restore', code, signal, stderr()))));
  });
  // Writes after pg_restore exited fail with EPIPE; `done` carries the real reason.
  child.stdin.on('error', () => undefined);
  return {
    stdin: child.stdin,
    done,
    abort: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

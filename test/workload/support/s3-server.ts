import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import type { KeyPairPem } from '../../../src/render/index.js';
import { ensureVersityGw } from './s3-build.js';
import { freePort } from './ports.js';
import { stopProcessGroup } from './process-group.js';

// A real S3-compatible server (versitygw, posix backend) on 127.0.0.1, serving HTTPS with a
// certificate from a test CA, as an on-prem object store with a private CA would.

export interface S3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  caPem: string;
  /** Directory of the posix backend: bucket/key are plain files under it. */
  root: string;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface S3ServerOptions {
  tls: { ca: string; server: KeyPairPem };
  buckets: string[];
}

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const binary = ensureVersityGw();
  const dir = mkdtempSync(join(tmpdir(), 'cto-s3-'));
  const root = join(dir, 'root');
  // The posix backend serves every directory under root as a bucket.
  for (const bucket of options.buckets) mkdirSync(join(root, bucket), { recursive: true });
  writeFileSync(join(dir, 'tls.crt'), options.tls.server.certPem);
  writeFileSync(join(dir, 'tls.key'), options.tls.server.keyPem, { mode: 0o600 });
  const port = await freePort();
  const accessKeyId = `test${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const logFile = join(dir, 'versitygw.log');
  writeFileSync(logFile, '');
  const child: ChildProcess = spawn(
    'sh',
    ['-c', `exec "$0" "$@" >>'${logFile}' 2>&1`, binary, '--port', `127.0.0.1:${port}`, '--cert', join(dir, 'tls.crt'), '--key', join(dir, 'tls.key'), '--region', 'us-east-1', 'posix', root],
    // Credentials through the environment, not argv (argv is visible to every local user).
    { stdio: 'ignore', detached: true, env: { ...process.env, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey } },
  );
  const server: S3Server = {
    endpoint: `https://localhost:${port}`,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
    caPem: options.tls.ca,
    root,
    logTail: (lines = 40) => readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n'),
    async stop() {
      await stopProcessGroup(child, 'SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitForTls(server, child);
  return server;
}

async function waitForTls(server: S3Server, child: ChildProcess): Promise<void> {
  const agent = new Agent({ ca: server.caPem });
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`versitygw exited (${child.exitCode}):\n${server.logTail()}`);
    try {
      // Any HTTP answer over verified TLS means the server is up (anonymous requests get 403).
      await new Promise<void>((resolve, reject) => request(`${server.endpoint}/`, { agent }, (res) => (res.resume(), resolve())).on('error', reject).end());
      agent.destroy();
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  agent.destroy();
  await server.stop();
  throw new Error(`versitygw did not answer over TLS in 30s: ${String(last)}\n${server.logTail()}`);
}

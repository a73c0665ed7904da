// Where the chart tests' tools (helm, promtool) are kept: outside the repository, shared by every
// checkout, next to the control plane binaries. Keyed by version in the file name, so a version bump
// builds a new binary and never reuses an old one.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export function toolCacheDir(env: NodeJS.ProcessEnv): string {
  if (env['CHAT_TENANT_OPERATOR_CACHE_DIR']) return env['CHAT_TENANT_OPERATOR_CACHE_DIR'];
  const cacheHome = env['XDG_CACHE_HOME'] || path.join(env['HOME'] || os.homedir(), '.cache');
  return path.join(cacheHome, 'chat-tenant-operator');
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; never rejects for a non-zero exit (callers decide), only when it cannot start. */
export function run(file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (child.stdin) {
      // A child that exits without reading all its input closes the pipe; that is its business, not an error.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}

/** Like run, but a non-zero exit is an error that carries the command and its output. */
export async function runChecked(file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(`\`${file} ${args.join(' ')}\` exited with ${result.code}:\n${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

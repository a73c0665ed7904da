import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sharedControlPlane } from '../../harness/kube.js';

// The operator as a real separate process (`run`), for tests that kill it, run two replicas of it,
// or restart the API server under it.

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface OperatorProcess {
  identity: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGTERM: releases the lease and exits. */
  terminate: () => Promise<number | null>;
  /** SIGKILL: dies at once, as in a node crash; the lease is left to expire. */
  kill: () => Promise<number | null>;
}

export function startOperatorProcess(identity: string, leaseName: string, extraArgs: string[] = [], kubeconfigPath = sharedControlPlane().kubeconfigPath): OperatorProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'run', '--kubeconfig', kubeconfigPath, '--identity', identity, '--lease-namespace', 'default', '--lease-name', leaseName, '--lease-duration', '4', '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--log-level', 'debug', ...extraArgs],
    { cwd: root, env: { PATH: process.env['PATH'], HOME: process.env['HOME']}, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  child.stderr!.on('data', (d) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    identity,
    child,
    output: () => out,
    exited,
    terminate: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

// The operator as a real process (src/cli/main.ts through tsx), started with the arguments of the chart's
// Deployment and the identity of the chart's ServiceAccount: what runs in the pod, minus the container.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { REPO_ROOT, type Json } from './chart.js';

export interface OperatorProcess {
  metricsPort: number;
  output: () => string;
  /** SIGTERM, then the exit code (the process must stop on its own within the grace period). */
  stop: () => Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A kubeconfig that authenticates with a ServiceAccount token, nothing else of the admin's. */
export async function serviceAccountKubeconfig(admin: k8s.KubeConfig, namespace: string, serviceAccount: string, file: string): Promise<void> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const token = await core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const cluster = admin.getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'cp', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: serviceAccount, token: token.status!.token }],
    contexts: [{ name: 'sa', cluster: 'cp', user: serviceAccount }],
    currentContext: 'sa',
  });
  await writeFile(file, kc.exportConfig(), { mode: 0o600 });
}

/** Replaces the value after `flag` in args (the Deployment's), or appends the pair. */
function withFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  return i >= 0 ? [...args.slice(0, i + 1), value, ...args.slice(i + 2)] : [...args, flag, value];
}

export async function startOperatorProcess(options: { deployment: Json; settingsFile: string; kubeconfigFile: string; podName: string; podNamespace: string }): Promise<OperatorProcess> {
  const container = options.deployment['spec']['template']['spec']['containers'][0] as Json;
  const metricsPort = await freePort();
  let args = container['args'] as string[];
  args = withFlag(args, '--settings', options.settingsFile);
  args = withFlag(args, '--metrics-port', String(metricsPort));
  args = [...withFlag(args, '--kubeconfig', options.kubeconfigFile), '--metrics-host', '127.0.0.1'];
  const child: ChildProcess = spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: REPO_ROOT,
    // What the Deployment gives the container: the downward API variables, nothing of ours.
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', POD_NAME: options.podName, POD_NAMESPACE: options.podNamespace },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    metricsPort,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

import { Readable, Writable } from 'node:stream';
import { Exec, type KubeConfig } from '@kubernetes/client-node';

// A command in a running container, as `kubectl exec` runs it (API server -> kubelet -> runtime).
// Secrets go through stdin: the command line of an exec is part of the request's URL, which the API
// server's audit log records.

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** "Success" or "Failure", as the kubelet reports it. */
  status: string;
}

export async function execInContainer(
  kubeConfig: KubeConfig,
  target: { namespace: string; pod: string; container: string },
  command: string[],
  stdin?: string,
): Promise<ExecResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString('utf8'));
        done();
      },
    });
  const status = await new Promise<string>((resolve, reject) => {
    new Exec(kubeConfig)
      .exec(target.namespace, target.pod, target.container, command, sink((s) => (stdout += s)), sink((s) => (stderr += s)), stdin === undefined ? null : Readable.from([stdin]), false, (s) =>
        resolve(s.status ?? 'Unknown'),
      )
      .catch(reject);
  });
  return { stdout, stderr, status };
}

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

// Which cluster a command talks to, in order: --kubeconfig, $KUBECONFIG (its first file), the
// in-cluster service account, ~/.kube/config. Undefined when there is none.

export interface ClusterChoice {
  kubeConfig: KubeConfig;
  source: string;
}

export function chooseCluster(flag: string | undefined, env: NodeJS.ProcessEnv): ClusterChoice | undefined {
  const fromFile = (file: string, source: string): ClusterChoice => {
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    return { kubeConfig: kc, source };
  };
  if (flag) return fromFile(flag, `--kubeconfig ${flag}`);
  if (env['KUBECONFIG']) return fromFile(env['KUBECONFIG'].split(':')[0]!, `KUBECONFIG=${env['KUBECONFIG']}`);
  if (env['KUBERNETES_SERVICE_HOST']) {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return { kubeConfig: kc, source: 'in-cluster service account' };
  }
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return fromFile(home, home);
  return undefined;
}

import { describe, expect, it } from 'vitest';
import { apiServerArgs } from '../../src/controlplane/component-args.js';
import type { ControlPlanePki } from '../../src/controlplane/pki.js';
import { coreDnsObjects, COREFILE } from '../../src/controlplane/node/addons.js';
import { containerdConfigToml, kubeletConfigYaml, kubeProxyConfigYaml } from '../../src/controlplane/node/component-config.js';
import { egressGuardCommands } from '../../src/controlplane/node/egress-guard.js';
import { renderHostCleanupScript } from '../../src/controlplane/node/host-cleanup.js';
import { recipeKey } from '../../src/controlplane/node/images/build.js';
import { DEBIAN_IMAGE } from '../../src/controlplane/node/images/recipes.js';
import { NODE_LAYOUT } from '../../src/controlplane/node/layout.js';

const pki = { servingCert: 's.crt', servingKey: 's.key', caCert: 'ca.crt', serviceAccountKey: 'sa.key', serviceAccountPublicKey: 'sa.pub' } as ControlPlanePki;
const base = { etcdClientPort: 1, securePort: 2, certDir: '/c', pki };

describe('API server flags', () => {
  it('stay loopback-only without a real node', () => {
    const args = apiServerArgs(base);
    expect(args).toContain('--bind-address=127.0.0.1');
    expect(args).toContain('--endpoint-reconciler-type=none');
    expect(args.some((a) => a.startsWith('--kubelet-'))).toBe(false);
  });

  it('serve a real node on its address, with kubelet credentials and InternalIP first', () => {
    const args = apiServerArgs({ ...base, realNode: { nodeIp: '192.0.2.2', kubeletClientCert: 'k.crt', kubeletClientKey: 'k.key' } });
    expect(args).toEqual(expect.arrayContaining([
      '--bind-address=192.0.2.2',
      '--advertise-address=192.0.2.2',
      '--endpoint-reconciler-type=lease',
      '--kubelet-client-certificate=k.crt',
      '--kubelet-preferred-address-types=InternalIP,Hostname',
    ]));
    expect(args.filter((a) => a.startsWith('--bind-address'))).toHaveLength(1);
  });
});

describe('real node configuration', () => {
  it('keeps every containerd and kubelet path below the node directories', () => {
    const toml = containerdConfigToml(NODE_LAYOUT, 'localhost/x/pause:1', '/tmp/cni');
    for (const line of toml.split('\n').filter((l) => /^(root|state|\s+address|\s+path) =/.test(l))) {
      expect(line).toMatch(/"\/(var\/lib|run)\/chat-tenant-operator-node\//);
    }
    expect(toml).toContain('restrict_oom_score_adj = true');
    const kubelet = kubeletConfigYaml(NODE_LAYOUT, { identity: { nodeName: 'n', nodeIp: '192.0.2.2' }, caCert: '/ca', healthzPort: 1 });
    expect(kubelet).toContain('cgroupRoot: /chat-tenant-operator-node');
    expect(kubelet).toContain('oomScoreAdj: 0');
    expect(kubelet).toContain("resolvConf: ''");
  });

  it('changes no host-wide kube-proxy setting (conntrack, route_localnet)', () => {
    const proxy = kubeProxyConfigYaml({ identity: { nodeName: 'n', nodeIp: '192.0.2.2' }, kubeconfig: '/k', healthzPort: 1, metricsPort: 2 });
    expect(proxy).toContain('maxPerCore: 0');
    expect(proxy).toContain('localhostNodePorts: false');
  });

  it('runs CoreDNS as kube-dns without forwarding outside the cluster', () => {
    expect(COREFILE).not.toContain('forward');
    const deployment = coreDnsObjects('img').find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } };
    expect(deployment.spec.template.metadata.labels).toEqual({ 'k8s-app': 'kube-dns' });
  });
});

describe('host cleanup script', () => {
  it('removes only the node\'s own chains, sets, directories and bridge', () => {
    const script = renderHostCleanupScript(NODE_LAYOUT);
    expect(script).toContain("ip link delete 'cto0'");
    expect(script).toContain("grep -E '^(inet6:)?(KUBE-|kube-router-)'");
    expect(script).toContain('rm -rf --one-file-system -- "$ROOT" "$RUN"');
  });

  it('refuses directories that are not the project\'s own', () => {
    expect(() => renderHostCleanupScript({ ...NODE_LAYOUT, root: '/var/lib' })).toThrow(/unsafe path/);
    expect(() => renderHostCleanupScript({ ...NODE_LAYOUT, run: "/run/chat-tenant-operator'; rm -rf /" })).toThrow(/unsafe path/);
  });
});

describe('egress guard', () => {
  it('drops forwarded Pod traffic that leaves by anything but the bridge, in a chain the cleanup removes', () => {
    const commands = egressGuardCommands('10.245.0.0/24', 'cto0').map((c) => c.join(' '));
    expect(commands).toContain('-w -t mangle -I FORWARD 1 -j CTO-NODE-EGRESS');
    expect(commands.join('\n')).toMatch(/-s 10\.245\.0\.0\/24 ! -o cto0 .*-j DROP/);
    expect(renderHostCleanupScript(NODE_LAYOUT)).toContain("'^-A (KUBE-|CNI-|CTO-)'");
  });
});

describe('image cache key', () => {
  it('follows the recipe', async () => {
    const key = await recipeKey(DEBIAN_IMAGE);
    expect(await recipeKey(DEBIAN_IMAGE)).toBe(key);
    expect(await recipeKey({ ...DEBIAN_IMAGE, config: { Cmd: ['/bin/bash'] } })).not.toBe(key);
  });
});

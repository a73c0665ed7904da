import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { crdYaml, renderCommand, validateCommand, type Io } from '../../src/cli/commands.js';

function capture(): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), stdout: () => out, stderr: () => err };
}

const example = (name: string) => new URL(`../../examples/${name}`, import.meta.url).pathname;

describe('cli', () => {
  it('validate accepts both examples', async () => {
    for (const file of ['minimal.yaml', 'full.yaml']) {
      const io = capture();
      expect(await validateCommand(io, example(file))).toBe(0);
      expect(io.stderr()).toBe('');
    }
  });

  it('validate names every broken field of examples/broken.yaml and exits 1', async () => {
    const io = capture();
    expect(await validateCommand(io, example('broken.yaml'))).toBe(1);
    const lines = io.stderr().trim().split('\n');
    expect(lines.map((l) => l.split(': ')[1])).toEqual([
      'metadata.name',
      'spec.displayName',
      'spec.xmppDomains[1]',
      'spec.messaging.replicas',
      'spec.database.instances',
      'spec.backup.schedule',
      'spec.network.clientCIDRs[0]',
    ]);
  });

  it('render prints the manifests of the full example as multi-document YAML', async () => {
    const io = capture();
    expect(await renderCommand(io, example('full.yaml'))).toBe(0);
    const docs = yaml.loadAll(io.stdout()) as Array<{ kind: string; metadata: { name: string; namespace?: string } }>;
    const kinds = new Set(docs.map((d) => d.kind));
    for (const kind of ['Namespace', 'ResourceQuota', 'LimitRange', 'NetworkPolicy', 'Secret', 'Service', 'StatefulSet', 'Cluster', 'CronJob', 'ServiceAccount', 'PodDisruptionBudget']) {
      expect(kinds, kind).toContain(kind);
    }
    expect(docs.every((d) => d.kind === 'Namespace' || d.metadata.namespace === 'st-mary-hospital')).toBe(true);
  });

  it('crd prints valid YAML of a CustomResourceDefinition', () => {
    const crd = yaml.load(crdYaml()) as { kind: string; metadata: { name: string } };
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.metadata.name).toBe('chattenants.chat.tenant-operator.dev');
  });
});

describe('cli run flags', () => {
  it('refuses a resync period that is not a whole number of seconds above 0, before starting anything', async () => {
    const { runCommand } = await import('../../src/cli/run.js');
    for (const bad of ['0', '-5', '1.5', 'ten']) {
      // No kubeconfig and no cluster: had the flag been accepted, this would start a control plane.
      await expect(runCommand(capture(), [`--resync-seconds=${bad}`], { HOME: '/nonexistent' })).rejects.toThrow(`--resync-seconds must be a whole number of seconds above 0, not "${bad}"`);
    }
  });

  it('refuses a lease duration too short to hold a renew deadline, before starting anything', async () => {
    const { runCommand } = await import('../../src/cli/run.js');
    await expect(runCommand(capture(), ['--lease-duration=1'], { HOME: '/nonexistent' })).rejects.toThrow('--lease-duration must be at least 2 seconds, not "1"');
    await expect(runCommand(capture(), ['--lease-duration=1.5'], { HOME: '/nonexistent' })).rejects.toThrow('--lease-duration must be a whole number of seconds above 0, not "1.5"');
  });
});

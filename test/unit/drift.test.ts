import { describe, expect, it } from 'vitest';
import { isSubset, needsApply, withDesiredHash } from '../../src/controller/drift.js';
import type { KubeObject } from '../../src/render/index.js';

const sts = (replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'ejabberd', namespace: 't', labels: { a: 'b' } },
  spec: { replicas, template: { spec: { containers: [{ name: 'c', resources: { limits: { memory: '6144Mi', cpu: '2' } } }] } }, ...extra },
});

describe('drift detection', () => {
  it('treats server defaults and canonical quantities as no change', () => {
    const desired = withDesiredHash(sts(3));
    const live = structuredClone(desired) as any;
    live.metadata.uid = 'u';
    live.metadata.labels['added-by-someone'] = 'x';
    live.spec.podManagementPolicy = 'OrderedReady';
    live.spec.template.spec.containers[0].resources.limits.memory = '6Gi';
    live.spec.template.spec.containers[0].resources.limits.cpu = '2000m';
    live.status = { readyReplicas: 3 };
    expect(needsApply(desired, live)).toBe(false);
  });

  it('sees drift: a hand-scaled StatefulSet, a removed label, a changed container', () => {
    const desired = withDesiredHash(sts(3));
    const scaled = structuredClone(desired) as any;
    scaled.spec.replicas = 1;
    expect(needsApply(desired, scaled)).toBe(true);
    const unlabelled = structuredClone(desired) as any;
    delete unlabelled.metadata.labels.a;
    expect(needsApply(desired, unlabelled)).toBe(true);
    const extraContainer = structuredClone(desired) as any;
    extraContainer.spec.template.spec.containers.push({ name: 'sidecar' });
    expect(needsApply(desired, extraContainer)).toBe(true);
  });

  it('sees a field the operator stopped setting, through the hash annotation', () => {
    const before = withDesiredHash(sts(3, { minReadySeconds: 10 }));
    const after = withDesiredHash(sts(3));
    expect(isSubset(after, before)).toBe(false); // the hash differs, so the subset fails on it
    expect(needsApply(after, before as any)).toBe(true);
  });

  it('applies when the object does not exist', () => {
    expect(needsApply(withDesiredHash(sts(1)), undefined)).toBe(true);
  });

  it('does not confuse different strings that are not quantities', () => {
    expect(isSubset({ image: 'postgres:17.6' }, { image: 'postgres:17.5' })).toBe(false);
    expect(isSubset({ cpu: '1' }, { cpu: '1000m' })).toBe(true);
    expect(isSubset({ cpu: '1' }, { cpu: '1001m' })).toBe(false);
  });
});

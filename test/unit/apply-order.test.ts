import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { applyWaves, writeInWaves } from '../../src/controller/apply-order.js';
import { placeholderMaterial, renderTenant, type KubeObject } from '../../src/render/index.js';
import { tenantFixture } from '../support/tenants.js';

const tenant = tenantFixture();
const rendered = renderTenant({ tenant, material: placeholderMaterial(tenant), settings: defaultSettings(), capabilities: { cloudNativePG: false, certManager: false, prometheusOperator: false } });
const kinds = (objects: KubeObject[]) => [...new Set(objects.map((o) => o.kind))].sort();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('applyWaves', () => {
  it('puts the Namespace first, what Pods rely on next, what makes Pods last, and loses nothing', () => {
    const [first, second, third] = applyWaves(rendered);
    expect(kinds(first!)).toEqual(['Namespace']);
    expect(kinds(third!)).toEqual(['CronJob', 'Job', 'StatefulSet']);
    for (const kind of ['LimitRange', 'ResourceQuota', 'NetworkPolicy', 'Secret', 'ServiceAccount', 'Service']) expect(kinds(second!)).toContain(kind);
    expect([first, second, third].flat().length).toBe(rendered.length);
  });
});

describe('writeInWaves', () => {
  it('starts no write of a wave before every write of the one before has finished, with a bounded number in flight', async () => {
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await writeInWaves(rendered, async (o) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      log.push(`start ${o.kind}`);
      await sleep(o.kind === 'Secret' ? 15 : 2);
      log.push(`end ${o.kind}`);
      inFlight--;
    }, 3);
    expect(maxInFlight).toBe(3);
    const lastEndBeforeWorkloads = Math.max(...log.map((l, i) => (l.startsWith('end ') && !['end StatefulSet', 'end CronJob', 'end Job'].includes(l) ? i : -1)));
    const firstWorkloadStart = log.findIndex((l) => ['start StatefulSet', 'start CronJob', 'start Job'].includes(l));
    expect(firstWorkloadStart).toBeGreaterThan(lastEndBeforeWorkloads);
    expect(log.indexOf('end Namespace')).toBeLessThan(log.findIndex((l, i) => l.startsWith('start ') && i > 0));
  });

  it('after a failed write finishes its wave, throws that error and never starts the Pod makers', async () => {
    const written: string[] = [];
    const failing = rendered.find((o) => o.kind === 'NetworkPolicy')!;
    await expect(
      writeInWaves(rendered, async (o) => {
        await sleep(1);
        if (o === failing) throw new Error('policy refused');
        written.push(o.kind);
      }),
    ).rejects.toThrow('policy refused');
    expect(written).toContain('Secret'); // the rest of the wave was written
    expect(written.filter((k) => ['StatefulSet', 'CronJob', 'Job'].includes(k))).toEqual([]);
  });
});

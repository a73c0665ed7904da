import type { KubeObject } from '../render/index.js';
import { pool } from './pool.js';

// In what order a tenant's objects are written. Sequential writes made a new tenant wait for ~40
// round trips; most objects do not depend on each other, so they go in three waves:
//   1. the Namespace, which everything else lives in;
//   2. what Pods rely on when they are admitted or start: the LimitRange (defaults are applied at Pod
//      admission), the ResourceQuota, the NetworkPolicies (default deny must hold before a Pod runs),
//      ServiceAccounts, Secrets, ConfigMaps, Services, volumes;
//   3. what creates Pods: StatefulSets, Jobs, CronJobs, a CloudNativePG Cluster.
// Within a wave the writes run side by side, a few at a time.

/** Kinds whose controllers create Pods: written last. */
const POD_MAKERS = new Set(['StatefulSet', 'Deployment', 'DaemonSet', 'Job', 'CronJob', 'Cluster']);

/** At most this many writes of one reconcile in flight: a burst per tenant, not a flood. */
export const WRITES_IN_FLIGHT = 6;

/** The objects in waves, each wave in rendered order; a wave may be empty. */
export function applyWaves(objects: readonly KubeObject[]): KubeObject[][] {
  const waves: KubeObject[][] = [[], [], []];
  for (const o of objects) waves[o.kind === 'Namespace' ? 0 : POD_MAKERS.has(o.kind) ? 2 : 1]!.push(o);
  return waves;
}

/**
 * Runs `write` over each wave, at most `inFlight` at a time, a wave only after the one before has
 * settled. Every write of a wave is allowed to finish; the first failure is then thrown and later
 * waves are not started (Pods must not be created when what they rely on failed to be written).
 */
export async function writeInWaves(objects: readonly KubeObject[], write: (o: KubeObject) => Promise<void>, inFlight = WRITES_IN_FLIGHT): Promise<void> {
  for (const wave of applyWaves(objects)) {
    const failures: unknown[] = [];
    await pool(wave, inFlight, async (o) => {
      try {
        await write(o);
      } catch (error) {
        failures.push(error);
      }
    });
    if (failures.length > 0) throw failures[0];
  }
}

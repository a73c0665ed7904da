import type { Logger } from 'pino';
import type { OperatorSettings } from '../api/index.js';
import type { EventRecorder } from '../kube/events.js';
import type { KubeObjects } from '../kube/objects.js';
import type { OperatorMetrics } from '../metrics/registry.js';
import type { RandomSource } from './material.js';
import type { Caches } from './caches.js';

/** Everything a reconcile needs, passed in: no globals, so tests build it with real parts. */
export interface ReconcileContext {
  caches: Caches;
  objects: KubeObjects;
  events: EventRecorder;
  metrics: OperatorMetrics;
  settings: OperatorSettings;
  log: Logger;
  clock: () => Date;
  random?: RandomSource;
  /** Periodic resync of a healthy tenant (also catches certificate renewal). */
  resyncMs: number;
  /** Requeue of a tenant that is not Ready yet, in case no watch event arrives. */
  notReadyRequeueMs: number;
}

/** What a reconcile asks of the work queue: run again after this long (controller-runtime's RequeueAfter). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

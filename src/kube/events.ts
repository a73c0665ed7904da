import { randomBytes } from 'node:crypto';
import { isNotFound } from './errors.js';
import type { KubeObjects } from './objects.js';

// Kubernetes Events about a ChatTenant. The tenant is cluster-scoped, so its Events live in the
// "default" namespace, as client-go's recorder does. Messages carry names and reasons, never
// secret values.
//
// Like client-go's recorder, recording is best-effort and aggregated:
// - an Event that cannot be written is logged and dropped, never thrown: a reconcile (a finalizer's
//   removal included) must not fail because the API server refused an Event;
// - the same Event again (same object, type, reason, message) within the aggregation window bumps
//   `count` and `lastTimestamp` of the Event already written, instead of writing one more object.

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
  namespace?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  clock?: () => Date;
  /** Called with every Event that could not be written. */
  onDropped?: (reason: string, error: unknown) => void;
  /** How long a written Event is counted up rather than written anew (client-go: 10 minutes). */
  aggregationWindowMs?: number;
  /** How many distinct Events are remembered for aggregation (client-go's LRU holds 4096). */
  maxRemembered?: number;
}

interface Written {
  name: string;
  namespace: string;
  count: number;
  firstSeen: number;
}

const MESSAGE_LIMIT = 1024;

export class EventRecorder {
  private readonly written = new Map<string, Written>();
  private readonly clock: () => Date;
  private readonly windowMs: number;
  private readonly maxRemembered: number;

  constructor(
    private readonly objects: KubeObjects,
    private readonly component: string,
    private readonly options: EventRecorderOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.windowMs = options.aggregationWindowMs ?? 10 * 60_000;
    this.maxRemembered = options.maxRemembered ?? 4096;
  }

  /** Writes (or counts up) one Event. Never rejects. */
  async record(involved: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const text = message.slice(0, MESSAGE_LIMIT);
    const key = JSON.stringify([involved.apiVersion, involved.kind, involved.namespace ?? '', involved.name, involved.uid ?? '', type, reason, text]);
    const now = this.clock();
    try {
      const earlier = this.written.get(key);
      if (earlier && now.getTime() - earlier.firstSeen < this.windowMs && (await this.countUp(earlier, now))) {
        this.remember(key, earlier);
        return;
      }
      const written = await this.create(involved, type, reason, text, now);
      this.remember(key, written);
    } catch (error) {
      this.options.onDropped?.(reason, error);
    }
  }

  /** False when the earlier Event is gone (expired by its TTL, or deleted): a new one is written. */
  private async countUp(earlier: Written, now: Date): Promise<boolean> {
    try {
      await this.objects.mergePatch({ apiVersion: 'v1', kind: 'Event', name: earlier.name, namespace: earlier.namespace }, { count: earlier.count + 1, lastTimestamp: now.toISOString() });
      earlier.count++;
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private async create(involved: InvolvedObject, type: EventType, reason: string, message: string, now: Date): Promise<Written> {
    const namespace = involved.namespace ?? 'default';
    const name = `${involved.name}.${now.getTime().toString(16)}${randomBytes(4).toString('hex')}`;
    const at = now.toISOString();
    await this.objects.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { apiVersion: involved.apiVersion, kind: involved.kind, name: involved.name, ...(involved.uid ? { uid: involved.uid } : {}), ...(involved.namespace ? { namespace: involved.namespace } : {}) },
      type,
      reason,
      message,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.component,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    });
    return { name, namespace, count: 1, firstSeen: now.getTime() };
  }

  /** Most recently used last; the least recently used is forgotten first. */
  private remember(key: string, written: Written): void {
    this.written.delete(key);
    this.written.set(key, written);
    while (this.written.size > this.maxRemembered) this.written.delete(this.written.keys().next().value!);
  }
}

import type { Json } from './client.js';
import { isConflict, isNotFound } from './errors.js';
import type { KubeObjectLike, KubeObjects } from './objects.js';

// Leader election over a coordination.k8s.io Lease, as client-go's leaderelection does it: the
// holder renews before the lease runs out; a candidate takes the lease only once it has expired;
// every write carries the resourceVersion it read, so two candidates can never both win.

export interface LeaseOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

export interface LeaderCallbacks {
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;

  constructor(
    private readonly objects: KubeObjects,
    private readonly options: LeaseOptions,
    private readonly callbacks: LeaderCallbacks,
    private readonly log: (message: string, fields?: Json) => void = () => {},
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Gives the lease up (on SIGTERM) so a standby takes over at once instead of after expiry. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    // A renewal still in flight can make the first attempt conflict (409): read again and retry.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const lease = await this.read();
        if (!lease || (lease['spec'] as LeaseSpec).holderIdentity !== this.options.identity) return;
        await this.objects.replace({ ...(lease as unknown as KubeObjectLike), spec: { ...(lease['spec'] as LeaseSpec), holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) } });
        this.log('released the leader lease', { lease: this.options.name });
        return;
      } catch (e) {
        if (!isConflict(e)) {
          this.log('failed to release the leader lease', { error: String(e) });
          return;
        }
      }
    }
  }

  private ref() {
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: this.options.name, namespace: this.options.namespace };
  }

  private read(): Promise<Json | undefined> {
    return this.objects.get<Json>(this.ref());
  }

  private schedule(seconds: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), seconds * 1000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const acquired = await this.tryAcquireOrRenew(new Date());
      if (acquired) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.log('became leader', { lease: this.options.name });
          this.callbacks.onStartedLeading();
        }
      } else if (this.leading) this.lose('lease held by another candidate');
    } catch (e) {
      this.log('leader election request failed', { error: String(e) });
      if (this.leading && Date.now() - this.lastRenew > this.options.renewDeadlineSeconds * 1000) this.lose('could not renew the lease before the deadline');
    }
    this.schedule(this.options.retryPeriodSeconds);
  }

  private lose(why: string): void {
    this.leading = false;
    this.log('stopped leading', { why });
    this.callbacks.onStoppedLeading();
  }

  private async tryAcquireOrRenew(now: Date): Promise<boolean> {
    const { identity, leaseDurationSeconds } = this.options;
    const lease = await this.read();
    if (!lease) {
      try {
        await this.objects.create({
          ...this.ref(),
          metadata: { name: this.options.name, namespace: this.options.namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (e) {
        if (isConflict(e) || isNotFound(e)) return false;
        throw e;
      }
    }
    const spec = (lease['spec'] ?? {}) as LeaseSpec;
    const holder = spec.holderIdentity ?? '';
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (holder !== '' && holder !== identity && !expired) return false;
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: microTime(now),
      acquireTime: holder === identity ? spec.acquireTime ?? microTime(now) : microTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
    };
    try {
      // replace carries metadata.resourceVersion: a concurrent writer makes this a 409, not a split brain.
      await this.objects.replace({ ...(lease as unknown as KubeObjectLike), spec: next });
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }
}

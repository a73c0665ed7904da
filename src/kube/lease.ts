import type { Json } from './client.js';
import { isConflict, isNotFound } from './errors.js';
import { heldByAnother, observe, type LeaseObservation, type LeaseRecord } from './lease-record.js';
import type { KubeObjectLike, KubeObjects } from './objects.js';

// Leader election over a coordination.k8s.io Lease, as client-go's leaderelection does it:
// - a candidate takes the lease only once the record has stood still for the lease duration, measured
//   on its own clock from when it saw the record change (lease-record.ts), never from renewTime;
// - the leader renews every retry period, each attempt bounded by the renew deadline, and a timer ends
//   its leadership when the renew deadline passes with no successful renewal, whether or not a request
//   has come back. A standby starts counting only once it has seen the leader's last write, and the
//   renew deadline is shorter than the lease duration, so the leader stops before a standby can start;
// - every write carries the resourceVersion it read, so two candidates can never both win.

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

/** What one acquire/renew attempt found: the lease is ours; another holds it; or try again later. */
type Attempt = 'leading' | 'heldByAnother' | 'retry';

const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Local time that only moves forward: a wall clock set back by NTP must not stretch a lease. */
const monotonicMs = () => performance.now();

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private observation: LeaseObservation | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;
  /** The attempt under way (or the last one), so release() can wait for it to settle. */
  private turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly objects: KubeObjects,
    private readonly options: LeaseOptions,
    private readonly callbacks: LeaderCallbacks,
    private readonly log: (message: string, fields?: Json) => void = () => {},
  ) {
    if (options.renewDeadlineSeconds >= options.leaseDurationSeconds) {
      throw new Error('the renew deadline must be shorter than the lease duration');
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.turn = this.tick();
  }

  /**
   * Gives the lease up (on SIGTERM) so a standby takes over at once instead of after expiry. The
   * caller stops its work first: once this returns, another replica may lead.
   */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.inFlight?.abort(new Error('releasing the lease'));
    await this.turn;
    clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    this.leading = false;
    const signal = AbortSignal.timeout(this.options.renewDeadlineSeconds * 1000);
    // A renewal aborted above may still have landed and make the first attempt conflict (409): read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const lease = await this.read(signal);
        if (!lease || (lease['spec'] as LeaseRecord).holderIdentity !== this.options.identity) return;
        const spec = { ...(lease['spec'] as LeaseRecord), holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) };
        await this.objects.replace({ ...(lease as unknown as KubeObjectLike), spec }, { signal });
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

  private read(signal: AbortSignal): Promise<Json | undefined> {
    return this.objects.get<Json>(this.ref(), { signal });
  }

  private get renewDeadlineMs(): number {
    return this.options.renewDeadlineSeconds * 1000;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => (this.turn = this.tick()), this.options.retryPeriodSeconds * 1000);
    this.retryTimer.unref();
  }

  private async tick(): Promise<void> {
    const startedAt = monotonicMs();
    const abort = new AbortController();
    this.inFlight = abort;
    // While leading, the deadline timer may abort the attempt sooner.
    const bound = setTimeout(() => abort.abort(new Error('no answer within the renew deadline')), this.renewDeadlineMs);
    let outcome: Attempt = 'retry';
    try {
      outcome = await this.tryAcquireOrRenew(abort.signal);
    } catch (e) {
      this.log('leader election request failed', { error: String(e) });
    } finally {
      clearTimeout(bound);
      this.inFlight = undefined;
    }
    if (this.stopped) return;
    // A success that came back after the deadline is no longer a promise we can keep.
    if (outcome === 'leading' && monotonicMs() - startedAt < this.renewDeadlineMs) this.renewed(startedAt);
    else if (outcome === 'heldByAnother') this.lose('the lease is held by another candidate');
    this.schedule();
  }

  private renewed(startedAt: number): void {
    clearTimeout(this.deadlineTimer);
    // Counted from the start of the attempt, not its answer: the write may have landed at any moment
    // in between, and a standby counts its lease duration from when it saw that write.
    this.deadlineTimer = setTimeout(() => {
      this.inFlight?.abort(new Error('the renew deadline passed'));
      this.lose('the lease was not renewed within the renew deadline');
    }, startedAt + this.renewDeadlineMs - monotonicMs());
    this.deadlineTimer.unref();
    if (this.leading) return;
    this.leading = true;
    this.log('became leader', { lease: this.options.name });
    this.notify(this.callbacks.onStartedLeading);
  }

  private lose(why: string): void {
    clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    this.leading = false;
    this.log('stopped leading', { why });
    this.notify(this.callbacks.onStoppedLeading);
  }

  /** A callback that throws must not stop the election loop (nor escape from a timer). */
  private notify(callback: () => void): void {
    try {
      callback();
    } catch (e) {
      this.log('leader election callback failed', { error: String(e) });
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const { identity, leaseDurationSeconds } = this.options;
    const lease = await this.read(signal);
    const now = microTime(new Date());
    if (!lease) {
      const record: LeaseRecord = { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 };
      try {
        const metadata = { name: this.options.name, namespace: this.options.namespace };
        const created = await this.objects.create<Json>({ ...this.ref(), metadata, spec: record }, { signal });
        this.observation = { record: (created['spec'] ?? record) as LeaseRecord, observedAtMs: monotonicMs() };
        return 'leading';
      } catch (e) {
        if (isConflict(e) || isNotFound(e)) return 'retry';
        throw e;
      }
    }
    const current = (lease['spec'] ?? {}) as LeaseRecord;
    this.observation = observe(this.observation, current, monotonicMs());
    if (heldByAnother(this.observation, identity, monotonicMs(), leaseDurationSeconds)) return 'heldByAnother';
    const ours = current.holderIdentity === identity;
    const next: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      acquireTime: ours ? (current.acquireTime ?? now) : now,
      leaseTransitions: (current.leaseTransitions ?? 0) + (ours ? 0 : 1),
    };
    try {
      // replace carries metadata.resourceVersion: a concurrent writer makes this a 409, not a split brain.
      const replaced = await this.objects.replace<Json>({ ...(lease as unknown as KubeObjectLike), spec: next }, { signal });
      this.observation = { record: (replaced['spec'] ?? next) as LeaseRecord, observedAtMs: monotonicMs() };
      return 'leading';
    } catch (e) {
      // Lost a race (or our own aborted renewal landed): the next attempt reads who holds it now.
      if (isConflict(e)) return 'retry';
      throw e;
    }
  }
}

// A work queue keyed by tenant name, with the guarantees controller-runtime's workqueue gives:
// a key is processed by one worker at a time; a key added while it is being processed runs again
// afterwards (once, however often it was added); failures back off exponentially per key; a
// bounded number of workers run in parallel; delayed adds serve requeue-after and resync.

export interface QueueOptions {
  concurrency: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Hold every key until start(): the operator fills its caches first, as controller-runtime starts
   * workers only after its caches have synced. A reconcile on a half-filled cache judges the tenant on
   * missing facts (a StorageClass not listed yet reads as not encrypted) and writes a false status.
   */
  startPaused?: boolean;
}

export type Worker = (key: string) => Promise<{ requeueAfterMs?: number } | void>;

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private active = 0;
  private stopped = false;
  private paused: boolean;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly worker: Worker,
    private readonly options: QueueOptions,
    private readonly onError: (key: string, error: unknown, retryInMs: number) => void = () => {},
  ) {
    this.paused = options.startPaused ?? false;
  }

  /** Starts working on the keys held since construction (startPaused) and on every later one. */
  start(): void {
    this.paused = false;
    this.pump();
  }

  /** Keys waiting to run (not counting those running now or waiting on a timer). */
  get depth(): number {
    return this.ready.length;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.ready.push(key);
    this.pump();
  }

  /**
   * Adds the key after a delay. Of several pending delayed adds for one key the soonest wins, as in
   * client-go's delaying queue: an error backoff or a "not ready" requeue must not wait behind a
   * ten-minute resync that happened to be scheduled first.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const due = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  backoffFor(key: string): number {
    const n = this.failures.get(key) ?? 0;
    return Math.min(this.options.baseDelayMs * 2 ** n, this.options.maxDelayMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.ready.length = 0;
    this.queued.clear();
  }

  /** Resolves when nothing is queued or running (timers may still be pending). */
  idle(): Promise<void> {
    if (this.active === 0 && this.ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.paused) return;
    while (!this.stopped && this.active < this.options.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.active === 0 && this.ready.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(key: string): Promise<void> {
    try {
      const result = await this.worker(key);
      this.forget(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const delay = this.backoffFor(key);
      this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
      this.onError(key, error, delay);
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirtyWhileProcessing.delete(key)) this.add(key);
      this.pump();
    }
  }
}

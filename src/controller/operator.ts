import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { OperatorSettings } from '../api/index.js';
import { KubeClient } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { LeaderElector } from '../kube/lease.js';
import { KubeObjects } from '../kube/objects.js';
import { createOperatorMetrics, type OperatorMetrics } from '../metrics/registry.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { Caches } from './caches.js';
import type { ReconcileContext } from './context.js';
import { WorkQueue } from './queue.js';
import { reconcileTenant } from './reconciler.js';
import { updatePhaseCounts } from './report.js';

// The running operator: a leader elector; once leading, caches (informers) feed a work queue whose
// workers reconcile one tenant each. Losing the lease stops all work (the CLI then exits, as
// controller-runtime does) so two replicas never reconcile at once.

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  settings: OperatorSettings;
  log: Logger;
  identity: string;
  leaseNamespace: string;
  leaseName?: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  concurrency?: number;
  resyncMs?: number;
  notReadyRequeueMs?: number;
  metricsHost?: string;
  /** 0 picks a free port. Undefined: no HTTP server (tests that do not need one). */
  metricsPort?: number;
  clock?: () => Date;
  onLostLeadership?: () => void;
}

export class Operator {
  readonly client: KubeClient;
  readonly objects: KubeObjects;
  readonly metrics: OperatorMetrics;
  private caches: Caches | undefined;
  private queue: WorkQueue | undefined;
  private elector: LeaderElector | undefined;
  private server: MetricsServer | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private depthTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** One recorder for the process: it remembers what it wrote, to count repeats up (aggregation). */
  private readonly events: EventRecorder;

  constructor(private readonly options: OperatorOptions) {
    this.client = new KubeClient(options.kubeConfig, `chat-tenant-operator/${options.identity}`);
    this.objects = new KubeObjects(this.client);
    this.metrics = createOperatorMetrics();
    this.events = new EventRecorder(this.objects, 'chat-tenant-operator', {
      ...(options.clock ? { clock: options.clock } : {}),
      onDropped: (reason, error) => options.log.warn({ reason, error: error instanceof Error ? error.message : String(error) }, 'could not write an Event; dropped it'),
    });
  }

  get metricsPort(): number | undefined {
    return this.server?.port;
  }

  get isLeader(): boolean {
    return this.elector?.isLeader ?? false;
  }

  /** Ready: caches synced when leading; a standby is ready to take over. */
  get ready(): boolean {
    return this.isLeader ? (this.caches?.synced ?? false) : true;
  }

  async start(): Promise<void> {
    const o = this.options;
    if (o.metricsPort !== undefined) {
      this.server = await startMetricsServer({ host: o.metricsHost ?? '0.0.0.0', port: o.metricsPort, registry: this.metrics.registry, ready: () => this.ready });
      o.log.info({ port: this.server.port }, 'serving /metrics, /healthz and /readyz');
    }
    // The lease has a client of its own, so its renewals (writes every few seconds) are not counted
    // as the reconciler's writes.
    this.elector = new LeaderElector(
      new KubeObjects(new KubeClient(o.kubeConfig, `chat-tenant-operator/${o.identity}/leader-election`)),
      {
        namespace: o.leaseNamespace,
        name: o.leaseName ?? 'chat-tenant-operator-leader',
        identity: o.identity,
        leaseDurationSeconds: o.leaseDurationSeconds ?? 15,
        renewDeadlineSeconds: o.renewDeadlineSeconds ?? 10,
        retryPeriodSeconds: o.retryPeriodSeconds ?? 2,
      },
      {
        onStartedLeading: () => {
          this.metrics.isLeader.set(1);
          void this.lead().catch((e: unknown) => o.log.error({ error: String(e) }, 'failed to start leading'));
        },
        onStoppedLeading: () => {
          this.metrics.isLeader.set(0);
          this.stopWork();
          o.onLostLeadership?.();
        },
      },
      (message, fields) => o.log.info(fields ?? {}, message),
    );
    this.metrics.isLeader.set(0);
    this.elector.start();
  }

  private async lead(): Promise<void> {
    const o = this.options;
    const log = o.log;
    const queue = new WorkQueue(
      async (name) => {
        const started = process.hrtime.bigint();
        let result = 'success';
        try {
          const outcome = await reconcileTenant(this.context(), name);
          return outcome.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : undefined;
        } catch (error) {
          result = 'error';
          throw error;
        } finally {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          this.metrics.reconcileTotal.inc({ result });
          this.metrics.reconcileDurationSeconds.observe({ result }, seconds);
          updatePhaseCounts(this.context());
        }
      },
      { concurrency: o.concurrency ?? 4, baseDelayMs: 500, maxDelayMs: 5 * 60_000, startPaused: true },
      (name, error, retryInMs) => {
        const reason = (error as { reason?: string }).reason ?? (error as Error).name ?? 'Error';
        this.metrics.reconcileErrorsTotal.inc({ reason });
        log.warn({ tenant: name, error: error instanceof Error ? error.message : String(error), retryInMs }, 'reconcile failed; will retry');
      },
    );
    this.queue = queue;
    const caches = new Caches(
      this.client,
      (name) => queue.add(name),
      () => {
        for (const t of this.caches?.tenants.list() ?? []) queue.add((t['metadata'] as { name: string }).name);
      },
      { log: (level, message, fields) => log[level](fields ?? {}, message) },
    );
    this.caches = caches;
    caches.start();
    await caches.waitForSync();
    // Leadership may have ended while the caches filled: that term's queue is stopped; start nothing.
    if (this.queue !== queue) return;
    log.info({ tenants: caches.tenants.list().length }, 'caches synced; reconciling');
    for (const t of caches.tenants.list()) queue.add((t['metadata'] as { name: string }).name);
    queue.start();
    this.depthTimer = setInterval(() => this.metrics.workqueueDepth.set(queue.depth), 1000);
    this.depthTimer.unref();
  }

  context(): ReconcileContext {
    const o = this.options;
    return {
      caches: this.caches!,
      objects: this.objects,
      events: this.events,
      metrics: this.metrics,
      settings: o.settings,
      log: o.log,
      clock: o.clock ?? (() => new Date()),
      resyncMs: o.resyncMs ?? 10 * 60_000,
      notReadyRequeueMs: o.notReadyRequeueMs ?? 30_000,
    };
  }

  /** Waits until no reconcile is queued or running (tests). */
  async idle(): Promise<void> {
    await this.queue?.idle();
  }

  private stopWork(): void {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.depthTimer) clearInterval(this.depthTimer);
    this.queue?.stop();
    this.caches?.stop();
    this.queue = undefined;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const queue = this.queue;
    this.stopWork();
    // Reconciles in flight finish while the lease is still ours (and renewed): a standby that took it
    // over now would reconcile the same tenants at the same time.
    await queue?.idle();
    await this.elector?.release();
    await this.server?.close();
  }
}

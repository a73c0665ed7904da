import type { Json, KubeClient } from './client.js';
import { isGone } from './errors.js';
import { apiVersionOf, collectionPath, type ResourceType } from './resources.js';

// A list-then-watch cache of one resource type, like client-go's reflector + store:
// relists after 410 Gone, resumes the watch from the last resource version after a normal close,
// and restarts itself (with backoff) after any error, so one failed watch never stops the operator.
// A watch that stays silent past its inactivity deadline is presumed dead and resumed too: a NAT or
// load balancer that drops a connection without a word leaves it open and empty, and then even the
// server's timeout, which closes its own end, never reaches us.

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch timeout; the watch is renewed after it. The inactivity deadline follows from it. */
  watchTimeoutSeconds?: number;
  log?: (level: 'info' | 'warn', message: string, fields?: Json) => void;
}

type Handler = (type: WatchEventType, object: Json) => void;

/**
 * How long a watch may go without an event (bookmarks count) before it is abandoned: somewhat longer
 * than the server-side timeout, by which a live server has either sent something or closed the watch.
 */
export function watchInactivityMs(watchTimeoutSeconds: number): number {
  return (watchTimeoutSeconds + Math.max(5, watchTimeoutSeconds / 4)) * 1000;
}

export function keyOf(object: Json): string {
  const meta = object['metadata'] as { name: string; namespace?: string };
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

export class Informer {
  private readonly store = new Map<string, Json>();
  private readonly handlers: Handler[] = [];
  private abort: AbortController | undefined;
  private running = false;
  private synced = false;
  private syncedWaiters: Array<() => void> = [];
  private resourceVersion = '';
  /** How many times the list+watch loop had to recover from an error (for tests and logs). */
  restarts = 0;

  constructor(
    private readonly client: KubeClient,
    readonly resource: ResourceType,
    private readonly options: InformerOptions = {},
  ) {}

  onEvent(handler: Handler): void {
    this.handlers.push(handler);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  get(name: string, namespace?: string): Json | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(filter?: (o: Json) => boolean): Json[] {
    const all = [...this.store.values()];
    return filter ? all.filter(filter) : all;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
  }

  private emit(type: WatchEventType, object: Json): void {
    for (const h of this.handlers) {
      try {
        h(type, object);
      } catch (e) {
        this.options.log?.('warn', 'informer handler failed', { resource: this.resource.plural, error: String(e) });
      }
    }
  }

  private async relist(): Promise<void> {
    const answer = await this.client.request<{ items: Json[]; metadata: { resourceVersion: string } }>('GET', collectionPath(this.resource), {
      query: { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector },
    });
    const fresh = new Map<string, Json>();
    // Items of a list carry no apiVersion and kind (watch events do): fill them in, so every object in
    // the store looks the same whichever way it arrived.
    const typeMeta = { apiVersion: apiVersionOf(this.resource), kind: this.resource.kind };
    for (const item of answer.items ?? []) fresh.set(keyOf(item), { ...typeMeta, ...item });
    const changes: Array<[WatchEventType, Json]> = [];
    for (const [key, old] of this.store) if (!fresh.has(key)) changes.push(['DELETED', old]);
    for (const [key, item] of fresh) {
      const old = this.store.get(key);
      if (!old) changes.push(['ADDED', item]);
      else if ((old['metadata'] as Json)['resourceVersion'] !== (item['metadata'] as Json)['resourceVersion']) changes.push(['MODIFIED', item]);
    }
    // The cache first, then the handlers: a handler may read the cache at once (the work queue starts
    // a reconcile synchronously), and must find the state the event announces.
    this.store.clear();
    for (const [k, v] of fresh) this.store.set(k, v);
    this.resourceVersion = answer.metadata.resourceVersion;
    for (const [type, object] of changes) this.emit(type, object);
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncedWaiters.splice(0)) w();
    }
  }

  /** Ends when the server closes the watch ('closed') or when it stayed silent past its deadline ('silent'). */
  private async watch(): Promise<'closed' | 'silent'> {
    const abort = new AbortController();
    this.abort = abort;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 60;
    let silent = false;
    let deadline: NodeJS.Timeout | undefined;
    const expectNextEventWithin = (ms: number) => {
      clearTimeout(deadline);
      deadline = setTimeout(() => {
        silent = true;
        abort.abort();
      }, ms);
      deadline.unref();
    };
    expectNextEventWithin(watchInactivityMs(timeoutSeconds));
    try {
      await this.client.stream(
        collectionPath(this.resource),
        {
          watch: 1,
          resourceVersion: this.resourceVersion,
          // Bookmarks keep a quiet watch talking (and its resourceVersion fresh).
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        },
        abort.signal,
        (event) => {
          expectNextEventWithin(watchInactivityMs(timeoutSeconds));
          this.onWatchEvent(event);
        },
      );
      return silent ? 'silent' : 'closed';
    } catch (error) {
      if (silent) return 'silent';
      throw error;
    } finally {
      clearTimeout(deadline);
    }
  }

  private onWatchEvent(event: Json): void {
    const type = event['type'] as string;
    const object = event['object'] as Json;
    if (type === 'ERROR') {
      const code = (object['code'] as number) ?? 0;
      throw Object.assign(new Error(`watch error ${code}: ${String(object['message'])}`), { gone: code === 410 });
    }
    const rv = (object['metadata'] as Json | undefined)?.['resourceVersion'];
    if (typeof rv === 'string') this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const key = keyOf(object);
    if (type === 'DELETED') this.store.delete(key);
    else this.store.set(key, object);
    this.emit(type as WatchEventType, object);
  }

  private async loop(): Promise<void> {
    let needList = true;
    let backoffMs = 200;
    while (this.running) {
      try {
        if (needList) await this.relist();
        needList = false;
        if ((await this.watch()) === 'silent') {
          // Resumed from the last resourceVersion; if that has been compacted away, the 410 relists.
          this.restarts++;
          const afterMs = watchInactivityMs(this.options.watchTimeoutSeconds ?? 60);
          this.options.log?.('warn', 'watch silent past its deadline; restarting it', { resource: this.resource.plural, afterMs });
        }
        backoffMs = 200;
      } catch (error) {
        this.abort?.abort(); // release the connection of a watch that failed mid-stream
        if (!this.running) break;
        const gone = isGone(error) || (error as { gone?: boolean }).gone === true;
        needList = true;
        this.restarts++;
        this.options.log?.(gone ? 'info' : 'warn', gone ? 'watch expired (410 Gone); relisting' : 'list/watch failed; restarting', {
          resource: this.resource.plural,
          error: error instanceof Error ? error.message : String(error),
        });
        if (!gone) {
          // unref: a backoff must not keep a stopping process alive.
          await new Promise((r) => setTimeout(r, backoffMs).unref());
          backoffMs = Math.min(backoffMs * 2, 10_000);
        }
      }
    }
  }
}

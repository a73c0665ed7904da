import https from 'node:https';
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from './errors.js';

// The one place that talks HTTP to the API server. Requests and answers are plain wire JSON (no
// client-node model classes, which rename fields), so what the renderer builds is exactly what the
// server receives. client-node is used only to read kubeconfig and apply its credentials.

export type Json = Record<string, unknown>;

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

/**
 * A request that has not answered in this time is abandoned and fails (and is retried by its caller).
 * Without it, a request caught in an API server restart can hang forever and stall the one tenant
 * whose reconcile made it. Watches are exempt: they are long-lived by design and renewed on a timer.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface KubeClientStats {
  /** Requests by verb (GET, LIST is GET with no name, PATCH, POST, PUT, DELETE, WATCH). */
  requests: Record<string, number>;
}

export class KubeClient {
  readonly stats: KubeClientStats = { requests: {} };
  private readonly server: URL;
  private baseOptions: https.RequestOptions | undefined;

  /** userAgent identifies this client in the API server's audit log (e.g. chat-tenant-operator/0.1.0). */
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly userAgent = 'chat-tenant-operator',
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
  }

  private async options(): Promise<https.RequestOptions> {
    if (!this.baseOptions) {
      const opts: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      // One keep-alive agent per client: without it every request opened a new TLS connection with a
      // new secure context (parsing the CA and client key each time), which was the operator's largest
      // CPU cost in bench/reconcile. The agent carries the TLS options, so its sockets all use them; Node
      // unrefs idle kept-alive sockets, so they never keep a stopping process alive.
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = opts;
      opts.agent = new (this.server.protocol === 'http:' ? http.Agent : https.Agent)({ keepAlive: true, ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } as https.AgentOptions);
      this.baseOptions = opts;
    }
    return this.baseOptions;
  }

  private url(path: string, query?: RequestOptions['query']): URL {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private count(verb: string): void {
    this.stats.requests[verb] = (this.stats.requests[verb] ?? 0) + 1;
  }

  private async open(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const base = await this.options();
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.userAgent, ...((base.headers as Record<string, string>) ?? {}) };
    if (body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { ...base, method, headers, signal: options.signal }, resolve);
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** One request; resolves with the decoded JSON answer, rejects with ApiError on 4xx/5xx. */
  async request<T = Json>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    this.count(method);
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const res = await this.open(method, path, { ...options, signal });
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      let reason = res.statusMessage ?? '';
      let message = text;
      try {
        const parsed = JSON.parse(text) as { reason?: string; message?: string };
        reason = parsed.reason ?? reason;
        message = parsed.message ?? message;
      } catch {
        /* not JSON: keep the text */
      }
      throw new ApiError(method, path, status, reason, message);
    }
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /** A watch stream: calls onEvent for each JSON line until the server closes it or signal aborts. */
  async stream(path: string, query: RequestOptions['query'], signal: AbortSignal, onEvent: (event: Json) => void): Promise<void> {
    this.count('WATCH');
    const res = await this.open('GET', path, { query, signal });
    if ((res.statusCode ?? 0) >= 400) {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      throw new ApiError('WATCH', path, res.statusCode ?? 0, res.statusMessage ?? '', Buffer.concat(chunks).toString('utf8'));
    }
    let buffer = '';
    for await (const chunk of res) {
      buffer += (chunk as Buffer).toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) onEvent(JSON.parse(line) as Json);
      }
    }
  }
}

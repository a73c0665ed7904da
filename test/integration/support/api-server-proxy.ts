import net from 'node:net';
import * as k8s from '@kubernetes/client-node';

// A TCP proxy on loopback between one client and the real API server, that can fail the way networks
// fail without saying so: a connection that stays open and carries nothing, in either direction, not
// even the server's close. TLS passes through untouched (the serving certificate names 127.0.0.1), so
// the client authenticates to the API server exactly as it would directly.

export interface ApiServerProxy {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** The given kubeconfig with its cluster's server pointed at this proxy. */
  kubeConfig(through: k8s.KubeConfig): k8s.KubeConfig;
  /** Connections open now go silent; later connections work. (A watch that a NAT or load balancer dropped.) */
  silenceOpenConnections(): void;
  /** Every connection, open now or opened later, goes silent. (A partition between this client and the API server.) */
  hang(): void;
  /** Every byte, either way, arrives this much later (order kept): requests take seconds to add up. */
  addLatency(ms: number): void;
  /** Connections currently open (silent or not). */
  readonly openConnections: number;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  silent: boolean;
}

export async function startApiServerProxy(apiServer: string): Promise<ApiServerProxy> {
  const target = new URL(apiServer);
  const pairs = new Set<Pair>();
  let hangAll = false;
  let latencyMs = 0;
  // Whatever passes through (bytes, an end, a reset) is delayed alike; timers of equal delay fire in
  // the order they were set, so nothing overtakes anything.
  const pass = (pair: Pair, action: () => void) => {
    if (pair.silent) return;
    if (latencyMs === 0) action();
    else setTimeout(() => pair.silent || action(), latencyMs);
  };
  const write = (to: net.Socket, chunk: Buffer) => to.destroyed || to.write(chunk);

  const destroy = (pair: Pair) => {
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };

  const proxy = net.createServer((client) => {
    const pair: Pair = { client, upstream: undefined, silent: hangAll };
    pairs.add(pair);
    // Bytes that arrive while silent are dropped, not held: nothing may leak out later.
    client.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    if (pair.silent) return;
    const upstream = net.connect(Number(target.port), target.hostname);
    pair.upstream = upstream;
    client.on('data', (chunk: Buffer) => pass(pair, () => write(upstream, chunk)));
    upstream.on('data', (chunk: Buffer) => pass(pair, () => write(client, chunk)));
    // A close is news too: a silent connection does not pass it on, so the client keeps waiting.
    client.on('end', () => pass(pair, () => upstream.end()));
    upstream.on('end', () => pass(pair, () => client.end()));
    upstream.on('error', () => pass(pair, () => destroy(pair)));
    upstream.on('close', () => pass(pair, () => destroy(pair)));
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (proxy.address() as net.AddressInfo).port;
  const server = `https://127.0.0.1:${port}`;

  return {
    server,
    kubeConfig(through) {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions({
        clusters: through.clusters.map((c) => (c.name === through.getCurrentCluster()?.name ? { ...c, server } : c)),
        users: through.users,
        contexts: through.contexts,
        currentContext: through.currentContext,
      });
      return kc;
    },
    silenceOpenConnections() {
      for (const pair of pairs) pair.silent = true;
    },
    hang() {
      hangAll = true;
      for (const pair of pairs) pair.silent = true;
    },
    addLatency(ms) {
      latencyMs = ms;
    },
    get openConnections() {
      return pairs.size;
    },
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

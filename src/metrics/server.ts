import http from 'node:http';
import type { Registry } from 'prom-client';

// The operator's one HTTP port: /metrics for Prometheus, /healthz (the process serves), /readyz
// (caches synced, or standing by as a non-leader: a standby replica is healthy and ready to lead).

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export function startMetricsServer(options: { host: string; port: number; registry: Registry; ready: () => boolean }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'Content-Type': options.registry.contentType });
          res.end(body);
        })
        .catch((e: unknown) => {
          res.writeHead(500);
          res.end(String(e));
        });
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(ready ? 'ok\n' : 'caches not synced\n');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : options.port,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

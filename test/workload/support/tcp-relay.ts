import { Worker } from 'node:worker_threads';

// A loopback TCP relay that records every byte it forwards: a capture of one node's Erlang
// distribution port without tcpdump. The hosts file of the ejabberd stack points the node's host name
// at the relay, so every distribution connection to that node (from peers and from ejabberdctl)
// passes through it.

export interface RelayedConnection {
  /** Bytes from the dialling side, in order. */
  fromClient: Buffer[];
  /** Bytes from the node behind the relay, in order. */
  fromServer: Buffer[];
}

export interface TcpRelay {
  host: string;
  port: number;
  connections: RelayedConnection[];
  /** Everything forwarded so far, both directions. */
  capturedBytes(): number;
  /** Whether any forwarded chunk, or the concatenation of a direction, contains the needle. */
  sawInClear(needle: string): boolean;
  close(): Promise<void>;
}

// The relay runs in a worker thread: the tests call ejabberdctl with spawnSync, which blocks the main
// event loop, and a relay there would stall the very call it is forwarding.
const RELAY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createServer, connect } = require('node:net');
const { listen, target } = workerData;
const sockets = new Set();
let next = 0;
const track = (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => s.destroy()); };
const server = createServer((client) => {
  const id = next++;
  parentPort.postMessage({ type: 'open', id });
  const upstream = connect(target.port, target.host);
  track(client);
  track(upstream);
  client.on('data', (chunk) => { parentPort.postMessage({ type: 'data', id, from: 'client', chunk }); upstream.write(chunk); });
  upstream.on('data', (chunk) => { parentPort.postMessage({ type: 'data', id, from: 'server', chunk }); client.write(chunk); });
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
});
server.on('error', (error) => parentPort.postMessage({ type: 'error', message: String(error) }));
server.listen(listen.port, listen.host, () => parentPort.postMessage({ type: 'listening' }));
parentPort.on('message', () => { for (const s of sockets) s.destroy(); server.close(() => parentPort.postMessage({ type: 'closed' })); });
`;

export function startTcpRelay(listen: { host: string; port: number }, target: { host: string; port: number }): Promise<TcpRelay> {
  const connections: RelayedConnection[] = [];
  const worker = new Worker(RELAY_WORKER, { eval: true, workerData: { listen, target } });
  worker.on('message', (m: { type: string; id: number; from: 'client' | 'server'; chunk: Uint8Array }) => {
    if (m.type === 'open') connections[m.id] = { fromClient: [], fromServer: [] };
    if (m.type === 'data') connections[m.id]![m.from === 'client' ? 'fromClient' : 'fromServer'].push(Buffer.from(m.chunk));
  });
  const relay: TcpRelay = {
    host: listen.host,
    port: listen.port,
    connections,
    capturedBytes: () => connections.reduce((n, c) => n + [...c.fromClient, ...c.fromServer].reduce((m, b) => m + b.length, 0), 0),
    sawInClear: (needle) => connections.some((c) => Buffer.concat(c.fromClient).includes(needle) || Buffer.concat(c.fromServer).includes(needle)),
    close: async () => {
      const closed = new Promise<void>((resolve) => worker.on('message', (m: { type: string }) => m.type === 'closed' && resolve()));
      worker.postMessage('close');
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
      await worker.terminate();
    },
  };
  return new Promise((resolve, reject) => {
    worker.on('message', (m: { type: string; message?: string }) => {
      if (m.type === 'listening') resolve(relay);
      if (m.type === 'error') void worker.terminate().then(() => reject(new Error(`relay on ${listen.host}:${listen.port}: ${m.message}`)));
    });
    worker.once('error', reject);
  });
}

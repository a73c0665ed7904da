import { connect } from 'node:tls';

// Whether the directory is reachable and proves who it is: a TLS handshake with each server,
// verifying its certificate against the hospital's CA and the server's name, as ejabberd does. The
// probe sends no LDAP message at all, so it never binds and never carries a credential; it closes
// the connection once the handshake is judged.

export interface DirectoryProbe {
  reachable: boolean;
  verified: boolean;
  /** Per failing server, why; empty when every server verified. */
  message: string;
}

function probeServer(host: string, port: number, caPem: string, timeoutMs: number): Promise<{ reachable: boolean; verified: boolean; why?: string }> {
  return new Promise((resolve) => {
    let reached = false;
    const socket = connect({ host, port, ca: caPem, servername: host, minVersion: 'TLSv1.2', rejectUnauthorized: true, timeout: timeoutMs });
    socket.once('connect', () => (reached = true));
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve({ reachable: true, verified: true });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ reachable: reached, verified: false, why: `${host}:${port}: no TLS handshake within ${timeoutMs} ms` });
    });
    socket.once('error', (error: Error & { code?: string }) => {
      socket.destroy();
      resolve({ reachable: reached, verified: false, why: `${host}:${port}: ${error.code ?? error.message}` });
    });
  });
}

/** Probes every server; the directory is verified only when all of them are. */
export async function probeDirectory(servers: readonly string[], port: number, caPem: string, timeoutMs = 5000): Promise<DirectoryProbe> {
  const results = await Promise.all(servers.map((s) => probeServer(s, port, caPem, timeoutMs)));
  return {
    reachable: results.some((r) => r.reachable),
    verified: results.every((r) => r.verified),
    message: results.flatMap((r) => (r.why ? [r.why] : [])).join('; '),
  };
}

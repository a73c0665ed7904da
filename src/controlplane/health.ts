/**
 * Plain HTTP(S) GETs for component health endpoints (/readyz, /healthz, /health).
 *
 * Deliberately not @kubernetes/client-node: health probes must work before the API is
 * usable, against components that are not the API server, and must never retry on their own.
 */
import http from "node:http";
import https from "node:https";

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export interface TlsCredentials {
  /** PEM CA bundle that the server certificate must chain to. */
  readonly ca: string;
  /** PEM client certificate and key, for endpoints that need authentication. */
  readonly cert?: string;
  readonly key?: string;
}

export function httpGet(url: string, tls?: TlsCredentials, timeoutMs = 3_000): Promise<HttpResult> {
  const target = new URL(url);
  const transport = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.get(
      target,
      { timeout: timeoutMs, ...(target.protocol === "https:" && tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out after ${timeoutMs}ms`)));
    request.on("error", reject);
  });
}

/** True when the endpoint answers 200; a connection error propagates so waiters can report it. */
export async function isHealthy(url: string, tls?: TlsCredentials): Promise<boolean> {
  const result = await httpGet(url, tls);
  if (result.status === 200) return true;
  throw new Error(`GET ${url} answered ${result.status}: ${result.body.slice(0, 500)}`);
}

/**
 * Test-side helpers for the shared control plane: a client config, unique names, namespaces
 * that clean up after themselves, and polling until the cluster reaches a state.
 */
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { inject } from "vitest";
import { startControlPlane, type ControlPlane } from "../../src/controlplane/controlplane.js";
import type { TlsCredentials } from "../../src/controlplane/health.js";
import "./provided-context.js";

export function sharedControlPlane() {
  return inject("controlPlane");
}

/**
 * A control plane of the calling test's own, for tests that disrupt it (restart the API
 * server, stop a controller). Costs about ten seconds; always stop() it in a finally/afterAll.
 */
export function startPrivateControlPlane(): Promise<ControlPlane> {
  const shared = sharedControlPlane();
  return startControlPlane({ binaries: shared.binaries, keepDir: shared.keepDirs });
}

export function sharedKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sharedControlPlane().kubeconfigPath);
  return kc;
}

/** The kubeconfig's CA and client certificate, for raw HTTPS requests (/readyz). */
export function tlsCredentials(kc: k8s.KubeConfig): TlsCredentials {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  const decode = (b64: string | undefined, what: string): string => {
    if (!b64) throw new Error(`kubeconfig has no ${what}`);
    return Buffer.from(b64, "base64").toString("utf8");
  };
  return {
    ca: decode(cluster?.caData, "certificate-authority-data"),
    cert: decode(user?.certData, "client-certificate-data"),
    key: decode(user?.keyData, "client-key-data"),
  };
}

/** A DNS-1123 name unique to this test run and call, so tests never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** HTTP status of a client-node ApiException, or undefined for anything else. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Message of a Kubernetes Status in an ApiException body, else the error's message. */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === "string") {
    try {
      return String((JSON.parse(body) as { message?: unknown }).message ?? body);
    } catch {
      return body;
    }
  }
  if (body && typeof body === "object" && "message" in body) return String(body.message);
  return error instanceof Error ? error.message : String(error);
}

/**
 * Calls `probe` until it returns a value other than undefined/false and returns that value.
 * Thrown errors count as "not yet"; the last one is reported on timeout.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? "" : ` (last error: ${apiMessage(lastError)})`;
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Creates a namespace and waits for its `default` ServiceAccount, without which the
 * ServiceAccount admission plugin rejects every Pod in it.
 */
export async function createTestNamespace(
  kc: k8s.KubeConfig,
  prefix: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { "chat-tenant-operator.dev/test": "harness", ...labels } } } });
  await eventually(`ServiceAccount default in ${name}`, () =>
    core.readNamespacedServiceAccount({ name: "default", namespace: name }),
  );
  return name;
}

/** Deletes a namespace and waits until the namespace controller has finished emptying it. */
export async function deleteNamespaceAndWait(kc: k8s.KubeConfig, name: string, timeoutMs = 60_000): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
  await eventually(
    `namespace ${name} to be gone`,
    async () => {
      try {
        await core.readNamespace({ name });
        return false;
      } catch (error) {
        if (apiStatus(error) === 404) return true;
        throw error;
      }
    },
    timeoutMs,
  );
}

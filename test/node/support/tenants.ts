/**
 * Tenants on the real node: their manifests (the node's own images and encrypted storage class),
 * waiting for Ready with everything a person needs to see why not, and what a platform engineer
 * reads from a Ready tenant: its CA, its Service, its admin password, a shell in its Pods.
 */
import * as k8s from "@kubernetes/client-node";
import { API_GROUP_VERSION, KIND, chatTenantManifest, tenantNamespace, type ChatTenantObject, type ChatTenantSpecInput, type ChatTenantStatus } from "../../../src/api/index.js";
import { ENCRYPTED_STORAGE_CLASS } from "../../../src/controlplane/node/addons.js";
import { ensureAccount, ejabberdctl as runEjabberdctl } from "../../../src/devenv/accounts.js";
import { localImageSpec } from "../../../src/devenv/image-spec.js";
import { KubeClient } from "../../../src/kube/client.js";
import { KubeObjects } from "../../../src/kube/objects.js";
import { adminSecretKey, names } from "../../../src/render/index.js";
import { eventually } from "../../harness/kube.js";
import { OPERATOR_NAMESPACE } from "./operator-chart.js";
import { execInPod, nodeKubeConfig, realNode } from "./pods.js";

export const kubeObjects = (): KubeObjects => new KubeObjects(new KubeClient(nodeKubeConfig(), "chat-tenant-operator/node-tests"));

/**
 * Small CPU requests: the node has 2 CPUs, and several tenants share it beside the sample tenant,
 * which keeps the defaults (a 250m request per Pod would leave a replica Pending).
 */
export const SMALL = { requests: { cpu: "50m" } };

/** A standalone-database tenant on the node's images and encrypted class; `replicas` ejabberd nodes. */
export function nodeTenant(name: string, domain: string, replicas: number, extra: Partial<ChatTenantSpecInput> = {}): ChatTenantObject {
  const node = realNode();
  return chatTenantManifest(name, {
    displayName: `${name} (real node)`,
    xmppDomains: [domain],
    messaging: { replicas, admins: [{ username: "admin" }], image: localImageSpec(node.images.ejabberd), resources: SMALL },
    database: { provider: "standalone", image: localImageSpec(node.images.postgres), storage: { storageClassName: ENCRYPTED_STORAGE_CLASS, size: "1Gi" }, resources: SMALL },
    backup: { schedule: "0 2 * * *", target: { pvc: { size: "1Gi" } } },
    ...extra,
  });
}

type TenantStatus = ChatTenantStatus & { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };

export async function tenantStatus(name: string): Promise<TenantStatus | undefined> {
  const t = await kubeObjects().get<{ status?: TenantStatus }>({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
  return t?.status;
}

/** What a person looks at when a tenant does not become Ready: its conditions, its Pods, the operator's log. */
export async function tenantDiagnostics(name: string): Promise<string> {
  const kc = nodeKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const lines: string[] = [];
  const status = await tenantStatus(name).catch(() => undefined);
  for (const c of status?.conditions ?? []) lines.push(`condition ${c.type}=${c.status} ${c.reason ?? ""}: ${c.message ?? ""}`);
  const pods = await core.listNamespacedPod({ namespace: tenantNamespace(name) }).catch(() => ({ items: [] as k8s.V1Pod[] }));
  for (const pod of pods.items) {
    const containers = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => `${s.name}:${s.ready ? "ready" : JSON.stringify(s.state)}`);
    const unscheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    lines.push(`pod ${pod.metadata?.name} ${pod.status?.phase} ${containers.join(" ")}${unscheduled ? ` not scheduled: ${unscheduled.message}` : ""}`);
    for (const s of pod.status?.containerStatuses ?? []) {
      if (s.ready) continue;
      const log = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: tenantNamespace(name), container: s.name, tailLines: 15 }).catch(() => "");
      lines.push(`  log of ${s.name}:\n    ${log.trim().split("\n").join("\n    ")}`);
    }
  }
  const events = await core.listNamespacedEvent({ namespace: tenantNamespace(name) }).catch(() => ({ items: [] as k8s.CoreV1Event[] }));
  for (const e of events.items.filter((e) => e.type === "Warning").slice(-10)) lines.push(`event ${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message}`);
  const operatorPods = await core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE }).catch(() => ({ items: [] as k8s.V1Pod[] }));
  for (const pod of operatorPods.items) {
    const log = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: OPERATOR_NAMESPACE, tailLines: 20 }).catch(() => "");
    lines.push(`operator ${pod.metadata?.name} log:\n    ${log.trim().split("\n").join("\n    ")}`);
  }
  return lines.join("\n");
}

/** Waits until the tenant says Ready=True, or fails with its diagnostics. */
export async function waitForTenantReady(name: string, timeoutMs = 240_000): Promise<TenantStatus> {
  try {
    return await eventually(
      `ChatTenant ${name} Ready`,
      async () => {
        const status = await tenantStatus(name);
        return status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? status : false;
      },
      timeoutMs,
      1000,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await tenantDiagnostics(name)}`);
  }
}

async function secretValue(namespace: string, name: string, key: string): Promise<string> {
  const secret = await nodeKubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name, namespace });
  const value = secret.data?.[key];
  if (value === undefined) throw new Error(`Secret ${namespace}/${name} has no key ${key}`);
  return Buffer.from(value, "base64").toString("utf8");
}

/** The tenant CA a client verifies the messaging certificate against (ca.crt of its TLS Secret). */
export const tenantCa = (tenant: string): Promise<string> => secretValue(tenantNamespace(tenant), names.messaging.tlsSecret, "ca.crt");

export const adminPassword = (tenant: string, jid: string): Promise<string> => secretValue(tenantNamespace(tenant), names.messaging.adminSecret, adminSecretKey(jid));

/** The ClusterIP of the tenant's client Service: kube-proxy routes it from the host too. */
export async function clientServiceAddress(tenant: string): Promise<string> {
  const service = await nodeKubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: names.messaging.clientService, namespace: tenantNamespace(tenant) });
  return service.spec!.clusterIP!;
}

export async function podIp(namespace: string, name: string): Promise<string> {
  const pod = await nodeKubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedPod({ name, namespace });
  return pod.status!.podIP!;
}

/** ejabberdctl against one running ejabberd Pod, through its node script (`ctl`), as an operator would. */
export const ejabberdctl = (tenant: string, pod: string, args: string[]): Promise<string> => runEjabberdctl(nodeKubeConfig(), tenant, pod, args);

export const registerAccount = (tenant: string, user: string, domain: string, password: string): Promise<void> => ensureAccount(nodeKubeConfig(), tenant, user, domain, password);

/** One SQL query in the tenant's own PostgreSQL, as the postgres OS user over the Unix socket (peer). */
export async function tenantSql(tenant: string, sql: string, database: string = names.database.appDatabase): Promise<string[]> {
  const result = await execInPod(nodeKubeConfig(), tenantNamespace(tenant), `${names.database.statefulSet}-0`, "postgres", ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql]);
  if (result.status !== "Success") throw new Error(`psql in ${tenant}: ${result.status}\n${result.stderr}`);
  return result.stdout.split("\n").filter((l) => l !== "");
}

/** Deletes the ChatTenant (its deletionPolicy decides what stays); returns at once. */
export async function deleteTenant(name: string): Promise<void> {
  await kubeObjects().delete({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
}

export async function applyTenant(tenant: ChatTenantObject): Promise<void> {
  await kubeObjects().apply(tenant as never);
}

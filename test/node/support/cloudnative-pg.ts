/**
 * A tenant on CloudNativePG on the real node: CloudNativePG installed from its release manifest
 * (operator image built from its Go module), the operator installed by its chart, and one tenant
 * whose database is a 3-instance Cluster of the node's Debian PostgreSQL 17 operand image, Ready
 * from CloudNativePG's own status. Shared by the CloudNativePG test files: the first asks, the
 * others find it there.
 */
import * as k8s from "@kubernetes/client-node";
import { chatTenantManifest, tenantNamespace } from "../../../src/api/index.js";
import { ENCRYPTED_STORAGE_CLASS } from "../../../src/controlplane/node/addons.js";
import { installCloudNativePG } from "../../../src/controlplane/node/cloudnative-pg/install.js";
import { localImageSpec } from "../../../src/devenv/image-spec.js";
import { names } from "../../../src/render/index.js";
import { installOperatorChart } from "./operator-chart.js";
import { execInPod, nodeKubeConfig, realNode } from "./pods.js";
import { SMALL, applyTenant, waitForTenantReady } from "./tenants.js";

export const GAMMA = { name: "node-gamma", domain: "chat.gamma.example", instances: 3 } as const;
export const gammaNamespace = tenantNamespace(GAMMA.name);

export function cloudNativePGTenant() {
  const node = realNode();
  return chatTenantManifest(GAMMA.name, {
    displayName: `${GAMMA.name} (CloudNativePG on the real node)`,
    xmppDomains: [GAMMA.domain],
    // Small CPU requests: the 2-CPU node holds the other test tenants and the sample tenant too.
    messaging: { replicas: 1, admins: [{ username: "admin" }], image: localImageSpec(node.images.ejabberd), resources: SMALL },
    database: {
      provider: "cloudnative-pg",
      instances: GAMMA.instances,
      image: localImageSpec(node.images.cloudNativePGPostgres),
      storage: { storageClassName: ENCRYPTED_STORAGE_CLASS, size: "1Gi" },
      resources: SMALL,
    },
    backup: { schedule: "0 2 * * *", target: { pvc: { size: "1Gi" } } },
  });
}

/** CloudNativePG, the operator and the tenant, Ready; returns how long the tenant took (ms) when it was created here. */
export async function cloudNativePGTenantReady(): Promise<number | undefined> {
  const kc = nodeKubeConfig();
  await installCloudNativePG(kc, { releaseManifest: realNode().cloudNativePGReleaseManifest, operatorImage: realNode().images.cloudNativePG });
  await installOperatorChart();
  const existed = await kc
    .makeApiClient(k8s.CoreV1Api)
    .readNamespace({ name: gammaNamespace })
    .then(() => true, () => false);
  const started = Date.now();
  await applyTenant(cloudNativePGTenant());
  await waitForTenantReady(GAMMA.name, 480_000);
  return existed ? undefined : Date.now() - started;
}

/** The instance Pods, by CloudNativePG's role label. */
export async function instancePods(): Promise<{ primary: string; replicas: string[] }> {
  const pods = await nodeKubeConfig().makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: gammaNamespace, labelSelector: `cnpg.io/cluster=${names.database.cluster}` });
  const running = pods.items.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp && p.metadata?.labels?.["cnpg.io/podRole"] === "instance");
  const role = (p: k8s.V1Pod) => p.metadata?.labels?.["cnpg.io/instanceRole"] ?? p.metadata?.labels?.["role"];
  const primary = running.find((p) => role(p) === "primary")?.metadata?.name;
  if (!primary) throw new Error(`no primary among ${running.map((p) => `${p.metadata?.name}=${role(p)}`).join(", ")}`);
  return { primary, replicas: running.filter((p) => role(p) === "replica").map((p) => p.metadata!.name!) };
}

/** A command in an instance's postgres container (CloudNativePG's instance manager is its PID 1). */
export function inInstance(pod: string, command: string[], stdin?: string) {
  return execInPod(nodeKubeConfig(), gammaNamespace, pod, "postgres", command, stdin);
}

/** One query on the primary, as the postgres OS user over the Unix socket (peer). */
export async function primarySql(sql: string, database: string = names.database.appDatabase): Promise<string[]> {
  const { primary } = await instancePods();
  const result = await inInstance(primary, ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "/controller/run", "-d", database, "-c", sql]);
  if (result.status !== "Success") throw new Error(`psql on ${primary}: ${result.status}\n${result.stderr}`);
  return result.stdout.split("\n").filter((l) => l !== "");
}

export async function secretValue(name: string, key: string): Promise<string> {
  const secret = await nodeKubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name, namespace: gammaNamespace });
  const value = secret.data?.[key];
  if (value === undefined) throw new Error(`Secret ${gammaNamespace}/${name} has no key ${key}`);
  return Buffer.from(value, "base64").toString("utf8");
}

/**
 * Lines of CloudNativePG's operator log and of one instance's log since `since` that match, for a
 * person reading why a failover took the time it took (each line JSON with its own timestamp).
 */
export async function cloudNativePGLogLines(since: number, pattern: RegExp, instance?: string): Promise<string[]> {
  const core = nodeKubeConfig().makeApiClient(k8s.CoreV1Api);
  const sinceSeconds = Math.ceil((Date.now() - since) / 1000) + 2;
  const operatorPods = await core.listNamespacedPod({ namespace: "cnpg-system", labelSelector: "app.kubernetes.io/name=cloudnative-pg" });
  const sources: Array<{ name: string; namespace: string; container?: string }> = operatorPods.items.map((p) => ({ name: p.metadata!.name!, namespace: "cnpg-system" }));
  if (instance) sources.push({ name: instance, namespace: gammaNamespace, container: "postgres" });
  const lines: string[] = [];
  for (const source of sources) {
    const log = await core.readNamespacedPodLog({ ...source, sinceSeconds }).catch((error: Error) => `(no log: ${error.message})`);
    for (const line of log.split("\n")) if (pattern.test(line)) lines.push(`${source.name}: ${line.slice(0, 400)}`);
  }
  return lines;
}

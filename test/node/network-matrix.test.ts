// Tenant isolation proven by packets: real TCP connections from Pods of both tenants (their own
// ejabberd and PostgreSQL Pods, a stray Pod, and Pods that wear the labels of each Job's Pod
// template), from an allowed client namespace, an unrelated namespace and the monitoring namespace,
// to every port of every tenant Pod, to the cluster DNS, to the API server and to an address outside
// the cluster. What reached its destination must be exactly what np-guard's netpol-analyzer says the
// same policies allow for the same Pods; any difference fails and names the pair.
import { createServer, type Server } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantNamespace } from "../../src/api/index.js";
import { names, ports } from "../../src/render/index.js";
import { createTestNamespace, deleteNamespaceAndWait, eventually } from "../harness/kube.js";
import { ALPHA, BETA, CLIENTS_OF_LABEL, tenantsReady } from "./support/fixture.js";
import { probeFrom, reached, type Target, type Verdict } from "./support/packet-probe.js";
import { predictFromCluster, type PodRef } from "./support/policy-prediction.js";
import { createPod, nodeKubeConfig, realNode, restrictedContainer, waitForPodReady } from "./support/pods.js";

const kc = nodeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);

/** Every port a tenant's policies or Pods know, and one no policy names. */
const PORTS = [...new Set<number>([...Object.values(ports), 8080])].sort((a, b) => a - b);
/** The namespace the tenants' spec.network.monitoringNamespace defaults to. */
const MONITORING = "monitoring";
/** kube-router's --service-node-port-range default, which the node keeps. */
const NODE_PORTS = { low: 30000, high: 32767 };
/** Labels the Job controller sets on its own Pods: a probe carrying them could be adopted by the Job. */
const JOB_CONTROLLER_LABELS = ["controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"];

interface Source extends PodRef {
  container: string;
}

const createdNamespaces: string[] = [];
const probePods: PodRef[] = [];
let outsideListener: Server | undefined;

function probePod(namespace: string, name: string, labels: Record<string, string> = {}): k8s.V1Pod {
  const container = restrictedContainer("probe", realNode().images.debian, ["sleep", "3600"]);
  container.resources = { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } };
  return { metadata: { name, namespace, labels }, spec: { automountServiceAccountToken: false, containers: [container] } };
}

/** The labels of each Job's Pod template in a tenant, as its Pods get them (the Job controller's own aside). */
async function jobPodLabels(namespace: string): Promise<Record<string, Record<string, string>>> {
  const podLabels = (labels: Record<string, string> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !JOB_CONTROLLER_LABELS.includes(k)));
  const cron = async (name: string) => podLabels((await batch.readNamespacedCronJob({ name, namespace })).spec!.jobTemplate.spec!.template.metadata!.labels);
  // The schema Job's name carries a hash of its inputs: found by its Pod role label.
  const schemaJobs = await batch.listNamespacedJob({ namespace, labelSelector: `app.kubernetes.io/name=${names.database.schemaJob}` });
  if (schemaJobs.items.length === 0) throw new Error(`no schema Job in ${namespace}`);
  return {
    schema: podLabels(schemaJobs.items[0]!.spec!.template.metadata!.labels),
    backup: await cron(names.backup.cronJob),
    "archive-purge": await cron(names.messaging.archivePurgeCronJob),
  };
}

async function startProbe(pod: k8s.V1Pod): Promise<Source> {
  await createPod(kc, pod.metadata!.namespace!, pod);
  const ref = { namespace: pod.metadata!.namespace!, name: pod.metadata!.name! };
  probePods.push(ref);
  return { ...ref, container: "probe" };
}

let sources: Source[] = [];

beforeAll(async () => {
  await tenantsReady();
  const clients = await createTestNamespace(kc, "node-clients", { [CLIENTS_OF_LABEL]: ALPHA.name });
  const unrelated = await createTestNamespace(kc, "node-unrelated");
  createdNamespaces.push(clients, unrelated);
  const monitoringExists = await core.readNamespace({ name: MONITORING }).then(() => true, () => false);
  if (!monitoringExists) {
    await core.createNamespace({ body: { metadata: { name: MONITORING } } });
    createdNamespaces.push(MONITORING);
  }
  const pending: Array<Promise<Source>> = [];
  for (const t of [ALPHA, BETA]) {
    const ns = tenantNamespace(t.name);
    // A Pod carrying the same labels as a Job's Pod template is selected by the same policies.
    for (const [role, labels] of Object.entries(await jobPodLabels(ns))) pending.push(startProbe(probePod(ns, `probe-${role}`, labels)));
    // A Pod of no role in the tenant's namespace: default deny, DNS only.
    pending.push(startProbe(probePod(ns, "probe-stray")));
  }
  for (const ns of [clients, unrelated, MONITORING]) pending.push(startProbe(probePod(ns, "probe")));
  const probes = await Promise.all(pending);
  await Promise.all(probes.map((p) => waitForPodReady(kc, p.namespace, p.name)));
  const tenantPods: Source[] = [];
  for (const t of [ALPHA, BETA]) {
    const ns = tenantNamespace(t.name);
    for (let i = 0; i < t.replicas; i++) tenantPods.push({ namespace: ns, name: `${names.messaging.statefulSet}-${i}`, container: "ejabberd" });
    tenantPods.push({ namespace: ns, name: `${names.database.statefulSet}-0`, container: "postgres" });
  }
  sources = [...tenantPods, ...probes];
  outsideListener = await new Promise<Server>((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.listen(0, "0.0.0.0", () => resolve(server));
  });
}, 900_000);

afterAll(async () => {
  outsideListener?.close();
  // The probes in the tenants' namespaces go before the next file uses the shared tenants.
  const inTenants = probePods.filter((p) => !createdNamespaces.includes(p.namespace));
  await Promise.all(inTenants.map((p) => core.deleteNamespacedPod({ namespace: p.namespace, name: p.name, gracePeriodSeconds: 0 }).catch(() => undefined)));
  const gone = (p: PodRef) => core.readNamespacedPod({ namespace: p.namespace, name: p.name }).then(() => false, () => true);
  await eventually("the probes in the tenants' namespaces gone", async () => (await Promise.all(inTenants.map(gone))).every(Boolean), 60_000, 1000);
  await Promise.all(createdNamespaces.map((ns) => deleteNamespaceAndWait(kc, ns, 120_000)));
});

interface PodTarget extends PodRef {
  ip: string;
}

async function runningPods(namespace: string, labelSelector?: string): Promise<PodTarget[]> {
  const pods = await core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) });
  return pods.items.filter((p) => p.status?.phase === "Running" && p.status.podIP).map((p) => ({ namespace, name: p.metadata!.name!, ip: p.status!.podIP! }));
}

describe("NetworkPolicies proven by packets on the real node", () => {
  it("every connection reaches its destination exactly when the analyzer says the policies allow it", async () => {
    const { nodeIp, apiServerPort } = realNode();
    const tenantPods = [...(await runningPods(tenantNamespace(ALPHA.name))), ...(await runningPods(tenantNamespace(BETA.name)))];
    const dnsPods = await runningPods("kube-system", "k8s-app=kube-dns");
    expect(dnsPods.length, "CoreDNS Pods").toBeGreaterThan(0);
    const apiService = await core.readNamespacedService({ namespace: "default", name: "kubernetes" });
    const outsidePort = (outsideListener!.address() as { port: number }).port;

    // kube-router admits any Pod to the node's own addresses on the NodePort range whatever the
    // policies say (its KUBE-ROUTER-INPUT whitelist), which the analyzer cannot know: the ports
    // probed on this host's address must lie outside that range to mean anything.
    for (const port of [apiServerPort, outsidePort]) expect(port < NODE_PORTS.low || port > NODE_PORTS.high, `host port ${port} outside the NodePort range`).toBe(true);
    type Probe = Target & { describe: string; predicted: (src: Source) => boolean };
    const prediction = await predictFromCluster(kc, [...new Map([...sources, ...tenantPods, ...dnsPods].map((p) => [`${p.namespace}/${p.name}`, { namespace: p.namespace, name: p.name }])).values()]);
    const probesFor = (src: Source): Probe[] => [
      ...tenantPods
        .filter((dst) => !(dst.namespace === src.namespace && dst.name === src.name)) // a Pod to itself never leaves its own network namespace
        .flatMap((dst) => PORTS.map((port) => ({ ip: dst.ip, port, describe: `${dst.namespace}/${dst.name}:${port}`, predicted: (s: Source) => prediction.podToPod(s, dst, port) }))),
      ...dnsPods.map((dst) => ({ ip: dst.ip, port: ports.dns, describe: `${dst.namespace}/${dst.name}:${ports.dns}`, predicted: (s: Source) => prediction.podToPod(s, dst, ports.dns) })),
      { ip: nodeIp, port: apiServerPort, describe: `API server ${nodeIp}:${apiServerPort}`, predicted: (s) => prediction.podToAddress(s, nodeIp, apiServerPort) },
      // The `kubernetes` Service is DNATed to the API server's address before any policy is checked
      // (kube-router matches the translated packet), and the analyzer knows no Services: the Service
      // address must behave as the API server's own address does.
      { ip: apiService.spec!.clusterIP!, port: 443, describe: `Service kubernetes ${apiService.spec!.clusterIP}:443 (DNAT to the API server)`, predicted: (s) => prediction.podToAddress(s, nodeIp, apiServerPort) },
      // Outside the cluster: this host's own address, on a port the test listens on and no policy
      // names. A farther address would prove nothing here: the node's egress guard
      // (src/controlplane/node/egress-guard.ts) drops every Pod packet that would leave this machine
      // before kube-router's rules see it, so it would time out whatever the policies say.
      { ip: nodeIp, port: outsidePort, describe: `outside address ${nodeIp}:${outsidePort}`, predicted: (s) => prediction.podToAddress(s, nodeIp, outsidePort) },
    ];

    const tenantNamespaces = [ALPHA, BETA].map((t) => tenantNamespace(t.name));
    const sendAll = async () => {
      const differences: string[] = [];
      const counts = new Map<Verdict, number>();
      const reachedAcrossTenants: string[] = [];
      const reachedBy = new Map<string, string[]>();
      await Promise.all(
        sources.map(async (src) => {
          const probes = probesFor(src);
          const verdicts = await probeFrom(kc, src.namespace, src.name, src.container, probes);
          for (const probe of probes) {
            const verdict = verdicts.get(`${probe.ip} ${probe.port}`)!;
            counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
            const allowed = probe.predicted(src);
            if (reached(verdict)) reachedBy.set(`${src.namespace}/${src.name}`, [...(reachedBy.get(`${src.namespace}/${src.name}`) ?? []), probe.describe]);
            if (allowed !== reached(verdict)) differences.push(`${src.namespace}/${src.name} -> ${probe.describe}: analyzer ${allowed ? "allows" : "denies"}, packet ${verdict}`);
            const dstNamespace = probe.describe.split("/")[0]!;
            if (reached(verdict) && tenantNamespaces.includes(src.namespace) && tenantNamespaces.includes(dstNamespace) && dstNamespace !== src.namespace) {
              reachedAcrossTenants.push(`${src.namespace}/${src.name} -> ${probe.describe}`);
            }
          }
        }),
      );
      return { differences: differences.sort(), counts, reachedAcrossTenants, reachedBy };
    };
    // kube-router writes a new Pod's rules a few seconds after the Pod starts (on its Pod watch), so
    // the probes' own rules may lag behind their readiness: a difference is retried a few times, and
    // only one that stays fails.
    let result = await sendAll();
    for (let attempt = 1; attempt < 4 && result.differences.length > 0; attempt++) {
      console.log(`[network-matrix] attempt ${attempt}: ${result.differences.length} differences, probing again in 10 s; first: ${result.differences.slice(0, 5).join("; ")}`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      result = await sendAll();
    }
    const { differences, counts, reachedAcrossTenants, reachedBy } = result;
    // The allowed side of the matrix, for a reader of the log: everything not listed was refused.
    for (const src of sources) console.log(`[network-matrix] ${src.namespace}/${src.name} reached: ${(reachedBy.get(`${src.namespace}/${src.name}`) ?? []).sort().join(", ") || "nothing"}`);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`[network-matrix] ${sources.length} sources x ${tenantPods.length} tenant Pods x ${PORTS.length} ports, plus DNS, API server and outside: ${total} connections; ${JSON.stringify(Object.fromEntries(counts))}`);
    expect(differences, "connections where the packets and the analyzer disagree").toEqual([]);
    expect(reachedAcrossTenants, "connections from one tenant into another").toEqual([]);
    // And what got in from outside the tenants is the design of docs/network.md, written out by hand:
    // the client namespace on the client ports of its tenant's ejabberd Pods, monitoring on each
    // role's metrics port, the unrelated namespace nowhere.
    const intoTenants = (src: Source): string[] => (reachedBy.get(`${src.namespace}/${src.name}`) ?? []).filter((d) => tenantNamespaces.includes(d.split("/")[0]!)).sort();
    const podsOf = (statefulSet: string) => tenantPods.filter((p) => new RegExp(`^${statefulSet}-\\d+$`).test(p.name)).map((p) => `${p.namespace}/${p.name}`);
    const outsiders = sources.filter((s) => !tenantNamespaces.includes(s.namespace));
    const expectedInto: Record<string, string[]> = {
      [outsiders.find((s) => s.namespace.startsWith("node-clients"))!.namespace]: podsOf(names.messaging.statefulSet).filter((p) => p.startsWith(`${tenantNamespace(ALPHA.name)}/`)).flatMap((p) => [`${p}:5222`, `${p}:5223`, `${p}:5443`]),
      [outsiders.find((s) => s.namespace.startsWith("node-unrelated"))!.namespace]: [],
      [MONITORING]: [...podsOf(names.messaging.statefulSet).map((p) => `${p}:${ports.ejabberdMetrics}`), ...podsOf(names.database.statefulSet).map((p) => `${p}:${ports.postgresExporter}`)],
    };
    for (const src of outsiders) expect(intoTenants(src), `what ${src.namespace}/${src.name} reached in the tenants`).toEqual(expectedInto[src.namespace]!.sort());
    // The verdicts mean something only if each kind was seen: kube-router's REJECT was told apart
    // from a destination's RST, and allowed connections were accepted too.
    for (const verdict of ["connected", "reset", "rejected"] as const) expect(counts.get(verdict) ?? 0, `${verdict} verdicts`).toBeGreaterThan(0);
    expect([...counts.keys()].filter((v) => v.startsWith("error-")), "probe errors").toEqual([]);
  });
});

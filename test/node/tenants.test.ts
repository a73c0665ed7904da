// Tenants on the real node, with the operator running as production runs it (in the cluster, from
// its image, installed by its chart): every Pod really runs, a real XMPP client on the host chats
// through the tenant's Service with the tenant CA verified, the ejabberd replicas form one cluster
// over their headless names, and a deleted Pod comes back with nothing lost.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantNamespace } from "../../src/api/index.js";
import { names } from "../../src/render/index.js";
import { eventually } from "../harness/kube.js";
import { loginXmpp, type XmppSession } from "../workload/support/ejabberd-client.js";
import { expectDelivered } from "../workload/support/cluster-checks.js";
import { ALPHA, BETA, tenantsReady } from "./support/fixture.js";
import { nodeKubeConfig, realNode } from "./support/pods.js";
import { adminPassword, clientServiceAddress, ejabberdctl, podIp, registerAccount, tenantCa, tenantSql, waitForTenantReady } from "./support/tenants.js";

const kc = nodeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const ns = tenantNamespace(ALPHA.name);
const ALICE = { user: "alice", password: "alice-on-the-real-node" };
const BOB = { user: "bob", password: "bob-on-the-real-node" };
const sessions: XmppSession[] = [];

async function login(host: string, account: { user: string; password: string }, ca?: string): Promise<XmppSession> {
  const session = await loginXmpp({ host, port: 5222, domain: ALPHA.domain, username: account.user, password: account.password, ca: ca ?? (await tenantCa(ALPHA.name)) });
  sessions.push(session);
  return session;
}

async function archived(text: string): Promise<number> {
  // The text is the test's own (letters, digits, spaces): no quoting issue in the literal.
  if (!/^[A-Za-z0-9 ,.-]+$/.test(text)) throw new Error(`unsafe marker ${text}`);
  const [count] = await tenantSql(ALPHA.name, `SELECT count(*) FROM archive WHERE server_host = '${ALPHA.domain}' AND txt = '${text}'`);
  return Number(count);
}

beforeAll(async () => {
  await tenantsReady();
  await registerAccount(ALPHA.name, ALICE.user, ALPHA.domain, ALICE.password);
  await registerAccount(ALPHA.name, BOB.user, ALPHA.domain, BOB.password);
}, 600_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.stop()));
});

describe("tenants on the real node, the operator installed by its chart", () => {
  it("both tenants are Ready from their own Pods, which run on the real node", async () => {
    for (const t of [ALPHA, BETA]) {
      const pods = (await core.listNamespacedPod({ namespace: tenantNamespace(t.name) })).items.filter((p) => p.status?.phase === "Running");
      const running = (app: string) => pods.filter((p) => p.metadata?.labels?.["app.kubernetes.io/name"] === app);
      expect(running("ejabberd").map((p) => p.metadata?.name).sort()).toEqual(Array.from({ length: t.replicas }, (_, i) => `ejabberd-${i}`));
      expect(running("postgres").map((p) => p.metadata?.name)).toEqual(["postgres-0"]);
      for (const pod of pods) {
        expect(pod.spec?.nodeName, pod.metadata?.name).toBe(realNode().nodeName);
        expect(pod.status?.containerStatuses?.every((c) => c.ready && c.state?.running), pod.metadata?.name).toBe(true);
      }
    }
  });

  it("the schema Job completed under the tenant's default-deny policy", async () => {
    const policies = await kc.makeApiClient(k8s.NetworkingV1Api).listNamespacedNetworkPolicy({ namespace: ns });
    const deny = policies.items.find((p) => p.metadata?.name === names.network.defaultDeny);
    expect(deny?.spec?.policyTypes?.sort()).toEqual(["Egress", "Ingress"]);
    const jobs = await kc.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: ns });
    const schema = jobs.items.filter((j) => j.metadata?.name?.startsWith(names.database.schemaJob));
    expect(schema.length).toBe(1);
    expect(schema[0]!.status?.succeeded).toBe(1);
    // ejabberd's own tables exist in the tenant database: the Job loaded them over the network.
    expect(await tenantSql(ALPHA.name, "SELECT to_regclass('public.archive') IS NOT NULL")).toEqual(["t"]);
  });

  it("a client on the host logs in through the tenant's Service with the tenant CA verified; a message lands in the tenant's PostgreSQL archive", async () => {
    const service = await clientServiceAddress(ALPHA.name);
    const alice = await login(service, ALICE);
    const bob = await login(service, BOB);
    expect(alice.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(alice.mechanism).toBe("SCRAM-SHA-256");
    expect(alice.serverVerified).toBe(true);
    const text = `lab results for ward 7 at ${Date.now()}`;
    await expectDelivered(alice, bob, text);
    await eventually("the message in the archive of both users", async () => (await archived(text)) === 2, 30_000);
    // The tenant's admin, whose password the operator generated into a Secret, logs in as well.
    const admin = await login(service, { user: "admin", password: await adminPassword(ALPHA.name, `admin@${ALPHA.domain}`) });
    expect(admin.jid).toMatch(new RegExp(`^admin@${ALPHA.domain.replace(/\./g, "\\.")}/`));
  });

  it("a client trusting another tenant's CA refuses this tenant's server", async () => {
    const service = await clientServiceAddress(ALPHA.name);
    await expect(loginXmpp({ host: service, port: 5222, domain: ALPHA.domain, username: ALICE.user, password: ALICE.password, ca: await tenantCa(BETA.name) })).rejects.toThrow(/certificate/i);
  });

  it("the ejabberd replicas form one cluster over their headless names, and a message crosses between them", async () => {
    const headless = (i: number) => `ejabberd@ejabberd-${i}.${names.messaging.headlessService}.${ns}.svc.cluster.local`;
    const members = (await ejabberdctl(ALPHA.name, "ejabberd-1", ["list_cluster"])).split("\n").map((l) => l.replace(/'/g, "").trim()).filter((l) => l.includes("@")).sort();
    expect(members).toEqual([headless(0), headless(1)]);
    const alice = await login(await podIp(ns, "ejabberd-0"), ALICE);
    const bob = await login(await podIp(ns, "ejabberd-1"), BOB);
    await expectDelivered(alice, bob, `across replicas ${Date.now()}`);
    await expectDelivered(bob, alice, `and back ${Date.now()}`);
  });

  it("deleting Pods brings back equal ones with no data lost", async () => {
    const text = `before the pods went ${Date.now()}`;
    const service = await clientServiceAddress(ALPHA.name);
    await expectDelivered(await login(service, ALICE), await login(service, BOB), text);
    await eventually("archived", async () => (await archived(text)) === 2, 30_000);
    await Promise.all(sessions.splice(0).map((s) => s.stop()));
    const before = new Map((await core.listNamespacedPod({ namespace: ns })).items.map((p) => [p.metadata!.name!, p.metadata!.uid!]));
    const volumes = (await core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.map((c) => `${c.metadata?.name}=${c.spec?.volumeName}`).sort();
    for (const pod of ["postgres-0", "ejabberd-1"]) await core.deleteNamespacedPod({ name: pod, namespace: ns });
    await eventually(
      "both Pods back under their names, new and Ready",
      async () => {
        const pods = (await core.listNamespacedPod({ namespace: ns })).items;
        return ["postgres-0", "ejabberd-1"].every((name) => {
          const pod = pods.find((p) => p.metadata?.name === name);
          return pod && pod.metadata?.uid !== before.get(name) && pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
        });
      },
      240_000,
      1000,
    );
    await waitForTenantReady(ALPHA.name);
    // PostgreSQL stopped cleanly (a fast shutdown), not killed at the end of the grace period: the new
    // instance finds a database that was shut down, with no crash recovery to run.
    const startLog = await core.readNamespacedPodLog({ name: "postgres-0", namespace: ns, container: "postgres" });
    expect(startLog).toMatch(/database system was shut down at/);
    expect(startLog).not.toMatch(/database system was interrupted|not properly shut down/);
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.map((c) => `${c.metadata?.name}=${c.spec?.volumeName}`).sort()).toEqual(volumes);
    // The accounts, the archive and the cluster all survived.
    expect(await archived(text)).toBe(2);
    const alice = await login(await podIp(ns, "ejabberd-0"), ALICE);
    const bob = await login(await podIp(ns, "ejabberd-1"), BOB);
    await expectDelivered(alice, bob, `after the pods came back ${Date.now()}`);
  });
});

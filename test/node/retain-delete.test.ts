// What deletionPolicy promises, with real volumes on the node's encrypted file system: a Delete
// tenant's volumes and their data go; a Retain tenant's stay, and adopting the retained namespace
// from a new ChatTenant of the same name brings back the same archive (a message sent before the
// deletion is read after it, by a client logging in with the account made before it).
import { existsSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP_VERSION, KIND, tenantNamespace } from "../../src/api/index.js";
import { ANNOTATION_ADOPT } from "../../src/controller/adoption.js";
import { eventually } from "../harness/kube.js";
import { expectDelivered } from "../workload/support/cluster-checks.js";
import { loginXmpp, type XmppSession } from "../workload/support/ejabberd-client.js";
import { installOperatorChart } from "./support/operator-chart.js";
import { nodeKubeConfig } from "./support/pods.js";
import { applyTenant, clientServiceAddress, deleteTenant, kubeObjects, nodeTenant, registerAccount, tenantCa, tenantSql, tenantStatus, waitForTenantReady } from "./support/tenants.js";

const kc = nodeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const KEEP = { name: "node-keep", domain: "chat.keep.example" };
const GONE = { name: "node-gone", domain: "chat.gone.example" };
const USERS = [
  { user: "gina", password: "gina-kept-across-deletion" },
  { user: "hank", password: "hank-kept-across-deletion" },
];
const sessions: XmppSession[] = [];

async function chat(tenant: { name: string; domain: string }, text: string): Promise<void> {
  const host = await clientServiceAddress(tenant.name);
  const ca = await tenantCa(tenant.name);
  const [a, b] = await Promise.all(USERS.map((u) => loginXmpp({ host, port: 5222, domain: tenant.domain, username: u.user, password: u.password, ca })));
  sessions.push(a!, b!);
  await expectDelivered(a!, b!, text);
  await eventually(`"${text}" archived`, async () => (await tenantSql(tenant.name, `SELECT count(*) FROM archive WHERE txt = '${text}'`))[0] === "2", 30_000);
  await Promise.all([a!.stop(), b!.stop()]);
}

/** The tenant's volumes: claim name -> where the node keeps the data. */
async function volumeDirs(tenant: string): Promise<Map<string, { pv: string; dir: string }>> {
  const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: tenantNamespace(tenant) });
  const out = new Map<string, { pv: string; dir: string }>();
  for (const claim of claims.items.filter((c) => c.spec?.volumeName)) {
    const pv = await core.readPersistentVolume({ name: claim.spec!.volumeName! });
    out.set(claim.metadata!.name!, { pv: pv.metadata!.name!, dir: pv.spec?.hostPath?.path ?? pv.spec?.local?.path ?? "" });
  }
  return out;
}

async function deleteTenantAndWait(name: string): Promise<void> {
  await deleteTenant(name);
  await eventually(`ChatTenant ${name} gone`, async () => (await kubeObjects().get({ apiVersion: API_GROUP_VERSION, kind: KIND, name })) === undefined, 180_000, 1000);
}

beforeAll(async () => {
  await installOperatorChart();
  await applyTenant(nodeTenant(KEEP.name, KEEP.domain, 1));
  await applyTenant(nodeTenant(GONE.name, GONE.domain, 1, { deletionPolicy: "Delete" }));
  await Promise.all([KEEP, GONE].map((t) => waitForTenantReady(t.name)));
  for (const t of [KEEP, GONE]) for (const u of USERS) await registerAccount(t.name, u.user, t.domain, u.password);
}, 600_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.stop()));
  // Its Pods make room on the 2-CPU node for the files after this one.
  await deleteTenant(KEEP.name);
});

describe("deletionPolicy with real volumes", () => {
  it("Delete: the tenant's namespace, volumes and their data on the node go", async () => {
    await chat(GONE, "this tenant will be deleted");
    const volumes = await volumeDirs(GONE.name);
    expect(volumes.has("data-postgres-0")).toBe(true);
    for (const { dir } of volumes.values()) expect(existsSync(dir), dir).toBe(true);
    await deleteTenantAndWait(GONE.name);
    await eventually("namespace gone", async () => !(await core.listNamespace()).items.some((n) => n.metadata?.name === tenantNamespace(GONE.name)), 180_000, 1000);
    await eventually(
      "every volume and its directory gone",
      async () => {
        const pvs = new Set((await core.listPersistentVolume()).items.map((p) => p.metadata?.name));
        return [...volumes.values()].every(({ pv, dir }) => !pvs.has(pv) && !existsSync(dir));
      },
      120_000,
      1000,
    );
  });

  it("Retain: the volumes stay, and the re-adopted tenant serves the same archive and accounts", async () => {
    const before = "sent before the tenant was deleted";
    await chat(KEEP, before);
    const volumes = await volumeDirs(KEEP.name);
    await deleteTenantAndWait(KEEP.name);
    // The workloads go with the tenant; the namespace, its volumes and their data stay.
    await eventually("the workloads gone", async () => (await core.listNamespacedPod({ namespace: tenantNamespace(KEEP.name) })).items.length === 0, 180_000, 1000);
    expect(await volumeDirs(KEEP.name)).toEqual(volumes);
    for (const { dir } of volumes.values()) expect(existsSync(dir), dir).toBe(true);

    // A new ChatTenant of the same name is refused the namespace until someone adopts it deliberately.
    await applyTenant(nodeTenant(KEEP.name, KEEP.domain, 1));
    const refused = await eventually("NamespaceNotOwned", async () => (await tenantStatus(KEEP.name))?.conditions?.find((c) => c.reason === "NamespaceNotOwned"), 60_000, 1000);
    expect(refused.message).toContain("retained");
    const uid = (await kubeObjects().get<{ metadata: { uid: string } }>({ apiVersion: API_GROUP_VERSION, kind: KIND, name: KEEP.name }))!.metadata.uid;
    await kubeObjects().mergePatch({ apiVersion: "v1", kind: "Namespace", name: tenantNamespace(KEEP.name) }, { metadata: { annotations: { [ANNOTATION_ADOPT]: uid } } });
    await waitForTenantReady(KEEP.name);
    expect(await volumeDirs(KEEP.name)).toEqual(volumes);
    expect(await tenantSql(KEEP.name, `SELECT count(*) FROM archive WHERE txt = '${before}'`)).toEqual(["2"]);
    // The accounts made before the deletion still log in, and the server chats on.
    await chat(KEEP, "sent after the tenant was adopted again");
  });
});

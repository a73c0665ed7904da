// Pods killed mid-conversation: two users on different ejabberd replicas keep sending to each other
// with stream management (XEP-0198) while one replica's Pod is deleted and then the StatefulSet rolls
// to a new messaging image tag. Clients log in again through the tenant Service and send again what the
// server had not acknowledged. Afterwards every acknowledged message has arrived (pushed, or in the
// recipient's archive for its client to fetch) and is archived for both users; a message is there twice only if it was sent twice; and while a replica was down, the
// PodDisruptionBudget refused to evict the other.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantNamespace } from "../../src/api/index.js";
import { names } from "../../src/render/index.js";
import { apiStatus, eventually } from "../harness/kube.js";
import { AckedChatter, type ChatterReport } from "./support/acked-chatter.js";
import { installOperatorChart } from "./support/operator-chart.js";
import { nodeKubeConfig, realNode, tagNodeImage } from "./support/pods.js";
import { applyTenant, clientServiceAddress, deleteTenant, nodeTenant, podIp, registerAccount, tenantCa, tenantSql, waitForTenantReady } from "./support/tenants.js";

const kc = nodeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const ROLL = { name: "node-roll", domain: "chat.roll.example" };
const ns = tenantNamespace(ROLL.name);
const IVY = { user: "ivy", password: "ivy-talks-through-it" };
const JACK = { user: "jack", password: "jack-talks-through-it" };
const chatters: AckedChatter[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ready ejabberd Pods now, and the fewest seen since watching began. */
class ReadyWatch {
  fewest = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  start(): void {
    this.timer = setInterval(() => void this.sample(), 500);
  }
  stop(): void {
    clearInterval(this.timer);
  }
  async readyPods(): Promise<k8s.V1Pod[]> {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: "app.kubernetes.io/name=ejabberd" });
    return pods.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
  }
  private async sample(): Promise<void> {
    const ready = await this.readyPods().catch(() => undefined);
    if (ready) this.fewest = Math.min(this.fewest, ready.length);
  }
}

/** Asks to evict a Pod, as a node drain does; the answer's status (201 evicted, 429 refused by the PDB). */
async function evict(pod: string): Promise<number> {
  try {
    await core.createNamespacedPodEviction({ name: pod, namespace: ns, body: { metadata: { name: pod, namespace: ns } } });
    return 201;
  } catch (error) {
    return apiStatus(error) ?? 0;
  }
}

async function archiveCounts(user: string): Promise<Map<string, number>> {
  const rows = await tenantSql(ROLL.name, `SELECT txt, count(*) FROM archive WHERE username = '${user}' GROUP BY txt`);
  return new Map(rows.map((r) => [r.split("|")[0]!, Number(r.split("|")[1])]));
}

beforeAll(async () => {
  await installOperatorChart();
  await applyTenant(nodeTenant(ROLL.name, ROLL.domain, 2));
  await waitForTenantReady(ROLL.name);
  for (const u of [IVY, JACK]) await registerAccount(ROLL.name, u.user, ROLL.domain, u.password);
}, 600_000);

afterAll(async () => {
  await Promise.all(chatters.map((c) => c.stop()));
  // Its Pods make room on the 2-CPU node for the files after this one.
  await deleteTenant(ROLL.name);
});

describe("Pods killed mid-conversation", () => {
  it("every acknowledged message arrives and is archived once (twice only if sent twice), and the PDB holds", async () => {
    const service = await clientServiceAddress(ROLL.name);
    const ca = await tenantCa(ROLL.name);
    const login = (u: typeof IVY, host: string) => ({ host, port: 5222, domain: ROLL.domain, username: u.user, password: u.password, ca });
    const ivy = new AckedChatter("ivy", login(IVY, await podIp(ns, "ejabberd-0")), service, `${JACK.user}@${ROLL.domain}`);
    const jack = new AckedChatter("jack", login(JACK, await podIp(ns, "ejabberd-1")), service, `${IVY.user}@${ROLL.domain}`);
    chatters.push(ivy, jack);
    await Promise.all([ivy.start(), jack.start()]);
    const watch = new ReadyWatch();
    watch.start();
    ivy.talk(250);
    jack.talk(250);
    await sleep(3000);

    // 1. One replica's Pod deleted (jack's).
    const first = (await core.readNamespacedPod({ name: "ejabberd-1", namespace: ns })).metadata!.uid;
    await core.deleteNamespacedPod({ name: "ejabberd-1", namespace: ns });
    // While it is down, the PodDisruptionBudget (maxUnavailable 1) refuses to evict the other.
    const refusals: number[] = [];
    await eventually(
      "ejabberd-1 back, new and Ready",
      async () => {
        const ready = await watch.readyPods();
        if (ready.length === 1 && ready[0]!.metadata?.name === "ejabberd-0") refusals.push(await evict("ejabberd-0"));
        return ready.some((p) => p.metadata?.name === "ejabberd-1" && p.metadata.uid !== first);
      },
      240_000,
      500,
    );
    await sleep(3000);

    // 2. The StatefulSet rolls to a new messaging image tag (the same build under a second name: the node
    // has no registry to pull a new release from). The digest form cannot serve here: containerd resolves
    // name@digest only for images pulled from a registry, not imported ones.
    const newTag = "23.01-bookworm-rollout";
    tagNodeImage(realNode().images.ejabberd, newTag);
    const rolled = nodeTenant(ROLL.name, ROLL.domain, 2);
    (rolled.spec as { messaging: { image: { tag?: string } } }).messaging.image.tag = newTag;
    await applyTenant(rolled);
    await eventually(
      "the StatefulSet rolled to the new tag",
      async () => {
        const sts = await apps.readNamespacedStatefulSet({ name: names.messaging.statefulSet, namespace: ns });
        const image = sts.spec?.template.spec?.containers[0]?.image ?? "";
        const ready = await watch.readyPods();
        if (ready.length === 1) refusals.push(await evict(ready[0]!.metadata!.name!));
        return image.endsWith(`:${newTag}`) && sts.status?.updateRevision === sts.status?.currentRevision && sts.status?.readyReplicas === 2 && sts.status.updatedReplicas === 2;
      },
      300_000,
      500,
    );
    await waitForTenantReady(ROLL.name);
    await sleep(3000);
    watch.stop();
    await Promise.all([ivy.settle(), jack.settle()]);
    await sleep(2000); // the last messages reach their recipients
    const [fromIvy, fromJack] = (await Promise.all([ivy.stop(), jack.stop()])) as [ChatterReport, ChatterReport];

    expect([...ivy.errors, ...jack.errors]).toEqual([]);
    expect(fromJack.reconnects, "jack's replica went away twice").toBeGreaterThanOrEqual(1);
    expect(fromIvy.reconnects + fromJack.reconnects).toBeGreaterThanOrEqual(2);
    expect(watch.fewest, "never both replicas down").toBeGreaterThanOrEqual(1);
    expect(refusals.length, "an eviction was tried while a replica was down").toBeGreaterThan(0);
    expect(refusals.every((s) => s === 429), `eviction answers ${refusals.join(",")}`).toBe(true);

    const archives = { ivy: await archiveCounts("ivy"), jack: await archiveCounts("jack") };
    const onlyInArchive: string[] = [];
    for (const [sender, report, recipient, recipientName] of [["ivy", fromIvy, fromJack, "jack"], ["jack", fromJack, fromIvy, "ivy"]] as const) {
      expect(report.acked.size, `${sender}'s acknowledged messages`).toBeGreaterThan(20);
      // Arrived: pushed to the recipient (live, or from offline storage after a reconnect), or in the
      // recipient's own archive. A message in flight to a session that dies is not pushed again while
      // the user is online elsewhere (mod_stream_mgmt resend_on_timeout: if_offline); clients fetch it
      // from their archive (MAM) on reconnect, as every current mobile client does.
      const lost = [...report.acked].filter((b) => !recipient.received.has(b) && !archives[recipientName].has(b));
      expect(lost, `acknowledged messages of ${sender} that never arrived`).toEqual([]);
      onlyInArchive.push(...[...report.acked].filter((b) => !recipient.received.has(b)));
      for (const owner of ["ivy", "jack"] as const) {
        const missing = [...report.acked].filter((b) => !archives[owner].has(b));
        expect(missing, `acknowledged messages of ${sender} missing from ${owner}'s archive`).toEqual([]);
        const twice = [...report.acked].filter((b) => (archives[owner].get(b) ?? 0) > 1 && !report.resent.has(b));
        expect(twice, `messages of ${sender} archived twice for ${owner} though sent once`).toEqual([]);
      }
      const duplicates = [...recipient.received].filter(([b, n]) => n > 1 && !report.resent.has(b)).map(([b]) => b);
      expect(duplicates, `messages of ${sender} received twice though sent once`).toEqual([]);
    }
    console.log(
      `[disruption] ivy sent ${ivy.sent}, acked ${fromIvy.acked.size}, resent ${fromIvy.resent.size}, reconnects ${fromIvy.reconnects}; jack sent ${jack.sent}, acked ${fromJack.acked.size}, resent ${fromJack.resent.size}, reconnects ${fromJack.reconnects}; evictions refused ${refusals.length}; arrived only through the archive: ${onlyInArchive.join(", ") || "none"}`,
    );
  }, 900_000);
});

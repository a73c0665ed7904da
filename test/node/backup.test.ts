// Backups on the real node, as docs/backup.md tells a platform engineer to run them: the backup
// CronJob triggered by hand as a Job (what `kubectl create job --from=cronjob/...` makes) writes an
// encrypted backup to the tenant's backup volume, and a restore Job made from the same template
// brings it back into a fresh database, messages included.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { tenantNamespace } from "../../src/api/index.js";
import { names } from "../../src/render/index.js";
import { eventually } from "../harness/kube.js";
import { expectDelivered } from "../workload/support/cluster-checks.js";
import { loginXmpp } from "../workload/support/ejabberd-client.js";
import { ALPHA, tenantsReady } from "./support/fixture.js";
import { nodeKubeConfig, podLogs } from "./support/pods.js";
import { clientServiceAddress, registerAccount, tenantCa, tenantSql, tenantStatus } from "./support/tenants.js";

const kc = nodeKubeConfig();
const batch = kc.makeApiClient(k8s.BatchV1Api);
const core = kc.makeApiClient(k8s.CoreV1Api);
const ns = tenantNamespace(ALPHA.name);
const CAROL = { user: "carol", password: "carol-before-the-backup" };
const DAVE = { user: "dave", password: "dave-before-the-backup" };
const text = `backed up at ${Date.now()}`;

/** A Job from the CronJob's template, owned by the CronJob, as kubectl's `create job --from=cronjob/` makes it. */
async function jobFromCronJob(name: string, edit: (spec: k8s.V1JobSpec) => void = () => {}): Promise<string> {
  const cron = await batch.readNamespacedCronJob({ name: names.backup.cronJob, namespace: ns });
  const template = structuredClone(cron.spec!.jobTemplate);
  const spec = template.spec!;
  edit(spec);
  await batch.createNamespacedJob({
    namespace: ns,
    body: {
      metadata: {
        name,
        labels: template.metadata?.labels ?? {},
        annotations: { "cronjob.kubernetes.io/instantiate": "manual" },
        ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: cron.metadata!.name!, uid: cron.metadata!.uid!, controller: true }],
      },
      spec,
    },
  });
  const outcome = await eventually(
    `Job ${name} finished`,
    async () => {
      const conditions = (await batch.readNamespacedJob({ name, namespace: ns })).status?.conditions ?? [];
      return conditions.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")?.type;
    },
    180_000,
    1000,
  );
  const logs = await jobLogs(name);
  if (outcome !== "Complete") throw new Error(`Job ${name} failed:\n${logs}`);
  return logs;
}

async function jobLogs(job: string): Promise<string> {
  const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${job}` });
  const logs = await Promise.all(pods.items.map((p) => podLogs(kc, ns, p.metadata!.name!).catch(() => "")));
  return logs.join("\n");
}

/** Every regular file below a directory, with its content. */
function filesBelow(dir: string): Array<{ file: string; content: Buffer }> {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((file) => ({ file, content: readFileSync(file) }));
}

beforeAll(async () => {
  await tenantsReady();
  for (const a of [CAROL, DAVE]) await registerAccount(ALPHA.name, a.user, ALPHA.domain, a.password);
  const service = await clientServiceAddress(ALPHA.name);
  const ca = await tenantCa(ALPHA.name);
  const [carol, dave] = await Promise.all([CAROL, DAVE].map((a) => loginXmpp({ host: service, port: 5222, domain: ALPHA.domain, username: a.user, password: a.password, ca })));
  try {
    await expectDelivered(carol!, dave!, text);
  } finally {
    await Promise.all([carol!.stop(), dave!.stop()]);
  }
  await eventually("archived", async () => (await tenantSql(ALPHA.name, `SELECT count(*) FROM archive WHERE txt = '${text}'`))[0] === "2", 30_000);
}, 600_000);

describe("backups of a tenant on the real node", () => {
  it("the backup CronJob, triggered as a Job, writes an encrypted backup to the tenant's volume", async () => {
    const job = `backup-manual-${Date.now()}`;
    const logs = await jobFromCronJob(job);
    expect(logs).toMatch(/backup/i);
    // The operator reads the Job's outcome into the tenant's status.
    await eventually("the Backup condition names the Job", async () => {
      const backup = (await tenantStatus(ALPHA.name))?.conditions?.find((c) => c.type === "Backup");
      return backup?.status === "True" && backup.reason === "BackupSucceeded" && backup.message?.includes(job);
    }, 60_000, 1000);
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: names.backup.pvc, namespace: ns });
    const volume = await core.readPersistentVolume({ name: claim.spec!.volumeName! });
    const dir = volume.spec?.hostPath?.path ?? volume.spec?.local?.path;
    expect(dir, "the backup volume's directory on the node").toBeTruthy();
    const files = filesBelow(dir!);
    expect(files.some((f) => f.content.length > 1024), `files: ${files.map((f) => f.file).join(", ")}`).toBe(true);
    // Neither the message nor the account names appear in any file of the backup volume.
    for (const { file, content } of files) {
      for (const plain of [text, `${CAROL.user}@${ALPHA.domain}`]) expect(content.includes(plain), `${plain} in ${file}`).toBe(false);
    }
  });

  it("a restore Job made from the same template brings the backup back into a fresh database", async () => {
    const database = `restored_${Date.now()}`;
    const logs = await jobFromCronJob(`restore-${Date.now()}`, (spec) => {
      const pod = spec.template.spec!;
      pod.containers[0]!.args = ["restore", "--backup=latest", `--database=${database}`];
      // Restore creates the database: the superuser's login instead of the messaging role's (docs/backup.md).
      for (const v of pod.volumes ?? []) if (v.secret?.secretName === names.database.appSecret) v.secret.secretName = names.database.superuserSecret;
    });
    expect(logs).toContain(`into ${database}`);
    // A restore is not a backup: the tenant's Backup condition still reports the last backup.
    await eventually("the tenant reconciled after the restore Job", async () => {
      const backup = (await tenantStatus(ALPHA.name))?.conditions?.find((c) => c.type === "Backup");
      return backup?.reason === "BackupSucceeded" && backup.message?.includes("backup-manual-");
    }, 60_000, 1000);
    expect(await tenantSql(ALPHA.name, `SELECT count(*) FROM archive WHERE txt = '${text}'`, database)).toEqual(["2"]);
    expect(await tenantSql(ALPHA.name, `SELECT username FROM users WHERE username IN ('carol', 'dave') ORDER BY username`, database)).toEqual(["carol", "dave"]);
  });
});

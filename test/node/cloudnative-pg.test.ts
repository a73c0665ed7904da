// CloudNativePG for real on the real node: its operator built from its Go module and installed from
// its release manifest, a tenant whose database is a 3-instance Cluster of Debian's PostgreSQL 17
// becomes Ready from CloudNativePG's own status, messages land in the Cluster's primary, commits wait
// for a standby; and the instances themselves refuse what the design forbids (no TLS, TLS below 1.3,
// md5, a server certificate from the wrong CA).
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOUDNATIVE_PG_DEPLOYMENT, CLOUDNATIVE_PG_NAMESPACE } from "../../src/controlplane/node/cloudnative-pg/manifest.js";
import { CNPG_VERSION } from "../../src/render/postgres/cnpg.js";
import { names } from "../../src/render/index.js";
import { eventually } from "../harness/kube.js";
import { loginXmpp, type XmppSession } from "../workload/support/ejabberd-client.js";
import { expectDelivered } from "../workload/support/cluster-checks.js";
import { GAMMA, cloudNativePGTenantReady, gammaNamespace, inInstance, instancePods, primarySql, secretValue } from "./support/cloudnative-pg.js";
import { nodeKubeConfig, realNode } from "./support/pods.js";
import { clientServiceAddress, registerAccount, tenantCa, tenantStatus } from "./support/tenants.js";

const kc = nodeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const sessions: XmppSession[] = [];
let readyAfterMs: number | undefined;

beforeAll(async () => {
  readyAfterMs = await cloudNativePGTenantReady();
  if (readyAfterMs !== undefined) console.log(`[cloudnative-pg] tenant ${GAMMA.name} Ready ${(readyAfterMs / 1000).toFixed(1)} s after it was applied`);
}, 900_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.stop()));
});

/** psql from inside an instance over TCP, as the messaging role; the password goes in on stdin. */
async function connectAsApp(conninfo: string): Promise<{ ok: boolean; output: string }> {
  const password = await secretValue(names.database.appSecret, "password");
  const { primary } = await instancePods();
  const script = 'read -r PGPASSWORD; export PGPASSWORD; exec psql -X -At -c "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()" "$1"';
  const result = await inInstance(primary, ["sh", "-c", script, "sh", conninfo], `${password}\n`);
  return { ok: result.status === "Success", output: `${result.stdout}${result.stderr}` };
}

const rwHost = `${names.database.cnpgReadWriteService}.${gammaNamespace}.svc.cluster.local`;
const app = `dbname=${names.database.appDatabase} user=${names.database.appUser} connect_timeout=10`;

describe(`CloudNativePG ${CNPG_VERSION} on the real node`, () => {
  it("runs the operator from the image built from its Go module, installed from the release manifest", async () => {
    const deployment = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: CLOUDNATIVE_PG_DEPLOYMENT, namespace: CLOUDNATIVE_PG_NAMESPACE });
    const manager = deployment.spec!.template.spec!.containers[0]!;
    expect(manager.image).toBe(realNode().images.cloudNativePG);
    expect(manager.env?.find((e) => e.name === "OPERATOR_IMAGE_NAME")?.value).toBe(realNode().images.cloudNativePG);
    expect(deployment.status?.availableReplicas).toBe(1);
  });

  it("a cloudnative-pg tenant with 3 instances is Ready from CloudNativePG's own status, on the node's Debian PostgreSQL 17", async () => {
    const database = (await tenantStatus(GAMMA.name))?.conditions?.find((c) => c.type === "Database");
    expect(database).toMatchObject({ status: "True", reason: "DatabaseReady" });
    expect(database?.message).toMatch(/^3\/3 PostgreSQL instances ready \(CloudNativePG: Cluster in healthy state\)/);
    const { primary, replicas } = await instancePods();
    expect(replicas).toHaveLength(2);
    for (const name of [primary, ...replicas]) {
      const pod = await core.readNamespacedPod({ name, namespace: gammaNamespace });
      expect(pod.spec?.nodeName).toBe(realNode().nodeName);
      expect(pod.spec?.containers.find((c) => c.name === "postgres")?.image).toBe(realNode().images.cloudNativePGPostgres);
    }
    expect(await primarySql("SHOW server_version_num")).toSatisfy((v: string[]) => v[0]!.startsWith("17"));
  });

  it("makes every commit wait for one standby (3 instances: synchronous replication, RPO 0)", async () => {
    const [standbyNames] = await primarySql("SHOW synchronous_standby_names");
    expect(standbyNames).toMatch(/^ANY 1 \(/);
    const replication = await primarySql("SELECT application_name || ' ' || sync_state FROM pg_stat_replication ORDER BY 1");
    expect(replication).toHaveLength(2);
    expect(replication.every((r) => / (quorum|sync)$/.test(r))).toBe(true);
  });

  it("a message sent through the tenant's Service lands in the archive on the Cluster's primary", async () => {
    await registerAccount(GAMMA.name, "carol", GAMMA.domain, "carol-on-cloudnative-pg");
    await registerAccount(GAMMA.name, "dave", GAMMA.domain, "dave-on-cloudnative-pg");
    const host = await clientServiceAddress(GAMMA.name);
    const ca = await tenantCa(GAMMA.name);
    const login = async (username: string) => {
      const session = await loginXmpp({ host, port: 5222, domain: GAMMA.domain, username, password: `${username}-on-cloudnative-pg`, ca });
      sessions.push(session);
      return session;
    };
    const text = `cloudnative-pg archive ${Date.now()}`;
    await expectDelivered(await login("carol"), await login("dave"), text);
    await eventually("archived for both users", async () => (await primarySql(`SELECT count(*) FROM archive WHERE txt = '${text}'`))[0] === "2", 30_000);
  });

  describe("the instances' own refusals", () => {
    it("accepts the messaging role over TLS 1.3 with the tenant CA verified (the control case)", async () => {
      const result = await connectAsApp(`host=${rwHost} ${app} sslmode=verify-full sslrootcert=/controller/certificates/server-ca.crt`);
      expect(result.output).toMatch(/^t\|TLSv1\.3/);
      expect(result.ok).toBe(true);
    });

    it("refuses a connection without TLS", async () => {
      const result = await connectAsApp(`host=${rwHost} ${app} sslmode=disable`);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/pg_hba\.conf rejects connection .* no encryption/);
    });

    it("refuses TLS 1.2 and older (the server's floor is TLS 1.3)", async () => {
      for (const max of ["TLSv1.2", "TLSv1.1"]) {
        const result = await connectAsApp(`host=${rwHost} ${app} sslmode=require ssl_max_protocol_version=${max}`);
        expect(result.ok, max).toBe(false);
        expect(result.output, max).toMatch(/protocol version|no protocols available|unsupported protocol/i);
      }
    });

    it("never offers md5, and a role whose password is stored as md5 cannot log in", async () => {
      const offered = await connectAsApp(`host=${rwHost} ${app} sslmode=require require_auth=md5`);
      expect(offered.ok).toBe(false);
      expect(offered.output).toMatch(/server requested SASL authentication/);
      await primarySql("SET password_encryption = 'md5'; DROP ROLE IF EXISTS md5_probe; CREATE ROLE md5_probe LOGIN PASSWORD 'md5-probe-password'", "postgres");
      try {
        expect((await primarySql("SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'md5_probe'", "postgres"))[0]).toBe("md5");
        const { primary } = await instancePods();
        const result = await inInstance(primary, ["sh", "-c", 'read -r PGPASSWORD; export PGPASSWORD; exec psql -X -At -c "SELECT 1" "$1"', "sh", `host=${rwHost} dbname=postgres user=md5_probe sslmode=require`], "md5-probe-password\n");
        expect(result.status).not.toBe("Success");
        expect(`${result.stdout}${result.stderr}`).toMatch(/password authentication failed for user "md5_probe"/);
      } finally {
        await primarySql("DROP ROLE IF EXISTS md5_probe", "postgres");
      }
    });

    it("a client that trusts another CA refuses the server's certificate", async () => {
      // CloudNativePG's own client CA (it signs the replication certificates) is a real CA, but not the tenant's.
      const result = await connectAsApp(`host=${rwHost} ${app} sslmode=verify-full sslrootcert=/controller/certificates/client-ca.crt`);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/certificate verify failed/);
    });
  });
});

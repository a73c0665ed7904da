// The workload images built without a registry really run on the node, the way the operator's Pods
// run them: PostgreSQL initialises its data directory and accepts connections; ejabberd runs as uid
// 9000 with every capability dropped except NET_BIND_SERVICE, which its beam.smp carries as a file
// capability (with ALL dropped the kernel would refuse to exec it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNamespace, deleteNamespaceAndWait } from "../harness/kube.js";
import { createPod, execInPod, nodeKubeConfig, realNode, restrictedContainer, waitForPodReady } from "./support/pods.js";

const kc = nodeKubeConfig();
let namespace = "";

beforeAll(async () => {
  namespace = await createTestNamespace(kc, "node-images");
});
afterAll(async () => {
  if (namespace) await deleteNamespaceAndWait(kc, namespace, 120_000);
});

describe("workload images on the real node", () => {
  it("PostgreSQL initialises an empty data directory and accepts connections", async () => {
    const container = restrictedContainer("postgres", realNode().images.postgres, [], 999);
    delete container.command;
    await createPod(kc, namespace, {
      metadata: { name: "postgres" },
      spec: {
        securityContext: { fsGroup: 999 },
        containers: [
          {
            ...container,
            env: [
              { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
              { name: "POSTGRES_PASSWORD", value: "not-a-secret-test-password" },
            ],
            readinessProbe: { exec: { command: ["pg_isready", "-h", "127.0.0.1"] }, periodSeconds: 2 },
            volumeMounts: [
              { name: "data", mountPath: "/var/lib/postgresql/data" },
              { name: "run", mountPath: "/run/postgresql" },
            ],
          },
        ],
        volumes: [
          { name: "data", emptyDir: {} },
          { name: "run", emptyDir: {} },
        ],
      },
    });
    await waitForPodReady(kc, namespace, "postgres", 120_000);
    const result = await execInPod(kc, namespace, "postgres", "postgres", ["psql", "-h", "/run/postgresql", "-U", "postgres", "-tAc", "select version()"]);
    expect(result.stdout).toContain("PostgreSQL 15");
  });

  it("ejabberd starts as uid 9000 with only NET_BIND_SERVICE", async () => {
    const container = restrictedContainer("ejabberd", realNode().images.ejabberd, [], 9000);
    delete container.command;
    container.securityContext!.capabilities = { drop: ["ALL"], add: ["NET_BIND_SERVICE"] };
    await createPod(kc, namespace, {
      metadata: { name: "ejabberd" },
      spec: {
        containers: [
          {
            ...container,
            env: [{ name: "ERLANG_NODE_ARG", value: "ejabberd@localhost" }],
            readinessProbe: { exec: { command: ["ejabberdctl", "status"] }, periodSeconds: 3, timeoutSeconds: 10 },
          },
        ],
      },
    });
    await waitForPodReady(kc, namespace, "ejabberd", 180_000);
    const status = await execInPod(kc, namespace, "ejabberd", "ejabberd", ["ejabberdctl", "status"]);
    expect(status.stdout).toMatch(/is started|running/);
    const who = await execInPod(kc, namespace, "ejabberd", "ejabberd", ["sh", "-c", "id -u; echo $HOME; ls /opt/ejabberd"]);
    expect(who.stdout).toContain("9000");
    expect(who.stdout).toContain("/opt/ejabberd");
    expect(who.stdout).toMatch(/conf[\s\S]*database[\s\S]*logs[\s\S]*upload/);
  });
});

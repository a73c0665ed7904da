// The workload images built without a registry really run on the node, the way the operator's Pods
// run them: PostgreSQL initialises its data directory and accepts connections; ejabberd runs as uid
// 9000 with every capability dropped except NET_BIND_SERVICE, which its beam.smp carries as a file
// capability (with ALL dropped the kernel would refuse to exec it).
import * as k8s from "@kubernetes/client-node";
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
  it("PostgreSQL initialises an empty data directory from a password file, and accepts connections", async () => {
    // As the operator renders it: the superuser password reaches the entrypoint as a Secret file
    // (POSTGRES_PASSWORD_FILE), never as an environment variable.
    const password = "not-a-secret-test-password";
    await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({ namespace, body: { metadata: { name: "postgres-login" }, stringData: { password } } });
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
              { name: "POSTGRES_PASSWORD_FILE", value: "/etc/postgres-login/password" },
              { name: "POSTGRES_INITDB_ARGS", value: "--auth-host=scram-sha-256" },
            ],
            readinessProbe: { exec: { command: ["pg_isready", "-h", "127.0.0.1"] }, periodSeconds: 2 },
            volumeMounts: [
              { name: "data", mountPath: "/var/lib/postgresql/data" },
              { name: "run", mountPath: "/run/postgresql" },
              { name: "login", mountPath: "/etc/postgres-login", readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: "data", emptyDir: {} },
          { name: "run", emptyDir: {} },
          { name: "login", secret: { secretName: "postgres-login", defaultMode: 0o440 } },
        ],
      },
    });
    await waitForPodReady(kc, namespace, "postgres", 120_000);
    const result = await execInPod(kc, namespace, "postgres", "postgres", ["psql", "-h", "/run/postgresql", "-U", "postgres", "-tAc", "select version()"]);
    expect(result.stdout).toContain("PostgreSQL 17.");
    // Over TCP the server asks for the password (SCRAM): the one from the file.
    const login = await execInPod(kc, namespace, "postgres", "postgres", ["sh", "-c", `PGPASSWORD='${password}' psql -h 127.0.0.1 -U postgres -tAc 'select 1'`]);
    expect(login.stdout.trim()).toBe("1");
    // And the server (PID 1 after exec) has no password in its environment.
    const environ = await execInPod(kc, namespace, "postgres", "postgres", ["sh", "-c", "tr '\\0' '\\n' < /proc/1/environ | cut -d= -f1"]);
    expect(environ.stdout.split("\n")).toContain("POSTGRES_PASSWORD_FILE");
    expect(environ.stdout.split("\n")).not.toContain("POSTGRES_PASSWORD");
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
    // ejabberd keeps everything in PostgreSQL: its driver must be in the image (Debian packages it apart).
    const driver = await execInPod(kc, namespace, "ejabberd", "ejabberd", ["sh", "-c", "ls -d /usr/lib/erlang/lib/p1_pgsql-*/ebin/p1_pgsql.app"]);
    expect(driver.stdout).toMatch(/p1_pgsql\.app/);
  });
});

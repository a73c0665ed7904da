// The operator's image, built without Docker or a registry, runs on the real node as the chart
// runs it (uid 10001, read-only root filesystem, every capability dropped): the CLI answers, and the
// backup runner's PostgreSQL client tools are where PG_BINDIR says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNamespace, deleteNamespaceAndWait } from "../harness/kube.js";
import { createPod, nodeKubeConfig, podLogs, realNode, restrictedContainer, waitForPodSucceeded } from "./support/pods.js";

const kc = nodeKubeConfig();
let namespace = "";

beforeAll(async () => {
  namespace = await createTestNamespace(kc, "node-operator-image");
});
afterAll(async () => {
  if (namespace) await deleteNamespaceAndWait(kc, namespace, 120_000);
});

describe("the operator image on the real node", () => {
  it("runs the CLI and carries pg_dump", async () => {
    const container = restrictedContainer("operator", realNode().images.operator, ["/bin/sh", "-c", 'node /app/dist/cli/main.js --help && "$PG_BINDIR/pg_dump" --version'], 10001);
    container.securityContext!.readOnlyRootFilesystem = true;
    await createPod(kc, namespace, { metadata: { name: "operator" }, spec: { restartPolicy: "Never", containers: [container] } });
    await waitForPodSucceeded(kc, namespace, "operator");
    const logs = await podLogs(kc, namespace, "operator");
    expect(logs).toContain("chat-tenant-operator <command>");
    expect(logs).toMatch(/pg_dump \(PostgreSQL\) 17\./);
  });
});

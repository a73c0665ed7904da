// One real node per machine: while the shared node runs, starting another is refused at once (the
// lock), before anything on the host is touched. (That the host is left as it was after stop is
// checked by the global teardown, which fails the run otherwise.)
import { existsSync, readdirSync } from "node:fs";
import os from "node:os";
import { describe, expect, it } from "vitest";
import type { ControlPlane } from "../../src/controlplane/controlplane.js";
import { NodeLockedError } from "../../src/controlplane/node/lock.js";
import { NODE_LAYOUT } from "../../src/controlplane/node/layout.js";
import { startRealNode } from "../../src/controlplane/node/node.js";
import { realNode } from "./support/pods.js";

describe("the real node's lock", () => {
  it("refuses a second node while one runs, and leaves nothing behind", async () => {
    expect(existsSync(NODE_LAYOUT.lockFile)).toBe(true);
    const nodeDirs = () => readdirSync(os.tmpdir()).filter((d) => d.startsWith("chat-tenant-operator-node-")).sort();
    const before = nodeDirs();
    const { nodeName, nodeIp } = realNode();
    // Never reaches the control plane: the lock is checked first.
    const controlPlane = { realNodeCredentials: { nodeName, nodeIp, caCert: "", nodeCert: "", nodeKey: "" } } as unknown as ControlPlane;
    const binaries = {} as never;
    const images = {} as never;
    await expect(startRealNode({ controlPlane, binaries, images, lockWaitMs: 0 })).rejects.toBeInstanceOf(NodeLockedError);
    expect(nodeDirs()).toEqual(before);
  });
});

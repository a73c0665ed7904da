/**
 * Pods of the test node never reach beyond this machine. The bridge masquerades Pod traffic (the
 * CNI `ipMasq`), so without a guard a Pod could talk to any address the host can, and before
 * kube-proxy's rules exist even a connection to a Service address is routed out of the default
 * route. One rule drops forwarded traffic from the Pod range that leaves through anything but the
 * bridge: Pod to Pod, Pod to Service (after DNAT, a Pod or this host) and Pod to this host (not
 * forwarded at all) are unaffected. In the mangle table, ahead of the filter table where
 * kube-router accepts what NetworkPolicies allow. Named CTO-*, which the cleanup script removes.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
export const EGRESS_GUARD_CHAIN = "CTO-NODE-EGRESS";

export function egressGuardCommands(podCidr: string, bridge: string): string[][] {
  return [
    ["-w", "-t", "mangle", "-N", EGRESS_GUARD_CHAIN],
    ["-w", "-t", "mangle", "-A", EGRESS_GUARD_CHAIN, "-s", podCidr, "!", "-o", bridge, "-m", "comment", "--comment", "chat-tenant-operator node: Pods stay on this machine", "-j", "DROP"],
    ["-w", "-t", "mangle", "-I", "FORWARD", "1", "-j", EGRESS_GUARD_CHAIN],
  ];
}

export async function installEgressGuard(podCidr: string, bridge: string): Promise<void> {
  for (const args of egressGuardCommands(podCidr, bridge)) {
    await run("iptables", args, { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  }
}

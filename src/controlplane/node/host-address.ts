/**
 * The address a real node registers with: the host's first non-loopback IPv4 address. Pods reach
 * the API server there (through the `kubernetes` Service), and the API server reaches the kubelet.
 */
import os from "node:os";

export function primaryIPv4Address(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error("this host has no non-loopback IPv4 address for a real node");
}

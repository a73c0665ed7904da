/**
 * Where the real node keeps its state on the host. Fixed paths that belong to this project alone,
 * so that cleaning up (after a normal stop, a crash, or a stale run) can remove them entirely
 * without ever touching what another program owns. There is one node per machine (see lock.ts).
 */
export interface NodeLayout {
  /** Persistent state: containerd's content and snapshots, kubelet's root, volumes, CNI IPAM. */
  readonly root: string;
  /** Runtime state: containerd's state and socket, process groups, what the host looked like before. */
  readonly run: string;
  /** Held while a node runs; holds the owner's PID. */
  readonly lockFile: string;
  /** The kubelet's cgroupRoot: every container of every Pod lives below it in each hierarchy. */
  readonly cgroupRoot: string;
  /** The CNI bridge's name. */
  readonly bridge: string;
}

export const NODE_LAYOUT: NodeLayout = {
  root: "/var/lib/chat-tenant-operator-node",
  run: "/run/chat-tenant-operator-node",
  lockFile: "/run/chat-tenant-operator-node.lock",
  cgroupRoot: "/chat-tenant-operator-node",
  bridge: "cto0",
};

export function nodePaths(layout: NodeLayout) {
  return {
    containerdRoot: `${layout.root}/containerd`,
    containerdState: `${layout.run}/containerd`,
    containerdSocket: `${layout.run}/containerd/containerd.sock`,
    kubeletRoot: `${layout.root}/kubelet`,
    podLogs: `${layout.root}/pod-logs`,
    volumePlugins: `${layout.root}/volume-plugins`,
    localPathVolumes: `${layout.root}/local-path`,
    cniIpam: `${layout.root}/cni-ipam`,
    processGroups: `${layout.run}/process-groups`,
    hostState: `${layout.run}/host-state`,
  };
}

/**
 * Host directories that containerd and the kubelet use at fixed places whatever they are told:
 * shim sockets in /run/containerd/s, libcni's result cache in /var/lib/cni, the kubelet's
 * /var/log/containers links. Each is removed on cleanup only if it did not exist before the node.
 */
export const FIXED_HOST_DIRS: readonly string[] = ["/run/containerd", "/var/lib/cni", "/var/log/containers", "/var/log/pods", "/run/netns"];

/**
 * Kernel settings the node's components change: the kubelet (its "kernel tunables"), kube-proxy,
 * and the node itself (forwarding). Saved before start, restored on cleanup.
 */
export const SAVED_SYSCTLS: readonly string[] = [
  "net/ipv4/ip_forward",
  "net/ipv4/conf/all/route_localnet",
  "net/bridge/bridge-nf-call-iptables",
  "net/bridge/bridge-nf-call-ip6tables",
  "net/netfilter/nf_conntrack_max",
  "vm/overcommit_memory",
  "vm/panic_on_oom",
  "kernel/panic",
  "kernel/panic_on_oops",
  "kernel/keys/root_maxkeys",
  "kernel/keys/root_maxbytes",
];

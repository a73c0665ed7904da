/**
 * Configuration files of the node's processes, as pure functions of addresses and paths:
 * containerd, the CNI network, the kubelet and kube-proxy, and the command lines of kube-router
 * and local-path-provisioner. Kept apart from process handling so every setting can be read (and
 * reviewed) in one place; each comment says why a setting differs from its default.
 */
import yaml from "js-yaml";
import { nodePaths, type NodeLayout } from "./layout.js";

/** Pod addresses of the real node; apart from kwok's simulated 10.244.0.0/16. */
export const NODE_POD_CIDR = "10.245.0.0/24";
/** The cluster DNS Service's ClusterIP, inside the control plane's 10.0.0.0/16. */
export const CLUSTER_DNS_IP = "10.0.0.10";
export const CLUSTER_DOMAIN = "cluster.local";
export const CNI_NETWORK_NAME = "chat-tenant-operator";

export interface NodeIdentity {
  readonly nodeName: string;
  readonly nodeIp: string;
}

export function containerdConfigToml(layout: NodeLayout, sandboxImage: string, cniConfDir: string): string {
  const p = nodePaths(layout);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${p.containerdRoot}"
state = "${p.containerdState}"
# Leave our own OOM score alone (the capability bounding set here lacks CAP_SYS_RESOURCE).
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${p.containerdSocket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${layout.root}/containerd-opt"

[${cri}]
  sandbox_image = "${sandboxImage}"
  # runc cannot lower oom_score_adj without CAP_SYS_RESOURCE; every sandbox failed without this.
  restrict_oom_score_adj = true
  # Network namespaces below our state directory, not in the host's /run/netns.
  netns_mounts_under_state_dir = true
  disable_apparmor = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  BinaryName = "/usr/sbin/runc"
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${cniConfDir}"
`;
}

/** One bridge with host-local addresses; portmap for hostPort. Debian's plugins live in /usr/lib/cni. */
export function cniConflist(layout: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: CNI_NETWORK_NAME,
      plugins: [
        {
          type: "bridge",
          bridge: layout.bridge,
          isGateway: true,
          ipMasq: true,
          // A Pod reaching itself through its own Service comes back over the bridge.
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: NODE_POD_CIDR }]],
            routes: [{ dst: "0.0.0.0/0" }],
            dataDir: nodePaths(layout).cniIpam,
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export interface KubeletConfigInput {
  readonly identity: NodeIdentity;
  readonly caCert: string;
  readonly healthzPort: number;
}

export function kubeletConfigYaml(layout: NodeLayout, input: KubeletConfigInput): string {
  const p = nodePaths(layout);
  return yaml.dump({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    address: input.identity.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: input.healthzPort,
    // Only the API server (its kubelet client certificate from our CA) talks to this kubelet.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: input.caCert } },
    authorization: { mode: "AlwaysAllow" },
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    // This machine has cgroup v1 hierarchies; Kubernetes 1.31+ refuses them unless told otherwise.
    cgroupDriver: "cgroupfs",
    failCgroupV1: false,
    failSwapOn: false,
    // Every Pod below one cgroup of our own, which cleanup empties and removes.
    cgroupRoot: layout.cgroupRoot,
    // Lowering its own OOM score needs CAP_SYS_RESOURCE, which this machine's bounding set lacks.
    oomScoreAdj: 0,
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: CLUSTER_DOMAIN,
    // No host resolver inside Pods: names outside the cluster are not for tests to look up.
    resolvConf: "",
    podLogsDir: p.podLogs,
    volumePluginDir: p.volumePlugins,
    serializeImagePulls: false,
    // Images are imported, never pulled: the kubelet must not garbage-collect them either.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { "memory.available": "100Mi", "nodefs.available": "2%", "imagefs.available": "2%" },
    registerNode: true,
    rotateCertificates: false,
    staticPodPath: "",
  });
}

export interface KubeProxyConfigInput {
  readonly identity: NodeIdentity;
  readonly kubeconfig: string;
  readonly healthzPort: number;
  readonly metricsPort: number;
}

export function kubeProxyConfigYaml(input: KubeProxyConfigInput): string {
  return yaml.dump({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    clientConnection: { kubeconfig: input.kubeconfig },
    hostnameOverride: input.identity.nodeName,
    mode: "iptables",
    clusterCIDR: NODE_POD_CIDR,
    healthzBindAddress: `127.0.0.1:${input.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${input.metricsPort}`,
    oomScoreAdj: 0,
    // Zero: leave the host's conntrack limits and timeouts as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    // NodePorts on 127.0.0.1 would need net.ipv4.conf.all.route_localnet=1, a host-wide change.
    iptables: { localhostNodePorts: false },
    nodePortAddresses: [`${input.identity.nodeIp}/32`],
  });
}

export function kubeRouterArgs(identity: NodeIdentity, kubeconfig: string, healthPort: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--hostname-override=${identity.nodeName}`,
    // NetworkPolicy enforcement only: routing, service proxy and CNI stay with the bridge and kube-proxy.
    "--run-firewall=true",
    "--run-router=false",
    "--run-service-proxy=false",
    "--enable-cni=false",
    `--health-port=${healthPort}`,
    "--metrics-port=0",
    "--v=1",
  ];
}

export const LOCAL_PATH_NAMESPACE = "local-path-storage";
export const LOCAL_PATH_SERVICE_ACCOUNT = "local-path-provisioner";
export const LOCAL_PATH_CONFIG_MAP = "local-path-config";
export const LOCAL_PATH_PROVISIONER_NAME = "rancher.io/local-path";

export function localPathProvisionerArgs(kubeconfig: string, helperImage: string): string[] {
  return [
    "start",
    `--kubeconfig=${kubeconfig}`,
    `--provisioner-name=${LOCAL_PATH_PROVISIONER_NAME}`,
    `--namespace=${LOCAL_PATH_NAMESPACE}`,
    `--service-account-name=${LOCAL_PATH_SERVICE_ACCOUNT}`,
    `--configmap-name=${LOCAL_PATH_CONFIG_MAP}`,
    `--helper-image=${helperImage}`,
  ];
}

/**
 * Versions of what runs on the real node, in one place. The node's Kubernetes components follow
 * the control plane's release; the add-ons are the newest releases the Go module proxy serves
 * that were seen working on this machine kind (see docs/controlplane.md, "A real node").
 */
import { KUBERNETES_VERSION, type GoComponent } from "../versions.js";

export const COREDNS_VERSION = "1.12.4";
/** v2.2.0 to v2.6.1 are refused by the module proxy. */
export const KUBE_ROUTER_VERSION = "2.1.0";
/** v0.0.31 is refused by the module proxy. */
export const LOCAL_PATH_PROVISIONER_VERSION = "0.0.30";

export type NodeComponentName = "kubelet" | "kube-proxy" | "coredns" | "kube-router" | "local-path-provisioner";

const kubernetes = (name: "kubelet" | "kube-proxy"): GoComponent => ({
  name,
  version: `v${KUBERNETES_VERSION}`,
  module: "k8s.io/kubernetes",
  moduleVersion: `v${KUBERNETES_VERSION}`,
  mainPackage: `k8s.io/kubernetes/cmd/${name}`,
});

export const NODE_COMPONENTS: Readonly<Record<NodeComponentName, GoComponent>> = {
  kubelet: kubernetes("kubelet"),
  "kube-proxy": kubernetes("kube-proxy"),
  coredns: {
    name: "coredns",
    version: `v${COREDNS_VERSION}`,
    module: "github.com/coredns/coredns",
    moduleVersion: `v${COREDNS_VERSION}`,
    mainPackage: "github.com/coredns/coredns",
  },
  "kube-router": {
    name: "kube-router",
    version: `v${KUBE_ROUTER_VERSION}`,
    module: "github.com/cloudnativelabs/kube-router/v2",
    moduleVersion: `v${KUBE_ROUTER_VERSION}`,
    mainPackage: "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router",
  },
  "local-path-provisioner": {
    name: "local-path-provisioner",
    version: `v${LOCAL_PATH_PROVISIONER_VERSION}`,
    module: "github.com/rancher/local-path-provisioner",
    moduleVersion: `v${LOCAL_PATH_PROVISIONER_VERSION}`,
    mainPackage: "github.com/rancher/local-path-provisioner",
  },
};

/**
 * Debian packages the node runs or builds with: the runtime (containerd, runc), pod networking
 * (CNI plugins, iptables, ipset, conntrack for kube-proxy), image building (mmdebstrap, setcap
 * for ejabberd's file capability, a static C toolchain for the pause and fscrypt programs) and the
 * encrypted volume's file system (e2fsprogs). No buildah and no `fscrypt` tool: see images/ and
 * fscrypt-tool.ts for why.
 */
export const NODE_DEBIAN_PACKAGES: readonly string[] = [
  "containerd",
  "runc",
  "containernetworking-plugins",
  "iptables",
  "ipset",
  "conntrack",
  "mmdebstrap",
  "libcap2-bin",
  "gcc",
  "libc6-dev",
  "e2fsprogs",
];

/**
 * The one place where the control plane's upstream versions are pinned.
 *
 * Changing a version here changes the cache key of the built binary, so the
 * next setup run builds the new release and leaves the old binary alone.
 */

/** Kubernetes release whose apiserver, controller-manager and scheduler we build. */
export const KUBERNETES_VERSION = "1.34.4";

/** etcd server release (Kubernetes 1.34 is tested against etcd 3.6). */
export const ETCD_VERSION = "3.6.16";

/** kwok release; its controller simulates nodes and drives Pod lifecycle. */
export const KWOK_VERSION = "0.8.0";

/** A component that we build from Go modules and cache by name and version. */
export interface GoComponent {
  /** Binary name, also the first half of the cache key. */
  readonly name: string;
  /** Version as it appears in the binary's cache key, e.g. "v1.34.4". */
  readonly version: string;
  /** Go module that is required by the generated wrapper go.mod. */
  readonly module: string;
  /** Version of `module` to require. */
  readonly moduleVersion: string;
  /** Go package (a main package) that `go build` compiles into the binary. */
  readonly mainPackage: string;
}

export type ComponentName =
  | "etcd"
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kwok";

const kubernetesComponent = (name: ComponentName): GoComponent => ({
  name,
  version: `v${KUBERNETES_VERSION}`,
  module: "k8s.io/kubernetes",
  moduleVersion: `v${KUBERNETES_VERSION}`,
  mainPackage: `k8s.io/kubernetes/cmd/${name}`,
});

export const COMPONENTS: Readonly<Record<ComponentName, GoComponent>> = {
  etcd: {
    name: "etcd",
    version: `v${ETCD_VERSION}`,
    module: "go.etcd.io/etcd/server/v3",
    moduleVersion: `v${ETCD_VERSION}`,
    // The etcd server module's root package is the `etcd` main package.
    mainPackage: "go.etcd.io/etcd/server/v3",
  },
  "kube-apiserver": kubernetesComponent("kube-apiserver"),
  "kube-controller-manager": kubernetesComponent("kube-controller-manager"),
  "kube-scheduler": kubernetesComponent("kube-scheduler"),
  kwok: {
    name: "kwok",
    version: `v${KWOK_VERSION}`,
    module: "sigs.k8s.io/kwok",
    moduleVersion: `v${KWOK_VERSION}`,
    mainPackage: "sigs.k8s.io/kwok/cmd/kwok",
  },
};

export const ALL_COMPONENT_NAMES: readonly ComponentName[] = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
];

/** Binary file name in the cache: component and version, so versions never collide. */
export function binaryFileName(component: GoComponent): string {
  return `${component.name}-${component.version}`;
}

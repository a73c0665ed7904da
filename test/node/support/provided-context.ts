/**
 * What the `node` project's global setup hands to test files through vitest's provide/inject.
 * Imported by both sides so the key and its type cannot drift apart.
 */
export interface SharedRealNodeInfo {
  /** Admin kubeconfig of the control plane the real node belongs to. */
  readonly kubeconfigPath: string;
  /** The API server's port on the node's address (what the operator's NetworkPolicy egress must allow). */
  readonly apiServerPort: number;
  /** helm, built into the cache like the chart tests' (scripts/chart-tools/helm.ts). */
  readonly helmBinary: string;
  readonly nodeName: string;
  readonly nodeIp: string;
  /** The encrypted StorageClass's loop file and mount point, to read the raw bytes on the host. */
  readonly encryptedVolumes: { readonly backingFile: string; readonly mountPoint: string; readonly volumesDir: string };
  /** Image references imported into the node's containerd (imagePullPolicy: Never). */
  readonly images: {
    readonly debian: string;
    readonly coredns: string;
    readonly postgres: string;
    readonly ejabberd: string;
    readonly operator: string;
    /** CloudNativePG's operator (its manager built from the Go module) and its PostgreSQL operand. */
    readonly cloudNativePG: string;
    readonly cloudNativePGPostgres: string;
  };
  /** CloudNativePG's release manifest, copied from its Go module; tests that need it install it. */
  readonly cloudNativePGReleaseManifest: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    realNode: SharedRealNodeInfo;
  }
}

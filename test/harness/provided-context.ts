/**
 * What the integration global setup hands to test files through vitest's provide/inject.
 * Imported by both sides so the key and its type cannot drift apart.
 */
import type { ControlPlaneBinaries } from "../../src/controlplane/build.js";

export interface SharedControlPlaneInfo {
  /** Admin kubeconfig (system:masters) of the control plane started for this test run. */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** The API server's JSON audit log of write requests (user agent included). */
  readonly auditLogPath: string;
  /** Temporary directory with data, certificates and logs/<component>.log. */
  readonly dir: string;
  /** The binaries it runs, so a test can start a private control plane it may disrupt. */
  readonly binaries: ControlPlaneBinaries;
  /** KEEP_CONTROLPLANE=1 was set: keep temporary directories for debugging. */
  readonly keepDirs: boolean;
}

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: SharedControlPlaneInfo;
  }
}

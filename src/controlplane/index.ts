/** Local Kubernetes control plane for tests and for `run` without a configured cluster. */
export { ensureControlPlaneBinaries, findCachedBinaries, binaryPaths, type ControlPlaneBinaries } from "./build.js";
export { defaultControlPlaneCacheDir } from "./cache-dir.js";
export { startControlPlane, type ControlPlane, type StartControlPlaneOptions } from "./controlplane.js";
export { DEFAULT_FAKE_NODES, FAKE_NODE_LABEL, type FakeNodeSpec } from "./fake-nodes.js";
export { KWOK_STORAGE_CLASS } from "./fake-storage.js";
export { GoToolchainMissingError } from "./go-tool.js";
export { ETCD_VERSION, KUBERNETES_VERSION, KWOK_VERSION } from "./versions.js";

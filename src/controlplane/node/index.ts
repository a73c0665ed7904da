/** A real Kubernetes node beside the local control plane (see docs/controlplane.md, "A real node"). */
export { ensureNodeBinaries, nodeBinaryPaths, type NodeBinaries } from "./binaries.js";
export { ensureDebianPackages } from "./debian-packages.js";
export { ensureFscryptTool, type EncryptedVolumeDir } from "./encrypted-storage.js";
export { primaryIPv4Address } from "./host-address.js";
export { ensureOperatorImage } from "./images/operator-image.js";
export { NodeLockedError } from "./lock.js";
export { ensureRealNodeImages, imageReferenceNamed } from "./node-images.js";
export { startRealNode, type NodeImages, type RealNode, type StartRealNodeOptions } from "./node.js";
export { ENCRYPTED_STORAGE_CLASS, LOCAL_PATH_STORAGE_CLASS } from "./addons.js";
export { COREDNS_VERSION, KUBE_ROUTER_VERSION, LOCAL_PATH_PROVISIONER_VERSION, NODE_DEBIAN_PACKAGES } from "./versions.js";

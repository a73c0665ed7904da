import type { KubeConfig } from '@kubernetes/client-node';
import type { OperatorSettings } from '../api/index.js';
import { ensureControlPlaneBinaries, startControlPlane, type ControlPlane } from '../controlplane/index.js';
import {
  ENCRYPTED_STORAGE_CLASS,
  NODE_DEBIAN_PACKAGES,
  ensureDebianPackages,
  ensureFscryptTool,
  ensureNodeBinaries,
  ensureOperatorImage,
  ensureRealNodeImages,
  imageReferenceNamed,
  primaryIPv4Address,
  startRealNode,
  type RealNode,
} from '../controlplane/node/index.js';
import { KubeClient } from '../kube/client.js';
import { KubeObjects } from '../kube/objects.js';
import { installCrd } from './environment.js';
import { localImageSpec } from './image-spec.js';
import type { SamplePlacement } from './sample-tenant.js';

// The local environment of `run` where the machine allows it: the control plane with ONE real node
// (containerd, kubelet, CNI, kube-proxy, CoreDNS, kube-router, local-path on an encrypted file system),
// the images built from Debian packages and imported, so the sample tenant's Pods really run and a
// person can chat on it. The operator itself runs as this process, as `run` always does.

/** The one real node's name, here and in the `node` test project. */
export const REAL_NODE_NAME = 'chat-tenant-operator-node';

export interface RealNodeEnvironment {
  controlPlane: ControlPlane;
  node: RealNode;
  kubeConfig: KubeConfig;
  /** The settings the operator needs here: the node's ejabberd flavour and its own local image. */
  settings: OperatorSettings;
  /** Where the sample tenant goes: the encrypted class, the imported images. */
  placement: SamplePlacement;
  stop(): Promise<void>;
}

export interface RealNodeEnvironmentOptions {
  cacheDir: string;
  goEnv: NodeJS.ProcessEnv;
  /** This checkout: the operator image (the backup runner) is built from it. */
  projectDir: string;
  settings: OperatorSettings;
  log: (line: string) => void;
}

export async function startRealNodeEnvironment(options: RealNodeEnvironmentOptions): Promise<RealNodeEnvironment> {
  const { cacheDir, log } = options;
  const goOptions = { cacheDir, goEnv: options.goEnv, log };
  await ensureDebianPackages(NODE_DEBIAN_PACKAGES, log);
  const binaries = await ensureControlPlaneBinaries(goOptions);
  const nodeBinaries = await ensureNodeBinaries(goOptions);
  const fscryptTool = await ensureFscryptTool(cacheDir);
  const images = await ensureRealNodeImages({ cacheDir, corednsBinary: nodeBinaries.coredns, workloadImages: true, log });
  const operatorImage = await ensureOperatorImage({ cacheDir, projectDir: options.projectDir, env: options.goEnv, log });
  const reference = (name: string): string => imageReferenceNamed(images.others, name);


  const controlPlane = await startControlPlane({ binaries, log, realNode: { nodeName: REAL_NODE_NAME, nodeIp: primaryIPv4Address() } });
  let node: RealNode | undefined;
  try {
    node = await startRealNode({ controlPlane, binaries: nodeBinaries, images: { ...images, others: [...images.others, operatorImage] }, fscryptTool, log });
    const kubeConfig = controlPlane.kubeConfig();
    await installCrd(new KubeObjects(new KubeClient(kubeConfig, 'chat-tenant-operator/devenv')));
    const { registry, repository, tag } = localImageSpec(operatorImage.reference) as { registry: string; repository: string; tag: string };
    const started = node;
    return {
      controlPlane,
      node,
      kubeConfig,
      settings: { ...options.settings, ejabberdFlavour: 'debian-23.01', operatorImage: { registry, repository, tag } },
      placement: { storageClassName: ENCRYPTED_STORAGE_CLASS, images: { messaging: reference('ejabberd'), database: reference('postgres') } },
      stop: async () => {
        try {
          await started.stop();
        } finally {
          await controlPlane.stop();
        }
      },
    };
  } catch (error) {
    await node?.stop().catch(() => {});
    await controlPlane.stop();
    throw error;
  }
}

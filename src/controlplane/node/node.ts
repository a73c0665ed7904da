/**
 * A real Kubernetes node beside the local control plane: containerd and runc run the containers,
 * the kubelet registers the Node and runs Pods, a CNI bridge gives them addresses, kube-proxy
 * routes Services, CoreDNS answers cluster names, kube-router's firewall enforces
 * NetworkPolicies, and local-path-provisioner binds PersistentVolumeClaims.
 *
 * The node changes the host (iptables, ipsets, a bridge, kernel settings, mounts, cgroups,
 * directories). Everything is undone by one script (host-cleanup.ts) on stop, by a watcher if
 * this process dies first (node-reaper.ts), and before a start that finds a dead owner's lock.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import type { ControlPlane } from "../controlplane.js";
import { isHealthy } from "../health.js";
import { writeAdminKubeconfig } from "../kubeconfig.js";
import { findFreePort, readLogTail, startProcess, waitUntil, type ManagedProcess } from "../processes.js";
import { coreDnsObjects, localPathObjects } from "./addons.js";
import { createCgroupRoot } from "./cgroups.js";
import { applyAddonObjects } from "./apply.js";
import type { NodeBinaries } from "./binaries.js";
import {
  cniConflist,
  containerdConfigToml,
  kubeletConfigYaml,
  kubeProxyConfigYaml,
  kubeRouterArgs,
  localPathProvisionerArgs,
  NODE_POD_CIDR,
  type NodeIdentity,
} from "./component-config.js";
import { createEncryptedVolumeDir, type EncryptedVolumeDir } from "./encrypted-storage.js";
import { installEgressGuard } from "./egress-guard.js";
import { renderHostCleanupScript } from "./host-cleanup.js";
import { recordHostState, writeSysctl } from "./host-state.js";
import type { ImageArchive } from "./images/build.js";
import { NODE_LAYOUT, nodePaths, type NodeLayout } from "./layout.js";
import { findOwnedProcessWithArgument, NodeLockedError, processWithArguments, releaseNodeLock, tryAcquireNodeLock } from "./lock.js";
import { NODE_REAPER_NAME, NodeReaper } from "./node-reaper.js";

const run = promisify(execFile);

export type NodeProcessName = "containerd" | "kubelet" | "kube-proxy" | "kube-router" | "local-path-provisioner";
/** Clients first, the runtime last. */
const STOP_ORDER: readonly NodeProcessName[] = ["local-path-provisioner", "kube-router", "kube-proxy", "kubelet", "containerd"];
const CHILD_ENV: NodeJS.ProcessEnv = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
const DEFAULT_TIMEOUT_MS = 120_000;

export interface NodeImages {
  /** The sandbox image containerd starts every Pod with. */
  readonly pause: ImageArchive;
  /** A shell for local-path-provisioner's helper Pods. */
  readonly helper: ImageArchive;
  readonly coredns: ImageArchive;
  /** Anything else to import (workload images). */
  readonly others: readonly ImageArchive[];
}

export interface StartRealNodeOptions {
  /** Started with `realNode`, whose name and address this node takes. */
  readonly controlPlane: ControlPlane;
  readonly binaries: NodeBinaries;
  readonly images: NodeImages;
  readonly layout?: NodeLayout;
  /** Parent of the directory holding configuration and logs; the OS temp dir by default. */
  readonly baseDir?: string;
  /** Keep configuration and logs after stop (host state is undone regardless). */
  readonly keepDir?: boolean;
  readonly timeoutMs?: number;
  /**
   * The fscrypt program (encrypted-storage.ts): given, the node also offers the StorageClass
   * `encrypted-local-path`, whose volumes are encrypted at rest.
   */
  readonly fscryptTool?: string;
  /** How long to wait for another run's node to stop (one node per machine); 0 fails at once. */
  readonly lockWaitMs?: number;
  /**
   * Called once this node holds the machine's lock, before it changes anything on the host: what
   * the host looks like then is what stop must leave (earlier, another run's node may still run).
   */
  readonly onLockAcquired?: () => void;
  readonly log?: (line: string) => void;
}

export interface RealNode {
  readonly nodeName: string;
  readonly nodeIp: string;
  /** Configuration files and logs/<process>.log. */
  readonly dir: string;
  readonly logFiles: Readonly<Record<NodeProcessName, string>>;
  /** The encrypted StorageClass's file system, when the node has one. */
  readonly encryptedVolumes?: EncryptedVolumeDir;
  /** Milliseconds each start phase took, for reports. */
  readonly timings: Readonly<Record<string, number>>;
  logTail(name: NodeProcessName, lines?: number): Promise<string>;
  /**
   * Stops every process and undoes every host change; the directory goes too unless kept.
   * `beforeLockRelease` runs after the cleanup, while the lock still keeps another run's node away.
   */
  stop(hooks?: { readonly beforeLockRelease?: () => void }): Promise<void>;
}

export async function startRealNode(options: StartRealNodeOptions): Promise<RealNode> {
  const credentials = options.controlPlane.realNodeCredentials;
  if (!credentials) throw new Error("the control plane was not started with `realNode`");
  const layout = options.layout ?? NODE_LAYOUT;
  const log = options.log ?? (() => {});
  const dir = await mkdtemp(path.join(options.baseDir ?? os.tmpdir(), "chat-tenant-operator-node-"));
  const cleanupScript = path.join(dir, "host-cleanup.sh");
  await writeFile(cleanupScript, renderHostCleanupScript(layout), { mode: 0o755 });

  try {
    await acquireLock(layout, cleanupScript, options.lockWaitMs ?? 0, log);
    options.onLockAcquired?.();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const node = new LocalRealNode(dir, cleanupScript, layout, { nodeName: credentials.nodeName, nodeIp: credentials.nodeIp }, options);
  try {
    await node.start();
    return node;
  } catch (error) {
    await node.stop().catch((stopError: Error) => log(`stopping the half-started node failed: ${stopError.message}`));
    throw new Error(`the real node failed to start (logs in ${dir}): ${(error as Error).message}`, { cause: error });
  }
}

/** Waits up to `waitMs` for another run's node to stop; cleans up after a dead owner first. */
async function acquireLock(layout: NodeLayout, cleanupScript: string, waitMs: number, log: (line: string) => void): Promise<void> {
  const lockFile = layout.lockFile;
  const deadline = Date.now() + waitMs;
  for (let waited = false; ; waited = true) {
    try {
      const result = await tryAcquireNodeLock(lockFile);
      if (result.state === "acquired") return;
      const kubelet = await findOwnedProcessWithArgument(`--root-dir=${nodePaths(layout).kubeletRoot}`);
      if (kubelet !== undefined) throw new NodeLockedError(kubelet, lockFile);
      // The dead owner's watcher may be cleaning up right now: let it finish first, or it could
      // remove what this start creates.
      if (result.ownerPid !== undefined) {
        const watcher = [NODE_REAPER_NAME, String(result.ownerPid)];
        await waitUntil(`the watcher of process ${result.ownerPid} to finish`, async () => !(await processWithArguments(watcher)), { timeoutMs: 60_000 });
      }
      log(`a node left behind by a dead process: cleaning up first (${cleanupScript})`);
      await runCleanup(cleanupScript, log);
    } catch (error) {
      if (!(error instanceof NodeLockedError) || Date.now() >= deadline) throw error;
      if (!waited) log(`${error.message}; waiting up to ${Math.round(waitMs / 1000)}s`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
}

async function runCleanup(script: string, log: (line: string) => void): Promise<void> {
  const { stdout, stderr } = await run("/bin/sh", [script], { env: CHILD_ENV, maxBuffer: 16 << 20 });
  for (const line of `${stdout}${stderr}`.split("\n")) if (line.trim()) log(line);
}

class LocalRealNode implements RealNode {
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly logFiles: Readonly<Record<NodeProcessName, string>>;
  readonly timings: Record<string, number> = {};
  private readonly running = new Map<NodeProcessName, ManagedProcess>();
  private readonly log: (line: string) => void;
  private readonly timeoutMs: number;
  private readonly paths: ReturnType<typeof nodePaths>;
  private reaper?: NodeReaper;
  private stopped = false;
  encryptedVolumes?: EncryptedVolumeDir;

  constructor(
    readonly dir: string,
    private readonly cleanupScript: string,
    private readonly layout: NodeLayout,
    private readonly identity: NodeIdentity,
    private readonly options: StartRealNodeOptions,
  ) {
    this.nodeName = identity.nodeName;
    this.nodeIp = identity.nodeIp;
    this.log = options.log ?? (() => {});
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.paths = nodePaths(layout);
    const logDir = path.join(dir, "logs");
    this.logFiles = Object.fromEntries(STOP_ORDER.map((n) => [n, path.join(logDir, `${n}.log`)])) as Record<NodeProcessName, string>;
  }

  async start(): Promise<void> {
    const started = Date.now();
    const phase = (name: string): void => {
      this.timings[name] = Date.now() - started;
      this.log(`${name} after ${this.timings[name]}ms`);
    };
    await mkdir(path.join(this.dir, "logs"), { recursive: true });
    await mkdir(this.layout.root, { recursive: true, mode: 0o700 });
    await mkdir(this.layout.run, { recursive: true, mode: 0o700 });
    this.writeProcessGroups();
    // Before any change: what to restore, and the watcher that restores it if we die.
    await recordHostState(this.paths.hostState);
    this.reaper = new NodeReaper(this.cleanupScript, path.join(this.dir, "logs", "node-reaper.log"));
    await writeSysctl("net/ipv4/ip_forward", "1");
    // Service traffic between two Pods on the bridge must pass iptables (kube-proxy's DNAT).
    await writeSysctl("net/bridge/bridge-nf-call-iptables", "1").catch(() => {});

    // Before any Pod exists: nothing a Pod sends leaves this machine.
    await installEgressGuard(NODE_POD_CIDR, this.layout.bridge);
    const { controlPlane, images } = this.options;
    const cniConfDir = path.join(this.dir, "cni");
    await mkdir(cniConfDir, { recursive: true });
    await writeFile(path.join(cniConfDir, "10-chat-tenant-operator.conflist"), cniConflist(this.layout));
    const containerdConfig = path.join(this.dir, "containerd.toml");
    await writeFile(containerdConfig, containerdConfigToml(this.layout, images.pause.reference, cniConfDir));
    const containerd = this.spawn("containerd", "/usr/bin/containerd", [`--config=${containerdConfig}`]);
    await waitUntil("containerd's socket", async () => (await this.ctr(["version"]), true), { timeoutMs: this.timeoutMs, process: containerd });
    phase("containerd ready");

    await this.importImages([images.pause, images.helper, images.coredns, ...images.others]);
    phase("images imported");

    const credentials = controlPlane.realNodeCredentials!;
    const kubeletKubeconfig = path.join(this.dir, "kubelet.kubeconfig");
    await writeAdminKubeconfig(kubeletKubeconfig, {
      server: controlPlane.server,
      caCertPem: await readFile(credentials.caCert, "utf8"),
      clientCertPem: await readFile(credentials.nodeCert, "utf8"),
      clientKeyPem: await readFile(credentials.nodeKey, "utf8"),
      name: "chat-tenant-operator-node",
    });
    await createCgroupRoot(this.layout.cgroupRoot);
    const kubeletHealthz = await findFreePort();
    const kubeletConfig = path.join(this.dir, "kubelet.yaml");
    await writeFile(kubeletConfig, kubeletConfigYaml(this.layout, { identity: this.identity, caCert: credentials.caCert, healthzPort: kubeletHealthz }));
    const kubelet = this.spawn("kubelet", this.options.binaries.kubelet, [
      `--config=${kubeletConfig}`,
      `--kubeconfig=${kubeletKubeconfig}`,
      `--root-dir=${this.paths.kubeletRoot}`,
      `--hostname-override=${this.nodeName}`,
      `--node-ip=${this.nodeIp}`,
      "--v=1",
    ]);
    await this.waitHealthy(kubelet, `http://127.0.0.1:${kubeletHealthz}/healthz`);
    const kc = controlPlane.kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitUntil("the Node object", async () => !!(await core.readNode({ name: this.nodeName })), { timeoutMs: this.timeoutMs, process: kubelet });
    // Nothing allocates node CIDRs here; kube-router (and anything else) reads the Pod range from the Node.
    await core.patchNode(
      { name: this.nodeName, body: { spec: { podCIDR: NODE_POD_CIDR, podCIDRs: [NODE_POD_CIDR] } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    phase("Node registered");

    const adminKubeconfig = controlPlane.kubeconfigPath;
    const proxyPorts = { healthz: await findFreePort(), metrics: await findFreePort() };
    const proxyConfig = path.join(this.dir, "kube-proxy.yaml");
    await writeFile(
      proxyConfig,
      kubeProxyConfigYaml({ identity: this.identity, kubeconfig: adminKubeconfig, healthzPort: proxyPorts.healthz, metricsPort: proxyPorts.metrics }),
    );
    const proxy = this.spawn("kube-proxy", this.options.binaries["kube-proxy"], [`--config=${proxyConfig}`, "--v=1"]);
    const routerHealth = await findFreePort();
    const router = this.spawn("kube-router", this.options.binaries["kube-router"], kubeRouterArgs(this.identity, adminKubeconfig, routerHealth));
    const encrypted = this.options.fscryptTool ? await createEncryptedVolumeDir(this.layout.root, this.options.fscryptTool) : undefined;
    this.encryptedVolumes = encrypted;
    await applyAddonObjects(kc, localPathObjects({ plain: this.paths.localPathVolumes, encrypted: encrypted?.volumesDir }, images.helper.reference));
    this.spawn("local-path-provisioner", this.options.binaries["local-path-provisioner"], localPathProvisionerArgs(adminKubeconfig, images.helper.reference));

    await waitUntil("the Node to be Ready", () => this.nodeReady(core), { timeoutMs: this.timeoutMs, process: kubelet });
    phase("Node Ready");
    await Promise.all([
      this.waitHealthy(proxy, `http://127.0.0.1:${proxyPorts.healthz}/healthz`),
      this.waitHealthy(router, `http://127.0.0.1:${routerHealth}/healthz`),
    ]);
    phase("kube-proxy and kube-router healthy");
    // Only now the first Pod: before kube-proxy's rules exist, a connection to a Service address
    // (CoreDNS to 10.0.0.1) is routed like any other, out of this machine's default route.
    await applyAddonObjects(kc, coreDnsObjects(images.coredns.reference));
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await waitUntil(
      "CoreDNS to be available",
      async () => ((await apps.readNamespacedDeployment({ name: "coredns", namespace: "kube-system" })).status?.availableReplicas ?? 0) > 0,
      { timeoutMs: this.timeoutMs, process: kubelet },
    );
    phase("CoreDNS ready");
  }

  async logTail(name: NodeProcessName, lines = 40): Promise<string> {
    return readLogTail(this.logFiles[name], lines);
  }

  async stop(hooks: { readonly beforeLockRelease?: () => void } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const failures: string[] = [];
    for (const name of STOP_ORDER) {
      const child = this.running.get(name);
      if (!child) continue;
      const exit = await child.stop(10_000).catch((error: Error) => void failures.push(`${name}: ${error.message}`));
      this.running.delete(name);
      this.log(`stopped ${name}${exit ? ` (${exit.signal ?? `exit ${exit.code}`})` : ""}`);
    }
    this.writeProcessGroups();
    await runCleanup(this.cleanupScript, this.log).catch((error: Error) => failures.push(`host cleanup: ${error.message}`));
    this.reaper?.stop();
    try {
      hooks.beforeLockRelease?.();
    } finally {
      await releaseNodeLock(this.layout.lockFile);
    }
    if (!this.options.keepDir) await rm(this.dir, { recursive: true, force: true });
    else this.log(`kept node directory ${this.dir}`);
    if (failures.length > 0) throw new Error(`stopping the real node failed: ${failures.join("; ")}`);
  }

  private spawn(name: NodeProcessName, binary: string, args: string[]): ManagedProcess {
    const child = startProcess({ name, binary, args, logFile: this.logFiles[name], cwd: this.dir, env: CHILD_ENV });
    this.running.set(name, child);
    this.writeProcessGroups();
    this.log(`started ${name} (pid ${child.pid}), log ${this.logFiles[name]}`);
    return child;
  }

  /** Synchronous, so the list the cleanup script reads is never older than the processes we started. */
  private writeProcessGroups(): void {
    try {
      writeFileSync(this.paths.processGroups, [...this.running.values()].map((c) => c.pid).join("\n") + "\n");
    } catch (error) {
      // Gone only if a cleanup already ran (then nothing is left to list); stopping must go on.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  private async ctr(args: string[]): Promise<string> {
    const { stdout } = await run("ctr", ["--address", this.paths.containerdSocket, "--namespace", "k8s.io", ...args], {
      env: CHILD_ENV,
      maxBuffer: 16 << 20,
    });
    return stdout;
  }

  private async importImages(archives: readonly ImageArchive[]): Promise<void> {
    for (const image of archives) {
      const started = Date.now();
      await this.ctr(["images", "import", "--snapshotter", "overlayfs", image.archive]);
      this.log(`imported ${image.reference} in ${Date.now() - started}ms`);
    }
    const listed = new Set((await this.ctr(["images", "list", "--quiet"])).split("\n"));
    const missing = archives.filter((a) => !listed.has(a.reference));
    if (missing.length > 0) throw new Error(`containerd does not list imported images: ${missing.map((m) => m.reference).join(", ")}`);
  }

  private async nodeReady(core: k8s.CoreV1Api): Promise<boolean> {
    const node = await core.readNode({ name: this.nodeName });
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    if (ready?.status !== "True") throw new Error(`Node Ready=${ready?.status}: ${ready?.message ?? ""}`);
    return true;
  }

  private async waitHealthy(child: ManagedProcess, url: string): Promise<void> {
    await waitUntil(`${child.name} health at ${url}`, () => isHealthy(url), { timeoutMs: this.timeoutMs, process: child });
  }
}

/**
 * A real, local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kwok (simulated nodes), as processes on 127.0.0.1 with free ports and
 * a private temporary directory. Like controller-runtime's envtest, plus the controllers and
 * nodes that make workloads actually progress.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import type { ControlPlaneBinaries } from "./build.js";
import {
  auditPolicyYaml,
  apiServerArgs,
  controllerManagerArgs,
  etcdArgs,
  kwokArgs,
  schedulerArgs,
} from "./component-args.js";
import { createKwokStorageClass } from "./fake-storage.js";
import { createFakeNodes, DEFAULT_FAKE_NODES, waitForFakeNodesReady, type FakeNodeSpec } from "./fake-nodes.js";
import { isHealthy, type TlsCredentials } from "./health.js";
import { writeAdminKubeconfig } from "./kubeconfig.js";
import { OrphanReaper } from "./orphan-reaper.js";
import { generateControlPlanePki, type ControlPlanePki, type RealNodePkiInput } from "./pki.js";
import { findFreePort, readLogTail, startProcess, waitUntil, type ManagedProcess } from "./processes.js";
import type { ComponentName } from "./versions.js";

export interface StartControlPlaneOptions {
  readonly binaries: ControlPlaneBinaries;
  /** Parent of the temporary directory; defaults to the OS temp dir. */
  readonly baseDir?: string;
  /** Keep the temporary directory (logs, data, certificates) after stop, for debugging. */
  readonly keepDir?: boolean;
  /** Simulated nodes to create; defaults to three nodes in zones zone-a, zone-b, zone-c. */
  readonly fakeNodes?: readonly FakeNodeSpec[];
  /** How long each component may take to become healthy. */
  readonly componentTimeoutMs?: number;
  /** Audit reads (get, list, watch) as well as writes; off by default, tests count writes only. */
  readonly auditReads?: boolean;
  readonly log?: (line: string) => void;
  /**
   * Serve a real node (node/): the API server listens on and advertises the node's address, and
   * issues the certificates a kubelet needs. No simulated nodes and no kwok StorageClass are
   * created unless `fakeNodes` asks for nodes explicitly: Pods belong on the real node.
   */
  readonly realNode?: RealNodePkiInput;
}

/** What the real node's kubelet needs from the control plane. */
export interface RealNodeCredentials {
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly caCert: string;
  /** system:node:<name> client certificate and key. */
  readonly nodeCert: string;
  readonly nodeKey: string;
}

export interface ControlPlane {
  /** Temporary directory holding data, certificates, kubeconfig and logs. */
  readonly dir: string;
  /** Admin kubeconfig (system:masters) with embedded credentials. */
  readonly kubeconfigPath: string;
  /** JSON audit log of every write request (and read, if asked), with user agents, for tests that count writes. */
  readonly auditLogPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly logFiles: Readonly<Record<ComponentName, string>>;
  /** Set when started with `realNode`. */
  readonly realNodeCredentials?: RealNodeCredentials;
  /** A client configuration loaded from kubeconfigPath. */
  kubeConfig(): k8s.KubeConfig;
  /** Stops only the API server; the other components keep running and retry. */
  stopApiServer(): Promise<void>;
  /** Starts the API server again on the same port, with the same data, and waits for /readyz. */
  startApiServer(): Promise<void>;
  restartApiServer(): Promise<void>;
  /** The last lines of a component's log, for failure messages. */
  logTail(name: ComponentName, lines?: number): Promise<string>;
  /** Stops every component (reverse start order) and removes the directory unless kept. */
  stop(): Promise<void>;
}

const DEFAULT_COMPONENT_TIMEOUT_MS = 90_000;
/** Clients first, storage last, whatever order they were (re)started in. */
const STOP_ORDER: readonly ComponentName[] = [
  "kwok",
  "kube-scheduler",
  "kube-controller-manager",
  "kube-apiserver",
  "etcd",
];
/** Child environment: nothing from the caller's environment (KUBECONFIG, proxies) leaks in. */
const CHILD_ENV: NodeJS.ProcessEnv = { PATH: "/usr/local/bin:/usr/bin:/bin" };

export async function startControlPlane(options: StartControlPlaneOptions): Promise<ControlPlane> {
  const dir = await mkdtemp(path.join(options.baseDir ?? os.tmpdir(), "chat-tenant-operator-cp-"));
  const controlPlane = new LocalControlPlane(dir, options);
  try {
    await controlPlane.start();
    return controlPlane;
  } catch (error) {
    // Half-started: stop whatever is running, then report the original failure.
    await controlPlane.stop().catch(() => {});
    const kept = options.keepDir ? ` (kept ${dir} for inspection)` : "";
    throw new Error(`control plane failed to start${kept}: ${(error as Error).message}`, { cause: error });
  }
}

class LocalControlPlane implements ControlPlane {
  readonly kubeconfigPath: string;
  /** JSON audit log of every write request (and read, if asked), with user agents, for tests that count writes. */
  readonly auditLogPath: string;
  readonly logFiles: Readonly<Record<ComponentName, string>>;
  server = "";
  realNodeCredentials?: RealNodeCredentials;
  private readonly log: (line: string) => void;
  private readonly timeoutMs: number;
  /** Running components by name. */
  private readonly running = new Map<ComponentName, ManagedProcess>();
  private pki?: ControlPlanePki;
  private reaper?: OrphanReaper;
  private apiServerArgs: string[] = [];
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly options: StartControlPlaneOptions,
  ) {
    this.kubeconfigPath = path.join(dir, "kubeconfig");
    this.auditLogPath = path.join(dir, "logs", "audit.log");
    this.log = options.log ?? (() => {});
    this.timeoutMs = options.componentTimeoutMs ?? DEFAULT_COMPONENT_TIMEOUT_MS;
    const logDir = path.join(dir, "logs");
    this.logFiles = {
      etcd: path.join(logDir, "etcd.log"),
      "kube-apiserver": path.join(logDir, "kube-apiserver.log"),
      "kube-controller-manager": path.join(logDir, "kube-controller-manager.log"),
      "kube-scheduler": path.join(logDir, "kube-scheduler.log"),
      kwok: path.join(logDir, "kwok.log"),
    };
  }

  kubeConfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  async start(): Promise<void> {
    const started = Date.now();
    const { binaries } = this.options;
    await mkdir(path.join(this.dir, "logs"), { recursive: true });
    this.reaper = new OrphanReaper(path.join(this.dir, "process-groups"), this.options.keepDir ? undefined : this.dir);
    const realNode = this.options.realNode;
    const pki = (this.pki = await generateControlPlanePki(path.join(this.dir, "pki"), realNode));
    if (realNode) {
      this.realNodeCredentials = { ...realNode, caCert: pki.caCert, nodeCert: pki.nodeCert!, nodeKey: pki.nodeKey! };
    }
    const tls: TlsCredentials = { ca: pki.pem.caCert, cert: pki.pem.adminCert, key: pki.pem.adminKey };

    const etcdPorts = { client: await findFreePort(), peer: await findFreePort() };
    const etcd = this.spawn("etcd", binaries.etcd, etcdArgs(path.join(this.dir, "etcd"), etcdPorts));
    await this.waitHealthy(etcd, `http://127.0.0.1:${etcdPorts.client}/health`);

    const apiPort = await findFreePort();
    this.server = `https://${realNode?.nodeIp ?? "127.0.0.1"}:${apiPort}`;
    const auditPolicyFile = path.join(this.dir, "audit-policy.yaml");
    await writeFile(auditPolicyFile, auditPolicyYaml({ reads: this.options.auditReads ?? false }));
    this.apiServerArgs = apiServerArgs({
      etcdClientPort: etcdPorts.client,
      securePort: apiPort,
      certDir: path.join(this.dir, "apiserver-certs"),
      pki,
      audit: { policyFile: auditPolicyFile, logFile: this.auditLogPath },
      ...(realNode
        ? { realNode: { nodeIp: realNode.nodeIp, kubeletClientCert: pki.kubeletClientCert!, kubeletClientKey: pki.kubeletClientKey! } }
        : {}),
    });
    await writeAdminKubeconfig(this.kubeconfigPath, {
      server: this.server,
      caCertPem: pki.pem.caCert,
      clientCertPem: pki.pem.adminCert,
      clientKeyPem: pki.pem.adminKey,
      name: "chat-tenant-operator-local",
    });
    await this.startApiServer();

    const kcmPort = await findFreePort();
    const kcm = this.spawn(
      "kube-controller-manager",
      binaries.kubeControllerManager,
      controllerManagerArgs({ kubeconfig: this.kubeconfigPath, securePort: kcmPort, pki }),
    );
    const schedulerPort = await findFreePort();
    const scheduler = this.spawn(
      "kube-scheduler",
      binaries.kubeScheduler,
      schedulerArgs({ kubeconfig: this.kubeconfigPath, securePort: schedulerPort, pki }),
    );
    const kwokPort = await findFreePort();
    const kwok = this.spawn(
      "kwok",
      binaries.kwok,
      kwokArgs({ kubeconfig: this.kubeconfigPath, stagesFile: binaries.kwokStages, serverPort: kwokPort }),
    );
    // Started together, waited for together: the three are independent of each other.
    await Promise.all([
      this.waitHealthy(kcm, `https://127.0.0.1:${kcmPort}/healthz`, tls),
      this.waitHealthy(scheduler, `https://127.0.0.1:${schedulerPort}/healthz`, tls),
      this.waitHealthy(kwok, `http://127.0.0.1:${kwokPort}/healthz`),
    ]);

    const kc = this.kubeConfig();
    const nodes = this.options.fakeNodes ?? (realNode ? [] : DEFAULT_FAKE_NODES);
    if (nodes.length > 0) {
      await createFakeNodes(kc, nodes);
      await createKwokStorageClass(kc);
      await waitForFakeNodesReady(kc, nodes, this.timeoutMs);
      this.log(`${nodes.length} simulated nodes Ready`);
    }
    await this.waitForDefaultServiceAccount(kc);
    this.log(`control plane ready at ${this.server} in ${Date.now() - started}ms (kubeconfig ${this.kubeconfigPath})`);
  }

  async startApiServer(): Promise<void> {
    if (this.stopped) throw new Error("control plane was stopped");
    if (this.running.has("kube-apiserver")) throw new Error("kube-apiserver is already running");
    if (!this.pki) throw new Error("control plane was not started");
    const apiserver = this.spawn("kube-apiserver", this.options.binaries.kubeApiserver, this.apiServerArgs);
    const tls = { ca: this.pki.pem.caCert, cert: this.pki.pem.adminCert, key: this.pki.pem.adminKey };
    await this.waitHealthy(apiserver, `${this.server}/readyz`, tls);
  }

  async stopApiServer(): Promise<void> {
    await this.stopComponent("kube-apiserver");
  }

  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const failures: string[] = [];
    for (const name of STOP_ORDER) {
      await this.stopComponent(name).catch((error: Error) => failures.push(`${name}: ${error.message}`));
    }
    this.reaper?.stop();
    if (!this.options.keepDir) await rm(this.dir, { recursive: true, force: true });
    else this.log(`kept control plane directory ${this.dir}`);
    if (failures.length > 0) throw new Error(`stopping the control plane failed: ${failures.join("; ")}`);
  }

  async logTail(name: ComponentName, lines = 40): Promise<string> {
    return readLogTail(this.logFiles[name], lines);
  }

  private spawn(name: ComponentName, binary: string, args: string[]): ManagedProcess {
    const child = startProcess({ name, binary, args, logFile: this.logFiles[name], cwd: this.dir, env: CHILD_ENV });
    this.running.set(name, child);
    this.reaper?.track(child.pid);
    this.log(`started ${name} (pid ${child.pid}), log ${this.logFiles[name]}`);
    return child;
  }

  private async stopComponent(name: ComponentName): Promise<void> {
    const child = this.running.get(name);
    if (!child) return;
    // The API server drains requests on SIGTERM; everything else stops at once.
    const exit = await child.stop(name === "kube-apiserver" ? 20_000 : 10_000);
    this.running.delete(name);
    this.reaper?.untrack(child.pid);
    this.log(`stopped ${name} (${exit.signal ?? `exit ${exit.code}`})`);
  }

  private async waitHealthy(child: ManagedProcess, url: string, tls?: TlsCredentials): Promise<void> {
    const started = Date.now();
    await waitUntil(`${child.name} health at ${url}`, () => isHealthy(url, tls), {
      timeoutMs: this.timeoutMs,
      process: child,
    });
    this.log(`${child.name} healthy after ${Date.now() - started}ms`);
  }

  /** Pods are only admitted once their namespace's `default` ServiceAccount exists. */
  private async waitForDefaultServiceAccount(kc: k8s.KubeConfig): Promise<void> {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitUntil(
      "the default ServiceAccount (kube-controller-manager's serviceaccount controller)",
      async () => {
        await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
        return true;
      },
      { timeoutMs: this.timeoutMs, process: this.running.get("kube-controller-manager") },
    );
  }
}

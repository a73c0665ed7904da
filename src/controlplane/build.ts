/**
 * Builds the control plane binaries from Go modules once, and finds them in the cache afterwards.
 *
 * Cache layout under `cacheDir` (outside the repository):
 *   bin/<component>-<version>          the binaries, keyed by component and version
 *   bin/kwok-stages-<kwok version>-<set>.yaml  kwok's node, pod and volume lifecycle Stages
 *   gomod/<wrapper>-<version>/         generated wrapper modules (go.mod, go.sum, tools.go)
 *
 * The wrapper modules are generated rather than committed: their content follows from the
 * pinned versions in versions.ts plus k8s.io/kubernetes's own go.mod, so there is one place to
 * change a version, and go.sum is verified against the Go checksum database on every fresh build.
 */
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import path from "node:path";
import { buildGoGroup, cachedBinaryPath, type GoBuildGroup } from "./go-build.js";
import { findGoTool, type GoTool } from "./go-tool.js";
import { binaryFileName, COMPONENTS, KWOK_VERSION, type ComponentName, type GoComponent } from "./versions.js";

export interface ControlPlaneBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kwok: string;
  /** Multi-document YAML of kwok Stages: node initialize/heartbeat, pod ready/complete/delete, volumes. */
  readonly kwokStages: string;
}

export interface EnsureBinariesOptions {
  /** Root of this project's cache, e.g. `${XDG_CACHE_HOME:-$HOME/.cache}/chat-tenant-operator`. */
  readonly cacheDir: string;
  /** Environment for the go command (HOME, GOPATH, GOPROXY, ...); callers usually pass process.env. */
  readonly goEnv: NodeJS.ProcessEnv;
  /** Explicit path of `go`; defaults to `go` on PATH, then /usr/local/go/bin/go. */
  readonly goBinary?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/**
 * kwok Stage files (paths inside the kwok module): the node and pod Stages kwokctl installs by
 * default, plus the volume Stages that provision and bind PersistentVolumes for PVCs of the
 * `kwok-volume` StorageClass, because StatefulSets with volumeClaimTemplates never start without.
 */
const KWOK_STAGE_FILES = [
  "kustomize/stage/node/fast/node-initialize.yaml",
  "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
  "kustomize/stage/pod/fast/pod-ready.yaml",
  "kustomize/stage/pod/fast/pod-complete.yaml",
  "kustomize/stage/pod/fast/pod-delete.yaml",
  "kustomize/stage/volume/fast/pvc-provision.yaml",
  "kustomize/stage/volume/fast/pv-bind.yaml",
  "kustomize/stage/volume/fast/pvc-delete.yaml",
  "kustomize/stage/volume/fast/pv-delete.yaml",
];
/** Names the Stage set in the cache key, so changing KWOK_STAGE_FILES writes a new file. */
const KWOK_STAGE_SET = "node-pod-volume";

const BUILD_GROUPS: readonly GoBuildGroup[] = [
  { id: "etcd", components: [COMPONENTS.etcd] },
  {
    id: "kubernetes",
    components: [COMPONENTS["kube-apiserver"], COMPONENTS["kube-controller-manager"], COMPONENTS["kube-scheduler"]],
  },
  { id: "kwok", components: [COMPONENTS.kwok] },
];

export function binaryPaths(cacheDir: string): ControlPlaneBinaries {
  const bin = (name: ComponentName): string => path.join(cacheDir, "bin", binaryFileName(COMPONENTS[name]));
  return {
    etcd: bin("etcd"),
    kubeApiserver: bin("kube-apiserver"),
    kubeControllerManager: bin("kube-controller-manager"),
    kubeScheduler: bin("kube-scheduler"),
    kwok: bin("kwok"),
    kwokStages: path.join(cacheDir, "bin", `kwok-stages-v${KWOK_VERSION}-${KWOK_STAGE_SET}.yaml`),
  };
}

/** The cached binaries if every one of them is present, without touching Go. */
export async function findCachedBinaries(cacheDir: string): Promise<ControlPlaneBinaries | undefined> {
  const paths = binaryPaths(cacheDir);
  const present = await Promise.all(Object.values(paths).map((p) => isExecutableOrFile(p)));
  return present.every(Boolean) ? paths : undefined;
}

/**
 * Returns paths of all control plane binaries, building whatever is missing.
 * Idempotent: a warm cache returns after a few stat calls, without needing Go.
 */
export async function ensureControlPlaneBinaries(options: EnsureBinariesOptions): Promise<ControlPlaneBinaries> {
  const log = options.log ?? (() => {});
  const cached = await findCachedBinaries(options.cacheDir);
  if (cached) {
    log(`control plane binaries found in ${path.join(options.cacheDir, "bin")}`);
    return cached;
  }

  const go = await findGoTool(options.goEnv, options.goBinary);
  log(`using ${go.binary} (${go.version}); building missing binaries into ${path.join(options.cacheDir, "bin")}`);
  const paths = binaryPaths(options.cacheDir);
  await mkdir(path.dirname(paths.etcd), { recursive: true });

  for (const group of BUILD_GROUPS) {
    const missing: GoComponent[] = [];
    for (const component of group.components) {
      if (!(await isExecutableOrFile(binaryPath(options.cacheDir, component)))) missing.push(component);
    }
    const needsStages = group.id === "kwok" && !(await isExecutableOrFile(paths.kwokStages));
    if (missing.length === 0 && !needsStages) continue;
    await buildGroup(group, missing, needsStages, go, options, log);
  }

  const built = await findCachedBinaries(options.cacheDir);
  if (!built) throw new Error(`build finished but binaries are missing in ${path.join(options.cacheDir, "bin")}`);
  return built;
}

async function buildGroup(
  group: GoBuildGroup,
  missing: readonly GoComponent[],
  needsStages: boolean,
  go: GoTool,
  options: EnsureBinariesOptions,
  log: (line: string) => void,
): Promise<void> {
  const upstream = await buildGoGroup(group, missing, go, options, log);
  if (needsStages) {
    const stages = await Promise.all(KWOK_STAGE_FILES.map((f) => readFile(path.join(upstream.Dir, f), "utf8")));
    const target = binaryPaths(options.cacheDir).kwokStages;
    await writeFile(`${target}.partial-${process.pid}`, stages.map((s) => s.trim()).join("\n---\n") + "\n");
    await rename(`${target}.partial-${process.pid}`, target);
    log(`[kwok] Stages written to ${target}`);
  }
}

function binaryPath(cacheDir: string, component: GoComponent): string {
  return cachedBinaryPath(cacheDir, component);
}

async function isExecutableOrFile(file: string): Promise<boolean> {
  try {
    await access(file, file.endsWith(".yaml") ? constants.R_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

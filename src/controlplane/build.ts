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
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import path from "node:path";
import { findGoTool, runGo, type GoTool } from "./go-tool.js";
import {
  kubernetesVersionLdflags,
  kubernetesWrapperModule,
  parseKubernetesGoMod,
  plainWrapperModule,
  type WrapperModule,
} from "./go-wrapper-module.js";
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

/** A set of binaries that come from one wrapper module. */
interface BuildGroup {
  readonly id: string;
  readonly components: readonly GoComponent[];
}

const BUILD_GROUPS: readonly BuildGroup[] = [
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
  group: BuildGroup,
  missing: readonly GoComponent[],
  needsStages: boolean,
  go: GoTool,
  options: EnsureBinariesOptions,
  log: (line: string) => void,
): Promise<void> {
  const first = group.components[0]!;
  const wrapperDir = path.join(options.cacheDir, "gomod", `${group.id}-${first.moduleVersion}`);
  await mkdir(wrapperDir, { recursive: true });
  // CGO off like upstream release builds; never fetch a different toolchain behind the user's back.
  const env: NodeJS.ProcessEnv = { ...options.goEnv, CGO_ENABLED: "0", GOTOOLCHAIN: "local" };
  const goLine = (line: string): void => log(`  [${group.id}] ${line}`);
  const run = (args: string[]): Promise<string> => runGo(go.binary, args, { cwd: wrapperDir, env, onLine: goLine });

  log(`[${group.id}] resolving ${first.module}@${first.moduleVersion}`);
  // Outside the wrapper directory, so a half-written go.mod from an interrupted run cannot interfere.
  const upstream = await downloadModule(go, env, path.dirname(wrapperDir), first.module, first.moduleVersion);
  const mainPackages = group.components.map((c) => c.mainPackage);
  let wrapper: WrapperModule;
  let ldflags = "-s -w";
  if (group.id === "kubernetes") {
    const facts = parseKubernetesGoMod(await readFile(upstream.GoMod, "utf8"));
    wrapper = kubernetesWrapperModule(first.moduleVersion, facts, mainPackages);
    // The release's own publication time keeps rebuilds byte-for-byte comparable.
    const releaseTime = JSON.parse(await readFile(upstream.Info, "utf8")) as { Time: string };
    ldflags += " " + kubernetesVersionLdflags(first.moduleVersion, releaseTime.Time.replace(/\.\d+Z$/, "Z"));
  } else {
    const upstreamGo = /^go\s+(\S+)\s*$/m.exec(await readFile(upstream.GoMod, "utf8"))?.[1] ?? "1.26.0";
    wrapper = plainWrapperModule(first.module, first.moduleVersion, upstreamGo, mainPackages);
  }
  await writeFile(path.join(wrapperDir, "go.mod"), wrapper.goMod);
  await writeFile(path.join(wrapperDir, "tools.go"), wrapper.toolsGo);

  log(`[${group.id}] go mod tidy (downloads dependencies on the first run)`);
  await run(["mod", "tidy"]);

  for (const component of missing) {
    const target = binaryPath(options.cacheDir, component);
    const partial = `${target}.partial-${process.pid}`;
    log(`[${component.name}] go build ${component.mainPackage} (${component.version}); this takes minutes on a cold cache`);
    const started = Date.now();
    const heartbeat = setInterval(
      () => log(`[${component.name}] still compiling (${Math.round((Date.now() - started) / 1000)}s)`),
      30_000,
    );
    try {
      await run(["build", "-trimpath", "-ldflags", ldflags, "-o", partial, component.mainPackage]);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
    // Rename last, so a cached binary is always a complete one even if a build is interrupted.
    await rename(partial, target);
    log(`[${component.name}] built in ${Math.round((Date.now() - started) / 1000)}s -> ${target}`);
  }

  if (needsStages) {
    const stages = await Promise.all(KWOK_STAGE_FILES.map((f) => readFile(path.join(upstream.Dir, f), "utf8")));
    const target = binaryPaths(options.cacheDir).kwokStages;
    await writeFile(`${target}.partial-${process.pid}`, stages.map((s) => s.trim()).join("\n---\n") + "\n");
    await rename(`${target}.partial-${process.pid}`, target);
    log(`[kwok] Stages written to ${target}`);
  }
}

interface DownloadedModule {
  readonly GoMod: string;
  readonly Info: string;
  readonly Dir: string;
}

async function downloadModule(
  go: GoTool,
  env: NodeJS.ProcessEnv,
  cwd: string,
  module: string,
  version: string,
): Promise<DownloadedModule> {
  const json = await runGo(go.binary, ["mod", "download", "-json", `${module}@${version}`], { cwd, env });
  const parsed = JSON.parse(json) as Partial<DownloadedModule> & { Error?: string };
  if (parsed.Error || !parsed.GoMod || !parsed.Info || !parsed.Dir) {
    throw new Error(`go mod download ${module}@${version} failed: ${parsed.Error ?? json}`);
  }
  return parsed as DownloadedModule;
}

function binaryPath(cacheDir: string, component: GoComponent): string {
  return path.join(cacheDir, "bin", binaryFileName(component));
}

async function isExecutableOrFile(file: string): Promise<boolean> {
  try {
    await access(file, file.endsWith(".yaml") ? constants.R_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

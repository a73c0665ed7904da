/**
 * Builds a group of binaries that come from one upstream Go module, through a generated wrapper
 * module (see go-wrapper-module.ts), into a binary cache. Shared by the control plane and the
 * real node, which build different binaries the same way.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { runGo, type GoTool } from "./go-tool.js";
import {
  kubernetesVersionLdflags,
  kubernetesWrapperModule,
  parseKubernetesGoMod,
  plainWrapperModule,
  type WrapperModule,
} from "./go-wrapper-module.js";
import { binaryFileName, type GoComponent } from "./versions.js";

/** Binaries built from one wrapper module; `id` names the wrapper directory in the cache. */
export interface GoBuildGroup {
  readonly id: string;
  /** All from the same module and version. */
  readonly components: readonly GoComponent[];
}

export interface GoBuildOptions {
  /** Root of this project's cache: binaries go to bin/, wrappers to gomod/<id>-<version>/. */
  readonly cacheDir: string;
  /** Environment for the go command (HOME, GOPATH, GOPROXY, ...). */
  readonly goEnv: NodeJS.ProcessEnv;
}

export interface DownloadedModule {
  readonly GoMod: string;
  readonly Info: string;
  readonly Dir: string;
}

export function cachedBinaryPath(cacheDir: string, component: GoComponent): string {
  return path.join(cacheDir, "bin", binaryFileName(component));
}

/**
 * Builds `missing` (a subset of the group's components) and returns the downloaded upstream
 * module, so a caller can copy other files out of it (kwok's Stages).
 */
export async function buildGoGroup(
  group: GoBuildGroup,
  missing: readonly GoComponent[],
  go: GoTool,
  options: GoBuildOptions,
  log: (line: string) => void,
): Promise<DownloadedModule> {
  const first = group.components[0]!;
  const wrapperDir = path.join(options.cacheDir, "gomod", `${group.id}-${first.moduleVersion}`);
  await mkdir(wrapperDir, { recursive: true });
  await mkdir(path.join(options.cacheDir, "bin"), { recursive: true });
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
  if (first.module === "k8s.io/kubernetes") {
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
    const target = cachedBinaryPath(options.cacheDir, component);
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
  return upstream;
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

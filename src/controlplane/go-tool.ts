/**
 * Finding and running the ordinary `go` command.
 *
 * The control plane binaries are built from Go modules with the user's own Go
 * toolchain, so this is the only place that knows how to call it.
 */
import { spawn } from "node:child_process";

/** Oldest Go that builds every pinned module (kwok 0.8 and etcd 3.6.16 declare `go 1.26.0`). */
export const MINIMUM_GO_VERSION = "1.26.0";

/** Where Go's official tarball installs; tried after PATH because many images do not add it. */
const WELL_KNOWN_GO_BINARIES = ["go", "/usr/local/go/bin/go"];

export class GoToolchainMissingError extends Error {
  constructor(detail: string) {
    super(
      `The Go toolchain is needed to build the local Kubernetes control plane ` +
        `(etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok), but ${detail}.\n` +
        `Install Go ${MINIMUM_GO_VERSION} or newer (https://go.dev/doc/install; the official tarball ` +
        `unpacks to /usr/local/go), then put its bin directory on PATH or point GO_BINARY at the \`go\` ` +
        `executable. The binaries are built once and cached; later runs do not need Go.`,
    );
    this.name = "GoToolchainMissingError";
  }
}

export interface GoTool {
  /** Path or command name of the `go` executable that answered. */
  readonly binary: string;
  /** Version reported by `go env GOVERSION`, e.g. "go1.26.8". */
  readonly version: string;
}

export interface RunGoOptions {
  readonly cwd: string;
  /** Full environment of the go command (the caller decides what it inherits). */
  readonly env: NodeJS.ProcessEnv;
  /** Receives every output line, for progress reporting. */
  readonly onLine?: (line: string) => void;
}

/**
 * Locates a usable `go`: the explicit one if given, else `go` on PATH, else /usr/local/go/bin/go.
 * Throws GoToolchainMissingError with install instructions when none works or it is too old.
 */
export async function findGoTool(env: NodeJS.ProcessEnv, explicitBinary?: string): Promise<GoTool> {
  const candidates = explicitBinary ? [explicitBinary] : WELL_KNOWN_GO_BINARIES;
  const tried: string[] = [];
  for (const binary of candidates) {
    try {
      const output = await runGo(binary, ["env", "GOVERSION"], { cwd: "/", env });
      const version = output.trim();
      if (!isAtLeast(version, MINIMUM_GO_VERSION)) {
        throw new GoToolchainMissingError(`\`${binary}\` is ${version}, older than go${MINIMUM_GO_VERSION}`);
      }
      return { binary, version };
    } catch (error) {
      if (error instanceof GoToolchainMissingError) throw error;
      tried.push(`${binary} (${(error as Error).message.split("\n")[0]})`);
    }
  }
  throw new GoToolchainMissingError(`no working \`go\` was found (tried: ${tried.join("; ")})`);
}

/** Runs go with arguments, streaming lines to onLine; resolves with stdout, rejects with the output tail. */
export function runGo(binary: string, args: readonly string[], options: RunGoOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    const tail: string[] = [];
    const collect = (chunk: Buffer, isStdout: boolean): void => {
      const text = chunk.toString("utf8");
      if (isStdout) stdout += text;
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        options.onLine?.(line);
      }
    };
    child.stdout.on("data", (chunk: Buffer) => collect(chunk, true));
    child.stderr.on("data", (chunk: Buffer) => collect(chunk, false));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `\`${binary} ${args.join(" ")}\` in ${options.cwd} failed (${signal ?? `exit ${code}`}):\n${tail.join("\n")}`,
          ),
        );
    });
  });
}

/** Compares "go1.26.8" (or "go1.26rc1") against "1.26.0" numerically. */
export function isAtLeast(goVersion: string, minimum: string): boolean {
  const parse = (v: string): number[] =>
    (v.replace(/^go/, "").match(/^\d+(\.\d+)*/)?.[0] ?? "0").split(".").map(Number);
  const have = parse(goVersion);
  const want = parse(minimum);
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

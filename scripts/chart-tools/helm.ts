// Builds helm from its Go module at a pinned v3 release into the cache, once. Built rather than
// downloaded so the only network the project needs is the Go module proxy, whose checksum database
// verifies what it serves.
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { run, runChecked, toolCacheDir } from './cache.js';

export const HELM_VERSION = 'v3.22.0';
/**
 * helm's Makefile derives these from the k8s.io/client-go it requires (v0.37.0 for v3.22.0), and they
 * become .Capabilities.KubeVersion for `helm template` and the deprecation checks of `helm lint`.
 * Without them helm would pretend to target Kubernetes 1.20.
 */
const HELM_KUBE_MAJOR = '1';
const HELM_KUBE_MINOR = '37';
const MINIMUM_GO = [1, 26] as const;
const GO_CANDIDATES = ['go', '/usr/local/go/bin/go'];

export class GoMissingError extends Error {
  constructor(detail: string) {
    super(
      `The chart tests build helm ${HELM_VERSION} and read the Prometheus Operator CRDs from Go modules, but ${detail}.\n` +
        `Install Go ${MINIMUM_GO.join('.')} or newer (https://go.dev/doc/install; the tarball unpacks to /usr/local/go) ` +
        `and put it on PATH, or set GO_BINARY, or set HELM_BINARY to an existing helm ${HELM_VERSION.slice(0, 2)} binary.`,
    );
    this.name = 'GoMissingError';
  }
}

export function helmPath(env: NodeJS.ProcessEnv): string {
  return path.join(toolCacheDir(env), 'bin', `helm-${HELM_VERSION}`);
}

async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

export async function findGo(env: NodeJS.ProcessEnv): Promise<string> {
  const candidates = env['GO_BINARY'] ? [env['GO_BINARY']] : GO_CANDIDATES;
  const tried: string[] = [];
  for (const go of candidates) {
    const result = await run(go, ['env', 'GOVERSION'], { env }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    if (result.code !== 0) {
      tried.push(`${go}: ${result.stderr.split('\n')[0]}`);
      continue;
    }
    const [major = 0, minor = 0] = result.stdout.trim().replace(/^go/, '').split('.').map((n) => parseInt(n, 10));
    if (major < MINIMUM_GO[0] || (major === MINIMUM_GO[0] && minor < MINIMUM_GO[1])) throw new GoMissingError(`${go} is ${result.stdout.trim()}`);
    return go;
  }
  throw new GoMissingError(`no working \`go\` was found (tried ${tried.join('; ')})`);
}

/** Path of a helm binary: HELM_BINARY if set, else the cached build, built now when missing. */
export async function ensureHelm(env: NodeJS.ProcessEnv, log: (line: string) => void = () => {}): Promise<string> {
  if (env['HELM_BINARY']) return env['HELM_BINARY'];
  const target = helmPath(env);
  if (await isExecutable(target)) return target;
  const go = await findGo(env);
  log(`building helm ${HELM_VERSION} with ${go} into ${target} (once; a few minutes)`);
  await mkdir(path.dirname(target), { recursive: true });
  // Build into a scratch directory next to the target and rename: a half-written binary is never cached.
  const scratch = await mkdtemp(path.join(path.dirname(target), '.helm-build-'));
  try {
    const ldflags = [
      '-s -w',
      `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
      '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
      `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${HELM_KUBE_MAJOR}`,
      `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${HELM_KUBE_MINOR}`,
      `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${HELM_KUBE_MAJOR}`,
      `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${HELM_KUBE_MINOR}`,
    ].join(' ');
    await runChecked(go, ['install', '-trimpath', `-ldflags=${ldflags}`, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
      cwd: scratch,
      env: { ...env, GOBIN: scratch, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
    });
    await rename(path.join(scratch, 'helm'), target);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const version = (await runChecked(target, ['version', '--short'])).trim();
  log(`helm ready: ${version}`);
  return target;
}

// promtool (for `promtool check rules` and `promtool test rules`) from Debian's `prometheus` package.
// Installing that package would also install and start a Prometheus server (its postinst runs
// invoke-rc.d), so the package is fetched with `apt-get download` and only promtool is extracted into
// the cache, keyed by the package version. A promtool already on PATH (or PROMTOOL_BINARY) wins.
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { run, runChecked, toolCacheDir } from './cache.js';

const PACKAGE = 'prometheus';

export class PromtoolUnavailableError extends Error {
  constructor(detail: string) {
    super(
      `promtool is needed for the alert rule tests, but ${detail}.\n` +
        `On Debian/Ubuntu run this script as root (it uses apt-get download; no Prometheus server is installed), ` +
        `or install promtool yourself and put it on PATH, or set PROMTOOL_BINARY.`,
    );
    this.name = 'PromtoolUnavailableError';
  }
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    const ok = await access(file, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return file;
  }
  return undefined;
}

async function candidateVersion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const policy = await run('apt-cache', ['policy', PACKAGE], { env }).catch(() => undefined);
  const version = policy?.stdout.match(/Candidate:\s*(\S+)/)?.[1];
  return version && version !== '(none)' ? version : undefined;
}

/** Path of a promtool: PROMTOOL_BINARY, else one on PATH, else the cached copy from the Debian package. */
export async function ensurePromtool(env: NodeJS.ProcessEnv, log: (line: string) => void = () => {}): Promise<string> {
  if (env['PROMTOOL_BINARY']) return env['PROMTOOL_BINARY'];
  const found = await onPath('promtool', env);
  if (found) return found;
  if (!(await onPath('apt-get', env))) throw new PromtoolUnavailableError('it is not on PATH and apt-get is not available');
  let version = await candidateVersion(env);
  if (!version) {
    // Fresh machines (and slim images) ship without package lists.
    if (process.getuid?.() !== 0) throw new PromtoolUnavailableError('the apt package lists are empty and only root can run apt-get update');
    log('apt-get update (package lists are empty)');
    await runChecked('apt-get', ['update'], { env });
    version = await candidateVersion(env);
    if (!version) throw new PromtoolUnavailableError(`apt knows no package named ${PACKAGE}`);
  }
  const target = path.join(toolCacheDir(env), 'bin', `promtool-debian-${version.replace(/[^A-Za-z0-9.+-]/g, '_')}`);
  const cached = await access(target, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (cached) return target;
  await mkdir(path.dirname(target), { recursive: true });
  const scratch = await mkdtemp(path.join(path.dirname(target), '.promtool-'));
  try {
    log(`fetching Debian ${PACKAGE} ${version} and extracting promtool into ${target}`);
    await runChecked('apt-get', ['download', `${PACKAGE}=${version}`], { cwd: scratch, env });
    const deb = (await readdir(scratch)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new PromtoolUnavailableError('apt-get download produced no .deb');
    await runChecked('dpkg-deb', ['-x', path.join(scratch, deb), path.join(scratch, 'root')], { env });
    await rename(path.join(scratch, 'root', 'usr', 'bin', 'promtool'), target);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  log(`promtool ready: ${(await runChecked(target, ['--version'])).split('\n')[0]}`);
  return target;
}

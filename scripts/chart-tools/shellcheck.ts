// shellcheck for the e2e script's lint test: on PATH, else installed from Debian (`apt-get install
// shellcheck`: a plain command-line tool, no service). Needs root when it has to be installed.
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { run, runChecked } from './cache.js';

export class ShellcheckUnavailableError extends Error {
  constructor(detail: string) {
    super(`shellcheck is needed to lint test/e2e/kind.sh, but ${detail}. Install it (Debian/Ubuntu: apt-get install shellcheck) or set SHELLCHECK_BINARY.`);
    this.name = 'ShellcheckUnavailableError';
  }
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file;
  }
  return undefined;
}

export async function ensureShellcheck(env: NodeJS.ProcessEnv, log: (line: string) => void = () => {}): Promise<string> {
  if (env['SHELLCHECK_BINARY']) return env['SHELLCHECK_BINARY'];
  const found = await onPath('shellcheck', env);
  if (found) return found;
  if (!(await onPath('apt-get', env))) throw new ShellcheckUnavailableError('it is not on PATH and apt-get is not available');
  if (process.getuid?.() !== 0) throw new ShellcheckUnavailableError('it is not on PATH and only root can install it');
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'shellcheck'], { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
  log('apt-get install shellcheck');
  let result = await install();
  if (result.code !== 0) {
    // Fresh machines have no package lists yet.
    await runChecked('apt-get', ['update'], { env });
    result = await install();
    if (result.code !== 0) throw new ShellcheckUnavailableError(`apt-get install failed: ${result.stderr.split('\n').slice(-3).join(' ')}`);
  }
  const installed = await onPath('shellcheck', env);
  if (!installed) throw new ShellcheckUnavailableError('apt-get installed it, but it is still not on PATH');
  return installed;
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { ensureDebianPackages } from '../../test/workload/support/debian.js';
import { DEBIAN_EJABBERDCTL, RUN_AS, asEjabberd, uidGid, type CtlResult } from '../../test/workload/support/ejabberd-node.js';
import { freePort } from '../../test/workload/support/ports.js';

// The baseline of bench/messaging: Debian's ejabberd with the configuration its package installs
// (/etc/ejabberd/ejabberd.yml), changed only where a second server on this machine must differ:
// the served domain, a certificate the bench client can verify, loopback addresses and free ports,
// and its own spool and logs. Everything else (Mnesia storage, no message archive, the packaged
// shaper, modules and TLS options) is the package's.

export const PACKAGED_CONFIG = '/etc/ejabberd/ejabberd.yml';

export interface PackagedEjabberd {
  address: string;
  nodeName: string;
  c2sPort: number;
  ctl(...args: string[]): CtlResult;
  log(): string;
  stop(): Promise<void>;
}

type Listener = { port?: number; ip?: string; [key: string]: unknown };

export async function startPackagedEjabberd(options: { address: string; domain: string; certAndKeyPem: string }): Promise<PackagedEjabberd> {
  ensureDebianPackages(['ejabberd']);
  const dir = mkdtempSync(join(tmpdir(), 'cto-bench-packaged-'));
  const confDir = join(dir, 'conf');
  const spool = join(dir, 'spool');
  const logs = join(dir, 'logs');
  for (const d of [confDir, spool, logs]) mkdirSync(d, { recursive: true });

  const config = yaml.load(readFileSync(PACKAGED_CONFIG, 'utf8')) as Record<string, unknown>;
  const certFile = join(confDir, 'server.pem');
  writeFileSync(certFile, options.certAndKeyPem, { mode: 0o600 });
  config['hosts'] = [options.domain];
  config['certfiles'] = [certFile];
  let c2sPort = 0;
  // freePort may hand out a port twice in a row (it closes its probe at once): keep them distinct.
  const taken = new Set<number>();
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) return taken.add(port), port;
    }
  };
  for (const listener of (config['listen'] ?? []) as Listener[]) {
    const port = await distinctPort();
    if (listener.port === 5222) c2sPort = port;
    listener.port = port;
    listener.ip = options.address;
  }
  if (!c2sPort) throw new Error(`${PACKAGED_CONFIG} has no c2s listener on 5222`);
  writeFileSync(join(confDir, 'ejabberd.yml'), yaml.dump(config, { lineWidth: -1 }));
  // Process plumbing only (no epmd, distribution on one loopback port), as for the generated nodes.
  writeFileSync(join(confDir, 'ejabberdctl.cfg'), `ERL_DIST_PORT=${await distinctPort()}\nINET_DIST_INTERFACE=${options.address}\n`);
  writeFileSync(join(confDir, 'inetrc'), '{lookup, [file, native]}.\n');
  if (process.getuid?.() === 0) {
    const { uid, gid } = uidGid(RUN_AS);
    spawnSync('chown', ['-R', `${uid}:${gid}`, dir]);
  }

  const nodeName = `ejabberd@${options.address}`;
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: spool, LANG: 'C.UTF-8' };
  const ctlArgs = ['--config-dir', confDir, '--config', join(confDir, 'ejabberd.yml'), '--ctl-config', join(confDir, 'ejabberdctl.cfg'), '--logs', logs, '--spool', spool, '--node', nodeName];
  const ctl = (...args: string[]): CtlResult => {
    const c = asEjabberd(DEBIAN_EJABBERDCTL, [...ctlArgs, ...args]);
    const r = spawnSync(c.cmd, c.args, { encoding: 'utf8', env, timeout: 120_000 });
    return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  };
  const logFile = join(dir, 'node.log');
  const out = openSync(logFile, 'a');
  const c = asEjabberd(DEBIAN_EJABBERDCTL, [...ctlArgs, 'foreground']);
  const child: ChildProcess = spawn(c.cmd, c.args, { env, stdio: ['ignore', out, out], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => readFileSync(logFile, 'utf8');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  // `status` answers 0 once the ejabberd application has started.
  while (ctl('status').code !== 0) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const tail = log().slice(-4000);
      await stop();
      throw new Error(`packaged ejabberd did not start:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { address: options.address, nodeName, c2sPort, ctl, log, stop };
}

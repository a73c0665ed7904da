import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatTenant } from '../../../src/api/index.js';
import { adminJids, adminSecretKey, type KeyPairPem } from '../../../src/render/index.js';
import { renderEjabberdConfigFiles } from '../../../src/render/ejabberd/config-files.js';
import { CONFIG_FILES, readyFile, type EjabberdRuntime } from '../../../src/render/ejabberd/runtime.js';
import { WORKLOAD_PACKAGES, ensureDebianPackages } from './debian.js';
import { freePort } from './ports.js';

// A real ejabberd node (Debian's 23.01) run the way a pod runs one: the configuration directory
// the operator renders (ejabberd.yml, ejabberdctl.cfg, the node script, the Erlang modules) with only
// paths, loopback addresses and ports adapted through EjabberdRuntime, started by the rendered node
// script ("start"), as a non-root user, with its own spool, logs and HOME in a temp dir. Several nodes
// can run side by side: each binds its own loopback address, all share one distribution port number
// (ERL_DIST_PORT, no epmd), exactly as pods do. Nodes are named as pods are (ejabberd@<pod>.<headless
// service>.<ns>.svc.<domain>), because TLS distribution checks that name against the certificate:
// a hosts file of the stack, bind-mounted over /etc/hosts in a mount namespace of the node's own
// processes only, resolves those names to loopback addresses for getent and Erlang alike.

export const DEBIAN_EJABBERDCTL = '/usr/sbin/ejabberdctl';
export const RUN_AS = 'ejabberd';

export interface EjabberdNodeOptions {
  tenant: ChatTenant;
  /** A loopback address of its own, e.g. 127.0.0.2. */
  address: string;
  /** The host part of the node name (a pod's name under the headless Service). */
  hostName: string;
  /** Replaces /etc/hosts for the node's processes (resolves every node's host name). */
  hostsFile?: string;
  /** Port number of Erlang distribution, the same for every node of a cluster. */
  distributionPort: number;
  /** Candidate peers, in the order the node script tries them. */
  peers?: string[];
  cookie: string;
  /** The tenant CA and the messaging certificate (names of the XMPP domains). */
  tls: { ca: string; server: KeyPairPem };
  /** Identity and trust on TLS distribution when they differ from tls (a node of another tenant). */
  distributionTls?: { ca: string; identity: KeyPairPem };
  database: { host: string; port: number; database: string; user: string; password: string; caPem: string };
  adminPasswords: Record<string, string>;
  /** With a directory tenant: the directory's CA and the bind account (a pod's directory CA Secret and bind password). */
  directory?: { caPem: string; bindDN: string; bindPassword: string };
  /**
   * Changes ejabberd.yml after rendering. Only for showing what a configuration the renderer never
   * writes would do (e.g. why admission refuses StartTLS); every other test runs the rendered file.
   */
  editEjabberdYml?: (rendered: string) => string;
  /** Wait until the node marks itself ready (default); false returns as soon as it runs. */
  waitReady?: boolean;
}

export interface CtlResult {
  code: number;
  output: string;
}

export interface EjabberdNode {
  nodeName: string;
  address: string;
  domain: string;
  ports: EjabberdRuntime['ports'];
  runtime: EjabberdRuntime;
  dir: string;
  /** The configuration directory as rendered (the config Secret of a pod). */
  configDir: string;
  /** Everything the node script and ejabberd printed (a pod's container log). */
  log(): string;
  /** ejabberdctl against this node, as the node script runs it. */
  ctl(...args: string[]): CtlResult;
  /** Runs the rendered node script with a command (leave, purge-archive DAYS), as a pod or job would. */
  nodeScript(...args: string[]): CtlResult;
  /** The node script with this text on its stdin (as `kubectl exec -i` gives it), e.g. a password. */
  nodeScriptWithInput(input: string, ...args: string[]): CtlResult;
  /** Starts the node script (again) and waits until the node marks itself ready. */
  start(waitReady?: boolean): Promise<void>;
  /** Whether the node script still runs. */
  running(): boolean;
  /** SIGTERM, as the kubelet sends it; resolves with the script's exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL of the whole process group: a node that dies without leaving. */
  kill(): Promise<void>;
  /** Removes the Mnesia directory, as a pod recreated with a fresh emptyDir has none. */
  wipeSpool(): void;
  dispose(): Promise<void>;
}

export function uidGid(user: string): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

/**
 * Debian's ejabberdctl only runs as root (it then switches users with su, resetting HOME) or as the
 * ejabberd user itself. The pods run as a non-root user directly, so the tests do too: setpriv
 * switches to the ejabberd user and execs, keeping the environment and the process id.
 */
export function asEjabberd(command: string, args: string[], hostsFile?: string): { cmd: string; args: string[] } {
  const me = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
  if (process.getuid?.() !== 0 && (me !== RUN_AS || hostsFile)) {
    throw new Error(`the ejabberd workload tests run as root (or as the ${RUN_AS} user without a hosts file; Debian's ejabberdctl allows nothing else), not as ${me}`);
  }
  const switched = me === RUN_AS ? [command, ...args] : ['setpriv', '--reuid', RUN_AS, '--regid', RUN_AS, '--init-groups', '--', command, ...args];
  if (!hostsFile) return { cmd: switched[0]!, args: switched.slice(1) };
  // A private mount namespace (unshare's default propagation is private): the machine's /etc/hosts is untouched.
  return { cmd: 'unshare', args: ['--mount', '--', '/bin/sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, ...switched] };
}

function write(path: string, content: string, mode = 0o640): void {
  writeFileSync(path, content, { mode });
}

export async function startEjabberdNode(options: EjabberdNodeOptions): Promise<EjabberdNode> {
  ensureDebianPackages(WORKLOAD_PACKAGES.ejabberd);
  const { tenant } = options;
  const dir = mkdtempSync(join(tmpdir(), 'cto-ejabberd-'));
  const paths = {
    ejabberdctl: DEBIAN_EJABBERDCTL,
    configDir: join(dir, 'conf'),
    spoolDir: join(dir, 'spool'),
    logsDir: join(dir, 'logs'),
    home: join(dir, 'home'),
    cookieFile: join(dir, 'secrets', 'cookie', 'cookie'),
    adminSecretDir: join(dir, 'secrets', 'admins'),
  };
  for (const d of [paths.configDir, paths.spoolDir, paths.logsDir, paths.home, join(dir, 'secrets', 'cookie'), paths.adminSecretDir, join(dir, 'tls'), join(dir, 'purge-home')]) mkdirSync(d, { recursive: true });
  const runtime: EjabberdRuntime = {
    flavour: 'debian-23.01',
    bindAddress: options.address,
    ports: { c2sStartTls: await freePort(), c2sDirectTls: await freePort(), https: await freePort(), s2s: await freePort() },
    tls: { certFile: join(dir, 'tls', 'tls.crt'), keyFile: join(dir, 'tls', 'tls.key'), caFile: join(dir, 'tls', 'server-ca.crt') },
    sql: { server: options.database.host, port: options.database.port, database: options.database.database, username: options.database.user, password: options.database.password, caFile: join(dir, 'tls', 'database-ca.crt') },
    distribution: {
      port: options.distributionPort,
      interface: options.address,
      tls: { certFile: join(dir, 'tls', 'dist.crt'), keyFile: join(dir, 'tls', 'dist.key'), caFile: join(dir, 'tls', 'ca.crt') },
    },
    clusterPeers: options.peers ?? [],
    paths,
    ...(options.directory ? { directory: { caFile: join(dir, 'tls', 'directory-ca.crt'), bindDN: options.directory.bindDN, bindPassword: options.directory.bindPassword } } : {}),
  };
  if (options.directory) write(runtime.directory!.caFile, options.directory.caPem);
  // What the pod gets from its Secrets: TLS, the database CA, the cookie, one file per admin.
  write(runtime.tls.certFile, options.tls.server.certPem);
  write(runtime.tls.keyFile, options.tls.server.keyPem, 0o600);
  write(runtime.tls.caFile, options.tls.ca);
  write(runtime.sql.caFile, options.database.caPem);
  // In a pod both come from the messaging certificate's Secret; apart here so a test can make a stranger.
  const dist = options.distributionTls ?? { ca: options.tls.ca, identity: options.tls.server };
  write(runtime.distribution.tls.certFile, dist.identity.certPem);
  write(runtime.distribution.tls.keyFile, dist.identity.keyPem, 0o600);
  write(runtime.distribution.tls.caFile, dist.ca);
  write(paths.cookieFile, options.cookie, 0o440);
  for (const jid of adminJids(tenant)) {
    const password = options.adminPasswords[jid];
    if (password === undefined) throw new Error(`no password for admin ${jid}`);
    write(join(paths.adminSecretDir, adminSecretKey(jid)), password, 0o440);
  }
  for (const [name, content] of Object.entries(renderEjabberdConfigFiles(tenant, runtime))) {
    const edited = name === CONFIG_FILES.ejabberd && options.editEjabberdYml ? options.editEjabberdYml(content) : content;
    write(join(paths.configDir, name), edited, 0o440);
  }
  const nodeName = `ejabberd@${options.hostName}`;
  if (process.getuid?.() === 0) {
    const { uid, gid } = uidGid(RUN_AS);
    spawnSync('chown', ['-R', `${uid}:${gid}`, dir]);
  }
  chmodSync(dir, 0o750);

  const logFile = join(dir, 'node.log');
  writeFileSync(logFile, '');
  if (process.getuid?.() === 0) spawnSync('chown', [RUN_AS, logFile]);
  const env = (home: string) => ({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, ERLANG_NODE_ARG: nodeName, LANG: 'C.UTF-8' });
  const script = join(paths.configDir, CONFIG_FILES.nodeScript);
  let child: ChildProcess | undefined;
  let exit: Promise<number | null> = Promise.resolve(null);

  const run = (command: string, args: string[], home = paths.home, input?: string): CtlResult => {
    const c = asEjabberd(command, args, options.hostsFile);
    const r = spawnSync(c.cmd, c.args, { encoding: 'utf8', env: env(home), cwd: dir, timeout: 120_000, ...(input === undefined ? {} : { input }) });
    return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  };

  const node: EjabberdNode = {
    nodeName,
    address: options.address,
    domain: tenant.spec.xmppDomains[0]!,
    ports: runtime.ports,
    runtime,
    dir,
    configDir: paths.configDir,
    log: () => readFileSync(logFile, 'utf8'),
    ctl: (...args) =>
      run(DEBIAN_EJABBERDCTL, ['--config-dir', paths.configDir, '--config', '/dev/null', '--ctl-config', join(paths.configDir, CONFIG_FILES.ejabberdctl), '--logs', paths.home, '--spool', paths.home, '--node', nodeName, ...args]),
    // A job pod has a HOME of its own; the purge gets one too.
    nodeScript: (...args) => run('/bin/sh', [script, ...args], args[0] === 'purge-archive' ? join(dir, 'purge-home') : paths.home),
    nodeScriptWithInput: (input, ...args) => run('/bin/sh', [script, ...args], paths.home, input),
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    async start(waitReady = true) {
      // Not ready until this run says so (a killed run leaves its marker behind, as in a pod).
      rmSync(readyFile(paths), { force: true });
      const c = asEjabberd('/bin/sh', [script, 'start'], options.hostsFile);
      const out = openSync(logFile, 'a');
      child = spawn(c.cmd, c.args, { env: env(paths.home), cwd: dir, stdio: ['ignore', out, out], detached: true });
      exit = new Promise((resolve) => child!.once('exit', (code) => resolve(code)));
      if (!waitReady) return;
      const deadline = Date.now() + 180_000;
      while (!existsSync(readyFile(paths))) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`ejabberd node ${nodeName} exited before it was ready:\n${node.log().slice(-6000)}`);
        if (Date.now() > deadline) throw new Error(`ejabberd node ${nodeName} not ready in 180 s:\n${node.log().slice(-6000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
      child.kill('SIGTERM');
      const timer = setTimeout(() => void node.kill(), 60_000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await exit;
    },
    wipeSpool() {
      rmSync(paths.spoolDir, { recursive: true, force: true });
      mkdirSync(paths.spoolDir);
      if (process.getuid?.() === 0) spawnSync('chown', [RUN_AS, paths.spoolDir]);
    },
    async dispose() {
      await node.stop();
      await node.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await node.start(options.waitReady ?? true);
  } catch (error) {
    await node.kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return node;
}

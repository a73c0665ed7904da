import type { DirectoryRuntime } from './directory.js';

// Where and how one ejabberd node runs. Everything the renderers need to know about the place a node
// lives in (paths, ports, addresses, the flavour of ejabberd) is here, so the same renderers serve the
// cluster (the official image in a pod) and the workload tests (Debian's ejabberd on loopback ports).

/**
 * official-image: ghcr.io/processone/ejabberd (25.x), what tenants run.
 * debian-23.01: Debian bookworm's ejabberd package, what the workload tests run for real.
 */
export type EjabberdFlavour = 'official-image' | 'debian-23.01';

export interface EjabberdPaths {
  /** The ejabberdctl program: on PATH in the official image, /usr/sbin/ejabberdctl in Debian. */
  ejabberdctl: string;
  /** Holds ejabberd.yml, ejabberdctl.cfg, inetrc, the node script and the Erlang modules (the config Secret). */
  configDir: string;
  /** Mnesia directory: cluster membership and volatile tables only; user data lives in PostgreSQL. */
  spoolDir: string;
  logsDir: string;
  /** Writable HOME of the node: the Erlang cookie is copied here, and the readiness marker lives here. */
  home: string;
  /** The tenant's Erlang cookie, as mounted from its Secret. */
  cookieFile: string;
  /** Directory with one file per admin account (the Secret xmpp-admin-credentials). */
  adminSecretDir: string;
}

export interface EjabberdRuntime {
  flavour: EjabberdFlavour;
  /** Address the listeners bind to: "::" in pods, a loopback address in tests. */
  bindAddress: string;
  ports: { c2sStartTls: number; c2sDirectTls: number; https: number; s2s: number };
  /**
   * Server certificate and key (PEM, separate files) of the XMPP domains, and the CA that issued it:
   * with the CA among its certfiles ejabberd validates the chain at load and serves it whole.
   */
  tls: { certFile: string; keyFile: string; caFile: string };
  /** The tenant database; caFile is the tenant CA the server certificate must chain to. */
  sql: { server: string; port: number; database: string; username: string; password: string; caFile: string };
  /**
   * Erlang distribution without epmd: every node listens on this one port (ERL_DIST_PORT), so a
   * network policy can allow exactly it; interface pins the listener to one address (tests run
   * several nodes on one machine, each on its own loopback address).
   */
  distribution: {
    port: number;
    interface?: string;
    /** TLS distribution: this node's certificate and key (the messaging certificate) and the tenant CA. */
    tls: { certFile: string; keyFile: string; caFile: string };
  };
  /**
   * Node names a starting node may join, in order of preference. A node tries them until one
   * answers, so the list may name nodes that do not exist (yet).
   */
  clusterPeers: string[];
  paths: EjabberdPaths;
  /** With spec.identity.source Directory: the directory's CA file and the bind credentials. */
  directory?: DirectoryRuntime;
}

/** Names of the files in the configuration directory (keys of the config Secret). */
export const CONFIG_FILES = {
  ejabberd: 'ejabberd.yml',
  ejabberdctl: 'ejabberdctl.cfg',
  inetrc: 'inetrc',
  nodeScript: 'ejabberd-node.sh',
  sslDistOptions: 'ssl-dist.conf',
} as const;

/** The readiness marker: written once the node has joined its cluster and provisioned the admins. */
export function readyFile(paths: EjabberdPaths): string {
  return `${paths.home}/ready`;
}

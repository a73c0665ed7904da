import { EJABBERD_CONFIG_FILES as CONFIG_FILES } from '../render/index.js';

// How ejabberd nodes talk to each other (Erlang distribution), read from the configuration the pods
// mount (the live config Secret), not assumed from what this operator version renders: a Secret
// written by an older operator, or edited by hand, is judged on what it says.

/**
 * MutualTls: TLS distribution, both sides verify the peer against the configured CA and the server
 * refuses a peer without a certificate. TlsWithoutPeerVerification: encrypted, but a side accepts
 * an unverified peer. Plaintext: no TLS distribution (cookie only).
 */
export type DistributionEncryption = 'MutualTls' | 'TlsWithoutPeerVerification' | 'Plaintext';

/** The value of ERL_OPTIONS as ejabberdctl.cfg sets it (the operator writes it double-quoted). */
function erlOptions(ejabberdctlCfg: string): string {
  const lines = ejabberdctlCfg.split('\n').filter((l) => /^\s*ERL_OPTIONS=/.test(l));
  const last = lines.at(-1);
  return last ? last.replace(/^\s*ERL_OPTIONS=/, '').replace(/^"(.*)"\s*$/, '$1') : '';
}

function side(options: string, name: 'server' | 'client'): string | undefined {
  const start = options.indexOf(`{${name}, [`);
  if (start < 0) return undefined;
  const other = options.indexOf(`{${name === 'server' ? 'client' : 'server'}, [`);
  return options.slice(start, other > start ? other : undefined);
}

/**
 * Judges the two files of the config Secret that decide distribution: ejabberdctl.cfg (every VM,
 * server or ejabberdctl, takes ERL_OPTIONS from it) and the -ssl_dist_optfile it names. undefined
 * when ejabberdctl.cfg is not there to read.
 */
export function distributionEncryptionOf(files: { ejabberdctlCfg?: string | undefined; sslDistOptions?: string | undefined }): DistributionEncryption | undefined {
  if (files.ejabberdctlCfg === undefined) return undefined;
  const args = erlOptions(files.ejabberdctlCfg).split(/\s+/);
  const proto = args[args.indexOf('-proto_dist') + 1];
  const optfile = args[args.indexOf('-ssl_dist_optfile') + 1];
  if (!args.includes('-proto_dist') || !/^inet6?_tls$/.test(proto ?? '')) return 'Plaintext';
  if (!args.includes('-ssl_dist_optfile') || !optfile?.endsWith(`/${CONFIG_FILES.sslDistOptions}`) || files.sslDistOptions === undefined) return 'TlsWithoutPeerVerification';
  const server = side(files.sslDistOptions, 'server');
  const client = side(files.sslDistOptions, 'client');
  const verifies = (s: string | undefined) => !!s && s.includes('{verify, verify_peer}') && s.includes('{cacertfile, ') && s.includes('{certfile, ');
  return verifies(server) && verifies(client) && server!.includes('{fail_if_no_peer_cert, true}') ? 'MutualTls' : 'TlsWithoutPeerVerification';
}

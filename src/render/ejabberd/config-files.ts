import type { ChatTenant } from '../../api/index.js';
import { renderEjabberdConfig } from './config.js';
import { renderEjabberdctlConfig, renderInetrc } from './ctl-config.js';
import { ERLANG_MODULES, SERVER_VM_ARGS_FILE, serverVmArgs } from './erlang-modules.js';
import { renderNodeScript } from './node-script.js';
import { CONFIG_FILES, type EjabberdRuntime } from './runtime.js';
import { renderSslDistOptions } from './tls-distribution.js';

/**
 * Every file of a node's configuration directory, by file name. In a pod they are the keys of the
 * config Secret (it holds the database password); the workload tests write them to a directory.
 */
export function renderEjabberdConfigFiles(tenant: ChatTenant, runtime: EjabberdRuntime): Record<string, string> {
  return {
    [CONFIG_FILES.ejabberd]: renderEjabberdConfig(tenant, runtime),
    [CONFIG_FILES.ejabberdctl]: renderEjabberdctlConfig(runtime),
    [CONFIG_FILES.inetrc]: renderInetrc(),
    [CONFIG_FILES.nodeScript]: renderNodeScript(tenant, runtime),
    [CONFIG_FILES.sslDistOptions]: renderSslDistOptions(runtime),
    [SERVER_VM_ARGS_FILE]: serverVmArgs(runtime.paths.configDir),
    ...Object.fromEntries(ERLANG_MODULES.map((m) => [m.file, m.source])),
  };
}

/** The files a client-only pod (the archive purge) needs: no ejabberd.yml, so no database password. */
export const CLIENT_CONFIG_FILES = [CONFIG_FILES.ejabberdctl, CONFIG_FILES.inetrc, CONFIG_FILES.nodeScript, CONFIG_FILES.sslDistOptions] as const;

import yaml from 'js-yaml';

// The identity source in force, read back from the ejabberd.yml the pods mount (not from the spec):
// what AccessControl and the auditor report state is what runs.

export interface IdentityInForce {
  source: 'Internal' | 'Directory';
  /** Directory only: ldap_encrypt tls (LDAPS). */
  encrypted?: boolean;
  /** Directory only: ldap_tls_verify hard with a CA file. */
  verified?: boolean;
  accessFilter?: string;
  /** auth_cache_life_time, 0 when the cache is off. */
  cacheSeconds?: number;
  /** mod_directory_leavers' interval; undefined when open sessions are never checked. */
  sessionCheckSeconds?: number;
}

export function identityInForceOf(ejabberdYaml: string): IdentityInForce | undefined {
  let config: Record<string, unknown>;
  try {
    config = (yaml.load(ejabberdYaml) ?? {}) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const methods = config['auth_method'];
  if (!Array.isArray(methods)) return undefined;
  if (!methods.includes('ldap')) return { source: 'Internal' };
  const sweep = ((config['modules'] ?? {}) as Record<string, { interval?: unknown } | undefined>)['mod_directory_leavers'];
  const filter = config['ldap_filter'];
  return {
    source: 'Directory',
    encrypted: config['ldap_encrypt'] === 'tls',
    verified: config['ldap_tls_verify'] === 'hard' && typeof config['ldap_tls_cacertfile'] === 'string',
    ...(typeof filter === 'string' && filter !== '' ? { accessFilter: filter } : {}),
    cacheSeconds: config['auth_use_cache'] === false ? 0 : typeof config['auth_cache_life_time'] === 'number' ? config['auth_cache_life_time'] : 3600, // ejabberd's default cache_life_time
    ...(typeof sweep?.interval === 'number' ? { sessionCheckSeconds: sweep.interval } : {}),
  };
}

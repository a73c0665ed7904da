import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { judgeDirectorySecrets } from '../../src/controller/directory-secrets.js';
import { identityInForceOf } from '../../src/controller/identity-facts.js';
import { computeSafeguards, type ObservedFacts } from '../../src/controller/safeguards.js';
import { placeholderMaterial } from '../../src/render/index.js';
import { renderEjabberdConfig } from '../../src/render/ejabberd/config.js';
import { kubernetesEjabberdRuntime } from '../../src/render/ejabberd/pod-layout.js';
import { directoryIdentity, minimalSpec, tenantFixture } from '../support/tenants.js';

// What the operator says about identity: the source read back from the running ejabberd.yml, the
// AccessControl safeguard built on it, and the directory Secrets judged before anything is rendered.

const settings = defaultSettings();
const directoryTenant = tenantFixture('clinic', minimalSpec({ identity: directoryIdentity({ cacheSeconds: 30, sessionCheckSeconds: 20 }) }));
const internalTenant = tenantFixture('clinic', minimalSpec());
const ymlOf = (t = directoryTenant) => renderEjabberdConfig(t, kubernetesEjabberdRuntime(t, settings, placeholderMaterial(t)));
const secret = (data: Record<string, string>) => ({ data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const facts = (yml: string, extra: Partial<ObservedFacts> = {}): ObservedFacts => ({
  observedAt: '2026-11-29T12:00:00Z',
  namespaceOwned: true,
  storageClasses: {},
  networkPolicies: ['default-deny'],
  messagingConfigCurrent: true,
  certificates: {},
  identity: identityInForceOf(yml)!,
  ...extra,
});
const accessControl = (t: typeof directoryTenant, f: ObservedFacts) => computeSafeguards(t, f, settings).find((s) => s.name === 'AccessControl')!;

describe('identity in force, from the running ejabberd.yml', () => {
  it('reads a directory tenant\'s source, LDAPS, verification, filter and leaver window', () => {
    expect(identityInForceOf(ymlOf())).toEqual({
      source: 'Directory', encrypted: true, verified: true, accessFilter: '(memberOf=CN=Chat Users,OU=Groups,DC=hospital,DC=example)', cacheSeconds: 30, sessionCheckSeconds: 20,
    });
    expect(identityInForceOf(ymlOf(internalTenant))).toEqual({ source: 'Internal' });
  });

  it('AccessControl names the source, the access filter and the leaver window when it holds', () => {
    const verdict = accessControl(directoryTenant, facts(ymlOf(), { directoryProbe: { reachable: true, verified: true, message: '' } }));
    expect(verdict.holds).toBe(true);
    expect(verdict.message).toContain('identity source Directory');
    expect(verdict.message).toContain('(memberOf=CN=Chat Users');
    expect(verdict.message).toContain('sign in for at most 30 s and keeps an open session for at most 50 s');
    expect(accessControl(internalTenant, facts(ymlOf(internalTenant))).message).toContain('identity source Internal');
  });

  it.each([
    ['a configuration without verification', (y: string) => y.replace('ldap_tls_verify: hard', 'ldap_tls_verify: soft'), undefined, 'DirectoryNotVerified'],
    ['a configuration without the leaver sweep', (y: string) => y.replace(/  mod_directory_leavers:\n    interval: \d+\n/, ''), undefined, 'LeaverSessionsNotChecked'],
    ['a directory that failed the TLS probe', (y: string) => y, { reachable: true, verified: false, message: 'dc1:636: UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'DirectoryNotVerified'],
    ['a directory that did not answer', (y: string) => y, { reachable: false, verified: false, message: 'dc1:636: ECONNREFUSED' }, 'DirectoryUnreachable'],
  ])('does not hold with %s', (_name, edit, probe, reason) => {
    const yml = edit(ymlOf());
    expect(yml).not.toBe(probe ? '' : ymlOf()); // the edit changed something (or a probe judges it)
    const verdict = accessControl(directoryTenant, facts(yml, probe ? { directoryProbe: probe } : {}));
    expect(verdict).toMatchObject({ holds: false, reason });
  });
});

describe('directory Secrets, judged before rendering', () => {
  const ca = secret({ 'ca.crt': CA });
  const bind = secret({ username: 'CN=svc-chat,DC=h,DC=example', password: 'pw' });

  it.each([
    ['no CA Secret', undefined, bind, 'spec.identity.directory.caSecret', /Secret directory-ca not found in namespace clinic/],
    ['a CA Secret without a certificate', secret({ 'ca.crt': 'nope' }), bind, 'spec.identity.directory.caSecret', /no PEM certificate under key ca.crt/],
    ['no bind Secret', ca, undefined, 'spec.identity.directory.bindSecret', /Secret directory-bind not found/],
    ['a bind Secret without a password', ca, secret({ username: 'CN=x' }), 'spec.identity.directory.bindSecret', /needs keys username/],
    ['a bind password with a trailing newline', ca, secret({ username: 'CN=x', password: 'pw\n' }), 'spec.identity.directory.bindSecret', /single lines/],
  ])('%s: refused, naming the field', (_name, caSecret, bindSecret, field, message) => {
    const result = judgeDirectorySecrets(directoryTenant, caSecret as never, bindSecret as never);
    expect(result).toMatchObject({ ok: false, field });
    expect(!result.ok && result.message).toMatch(message);
    expect(!result.ok && result.message.startsWith(`${field}: `)).toBe(true);
  });

  it('both present: the bind account and the CA, and the password appears in no message', () => {
    expect(judgeDirectorySecrets(directoryTenant, ca as never, bind as never)).toEqual({ ok: true, bind: { bindDN: 'CN=svc-chat,DC=h,DC=example', password: 'pw' }, caPem: CA });
    expect(judgeDirectorySecrets(internalTenant, undefined, undefined)).toEqual({ ok: true });
  });
});

it('the rendered YAML keeps the bind password a plain scalar ejabberd reads back as written', () => {
  const t = directoryTenant;
  const tricky = `p@ss: "word" # not a comment 'x'`;
  const yml = renderEjabberdConfig(t, kubernetesEjabberdRuntime(t, settings, { ...placeholderMaterial(t), directoryBind: { bindDN: 'CN=a,DC=b', password: tricky } }));
  expect((yaml.load(yml) as Record<string, unknown>)['ldap_password']).toBe(tricky);
});

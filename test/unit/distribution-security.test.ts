import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { distributionEncryptionOf } from '../../src/controller/distribution-security.js';
import { observedFacts, type SafeguardInputs } from '../../src/controller/observe-safeguards.js';
import type { LiveWorld } from '../../src/controller/observe.js';
import type { TenantFacts } from '../../src/controller/status.js';
import { placeholderMaterial } from '../../src/render/index.js';
import { renderEjabberdConfigSecret } from '../../src/render/ejabberd/statefulset.js';
import { CONFIG_FILES } from '../../src/render/ejabberd/runtime.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// TransmissionSecurity judges Erlang distribution from the config Secret the pods mount: these are
// the files as the renderer writes them, and as an older or hand-edited Secret could have them.

const tenant = tenantFixture('clinic', minimalSpec({ messaging: { replicas: 3 } }));
const secret = renderEjabberdConfigSecret(tenant, defaultSettings(), placeholderMaterial(tenant));
const file = (key: string) => Buffer.from((secret['data'] as Record<string, string>)[key]!, 'base64').toString('utf8');
const rendered = { ejabberdctlCfg: file(CONFIG_FILES.ejabberdctl), sslDistOptions: file(CONFIG_FILES.sslDistOptions) };

describe('distributionEncryptionOf', () => {
  it('the rendered configuration is mutual TLS', () => {
    expect(distributionEncryptionOf(rendered)).toBe('MutualTls');
  });

  it('a configuration without TLS distribution (as rendered before it existed) is plaintext', () => {
    const before = rendered.ejabberdctlCfg.split('\n').filter((l) => !l.startsWith('ERL_OPTIONS=')).join('\n');
    expect(distributionEncryptionOf({ ejabberdctlCfg: before })).toBe('Plaintext');
    expect(distributionEncryptionOf({ ...rendered, ejabberdctlCfg: before })).toBe('Plaintext');
  });

  it('TLS that does not verify both peers is not mutual TLS', () => {
    expect(distributionEncryptionOf({ ...rendered, sslDistOptions: rendered.sslDistOptions.replace('{fail_if_no_peer_cert, true}', '{fail_if_no_peer_cert, false}') })).toBe('TlsWithoutPeerVerification');
    expect(distributionEncryptionOf({ ...rendered, sslDistOptions: rendered.sslDistOptions.replaceAll('{verify, verify_peer}', '{verify, verify_none}') })).toBe('TlsWithoutPeerVerification');
    expect(distributionEncryptionOf({ ejabberdctlCfg: rendered.ejabberdctlCfg })).toBe('TlsWithoutPeerVerification');
  });

  it('nothing to read is not observed', () => {
    expect(distributionEncryptionOf({})).toBeUndefined();
  });
});

describe('observedFacts reads Erlang distribution from the live config Secret', () => {
  const input = (live: Record<string, unknown> | undefined): SafeguardInputs => ({
    tenant,
    settings: defaultSettings(),
    world: [{ object: secret, live: live as LiveWorld[number]['live'] }],
    facts: { backup: { lastResult: 'None' } } as unknown as TenantFacts,
    namespace: undefined,
    storageClass: () => undefined,
    tlsSecrets: new Map(),
    now: new Date('2026-11-29T00:00:00Z'),
  });
  const withFile = (key: string, text: string) => ({ ...secret, data: { ...(secret['data'] as Record<string, string>), [key]: Buffer.from(text).toString('base64') } });

  it('as it is, not as this operator would render it', () => {
    expect(observedFacts(input(secret as Record<string, unknown>)).distributionEncryption).toBe('MutualTls');
    const plaintext = rendered.ejabberdctlCfg.replace(/^ERL_OPTIONS=.*$/m, '');
    expect(observedFacts(input(withFile(CONFIG_FILES.ejabberdctl, plaintext))).distributionEncryption).toBe('Plaintext');
    expect(observedFacts(input(undefined)).distributionEncryption).toBeUndefined();
  });
});

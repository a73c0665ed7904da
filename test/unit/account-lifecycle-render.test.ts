import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { placeholderMaterial } from '../../src/render/index.js';
import { ACCOUNT_COMMANDS, ACCOUNT_LIFECYCLE_MODULE } from '../../src/render/ejabberd/account-lifecycle-module.js';
import { renderEjabberdConfig } from '../../src/render/ejabberd/config.js';
import { ERLANG_MODULES } from '../../src/render/ejabberd/erlang-modules.js';
import { renderNodeScript } from '../../src/render/ejabberd/node-script.js';
import { kubernetesEjabberdRuntime } from '../../src/render/ejabberd/pod-layout.js';
import { directoryIdentity, minimalSpec, tenantFixture } from '../support/tenants.js';

// Where the account commands exist: mod_account_lifecycle is compiled on every node but enabled only
// for internal tenants (a directory tenant's accounts live in the directory), and the node script's
// `account` subcommand names each of its commands.

const settings = defaultSettings();
const BIND = { bindDN: 'CN=svc-chat,DC=hospital,DC=example', password: 'bind-password-7f3a' };
const modulesOf = (t: ReturnType<typeof tenantFixture>) => {
  const runtime = kubernetesEjabberdRuntime(t, settings, { ...placeholderMaterial(t), directoryBind: BIND });
  return Object.keys((yaml.load(renderEjabberdConfig(t, runtime)) as { modules: Record<string, unknown> }).modules);
};

describe('account lifecycle rendering', () => {
  it('enables mod_account_lifecycle for an internal tenant only', () => {
    expect(modulesOf(tenantFixture('clinic', minimalSpec()))).toContain(ACCOUNT_LIFECYCLE_MODULE);
    expect(modulesOf(tenantFixture('clinic', minimalSpec({ identity: directoryIdentity() })))).not.toContain(ACCOUNT_LIFECYCLE_MODULE);
    expect(ERLANG_MODULES.map((m) => m.name)).toContain(ACCOUNT_LIFECYCLE_MODULE);
  });

  it('the node script hands each action to its command, with the password as a file', () => {
    const t = tenantFixture('clinic', minimalSpec());
    const script = renderNodeScript(t, kubernetesEjabberdRuntime(t, settings, placeholderMaterial(t)));
    for (const command of Object.values(ACCOUNT_COMMANDS)) expect(script).toContain(command);
    expect(script).toContain('ctl "$command" "$2" "$3" "$4" "$secret_file"');
  });
});

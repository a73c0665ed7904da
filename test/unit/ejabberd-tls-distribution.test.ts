import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { placeholderMaterial } from '../../src/render/index.js';
import { renderEjabberdConfigFiles } from '../../src/render/ejabberd/config-files.js';
import { TLS_DIR, kubernetesEjabberdRuntime } from '../../src/render/ejabberd/pod-layout.js';
import { CONFIG_FILES, type EjabberdRuntime } from '../../src/render/ejabberd/runtime.js';
import { renderEjabberdConfigSecret, renderEjabberdStatefulSet } from '../../src/render/ejabberd/statefulset.js';
import { renderSslDistOptions, sslDistOptionsPath } from '../../src/render/ejabberd/tls-distribution.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

const settings = defaultSettings();
type Json = Record<string, any>;
const tenant = tenantFixture('clinic', minimalSpec({ messaging: { replicas: 3 } }));
const official = kubernetesEjabberdRuntime(tenant, settings, placeholderMaterial(tenant));
const debian: EjabberdRuntime = {
  ...official,
  flavour: 'debian-23.01',
  distribution: { port: 40123, interface: '127.0.0.2', tls: { certFile: '/tmp/n/tls/tls.crt', keyFile: '/tmp/n/tls/tls.key', caFile: '/tmp/n/tls/ca.crt' } },
  paths: { ...official.paths, ejabberdctl: '/usr/sbin/ejabberdctl', configDir: '/tmp/n/conf' },
};

describe.each([
  ['official image', official],
  ['Debian 23.01', debian],
])('TLS Erlang distribution (%s)', (_flavour, runtime) => {
  const files = renderEjabberdConfigFiles(tenant, runtime);
  const ctlConfig = files[CONFIG_FILES.ejabberdctl]!;
  const options = files[CONFIG_FILES.sslDistOptions]!;

  it('every VM that reads ejabberdctl.cfg (server and ejabberdctl clients) runs distribution over TLS, still on the pinned port', () => {
    expect(ctlConfig).toContain(`ERL_OPTIONS="-proto_dist inet_tls -ssl_dist_optfile ${sslDistOptionsPath(runtime)}"`);
    expect(sslDistOptionsPath(runtime)).toBe(`${runtime.paths.configDir}/${CONFIG_FILES.sslDistOptions}`);
    expect(ctlConfig).toContain(`ERL_DIST_PORT=${runtime.distribution.port}`);
  });

  it('both sides present the node certificate and verify the peer against the tenant CA; the dialling side checks the host name (wildcard)', () => {
    const { certFile, keyFile, caFile } = runtime.distribution.tls;
    const server = options.slice(options.indexOf('[{server, '), options.indexOf(' {client, '));
    const client = options.slice(options.indexOf(' {client, '));
    for (const side of [server, client]) {
      expect(side).toContain(`{certfile, "${certFile}"}`);
      expect(side).toContain(`{keyfile, "${keyFile}"}`);
      expect(side).toContain(`{cacertfile, "${caFile}"}`);
      expect(side).toContain('{verify, verify_peer}');
      expect(side).toContain("{versions, ['tlsv1.3', 'tlsv1.2']}");
    }
    expect(server).toContain('{fail_if_no_peer_cert, true}');
    expect(client).toContain('{customize_hostname_check, [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}]}');
  });
});

describe('TLS Erlang distribution in the pods', () => {
  it('the server container mounts the messaging certificate with its key and the tenant CA', () => {
    const sts = renderEjabberdStatefulSet(tenant, settings, renderEjabberdConfigSecret(tenant, settings, placeholderMaterial(tenant))) as Json;
    const tls = sts['spec']['template']['spec']['volumes'].find((v: Json) => v['name'] === 'tls');
    expect(tls['secret']['items'].map((i: Json) => i['key'])).toEqual(['tls.crt', 'tls.key', 'ca.crt']);
    expect(official.distribution.tls).toEqual({ certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key`, caFile: `${TLS_DIR}/ca.crt` });
  });

  it('refuses a path that would break the Erlang term or the ERL_OPTIONS word list', () => {
    expect(() => renderSslDistOptions({ ...debian, distribution: { ...debian.distribution, tls: { ...debian.distribution.tls, certFile: '/tmp/a "b' } } })).toThrow(/unsafe path/);
  });
});

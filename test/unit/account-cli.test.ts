import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountExecCommand, AccountActionError, type AccountRequest } from '../../src/accounts/exec.js';
import { auditName } from '../../src/accounts/tenant-target.js';
import { accountCommand, type AccountDeps } from '../../src/cli/account.js';
import type { Io } from '../../src/cli/commands.js';

// `account`: argument handling, where a password comes from and goes to, and that nothing the
// command prints on stderr (or sends as an argument) holds a password. The cluster is a fake; the
// real path (node script + mod_account_lifecycle) is test/workload/ejabberd-accounts.test.ts.

const GIVEN = 'given-password-0123456789';
const GENERATED = 'generated-password-abcdef';

function capture(): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), stdout: () => out, stderr: () => err };
}

interface Fake {
  deps: AccountDeps;
  requests: AccountRequest[];
}

function fake(options: { directory?: boolean; refuse?: string; stdin?: string; noCluster?: boolean } = {}): Fake {
  const requests: AccountRequest[] = [];
  return {
    requests,
    deps: {
      connect: () =>
        options.noCluster
          ? undefined
          : {
              tenant: async () => ({ domains: ['chat.clinic.example', 'im.clinic.example'], ...(options.directory ? { notInternal: 'uses its directory' } : {}) }),
              whoAmI: async () => 'kube:oncall@hospital.example',
              run: async (request) => {
                requests.push(request);
                if (options.refuse) throw new AccountActionError(options.refuse);
                return request.action === 'disable' ? 'disabled; 1 session(s) ended' : 'done';
              },
            },
      readStdin: async () => options.stdin ?? '',
      generatePassword: () => GENERATED,
    },
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'account-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], f: Fake) => {
  const io = capture();
  return accountCommand(io, args, {}, f.deps).then((code) => ({ code, out: io.stdout(), err: io.stderr() }));
};

describe('account command', () => {
  it('create with --password-file: the password goes to ejabberd only, never to stdout or stderr', async () => {
    const file = join(dir, 'pw');
    writeFileSync(file, `${GIVEN}\n`);
    const f = fake();
    const r = await run(['create', '--tenant', 'clinic', '--user', 'carol', '--password-file', file], f);
    expect(r.code, r.err).toBe(0);
    expect(f.requests).toEqual([
      { tenant: 'clinic', pod: 'ejabberd-0', action: 'create', user: 'carol', domain: 'chat.clinic.example', actor: 'kube:oncall@hospital.example', password: GIVEN },
    ]);
    expect(r.out).toBe('');
    expect(r.err).not.toContain(GIVEN);
    expect(r.err).toMatch(/carol@chat\.clinic\.example: done \(tenant clinic, pod ejabberd-0, recorded as kube:oncall@hospital\.example\)/);
  });

  it('reads the password from stdin with --password-file -', async () => {
    const f = fake({ stdin: `${GIVEN}\n` });
    const r = await run(['enable', '--tenant', 'clinic', '--user', 'carol', '--domain', 'im.clinic.example', '--password-file', '-'], f);
    expect(r.code, r.err).toBe(0);
    expect(f.requests[0]).toMatchObject({ action: 'enable', domain: 'im.clinic.example', password: GIVEN });
    expect(r.out + r.err).not.toContain(GIVEN);
  });

  it('reset without a password generates one and prints it once, on stdout only', async () => {
    const f = fake();
    const r = await run(['reset', '--tenant', 'clinic', '--user', 'carol'], f);
    expect(r.code, r.err).toBe(0);
    expect(f.requests[0]?.password).toBe(GENERATED);
    expect(r.out).toBe(`${GENERATED}\n`);
    expect(r.err).not.toContain(GENERATED);
  });

  it('--password-out writes a generated password to a new 0600 file, and refuses an existing one before acting', async () => {
    const out = join(dir, 'new-password');
    const f = fake();
    const r = await run(['reset', '--tenant', 'clinic', '--user', 'carol', '--password-out', out], f);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${GENERATED}\n`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(r.out + r.err).not.toContain(GENERATED);
    const again = fake();
    const r2 = await run(['reset', '--tenant', 'clinic', '--user', 'carol', '--password-out', out], again);
    expect(r2.code).toBe(1);
    expect(again.requests).toEqual([]);
  });

  it('disable sends no password and takes none', async () => {
    const f = fake();
    expect((await run(['disable', '--tenant', 'clinic', '--user', 'carol'], f)).code).toBe(0);
    expect(f.requests[0]).not.toHaveProperty('password');
    expect((await run(['disable', '--tenant', 'clinic', '--user', 'carol', '--password-file', '-'], fake())).code).toBe(2);
  });

  it.each([
    [['create', '--tenant', 'clinic', '--user', 'carol', GIVEN], /never an argument/],
    [['create', '--tenant', 'clinic', '--user', 'carol', '--password', GIVEN], /Unknown option/],
    [['delete', '--tenant', 'clinic', '--user', 'carol'], /one of create, disable, enable, reset/],
    [['create', '--user', 'carol'], /--tenant and --user are required/],
    [['create', '--tenant', 'clinic', '--user', 'Carol; rm'], /lower-case letters/],
    [['create', '--tenant', 'clinic', '--user', 'carol', '--password-file', '-', '--password-out', 'x'], /generated password/],
  ])('refuses %j with exit 2, echoing no password', async (args, message) => {
    const f = fake({ stdin: GIVEN });
    const r = await run(args, f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toContain(GIVEN);
    expect(f.requests).toEqual([]);
  });

  it('refuses a short or multi-line password from a file without echoing it', async () => {
    for (const [text, secret] of [['tiny-secret\n', 'tiny-secret'], [`${GIVEN}\nsecond line\n`, GIVEN]] as const) {
      const file = join(dir, 'pw');
      writeFileSync(file, text);
      const r = await run(['create', '--tenant', 'clinic', '--user', 'carol', '--password-file', file], fake());
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/shorter than 12 characters|must be one line/);
      expect(r.err).not.toContain(secret);
    }
  });

  it('refuses a directory tenant, a domain not of the tenant, and reports ejabberd refusals with exit 1', async () => {
    expect((await run(['create', '--tenant', 'clinic', '--user', 'carol'], fake({ directory: true }))).code).toBe(1);
    expect((await run(['create', '--tenant', 'clinic', '--user', 'carol', '--domain', 'other.example'], fake())).code).toBe(2);
    const refused = await run(['reset', '--tenant', 'clinic', '--user', 'nobody'], fake({ refuse: 'no such account' }));
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/refused: no such account/);
    // The generated password of a refused reset is worthless and is not shown.
    expect(refused.out).toBe('');
    expect((await run(['create', '--tenant', 'clinic', '--user', 'carol'], fake({ noCluster: true }))).code).toBe(2);
  });

  it('the exec command carries the action, the account and who asked, never a password', () => {
    expect(accountExecCommand({ action: 'reset', user: 'carol', domain: 'chat.clinic.example', actor: 'kube:oncall' })).toEqual([
      '/bin/sh',
      '/opt/ejabberd/conf/ejabberd-node.sh',
      'account',
      'reset',
      'carol',
      'chat.clinic.example',
      'kube:oncall',
    ]);
    expect(auditName('system:serviceaccount:ops:tool name\nforged line')).toBe('system:serviceaccount:ops:tool_name_forged_line');
  });
});

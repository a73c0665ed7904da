import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { credential, startEjabberdStack, type EjabberdStack } from './support/ejabberd-stack.js';
import type { CtlResult, EjabberdNode } from './support/ejabberd-node.js';
import { loginXmpp, type XmppSession } from './support/ejabberd-client.js';

// The internal-mode account lifecycle as `chat-tenant-operator account` drives it in a Pod: the rendered
// node script's `account` subcommand, a password as one line on stdin, the rendered mod_account_lifecycle
// in Debian's ejabberd 23.01 doing the work. Only the transport differs: the CLI reaches the node script
// through the Kubernetes exec API (stdin included), here it is run directly.

const domain = 'chat.accounts-clinic.example';
/** A second domain: the module starts once per domain and must register its global commands once. */
const secondDomain = 'im.accounts-clinic.example';
const tenant = tenantFixture('accounts-clinic', minimalSpec({ xmppDomains: [domain, secondDomain], messaging: { admins: [{ username: 'alice' }], archiveRetentionDays: 30 } }));
const ACTOR = 'kube:platform-engineer@hospital.example';
const passwords = { created: credential(), enabled: credential(), reset: credential() };

let stack: EjabberdStack;
let node: EjabberdNode;
const sessions: XmppSession[] = [];
/** Every process's full command line, sampled while each account action ran. */
let processLists = '';
let captureDir: string;

async function login(username: string, password: string, on = domain): Promise<XmppSession> {
  const session = await loginXmpp({ host: node.address, port: node.ports.c2sStartTls, domain: on, username, password, ca: stack.ca.certPem });
  sessions.push(session);
  return session;
}

/** Runs `account ACTION USER DOMAIN ACTOR` with the password on stdin, sampling the process list meanwhile. */
async function account(action: string, user: string, password?: string, on = domain): Promise<CtlResult> {
  const file = join(captureDir, `${action}-${Date.now()}.ps`);
  const out = openSync(file, 'w');
  const sampler: ChildProcess = spawn('/bin/sh', ['-c', 'while :; do ps -eww -o args=; sleep 0.02; done'], { stdio: ['ignore', out, 'ignore'] });
  await new Promise((r) => setTimeout(r, 100));
  const result = node.nodeScriptWithInput(password === undefined ? '' : `${password}\n`, 'account', action, user, on, ACTOR);
  sampler.kill('SIGKILL');
  await new Promise((r) => sampler.once('exit', r));
  processLists += readFileSync(file, 'utf8');
  return result;
}

function serverLog(): string {
  const logsDir = node.runtime.paths.logsDir;
  const files = readdirSync(logsDir).map((f) => readFileSync(join(logsDir, f), 'utf8'));
  return [node.log(), ...files].join('\n');
}

const literal = (text: string) => text.replace(/\./g, '\\.');
const auditLine = (what: string, outcome: string, account = `carol@${domain}`) =>
  new RegExp(`Admin audit: ${literal(ACTOR)} asked to ${what} account ${literal(account)} through the operator's account command: ${outcome}`);

beforeAll(async () => {
  captureDir = mkdtempSync(join(tmpdir(), 'cto-accounts-ps-'));
  stack = await startEjabberdStack(tenant);
  node = await stack.addNode(2);
}, 300_000);

afterAll(async () => {
  for (const s of sessions) await s.stop().catch(() => undefined);
  await stack?.stop();
  if (captureDir) rmSync(captureDir, { recursive: true, force: true });
}, 120_000);

describe('account lifecycle through the node script and mod_account_lifecycle', () => {
  it('create: the user logs in with the password given on stdin; creating it again is refused', async () => {
    const created = await account('create', 'carol', passwords.created);
    expect(created.code, created.output).toBe(0);
    const session = await login('carol', passwords.created);
    expect(session.mechanism).toBe('SCRAM-SHA-256');
    const again = await account('create', 'carol', credential());
    expect(again.code, again.output).not.toBe(0);
    expect(again.output).toMatch(/the account exists/);
    await expect.poll(serverLog, { timeout: 10_000 }).toMatch(auditLine('create', 'done'));
    await expect.poll(serverLog, { timeout: 10_000 }).toMatch(auditLine('create', 'refused \\(the account exists\\)'));
  }, 120_000);

  it('disable: the open session ends and the old password is refused', async () => {
    const open = await login('carol', passwords.created);
    const disabled = await account('disable', 'carol');
    expect(disabled.code, disabled.output).toBe(0);
    const end = await Promise.race([open.ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('session kept')), 15_000))]);
    expect(end).toBeDefined();
    await expect(login('carol', passwords.created)).rejects.toThrow(/not-authorized/);
    await expect.poll(serverLog, { timeout: 10_000 }).toMatch(auditLine('disable', 'done \\(disabled; \\d+ session\\(s\\) ended\\)'));
  }, 120_000);

  it('enable: only the new password logs in', async () => {
    const enabled = await account('enable', 'carol', passwords.enabled);
    expect(enabled.code, enabled.output).toBe(0);
    await login('carol', passwords.enabled);
    await expect(login('carol', passwords.created)).rejects.toThrow(/not-authorized/);
    await expect.poll(serverLog, { timeout: 10_000 }).toMatch(auditLine('enable', 'done \\(enabled\\)'));
  }, 120_000);

  it('reset: open sessions end, only the new password logs in', async () => {
    const open = await login('carol', passwords.enabled);
    const reset = await account('reset', 'carol', passwords.reset);
    expect(reset.code, reset.output).toBe(0);
    await Promise.race([open.ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('session kept')), 15_000))]);
    await login('carol', passwords.reset);
    await expect(login('carol', passwords.enabled)).rejects.toThrow(/not-authorized/);
    await expect.poll(serverLog, { timeout: 10_000 }).toMatch(auditLine('reset the password of', 'done \\(password reset; \\d+ session\\(s\\) ended\\)'));
  }, 120_000);

  it('refuses an account that does not exist, a missing password, and an unknown action', async () => {
    const missing = await account('enable', 'nobody', credential());
    expect(missing.code).not.toBe(0);
    expect(missing.output).toMatch(/no such account/);
    await expect.poll(serverLog, { timeout: 10_000 }).toMatch(auditLine('enable', 'refused \\(no such account\\)', `nobody@${domain}`));
    const noPassword = await account('reset', 'carol');
    expect(noPassword.code).toBe(2);
    expect(noPassword.output).toMatch(/needs the new password/);
    const unknown = await account('delete', 'carol', credential());
    expect(unknown.code).toBe(2);
    // A refused reset changed nothing.
    await login('carol', passwords.reset);
  }, 120_000);

  // The module starts once per domain; 25.x would log a critical line for a command registered twice
  // (23.01 overwrites silently, so here the check only guards against other failures).
  it('works on every domain of the tenant', async () => {
    const password = credential();
    const created = await account('create', 'dave', password, secondDomain);
    expect(created.code, created.output).toBe(0);
    await login('dave', password, secondDomain);
    await expect.poll(serverLog, { timeout: 10_000 }).toMatch(auditLine('create', 'done', `dave@${secondDomain}`));
    await expect(login('dave', password)).rejects.toThrow(/not-authorized/);
    expect(serverLog()).not.toMatch(/already exists with the same name|\[critical\]/);
  }, 120_000);

  it('no password is in the server log, in any process argv during the actions, or left on disk', () => {
    const log = serverLog();
    // The capture saw the commands run (it would otherwise prove nothing) ...
    expect(processLists).toMatch(/operator_account_create/);
    expect(processLists).toMatch(/operator_account_reset/);
    for (const password of Object.values(passwords)) {
      expect(log).not.toContain(password);
      expect(processLists).not.toContain(password);
    }
    expect(readdirSync(node.runtime.paths.home).filter((f) => f.startsWith('account-password'))).toEqual([]);
  });
});

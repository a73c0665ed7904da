import { randomBytes } from 'node:crypto';
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AccountActionError, runAccountAction, type AccountRequest } from '../accounts/exec.js';
import { readAccountTenant, whoAmI, type AccountTenant } from '../accounts/tenant-target.js';
import { KubeClient } from '../kube/client.js';
import { names } from '../render/index.js';
import { ACCOUNT_COMMANDS, type AccountAction } from '../render/ejabberd/account-lifecycle-module.js';
import { chooseCluster } from './cluster.js';
import type { Io } from './commands.js';

// `account create|disable|enable|reset`: the supported lifecycle of an internal tenant's accounts, for
// the platform's operators. The work happens in the tenant's ejabberd (see accounts/exec.ts and
// mod_account_lifecycle), which writes the audit line. Here: the arguments, the new password, and
// where a generated one goes. A password is never an argument of this command either: it comes from a
// file or stdin, or is generated; a generated one goes to stdout or a 0600 file, and nothing else this
// command prints (stderr, errors) ever holds a password.

export const ACCOUNT_SUMMARY =
  'account create|disable|enable|reset --tenant T --user U [--domain D] [--password-file F|-] [--password-out F] [--pod P] [--kubeconfig F]' +
  '   manage an internal account (docs/identity.md)';

const ACTIONS = Object.keys(ACCOUNT_COMMANDS) as AccountAction[];
/** A localpart as ejabberd stores it (nodeprep'd: lower case), without characters a shell or log could misread. */
const USER = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 12;

/** What the command needs from outside; tests pass fakes. */
export interface AccountDeps {
  connect(kubeconfigFlag: string | undefined, env: NodeJS.ProcessEnv): AccountCluster | undefined;
  readStdin(): Promise<string>;
  generatePassword(): string;
}

export interface AccountCluster {
  tenant(name: string): Promise<AccountTenant>;
  whoAmI(): Promise<string>;
  run(request: AccountRequest): Promise<string>;
}

export const defaultAccountDeps: AccountDeps = {
  connect(flag, env) {
    const choice = chooseCluster(flag, env);
    if (!choice) return undefined;
    const client = new KubeClient(choice.kubeConfig, 'chat-tenant-operator-account');
    return {
      tenant: (name) => readAccountTenant(client, name),
      whoAmI: () => whoAmI(client, choice.kubeConfig.getCurrentUser()?.name),
      run: (request) => runAccountAction(choice.kubeConfig, request),
    };
  },
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  // 144 random bits, URL-safe: survives copy and paste and any client's password field.
  generatePassword: () => randomBytes(18).toString('base64url'),
};

class UsageError extends Error {}

/** A given password: one line (a single trailing newline, as editors and echo leave one, is dropped). */
export function passwordFromText(text: string, source: string): string {
  const password = text.replace(/\r?\n$/, '');
  if (/[\r\n\0]/.test(password)) throw new UsageError(`the password in ${source} must be one line`);
  if (password.length < MIN_PASSWORD_LENGTH) throw new UsageError(`the password in ${source} is shorter than ${MIN_PASSWORD_LENGTH} characters`);
  return password;
}

interface Parsed {
  action: AccountAction;
  tenant: string;
  user: string;
  domain?: string;
  pod?: string;
  kubeconfig?: string;
  passwordFile?: string;
  passwordOut?: string;
}

export function parseAccountArgs(args: string[]): Parsed {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      tenant: { type: 'string' },
      user: { type: 'string' },
      domain: { type: 'string' },
      pod: { type: 'string' },
      kubeconfig: { type: 'string' },
      'password-file': { type: 'string' },
      'password-out': { type: 'string' },
    },
  });
  const [action, ...extra] = positionals;
  if (!action || !ACTIONS.includes(action as AccountAction)) throw new UsageError(`the first argument must be one of ${ACTIONS.join(', ')}`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.length} (a password is never an argument: use --password-file)`);
  if (!values.tenant || !values.user) throw new UsageError('--tenant and --user are required');
  if (!USER.test(values.user)) throw new UsageError(`--user ${values.user}: lower-case letters, digits, ".", "_" and "-" only`);
  if (action === 'disable' && (values['password-file'] || values['password-out'])) {
    throw new UsageError('disable sets no password: --password-file and --password-out do not apply');
  }
  if (values['password-file'] && values['password-out']) {
    throw new UsageError('--password-out is for a generated password; with --password-file you already have it');
  }
  return {
    action: action as AccountAction,
    tenant: values.tenant,
    user: values.user,
    ...(values.domain ? { domain: values.domain } : {}),
    ...(values.pod ? { pod: values.pod } : {}),
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values['password-file'] ? { passwordFile: values['password-file'] } : {}),
    ...(values['password-out'] ? { passwordOut: values['password-out'] } : {}),
  };
}

async function newPassword(parsed: Parsed, deps: AccountDeps): Promise<{ password: string; generated: boolean } | undefined> {
  if (parsed.action === 'disable') return undefined;
  if (parsed.passwordFile === '-') return { password: passwordFromText(await deps.readStdin(), 'stdin'), generated: false };
  if (parsed.passwordFile) return { password: passwordFromText(await readFile(parsed.passwordFile, 'utf8'), parsed.passwordFile), generated: false };
  return { password: deps.generatePassword(), generated: true };
}

export async function accountCommand(io: Io, args: string[], env: NodeJS.ProcessEnv, deps: AccountDeps = defaultAccountDeps): Promise<number> {
  let parsed: Parsed;
  let secret: { password: string; generated: boolean } | undefined;
  try {
    parsed = parseAccountArgs(args);
    secret = await newPassword(parsed, deps);
  } catch (error) {
    io.err(`account: ${(error as Error).message}\n`);
    return 2;
  }
  const cluster = deps.connect(parsed.kubeconfig, env);
  if (!cluster) {
    io.err('account: no cluster: give --kubeconfig, set KUBECONFIG, or run in a cluster\n');
    return 2;
  }
  let outFile: FileHandle | undefined;
  try {
    const tenant = await cluster.tenant(parsed.tenant);
    if (tenant.notInternal) {
      io.err(`account: ${tenant.notInternal}\n`);
      return 1;
    }
    const domain = parsed.domain ?? tenant.domains[0]!;
    if (!tenant.domains.includes(domain)) {
      io.err(`account: ${domain} is not a domain of ChatTenant ${parsed.tenant} (${tenant.domains.join(', ')})\n`);
      return 2;
    }
    const actor = await cluster.whoAmI();
    // Created before the password changes, so a path that cannot be written fails before, not after.
    if (secret?.generated && parsed.passwordOut) outFile = await open(parsed.passwordOut, 'wx', 0o600);
    const pod = parsed.pod ?? `${names.messaging.statefulSet}-0`;
    const request: AccountRequest = {
      tenant: parsed.tenant,
      pod,
      action: parsed.action,
      user: parsed.user,
      domain,
      actor,
      ...(secret ? { password: secret.password } : {}),
    };
    const answer = await cluster.run(request);
    io.err(`${parsed.user}@${domain}: ${answer} (tenant ${parsed.tenant}, pod ${pod}, recorded as ${actor})\n`);
    if (secret?.generated) {
      // Shown once, to whoever ran the command; the server keeps only SCRAM keys.
      if (outFile) {
        await outFile.writeFile(`${secret.password}\n`);
        await outFile.close();
        outFile = undefined;
        io.err(`the new password is in ${parsed.passwordOut} (mode 0600)\n`);
      } else io.out(`${secret.password}\n`);
    }
    return 0;
  } catch (error) {
    if (outFile) {
      await outFile.close();
      await rm(parsed.passwordOut!, { force: true });
    }
    const refused = error instanceof AccountActionError;
    io.err(`account ${parsed.action} ${parsed.user}: ${refused ? 'refused: ' : ''}${(error as Error).message}\n`);
    return 1;
  }
}

import { crdCommand, renderCommand, validateCommand, type Io } from './commands.js';
import { RUN_SUMMARY, runCommand } from './run.js';
import { backupCommand, listBackupsCommand, restoreCommand, verifyCommand } from './backup.js';
import { REPORT_SUMMARY, reportCommand } from './report.js';
import { ACCOUNT_SUMMARY, accountCommand } from './account.js';

// Every command of the CLI, one entry each. A command parses its own options (node:util parseArgs)
// from the arguments after its name and returns an exit code; only the CLI reads argv and env.

export interface Command {
  summary: string;
  run: (io: Io, args: string[], env: NodeJS.ProcessEnv) => Promise<number>;
}

import { parseArgs } from 'node:util';

function fileOption(name: string, args: string[], io: Io): string | undefined {
  const { values } = parseArgs({ args, options: { file: { type: 'string', short: 'f' } }, strict: true });
  if (!values.file) io.err(`${name}: -f FILE is required\n`);
  return values.file;
}

export const commands: Record<string, Command> = {
  run: { summary: RUN_SUMMARY, run: runCommand },
  render: {
    summary: 'render -f FILE       print the Kubernetes objects for the ChatTenant(s) in FILE ("-" for stdin)',
    run: async (io, args) => {
      const file = fileOption('render', args, io);
      return file ? renderCommand(io, file) : 2;
    },
  },
  validate: {
    summary: 'validate -f FILE     check the ChatTenant(s) in FILE: each problem with its field path; exit 1 if any',
    run: async (io, args) => {
      const file = fileOption('validate', args, io);
      return file ? validateCommand(io, file) : 2;
    },
  },
  crd: {
    summary: 'crd [--out DIR]      print the ChatTenant CustomResourceDefinition (or write it into DIR)',
    run: async (io, args) => {
      const { values } = parseArgs({ args, options: { out: { type: 'string' } }, strict: true });
      return crdCommand(io, values.out);
    },
  },
  backup: {
    summary: 'backup               dump the tenant database, encrypt it, store it with a manifest, prune by retention (env: see docs/backup.md)',
    run: backupCommand,
  },
  restore: {
    summary: 'restore --backup ID|latest --database NAME [--clean]   verify a backup completely, then restore it in one transaction',
    run: restoreCommand,
  },
  verify: {
    summary: 'verify [--backup ID|latest]   restore a backup into a scratch database, compare row counts with its manifest, drop it',
    run: verifyCommand,
  },
  report: { summary: REPORT_SUMMARY, run: reportCommand },
  account: { summary: ACCOUNT_SUMMARY, run: (io, args, env) => accountCommand(io, args, env) },
  'list-backups': {
    summary: 'list-backups         list finished backups in the configured target, newest first',
    run: listBackupsCommand,
  },
};

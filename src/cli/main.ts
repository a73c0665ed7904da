#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { crdCommand, renderCommand, validateCommand, type Io } from './commands.js';

const USAGE = `chat-tenant-operator <command> [options]

Commands:
  render   -f FILE    print the Kubernetes objects for the ChatTenant(s) in FILE ("-" for stdin)
  validate -f FILE    check the ChatTenant(s) in FILE; prints each problem with its field path, exit 1 if any
  crd [--out DIR]     print the ChatTenant CustomResourceDefinition (or write it into DIR)
`;

const io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { file: { type: 'string', short: 'f' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  if (values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'crd':
      return crdCommand(io, values.out);
    case 'render':
    case 'validate': {
      if (!values.file) {
        io.err(`${command}: -f FILE is required\n`);
        return 2;
      }
      return command === 'render' ? renderCommand(io, values.file) : validateCommand(io, values.file);
    }
    default:
      io.err(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

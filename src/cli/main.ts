#!/usr/bin/env node
import type { Io } from './commands.js';
import { commands } from './registry.js';

const usage = () => `chat-tenant-operator <command> [options]\n\nCommands:\n${Object.values(commands).map((c) => `  ${c.summary}\n`).join('')}`;

const io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(io, args, process.env);
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

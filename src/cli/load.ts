import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';

/** Reads every YAML document of a file ("-" for stdin), skipping empty ones. */
export async function readYamlDocuments(path: string): Promise<unknown[]> {
  const text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  return yaml.loadAll(text).filter((d) => d !== null && d !== undefined);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

import type { WorldPod } from './world.js';

// Reading the analyzer's `list -o json` output: [{src, dst, conn}], where src and dst are
// "<namespace>/<name>[<Kind>]" or an IP range "a.b.c.d-e.f.g.h", and conn is "All Connections" or
// e.g. "TCP 5222-5223,5443" / "TCP 53,UDP 53". Each connection becomes flat "from -> to : PROTO/port"
// paths between roles, the unit the expectations are written in.

export interface AnalyzerConnection {
  src: string;
  dst: string;
  conn: string;
}

export interface NamedCidr {
  name: string;
  cidr: string;
}

export function parseAnalyzerJson(text: string): AnalyzerConnection[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error(`analyzer output is not a JSON list: ${text.slice(0, 200)}`);
  return parsed.map((entry, i) => {
    const e = entry as Partial<AnalyzerConnection>;
    if (typeof e.src !== 'string' || typeof e.dst !== 'string' || typeof e.conn !== 'string') throw new Error(`analyzer entry ${i} has no src/dst/conn: ${JSON.stringify(entry)}`);
    return { src: e.src, dst: e.dst, conn: e.conn };
  });
}

/** Widest port range expanded port by port; anything wider stays a range and fails any exact table. */
const MAX_EXPANDED_RANGE = 64;

export function connectionItems(conn: string): string[] {
  const text = conn.trim();
  if (text === 'All Connections') return ['ALL'];
  if (text === 'No Connections' || text === '') return [];
  const items: string[] = [];
  let protocol: string | undefined;
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const withProtocol = /^(TCP|UDP|SCTP)\s+(.+)$/.exec(part);
    const ports = withProtocol ? withProtocol[2]! : part;
    if (withProtocol) protocol = withProtocol[1];
    if (!protocol) throw new Error(`cannot read connection "${conn}"`);
    const range = /^(\d+)(?:-(\d+))?$/.exec(ports.trim());
    if (!range) {
      items.push(`${protocol}/${ports.trim()}`);
      continue;
    }
    const low = Number(range[1]);
    const high = range[2] === undefined ? low : Number(range[2]);
    if (high - low >= MAX_EXPANDED_RANGE) items.push(`${protocol}/${low}-${high}`);
    else for (let p = low; p <= high; p++) items.push(`${protocol}/${p}`);
  }
  return items;
}

interface IpRange {
  v6: boolean;
  low: bigint;
  high: bigint;
}

function ipToBigInt(address: string): { v6: boolean; value: bigint } {
  if (address.includes(':')) {
    const [head = '', tail = ''] = address.split('::');
    const headGroups = head === '' ? [] : head.split(':');
    const tailGroups = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
    const groups = address.includes('::') ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
    if (groups.length !== 8) throw new Error(`not an IPv6 address: ${address}`);
    return { v6: true, value: groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n) };
  }
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return { v6: false, value: octets.reduce((acc, o) => (acc << 8n) + BigInt(o), 0n) };
}

function cidrRange(cidr: string): IpRange {
  const [address, prefixText] = cidr.split('/');
  const { v6, value } = ipToBigInt(address!);
  const bits = v6 ? 128n : 32n;
  const hostBits = bits - BigInt(prefixText!);
  const low = (value >> hostBits) << hostBits;
  return { v6, low, high: low + (1n << hostBits) - 1n };
}

/** An analyzer IP node ("a-b", "a/b" or a single address) as a range; undefined for pods. */
export function ipNode(node: string): IpRange | undefined {
  if (node.includes('[')) return undefined;
  if (node.includes('/')) return cidrRange(node);
  const dash = node.lastIndexOf('-');
  const [lowText, highText] = dash > 0 && !node.slice(0, dash).endsWith(':') ? [node.slice(0, dash), node.slice(dash + 1)] : [node, node];
  const low = ipToBigInt(lowText);
  const high = ipToBigInt(highText);
  if (low.v6 !== high.v6) throw new Error(`mixed address families in ${node}`);
  return { v6: low.v6, low: low.value, high: high.value };
}

/**
 * The role of an analyzer node: a pod's role from the world, "ip:<name>" for an IP range inside a
 * named CIDR, "ip:elsewhere" for any other address. A range that straddles a named CIDR is an error:
 * the analyzer splits ranges at every CIDR the policies mention, so it means a CIDR is missing here.
 */
export function classify(node: string, pods: ReadonlyMap<string, WorldPod>, cidrs: readonly NamedCidr[]): string {
  const range = ipNode(node);
  if (!range) {
    const key = node.replace(/\[[^\]]*\]$/, '');
    const pod = pods.get(key);
    if (!pod) throw new Error(`analyzer reports ${node}, which is not a pod of the world`);
    return pod.role;
  }
  for (const { name, cidr } of cidrs) {
    const named = cidrRange(cidr);
    if (named.v6 !== range.v6) continue;
    const inside = range.low >= named.low && range.high <= named.high;
    const disjoint = range.high < named.low || range.low > named.high;
    if (inside) return `ip:${name}`;
    if (!disjoint) throw new Error(`analyzer range ${node} overlaps ${name} (${cidr}) only in part`);
  }
  return 'ip:elsewhere';
}

/**
 * Every connection flattened into "from -> to : PROTO/port" paths between roles, keeping only the
 * connections that touch a pod `concerns` selects (the analyzer splits address ranges per peer, so
 * ranges between neighbours need not line up with the named CIDRs).
 */
export function rolePaths(connections: readonly AnalyzerConnection[], pods: readonly WorldPod[], cidrs: readonly NamedCidr[], concerns: (pod: WorldPod) => boolean = () => true): Set<string> {
  const byKey = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const podOf = (node: string) => byKey.get(node.replace(/\[[^\]]*\]$/, ''));
  const out = new Set<string>();
  for (const c of connections) {
    const ends = [podOf(c.src), podOf(c.dst)];
    if (!ends.some((p) => p !== undefined && concerns(p))) continue;
    const from = classify(c.src, byKey, cidrs);
    const to = classify(c.dst, byKey, cidrs);
    for (const item of connectionItems(c.conn)) out.add(`${from} -> ${to} : ${item}`);
  }
  return out;
}

/** "a -> b : TCP/1" split back into its parts. */
export function splitPath(path: string): { from: string; to: string; item: string } {
  const m = /^(.*) -> (.*) : (.*)$/.exec(path);
  if (!m) throw new Error(`not a path: ${path}`);
  return { from: m[1]!, to: m[2]!, item: m[3]! };
}

// bench/messaging: messages per second and delivery latency of one ejabberd node (Debian's 23.01) with
// the configuration the operator generates (STARTTLS, SCRAM-SHA-256, all data in PostgreSQL over
// verified TLS, every message archived), next to the same node and load with ejabberd's packaged
// default configuration (Mnesia, no archive). Prints its figures and the ratios; not part of `npm test`.
//
//   npx tsx bench/messaging.ts --clients 20 --messages 200 --window 4
//   npx tsx bench/messaging.ts --clients 40 --messages 100 --rate 5      (the same offered load for both)
//
// Needs root (or the ejabberd user) like the workload tests: Debian's ejabberdctl runs as nothing else.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import xml, { type Element } from '@xmpp/xml';
import { defaultSettings } from '../src/api/index.js';
import { issueLeaf } from '../src/controller/certificates.js';
import { messagingDnsNames } from '../src/render/index.js';
import { C2S_RATE_BYTES_PER_SECOND } from '../src/render/ejabberd/config.js';
import { minimalSpec, tenantFixture } from '../test/support/tenants.js';
import { loginXmpp, type XmppSession } from '../test/workload/support/ejabberd-client.js';
import { credential, startEjabberdStack } from '../test/workload/support/ejabberd-stack.js';
import type { CtlResult } from '../test/workload/support/ejabberd-node.js';
import { startPackagedEjabberd } from './support/packaged-ejabberd.js';
import { pool } from '../src/controller/pool.js';
import { cpuSeconds, pidsWhere } from './support/proc.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '20' },
    messages: { type: 'string', default: '200' },
    window: { type: 'string', default: '4' },
    'body-bytes': { type: 'string', default: '100' },
    rate: { type: 'string' },
  },
});
const K = Number(values.clients);
const M = Number(values.messages);
const WINDOW = Number(values.window);
const BODY_BYTES = Number(values['body-bytes']);
/** Open loop: each client sends this many messages a second regardless of deliveries (no window). */
const RATE = values.rate === undefined ? undefined : Number(values.rate);
if (!(K >= 2 && K % 2 === 0)) throw new Error('--clients must be an even number of at least 2 (clients talk in pairs)');

const domain = 'chat.bench-clinic.example';
const tenant = tenantFixture('bench-clinic', minimalSpec({ xmppDomains: [domain] }));

interface Target {
  host: string;
  port: number;
  ca: string;
  ctl: (...args: string[]) => CtlResult;
  /** Processes whose CPU time the run costs: the ejabberd VM, and PostgreSQL where there is one. */
  serverPids: () => { ejabberd: number[]; postgres: number[] };
}

/** The Erlang VM of a node (beam.smp with -sname/-name NODE). */
const beamOf = (nodeName: string) => pidsWhere((cmd) => cmd.includes('beam.smp') && new RegExp(`-s?name ${nodeName.replace(/\./g, '\\.')}( |$)`).test(cmd));

/** The postmaster (first line of postmaster.pid) and its children: backends and background workers. */
function postgresPids(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return [postmaster, ...pidsWhere((_cmd, ppid) => ppid === postmaster)];
}

interface LoadResult {
  /** CPU seconds per 1,000 messages, by server process. */
  cpuPerThousand?: { ejabberd: number; postgres: number };
  messages: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function registerAndLogin(target: Target): Promise<XmppSession[]> {
  const users = Array.from({ length: K }, (_, i) => ({ username: `bench${i}`, password: credential() }));
  // Each registration is an ejabberdctl run (an Erlang VM start): a few in parallel.
  await pool(users, 4, async (u) => {
    const r = target.ctl('register', u.username, domain, u.password);
    if (r.code !== 0) throw new Error(`register ${u.username}: ${r.output}`);
  });
  const sessions: XmppSession[] = [];
  for (const u of users) sessions.push(await loginXmpp({ host: target.host, port: target.port, domain, username: u.username, password: u.password, ca: target.ca, resource: 'bench' }));
  return sessions;
}

/**
 * Clients talk in pairs (0↔1, 2↔3, …). Each sends M chat messages to its partner's bare JID with at
 * most WINDOW of them not yet delivered; latency is from send to arrival at the partner, on one clock.
 */
async function runLoad(sessions: XmppSession[], messagesPerClient: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const pad = 'x'.repeat(BODY_BYTES);
  const inFlight = sessions.map(() => 0);
  const wakers: Array<(() => void) | undefined> = sessions.map(() => undefined);
  let delivered = 0;
  const total = sessions.length * messagesPerClient;
  let allDelivered!: () => void;
  const done = new Promise<void>((resolve) => (allDelivered = resolve));
  const listeners = sessions.map((session) => {
    const listener = (stanza: Element) => {
      if (!stanza.is('message')) return;
      const text = stanza.getChildText('body');
      const m = text && /^bench (\d+) (\d+) /.exec(text);
      if (!m) return;
      latencies.push(Number(process.hrtime.bigint() - BigInt(m[2]!)) / 1e6);
      const sender = Number(m[1]);
      inFlight[sender]!--;
      wakers[sender]?.();
      if (++delivered === total) allDelivered();
    };
    session.client.on('stanza', listener);
    return listener;
  });
  const started = process.hrtime.bigint();
  await Promise.all(
    sessions.map(async (session, i) => {
      const partner = sessions[i ^ 1]!.jid.split('/')[0]!;
      for (let seq = 0; seq < messagesPerClient; seq++) {
        if (RATE !== undefined) {
          const due = started + BigInt(Math.round((seq * 1e9) / RATE));
          const wait = Number(due - process.hrtime.bigint()) / 1e6;
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        } else {
          while (inFlight[i]! >= WINDOW) await new Promise<void>((resolve) => (wakers[i] = resolve));
        }
        inFlight[i]!++;
        await session.send(xml('message', { to: partner, type: 'chat', id: `b${i}-${seq}` }, xml('body', {}, `bench ${i} ${process.hrtime.bigint()} ${pad}`)));
      }
    }),
  );
  const timeout = setTimeout(() => allDelivered(), 120_000);
  await done;
  clearTimeout(timeout);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  sessions.forEach((s, i) => s.client.off('stanza', listeners[i]!));
  if (delivered < total) throw new Error(`only ${delivered} of ${total} messages arrived within 120 s of the last send`);
  latencies.sort((a, b) => a - b);
  return { messages: total, seconds, perSecond: total / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies[latencies.length - 1]! };
}

async function measure(label: string, target: Target): Promise<LoadResult> {
  const sessions = await registerAndLogin(target);
  try {
    await runLoad(sessions, 2); // warm-up: first messages of each session, not measured
    const pids = target.serverPids();
    if (pids.ejabberd.length !== 1) throw new Error(`expected one ejabberd VM, found ${pids.ejabberd.length}`);
    const cpuBefore = { ejabberd: cpuSeconds(pids.ejabberd), postgres: cpuSeconds(pids.postgres) };
    const result = await runLoad(sessions, M);
    // Backends started during the run count too.
    const after = target.serverPids();
    const perThousand = (before: number, now: number) => ((now - before) * 1000) / result.messages;
    result.cpuPerThousand = { ejabberd: perThousand(cpuBefore.ejabberd, cpuSeconds(after.ejabberd)), postgres: perThousand(cpuBefore.postgres, cpuSeconds(after.postgres)) };
    console.log(
      `${label}: ${result.messages} messages in ${result.seconds.toFixed(2)} s = ${result.perSecond.toFixed(0)}/s; latency p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(1)} ms; ` +
        `CPU per 1,000 messages: ejabberd ${result.cpuPerThousand.ejabberd.toFixed(2)} s, PostgreSQL ${result.cpuPerThousand.postgres.toFixed(2)} s`,
    );
    return result;
  } finally {
    for (const s of sessions) await s.stop();
  }
}

type RowCounts = Map<string, { rows: number; written: number }>;

/** Per table: rows now, and tuples inserted + updated + deleted so far (statistics). */
async function tableCounts(query: (sql: string) => Promise<{ rows: Array<Record<string, string>> }>): Promise<RowCounts> {
  const stats = await query(`select relname, n_live_tup, n_tup_ins + n_tup_upd + n_tup_del as written from pg_stat_user_tables`);
  const out: RowCounts = new Map();
  for (const r of stats.rows) {
    const exact = await query(`select count(*) as n from "${r['relname']}"`);
    out.set(r['relname']!, { rows: Number(exact.rows[0]!['n']), written: Number(r['written']) });
  }
  return out;
}

async function main(): Promise<void> {
  const load = RATE === undefined ? `window ${WINDOW} (closed loop)` : `${RATE} messages/s per client (open loop)`;
  console.log(`bench/messaging: ${K} clients in ${K / 2} pairs, ${M} messages each, ${load}, body ${BODY_BYTES} bytes; Debian's ejabberd 23.01, PostgreSQL 15; ${cpus().length} cores`);
  const stack = await startEjabberdStack(tenant);
  let generated: LoadResult;
  let packaged: LoadResult;
  let written: Array<[string, number, number]> = [];
  try {
    const node = await stack.addNode(2);
    const query = (sql: string) => stack.postgres.query<Record<string, string>>(sql, [], stack.db.database);
    const before = await tableCounts(query);
    generated = await measure('generated configuration (TLS, SQL, archive)', {
      host: node.address,
      port: node.ports.c2sStartTls,
      ca: stack.ca.certPem,
      ctl: node.ctl,
      serverPids: () => ({ ejabberd: beamOf(node.nodeName), postgres: postgresPids(stack.postgres.dataDir) }),
    });
    // PostgreSQL flushes an idle backend's statistics within 10 s.
    await new Promise((r) => setTimeout(r, 11_000));
    await query('select pg_stat_clear_snapshot()');
    const after = await tableCounts(query);
    written = [...after].map(([table, a]) => [table, a.rows - (before.get(table)?.rows ?? 0), a.written - (before.get(table)?.written ?? 0)] as [string, number, number]).filter(([, rows, w]) => rows !== 0 || w !== 0);
  } finally {
    await stack.stop();
  }

  const leaf = await issueLeaf(stack.ca, { commonName: domain, dnsNames: messagingDnsNames(tenant, defaultSettings()), usage: 'server' }, new Date());
  const baseline = await startPackagedEjabberd({ address: '127.0.0.3', domain, certAndKeyPem: `${leaf.certPem}\n${leaf.keyPem}` });
  try {
    packaged = await measure('packaged default configuration (Mnesia, no archive)', {
      host: baseline.address,
      port: baseline.c2sPort,
      ca: stack.ca.certPem,
      ctl: baseline.ctl,
      serverPids: () => ({ ejabberd: beamOf(baseline.nodeName), postgres: [] }),
    });
  } finally {
    await baseline.stop();
  }

  console.log('\nPostgreSQL during the generated run (table: net rows, tuples written):');
  for (const [table, rows, w] of written) console.log(`  ${table}: ${rows >= 0 ? '+' : ''}${rows} rows, ${w} written`);
  const totalWritten = written.reduce((n, [, , w]) => n + w, 0);
  console.log(`  total: ${totalWritten} tuples written, ${(totalWritten / generated.messages).toFixed(2)} per message`);
  console.log('\nratios (generated / packaged):');
  console.log(`  messages per second: ${(generated.perSecond / packaged.perSecond).toFixed(2)}`);
  console.log(`  p50 latency: ${(generated.p50Ms / packaged.p50Ms).toFixed(2)}, p99 latency: ${(generated.p99Ms / packaged.p99Ms).toFixed(2)}`);
  const serverCpu = (r: LoadResult) => (r.cpuPerThousand?.ejabberd ?? 0) + (r.cpuPerThousand?.postgres ?? 0);
  console.log(`  server CPU per message (ejabberd + PostgreSQL): ${(serverCpu(generated) / serverCpu(packaged)).toFixed(2)}`);
  console.log(`\nshapers: the generated c2s shaper allows ${C2S_RATE_BYTES_PER_SECOND} bytes/s per connection after a burst of one largest stanza; the packaged one 3000 bytes/s after 20000`);
}

await main();
process.exit(0);

// bench/failover: the recovery time (RTO) and the message counts of a CloudNativePG failover under
// a live conversation, on the real node. It runs the node test that does it
// (test/node/cloudnative-pg-failover.test.ts: two users talk through ejabberd every 0.2 s while a
// loop commits numbered rows through the read-write Service, and the primary Pod is deleted)
// --runs times, each on a freshly started node, and prints that test's figures. Not part of
// `npm test`; as root, like the node tests.
//
//   npx tsx bench/failover.ts            (--runs 3 for a spread)
//
// RTO here: from the deletion of the primary Pod to the first message stamped as archived (RTO
// messages), or the first row committed (RTO SQL), after the longest pause that followed the kill
// (one clock, this machine's). "Stamped, not archived": ejabberd 23.01 stamps a message even when its
// archive write failed (see the test); commits lost must be 0.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FAILOVER_REPORT_FILE, type FailoverReport } from '../test/node/support/failover-report.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number above 0');

function runFailoverTest(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['vitest', 'run', '--project', 'node', 'test/node/cloudnative-pg-failover.test.ts'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CI: 'true' },
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const reports: FailoverReport[] = [];
for (let run = 1; run <= runs; run += 1) {
  await rm(FAILOVER_REPORT_FILE, { force: true });
  const code = await runFailoverTest();
  const report = JSON.parse(await readFile(FAILOVER_REPORT_FILE, 'utf8').catch(() => 'null')) as FailoverReport | null;
  if (!report) throw new Error(`run ${run}: the failover test left no report (exit code ${code})`);
  reports.push(report);
  if (code !== 0) console.log(`run ${run}: the failover test FAILED (exit code ${code}); its figures follow anyway`);
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log('\nCloudNativePG failover under a live conversation (one message every 0.2 s), real node');
console.log('run  date (UTC)            RTO messages  RTO SQL  commits acked (after kill)  commits lost  messages sent  stamped  stamped, not archived  not archived for sender  duplicated');
reports.forEach((r, i) => {
  console.log(
    `${String(i + 1).padEnd(4)} ${r.date.slice(0, 19).padEnd(21)} ${s(r.rtoMs).padEnd(12)} ${s(r.commits.rtoMs).padEnd(8)} ` +
      `${`${r.commits.acknowledged} (${r.commits.acknowledgedAfterKill})`.padEnd(27)} ${String(r.commits.lost).padEnd(13)} ${String(r.sent).padEnd(14)} ` +
      `${String(r.acknowledged).padEnd(8)} ${String(r.stampedNotArchived).padEnd(22)} ${String(r.notArchivedForSender).padEnd(24)} ${r.duplicated}`,
  );
});
for (const [i, r] of reports.entries()) {
  console.log(`\nrun ${i + 1}: ${r.instances} instances, primary ${r.oldPrimary} deleted, ${r.newPrimary} promoted; archive rows: recipient ${r.archivedForRecipient}, sender ${r.archivedForSender}. The operator's Database condition:`);
  for (const t of r.databaseCondition) console.log(`  ${s(t.afterKillMs).padStart(8)}  ${t.status.padEnd(5)} ${t.reason}: ${t.message}`);
}
if (reports.some((r) => r.commits.lost > 0 || r.duplicated > 0)) process.exitCode = 1;

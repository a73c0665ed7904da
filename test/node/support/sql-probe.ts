/**
 * A database-level witness for a failover: a loop in one instance Pod that commits one numbered row
 * at a time through the Cluster's read-write Service, as the messaging role over verified TLS, and
 * prints each number once PostgreSQL acknowledged its commit (psql prints a RETURNING row only after
 * the commit; from 3 instances that commit waited for a standby). What it printed must all be there
 * after the failover.
 */
import { names } from "../../../src/render/index.js";
import { gammaNamespace, inInstance, primarySql, secretValue } from "./cloudnative-pg.js";

export const PROBE_TABLE = "failover_probe";

export async function createProbeTable(): Promise<void> {
  await primarySql(`CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (n integer PRIMARY KEY); GRANT ALL ON ${PROBE_TABLE} TO ${names.database.appUser}`);
  await primarySql(`TRUNCATE ${PROBE_TABLE}`);
}

export interface ProbeCommit {
  readonly n: number;
  /** When psql printed it (the host's clock, read in the Pod; milliseconds). */
  readonly at: number;
}

/** Commits rows from `pod` for `seconds`; resolves with the rows whose commit was acknowledged. */
export async function runSqlProbe(pod: string, seconds: number): Promise<ProbeCommit[]> {
  const password = await secretValue(names.database.appSecret, "password");
  const host = `${names.database.cnpgReadWriteService}.${gammaNamespace}.svc.cluster.local`;
  const conninfo = `host=${host} dbname=${names.database.appDatabase} user=${names.database.appUser} sslmode=verify-full sslrootcert=/controller/certificates/server-ca.crt connect_timeout=2`;
  const script = [
    "read -r PGPASSWORD; export PGPASSWORD",
    `end=$(( $(date +%s) + ${seconds} )); i=0`,
    'while [ "$(date +%s)" -lt "$end" ]; do',
    "  i=$((i + 1))",
    // -q: without it psql also prints the command tag ("INSERT 0 1") after the row.
    `  psql -X -q -At -c "INSERT INTO ${PROBE_TABLE} (n) VALUES ($i) RETURNING n" "$1" 2>/dev/null | while read -r n; do echo "ok $n $(date +%s%3N)"; done`,
    "  sleep 0.1",
    "done",
  ].join("\n");
  const result = await inInstance(pod, ["sh", "-c", script, "sh", conninfo], `${password}\n`);
  return result.stdout
    .split("\n")
    .filter((l) => /^ok \d+ \d+$/.test(l))
    .map((l) => {
      const [, n, at] = l.split(" ");
      return { n: Number(n), at: Number(at) };
    });
}

/** From the kill to the first commit after the longest pause in commits that followed it (ms). */
export function databaseRecovery(commits: readonly ProbeCommit[], killedAt: number): { rtoMs: number; acknowledged: number; acknowledgedAfterKill: number } {
  const after = commits.map((c) => c.at).filter((at) => at >= killedAt).sort((a, b) => a - b);
  let previous = killedAt;
  let longest = -1;
  let resumedAt = Number.NaN;
  for (const at of after) {
    if (at - previous > longest) {
      longest = at - previous;
      resumedAt = at;
    }
    previous = at;
  }
  return { rtoMs: resumedAt - killedAt, acknowledged: commits.length, acknowledgedAfterKill: after.length };
}

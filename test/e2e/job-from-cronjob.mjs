// Reads a CronJob (JSON, from `kubectl get cronjob -o json`) on stdin and prints a Job built from its
// jobTemplate, with another name and other container args. Used by kind.sh to run `verify` with exactly the
// backup Job's environment, volumes, service account and pod labels (the network policies select on those).
//
//   kubectl get cronjob postgres-backup -o json |
//     node job-from-cronjob.mjs [--login-secret SECRET] NAME ARG... | kubectl apply -f -
//
// --login-secret: mount this Secret as the database login instead (keys username and password; the runner
// reads them as files from the volume database-login, never from the environment). Backups
// dump as the messaging role; restore and verify create databases and log in as the superuser
// (postgres-superuser), as docs/backup.md describes.
//
// The Job's own labels are replaced: the operator counts Jobs labelled component=backup as backups, and a
// verify run is not one.
import { readFileSync } from 'node:fs';

let argv = process.argv.slice(2);
let loginSecret;
if (argv[0] === '--login-secret') {
  loginSecret = argv[1];
  argv = argv.slice(2);
}
const [name, ...args] = argv;
if (!name || args.length === 0 || (loginSecret !== undefined && !loginSecret)) {
  process.stderr.write('usage: job-from-cronjob.mjs [--login-secret SECRET] NAME ARG... < cronjob.json\n');
  process.exit(2);
}
const cronJob = JSON.parse(readFileSync(0, 'utf8'));
const template = structuredClone(cronJob.spec.jobTemplate);
const podSpec = template.spec.template.spec;
if (podSpec.containers.length !== 1) throw new Error(`expected one container in ${cronJob.metadata.name}, found ${podSpec.containers.length}`);
podSpec.containers[0].args = args;
if (loginSecret) {
  const login = (podSpec.volumes ?? []).find((volume) => volume.name === 'database-login');
  if (!login?.secret) throw new Error(`expected a Secret volume database-login in ${cronJob.metadata.name}`);
  login.secret.secretName = loginSecret;
}
const job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: cronJob.metadata.namespace, labels: { 'app.kubernetes.io/part-of': 'chat-tenant-e2e', 'app.kubernetes.io/name': 'backup-verify' } },
  spec: { ...template.spec, backoffLimit: 0 },
};
process.stdout.write(JSON.stringify(job, null, 2) + '\n');

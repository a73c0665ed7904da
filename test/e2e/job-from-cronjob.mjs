// Reads a CronJob (JSON, from `kubectl get cronjob -o json`) on stdin and prints a Job built from its
// jobTemplate, with another name and other container args. Used by kind.sh to run `verify` with exactly the
// backup Job's environment, volumes, service account and pod labels (the network policies select on those).
//
//   kubectl get cronjob postgres-backup -o json | node job-from-cronjob.mjs NAME ARG... | kubectl apply -f -
//
// The Job's own labels are replaced: the operator counts Jobs labelled component=backup as backups, and a
// verify run is not one.
import { readFileSync } from 'node:fs';

const [name, ...args] = process.argv.slice(2);
if (!name || args.length === 0) {
  process.stderr.write('usage: job-from-cronjob.mjs NAME ARG... < cronjob.json\n');
  process.exit(2);
}
const cronJob = JSON.parse(readFileSync(0, 'utf8'));
const template = structuredClone(cronJob.spec.jobTemplate);
const podSpec = template.spec.template.spec;
if (podSpec.containers.length !== 1) throw new Error(`expected one container in ${cronJob.metadata.name}, found ${podSpec.containers.length}`);
podSpec.containers[0].args = args;
const job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: cronJob.metadata.namespace, labels: { 'app.kubernetes.io/part-of': 'chat-tenant-e2e', 'app.kubernetes.io/name': 'backup-verify' } },
  spec: { ...template.spec, backoffLimit: 0 },
};
process.stdout.write(JSON.stringify(job, null, 2) + '\n');

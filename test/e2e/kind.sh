#!/usr/bin/env bash
# End-to-end test of chat-tenant-operator on a real (kind) cluster: nothing → a Ready tenant → a message over
# XMPP with TLS → an encrypted backup → a restore verification → deletion with Retain and what it keeps.
#
# Needs a machine with a Docker engine (the project's development machines have none: it cannot run there)
# and: docker, kind (0.24+, for NetworkPolicy enforcement by kindnet), kubectl, node/npm (the repository's
# dependencies installed: npm ci), curl. helm is taken from PATH, else built by scripts/setup-helm.ts (needs Go).
#
#   test/e2e/kind.sh
#
# Environment (all optional):
#   CLUSTER_NAME     kind cluster name (default cto-e2e); an existing cluster of that name is reused
#   KEEP_CLUSTER=1   leave the cluster running at the end (default: deleted, also on failure)
#   KIND_NODE_IMAGE  node image (default kindest/node:v1.34.0)
#   CNPG_VERSION     CloudNativePG release installed from its release manifest (default 1.30.1, the version src/render/postgres/cnpg.ts targets)
#   IMAGE_TAG        tag of the operator image built here (default e2e-<git short sha>)
#   TIMEOUT          how long to wait for the tenant to become Ready (default 15m)
#
# Every step prints what it does; on failure the tenant's status, events and the operator log are printed.

set -Eeuo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_DIR="$REPO_ROOT/test/e2e"
CLUSTER_NAME=${CLUSTER_NAME:-cto-e2e}
KIND_NODE_IMAGE=${KIND_NODE_IMAGE:-kindest/node:v1.34.0}
CNPG_VERSION=${CNPG_VERSION:-1.30.1}
IMAGE_TAG=${IMAGE_TAG:-e2e-$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo local)}
TIMEOUT=${TIMEOUT:-15m}

# The chart's default registry and repository: the image is built under that name and loaded into the
# nodes, so neither the Deployment nor the backup CronJobs (same image, from the settings) pull anything.
IMAGE="ghcr.io/chat-tenant-operator/chat-tenant-operator:${IMAGE_TAG}"
RELEASE=cto
OPERATOR_NS=chat-tenant-operator
TENANT=e2e-clinic
TENANT_NS=$TENANT
XMPP_DOMAIN=chat.e2e-clinic.example
ENCRYPTED_ANNOTATION=chat.tenant-operator.dev/encrypted
LOCAL_XMPP_PORT=15222

WORK=$(mktemp -d)
chmod 700 "$WORK"
PORT_FORWARD_PID=""

log() { printf '\n==> %s\n' "$*"; }
fail() {
  printf '\nE2E FAILED: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is required ($2)"; }

diagnostics() {
  log "diagnostics"
  kubectl get chattenant "$TENANT" -o yaml 2>/dev/null | sed -n '/^status:/,$p' || true
  kubectl get events -n "$TENANT_NS" --sort-by=.lastTimestamp 2>/dev/null | tail -40 || true
  kubectl get pods -A -o wide 2>/dev/null || true
  kubectl -n "$OPERATOR_NS" logs "deploy/${RELEASE}-chat-tenant-operator" --tail=100 2>/dev/null || true
}

on_exit() {
  local status=$?
  if [[ -n "$PORT_FORWARD_PID" ]]; then kill "$PORT_FORWARD_PID" 2>/dev/null || true; fi
  if [[ $status -ne 0 ]]; then diagnostics; fi
  rm -rf "$WORK"
  if [[ "${KEEP_CLUSTER:-0}" != "1" ]]; then
    kind delete cluster --name "$CLUSTER_NAME" >/dev/null 2>&1 || true
  else
    printf '\ncluster %s kept (KEEP_CLUSTER=1): kind delete cluster --name %s\n' "$CLUSTER_NAME" "$CLUSTER_NAME"
  fi
  if [[ $status -eq 0 ]]; then printf '\nE2E PASSED\n'; fi
  exit "$status"
}
trap on_exit EXIT

# Polls a command until it succeeds: wait_for DESCRIPTION SECONDS COMMAND...
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then fail "timed out after ${seconds}s waiting for ${what}"; fi
    sleep 5
  done
}

# Writes one key of a Secret to a file readable only by us; values never reach the terminal or argv.
secret_to_file() {
  local namespace=$1 secret=$2 key=$3 file=$4
  (umask 077 && kubectl -n "$namespace" get secret "$secret" -o "go-template={{ index .data \"$key\" | base64decode }}" >"$file")
  [[ -s "$file" ]] || fail "secret $namespace/$secret has no key $key"
}

find_helm() {
  if command -v helm >/dev/null 2>&1; then
    command -v helm
  else
    (cd "$REPO_ROOT" && npx tsx scripts/setup-helm.ts | tail -n 1)
  fi
}

log "prerequisites"
need docker "a Docker engine; this test cannot run without one"
need kind "https://kind.sigs.k8s.io"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
need node "Node.js 20+"
need npx "npm"
docker info >/dev/null 2>&1 || fail "docker cannot reach a Docker engine"
[[ -d "$REPO_ROOT/node_modules" ]] || (cd "$REPO_ROOT" && npm ci --no-audit --no-fund)
HELM=$(find_helm)
"$HELM" version --short

log "kind cluster $CLUSTER_NAME ($KIND_NODE_IMAGE)"
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kind create cluster --name "$CLUSTER_NAME" --image "$KIND_NODE_IMAGE" --config "$E2E_DIR/kind-cluster.yaml" --wait 5m
fi
kubectl config use-context "kind-$CLUSTER_NAME"
kubectl get nodes -o wide

log "operator image $IMAGE: build and load into the nodes"
docker build -t "$IMAGE" "$REPO_ROOT"
kind load docker-image "$IMAGE" --name "$CLUSTER_NAME"
# The image must hold a PostgreSQL client at least as new as the tenants' servers (17).
docker run --rm --entrypoint pg_dump "$IMAGE" --version | grep -q ' 17\.' || fail "pg_dump 17 is missing from the image"
[[ "$(docker run --rm --entrypoint id "$IMAGE" -u)" == "10001" ]] || fail "the image does not run as uid 10001"

log "CloudNativePG $CNPG_VERSION"
kubectl apply --server-side -f "https://github.com/cloudnative-pg/cloudnative-pg/releases/download/v${CNPG_VERSION}/cnpg-${CNPG_VERSION}.yaml"
kubectl -n cnpg-system rollout status deployment/cnpg-controller-manager --timeout=5m

log "storage class 'standard' marked encrypted"
# DEMO ONLY. kind's 'standard' class is rancher local-path: plain directories on the node's disk, NOT
# encrypted at rest. The operator refuses to call a tenant Ready on storage the platform has not vouched for
# (EncryptionAtRest safeguard); annotating the class is how a platform team vouches. Doing it here lets the
# rest of the flow run on a throwaway cluster with synthetic data. Never annotate an unencrypted class in a
# cluster that holds real patient data.
kubectl annotate storageclass standard "${ENCRYPTED_ANNOTATION}=true" --overwrite

log "Kubernetes API address (for the operator's and the CloudNativePG instances' egress policies)"
API_IP=$(kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[0].endpoints[0].addresses[0]}')
API_PORT=$(kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[0].ports[0].port}')
[[ -n "$API_IP" && -n "$API_PORT" ]] || fail "cannot find the API server endpoint"
echo "API server at $API_IP:$API_PORT"

log "helm install $RELEASE (chart charts/chat-tenant-operator) into a namespace that enforces Pod Security restricted"
kubectl create namespace "$OPERATOR_NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace "$OPERATOR_NS" pod-security.kubernetes.io/enforce=restricted --overwrite
"$HELM" upgrade --install "$RELEASE" "$REPO_ROOT/charts/chat-tenant-operator" \
  --namespace "$OPERATOR_NS" \
  --set-string image.tag="$IMAGE_TAG" \
  --set image.pullPolicy=Never \
  --set "settings.kubernetesApiCIDRs[0]=${API_IP}/32" \
  --set "settings.kubernetesApiPorts[0]=${API_PORT}" \
  --wait --timeout 5m
wait_for "a leader" 120 bash -c "[[ -n \$(kubectl -n '$OPERATOR_NS' get lease chat-tenant-operator-leader -o jsonpath='{.spec.holderIdentity}') ]]"
echo "leader: $(kubectl -n "$OPERATOR_NS" get lease chat-tenant-operator-leader -o jsonpath='{.spec.holderIdentity}')"

log "tenant $TENANT"
kubectl apply -f "$E2E_DIR/tenant.yaml"
if ! kubectl wait --for=condition=Ready "chattenant/$TENANT" --timeout="$TIMEOUT"; then
  fail "tenant $TENANT did not become Ready within $TIMEOUT"
fi
kubectl get chattenant "$TENANT"
HOLDING=$(kubectl get chattenant "$TENANT" -o jsonpath='{range .status.safeguards[?(@.holds==false)]}{.name} {end}')
[[ -z "$HOLDING" ]] || fail "safeguards not holding: $HOLDING"

log "XMPP: a message from alice to bob over STARTTLS (CA-verified, SCRAM-SHA-256)"
secret_to_file "$TENANT_NS" ejabberd-tls ca.crt "$WORK/ca.crt"
secret_to_file "$TENANT_NS" xmpp-admin-credentials "alice_at_${XMPP_DOMAIN}" "$WORK/alice"
secret_to_file "$TENANT_NS" xmpp-admin-credentials "bob_at_${XMPP_DOMAIN}" "$WORK/bob"
kubectl -n "$TENANT_NS" port-forward service/ejabberd "${LOCAL_XMPP_PORT}:5222" >"$WORK/port-forward.log" 2>&1 &
PORT_FORWARD_PID=$!
wait_for "the port-forward" 60 bash -c "exec 3<>/dev/tcp/127.0.0.1/${LOCAL_XMPP_PORT}"
(
  cd "$REPO_ROOT"
  XMPP_HOST=127.0.0.1 XMPP_PORT=$LOCAL_XMPP_PORT XMPP_DOMAIN=$XMPP_DOMAIN XMPP_CA_FILE="$WORK/ca.crt" \
    SENDER=alice SENDER_PASSWORD_FILE="$WORK/alice" RECIPIENT=bob RECIPIENT_PASSWORD_FILE="$WORK/bob" \
    npx tsx test/e2e/xmpp-message.ts
) || fail "the XMPP message did not arrive"
kill "$PORT_FORWARD_PID" 2>/dev/null || true
PORT_FORWARD_PID=""

log "backup: a Job from the CronJob, as on-call would start one"
BACKUP_JOB="e2e-backup-$(date +%s)"
kubectl -n "$TENANT_NS" create job --from=cronjob/postgres-backup "$BACKUP_JOB"
if ! kubectl -n "$TENANT_NS" wait --for=condition=Complete "job/$BACKUP_JOB" --timeout=15m; then
  kubectl -n "$TENANT_NS" logs "job/$BACKUP_JOB" || true
  fail "backup job $BACKUP_JOB did not complete"
fi
kubectl -n "$TENANT_NS" logs "job/$BACKUP_JOB"
wait_for "status.backup.lastSuccessfulTime" 120 bash -c "[[ -n \$(kubectl get chattenant '$TENANT' -o jsonpath='{.status.backup.lastSuccessfulTime}') ]]"
echo "last successful backup: $(kubectl get chattenant "$TENANT" -o jsonpath='{.status.backup.lastSuccessfulTime}')"

log "restore verification: 'verify --backup latest' with the backup Job's environment"
# verify restores the newest backup into a scratch database, compares row counts with the manifest and drops
# it. Creating a database takes the superuser (over TLS and SCRAM), so the Job logs in with its Secret.
VERIFY_JOB="e2e-verify-$(date +%s)"
kubectl -n "$TENANT_NS" get cronjob postgres-backup -o json |
  node "$E2E_DIR/job-from-cronjob.mjs" --login-secret postgres-superuser "$VERIFY_JOB" verify --backup latest |
  kubectl apply -f -
if ! kubectl -n "$TENANT_NS" wait --for=condition=Complete "job/$VERIFY_JOB" --timeout=15m; then
  kubectl -n "$TENANT_NS" logs "job/$VERIFY_JOB" || true
  fail "verify job $VERIFY_JOB did not complete"
fi
kubectl -n "$TENANT_NS" logs "job/$VERIFY_JOB" | tee "$WORK/verify.log"
grep -q '"ok":true' "$WORK/verify.log" || fail "verify did not report ok"
kubectl -n "$TENANT_NS" delete job "$VERIFY_JOB" --wait=false

log "delete the tenant with deletionPolicy Retain"
# Recorded before deletion, compared afterwards.
# (read -a, not mapfile: macOS still ships bash 3.2.)
read -r -a PVCS_BEFORE <<<"$(kubectl -n "$TENANT_NS" get pvc -o jsonpath='{.items[*].metadata.name}')"
echo "PVCs before: ${PVCS_BEFORE[*]}"
[[ ${#PVCS_BEFORE[@]} -ge 3 ]] || fail "expected the database PVCs and the backup PVC, found: ${PVCS_BEFORE[*]}"
kubectl delete chattenant "$TENANT" --wait --timeout=5m

log "what Retain kept"
kubectl get namespace "$TENANT_NS" >/dev/null || fail "namespace $TENANT_NS was deleted"
for pvc in "${PVCS_BEFORE[@]}"; do
  kubectl -n "$TENANT_NS" get pvc "$pvc" >/dev/null 2>&1 || fail "PVC $pvc was deleted (Retain must keep data volumes)"
  # No owner that is gone or going: not the ChatTenant; a CloudNativePG Cluster only if it was retained too
  # (its PVCs hang off it, so the Cluster is kept under Retain).
  owners=$(kubectl -n "$TENANT_NS" get pvc "$pvc" -o jsonpath='{range .metadata.ownerReferences[*]}{.kind}/{.name} {end}')
  for owner in $owners; do
    case "$owner" in
      ChatTenant/*) fail "PVC $pvc is still owned by the deleted ChatTenant: garbage collection will delete it" ;;
      Cluster/*) kubectl -n "$TENANT_NS" get "clusters.postgresql.cnpg.io/${owner#Cluster/}" >/dev/null 2>&1 ||
        fail "PVC $pvc is owned by the CloudNativePG Cluster ${owner#Cluster/}, which was deleted" ;;
      *) fail "PVC $pvc has an unexpected owner $owner" ;;
    esac
  done
done
for secret in backup-encryption-key tenant-ca postgres-app xmpp-admin-credentials; do
  kubectl -n "$TENANT_NS" get secret "$secret" >/dev/null 2>&1 || fail "Secret $secret was deleted (Retain must keep keys and credentials)"
done
wait_for "the ejabberd StatefulSet to be gone" 300 bash -c "! kubectl -n '$TENANT_NS' get statefulset ejabberd"
wait_for "the backup CronJob to be gone" 300 bash -c "! kubectl -n '$TENANT_NS' get cronjob postgres-backup"
echo "kept: namespace $TENANT_NS, PVCs ${PVCS_BEFORE[*]}, keys and credentials; workloads removed"

log "the backups are still on the retained volume"
# A pod of the operator image (Pod Security restricted, read-only) lists the backup volume.
kubectl -n "$TENANT_NS" run e2e-list-backups --image="$IMAGE" --image-pull-policy=Never --restart=Never \
  --overrides='{
    "spec": {
      "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
      "volumes": [{"name": "backups", "persistentVolumeClaim": {"claimName": "postgres-backups", "readOnly": true}}],
      "containers": [{
        "name": "list", "image": "'"$IMAGE"'", "imagePullPolicy": "Never",
        "command": ["ls", "-lR", "/backups"],
        "volumeMounts": [{"name": "backups", "mountPath": "/backups", "readOnly": true}],
        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}
      }]
    }
  }'
wait_for "the listing pod to finish" 180 bash -c "[[ \$(kubectl -n '$TENANT_NS' get pod e2e-list-backups -o jsonpath='{.status.phase}') == Succeeded ]]"
kubectl -n "$TENANT_NS" logs e2e-list-backups | tee "$WORK/backups.txt"
grep -q . "$WORK/backups.txt" || fail "the backup volume is empty"
kubectl -n "$TENANT_NS" delete pod e2e-list-backups --wait=false

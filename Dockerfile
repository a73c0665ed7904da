# syntax=docker/dockerfile:1
#
# The chat-tenant-operator image: the operator (`run`) and the backup runner (`backup`, `restore`,
# `verify`, `list-backups`) that tenant CronJobs start, in one image.
#
#   docker build -t ghcr.io/chat-tenant-operator/chat-tenant-operator:0.1.0 .
#
# Runs as uid/gid 10001 (src/render/backup.ts OPERATOR_UID; the chart's securityContext) with a read-only
# root filesystem: nothing is written at run time except /tmp (an emptyDir in the pod).
# Not built in this repository's CI: the development machines have no Docker engine. test/e2e/kind.sh
# builds it on a machine that has one.

# Node 24 is the active LTS line; pin a digest in your own build for reproducibility.
ARG NODE_IMAGE=node:24-bookworm-slim
# pg_dump must be at least the server's major version (the tenants run PostgreSQL 17).
ARG POSTGRESQL_CLIENT_MAJOR=17

FROM ${NODE_IMAGE} AS build
WORKDIR /build
# Dependencies first, so source changes reuse the cached layer. Install scripts are not needed (no native
# modules) and are not run.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && find dist -name '*.map' -delete

FROM ${NODE_IMAGE} AS runtime
ARG POSTGRESQL_CLIENT_MAJOR
# PostgreSQL client tools (pg_dump, pg_restore, psql) from the PostgreSQL project's own apt repository
# (PGDG): Debian bookworm ships only PostgreSQL 15. The signing key is checked against its published
# fingerprint before apt trusts it; gnupg and curl are removed again afterwards.
ENV PGDG_KEY_FINGERPRINT=B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl gnupg; \
    install -d -m 0755 /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    gpg --batch --show-keys --with-colons /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
      | awk -F: '$1 == "fpr" { print $10 }' | grep -qx "${PGDG_KEY_FINGERPRINT}"; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${POSTGRESQL_CLIENT_MAJOR}"; \
    apt-get purge -y --auto-remove curl gnupg; \
    rm -rf /var/lib/apt/lists/* /root/.gnupg; \
    pg_dump --version | grep -q " ${POSTGRESQL_CLIENT_MAJOR}\."

# The non-root user the pods run as (runAsUser/runAsGroup 10001); no home, no shell.
RUN groupadd --system --gid 10001 chat-tenant-operator \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin chat-tenant-operator

WORKDIR /app
# The backup runner calls pg_dump/pg_restore from PG_BINDIR (src/cli/backup.ts), not through Debian's
# pg_wrapper, so the version is exactly the one installed above.
ENV NODE_ENV=production \
    PG_BINDIR=/usr/lib/postgresql/${POSTGRESQL_CLIENT_MAJOR}/bin \
    PATH=/usr/lib/postgresql/${POSTGRESQL_CLIENT_MAJOR}/bin:${PATH}
# Owned by root and not writable by the runtime user: the code cannot be changed by the process running it.
COPY --from=build --chown=0:0 /build/package.json ./package.json
COPY --from=build --chown=0:0 /build/node_modules ./node_modules
COPY --from=build --chown=0:0 /build/dist ./dist

USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]

LABEL org.opencontainers.image.title="chat-tenant-operator" \
      org.opencontainers.image.description="Kubernetes operator for isolated, HIPAA-minded XMPP chat tenants; also the tenants' backup runner" \
      org.opencontainers.image.source="https://github.com/chat-tenant-operator/chat-tenant-operator" \
      org.opencontainers.image.licenses="Apache-2.0"

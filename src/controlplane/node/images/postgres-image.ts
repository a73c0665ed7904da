/**
 * Files that make Debian's PostgreSQL 17 (trixie) behave like the official postgres image for the
 * operator's standalone database (src/render/postgres/standalone.ts): user postgres with uid and
 * gid 999, an entrypoint that initialises an empty PGDATA from POSTGRES_USER, POSTGRES_PASSWORD_FILE
 * (or POSTGRES_PASSWORD) and POSTGRES_INITDB_ARGS, runs /docker-entrypoint-initdb.d/*.sql and *.sh once, and then
 * execs `postgres "$@"`.
 */
export const POSTGRES_IMAGE_UID = 999;
/** The major the renderer's default image runs (settings.ts), and the backup runner's client tools. */
export const POSTGRES_MAJOR = 17;
export const POSTGRES_BIN_DIR = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;

export const POSTGRES_ENTRYPOINT = `#!/bin/sh
set -eu
: "\${PGDATA:?PGDATA must be set}"
: "\${POSTGRES_USER:=postgres}"
export PGDATA POSTGRES_USER
if [ "\${1:-}" != "" ] && [ "\${1#-}" = "$1" ]; then exec "$@"; fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile=$(mktemp)
  # The operator hands the password over as a file (POSTGRES_PASSWORD_FILE), as the official image
  # accepts it; it is copied straight to initdb's password file and never enters the environment.
  if [ -n "\${POSTGRES_PASSWORD_FILE:-}" ]; then
    cat "$POSTGRES_PASSWORD_FILE" > "$pwfile"
  else
    printf '%s\\n' "\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE must be set}" > "$pwfile"
  fi
  # shellcheck disable=SC2086
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  if [ -n "$(ls -A /docker-entrypoint-initdb.d 2> /dev/null)" ]; then
    # A private server for the init scripts: no TCP, socket in /tmp.
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/tmp" start
    export PGHOST=/tmp PGUSER="$POSTGRES_USER"
    for f in /docker-entrypoint-initdb.d/*; do
      case "$f" in
        *.sql) psql -v ON_ERROR_STOP=1 --dbname postgres -f "$f" ;;
        *.sh) if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      esac
    done
    unset PGHOST PGUSER
    pg_ctl -D "$PGDATA" -m fast -w stop
  fi
fi
exec postgres "$@"
`;

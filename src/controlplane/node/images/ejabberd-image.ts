/**
 * Files that make Debian's ejabberd 23.01 look like the official image (ghcr.io/processone/ejabberd)
 * to the operator's Pods: see src/render/ejabberd/pod-layout.ts for what they rely on.
 */
export const EJABBERD_IMAGE_UID = 9000;
export const EJABBERD_IMAGE_HOME = "/opt/ejabberd";

/**
 * `ejabberdctl` on PATH, as the official image has it: defaults to the image's HOME layout,
 * writes the cookie from ERLANG_COOKIE only if none exists, and runs CTL_ON_CREATE (first start
 * with an empty database) and CTL_ON_START (every start) once the node answers. Debian's own
 * ejabberdctl already honours ERLANG_NODE_ARG, ERL_DIST_PORT, ERL_OPTIONS and vm.args.
 */
export const EJABBERDCTL_WRAPPER = `#!/bin/sh
: "\${HOME:=${EJABBERD_IMAGE_HOME}}"
: "\${CONFIG_DIR:=${EJABBERD_IMAGE_HOME}/conf}"
: "\${LOGS_DIR:=${EJABBERD_IMAGE_HOME}/logs}"
: "\${SPOOL_DIR:=${EJABBERD_IMAGE_HOME}/database}"
export HOME CONFIG_DIR LOGS_DIR SPOOL_DIR
if [ -n "\${ERLANG_COOKIE:-}" ] && [ ! -f "$HOME/.erlang.cookie" ]; then
  (umask 077 && printf '%s' "$ERLANG_COOKIE" > "$HOME/.erlang.cookie")
fi

run_ctl_commands() {
  # One ejabberdctl command per line or per ";", as the official image reads them.
  printf '%s\\n' "$1" | tr ';' '\\n' | while read -r line; do
    [ -n "$line" ] || continue
    # shellcheck disable=SC2086
    /usr/sbin/ejabberdctl $line || echo "ejabberdctl: '$line' failed" >&2
  done
}

if [ "\${1:-}" = foreground ] && { [ -n "\${CTL_ON_CREATE:-}" ] || [ -n "\${CTL_ON_START:-}" ]; }; then
  first_start=false
  [ -n "$(ls -A "$SPOOL_DIR" 2> /dev/null)" ] || first_start=true
  /usr/sbin/ejabberdctl "$@" &
  server=$!
  trap 'kill -TERM "$server" 2> /dev/null' TERM INT
  until /usr/sbin/ejabberdctl status > /dev/null 2>&1; do
    kill -0 "$server" 2> /dev/null || break
    sleep 1
  done
  if [ "$first_start" = true ] && [ -n "\${CTL_ON_CREATE:-}" ]; then run_ctl_commands "$CTL_ON_CREATE"; fi
  if [ -n "\${CTL_ON_START:-}" ]; then run_ctl_commands "$CTL_ON_START"; fi
  wait "$server"
  status=$?
  # A signal interrupts the first wait; wait again for the server's own exit.
  kill -0 "$server" 2> /dev/null && { wait "$server"; status=$?; }
  exit "$status"
fi
exec /usr/sbin/ejabberdctl "$@"
`;

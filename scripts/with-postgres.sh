#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster on 127.0.0.1, then stop and remove it.
#
#   scripts/with-postgres.sh <command> [args…]
#
# The command sees YOMIKAI_TEST_POSTGRES_URL (a SQLAlchemy URL of the cluster's `postgres`
# database, superuser, trust authentication). PostgreSQL comes from Debian's packages and is
# installed when missing and we are root. Where that cannot work, the command still runs, without
# the variable, after a loud notice -- except under CI, where a missing PostgreSQL is a failure.
set -euo pipefail

command=("$@")

notice() { printf '\n\033[1;33m*** %s ***\033[0m\n\n' "$*" >&2; }

find_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

skip_postgres() {
  if [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is required in CI but could not be set up: $*" >&2
    exit 1
  fi
  notice "PostgreSQL tests SKIPPED: $*"
  exec "${command[@]}"
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing PostgreSQL from Debian's packages…" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bindir=$(find_bindir || true)
  fi
fi
[ -n "$bindir" ] || skip_postgres "no PostgreSQL server found and it cannot be installed here"

workdir=$(mktemp -d /tmp/yomikai-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then  # the server refuses to run as root
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$workdir"
  as_owner=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$workdir/data" -U postgres --auth=trust -E UTF8 \
  --no-locale >"$workdir/initdb.log" 2>&1 || { cat "$workdir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $port -k $workdir -c fsync=off -c synchronous_commit=off -c max_connections=200" \
  start >/dev/null || { cat "$workdir/server.log" >&2; exit 1; }

export YOMIKAI_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for the tests" >&2
"${command[@]}"

#!/usr/bin/env bash
# make run: install what is missing, build and install the extension, start a
# PostgreSQL 15 cluster of the project's own, create the extension in
# database "secrets", show the main flows, and leave the server running.
#
# The cluster lives outside the checkout, where the user that runs it can
# reach it whatever the checkout's permissions (a checkout under /root, or in
# a 0700 directory): as root in /var/lib/postgresql/secrets-run, run as the
# user postgres; as another user in ~/.local/share/secrets-run; or in
# $SECRETS_RUN_DIR.  It is restarted if it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
runas=${RUN_USER:-postgres}
port=${PGPORT_RUN:-5499}
if [ -n "${SECRETS_RUN_DIR:-}" ]; then
	run=$SECRETS_RUN_DIR
elif [ "$(id -u)" -eq 0 ]; then
	run=$(getent passwd "$runas" | cut -d: -f6)/secrets-run
else
	run=${XDG_DATA_HOME:-$HOME/.local/share}/secrets-run
fi
data=$run/data

bash scripts/deps.sh
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$pg_config" --bindir)
make -s WERROR=1 PG_CONFIG="$pg_config"
make -s install PG_CONFIG="$pg_config" >/dev/null

# as the user that runs the cluster, from a directory that user can enter
as_user() {
	if [ "$(id -u)" -eq 0 ]; then (cd "$run" && runuser -u "$runas" -- "$@"); else "$@"; fi
}

mkdir -p "$run"
if [ "$(id -u)" -eq 0 ]; then chown "$runas" "$run"; fi
chmod 700 "$run"
if [ ! -f "$data/PG_VERSION" ]; then
	echo "creating a cluster in $data"
	as_user "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
	cat >> "$data/postgresql.conf" <<CONF
# make run
listen_addresses = ''
port = $port
unix_socket_directories = '$run'
unix_socket_permissions = 0700
log_min_messages = warning
CONF
fi
# reads record last_used_time in shared memory and a background worker
# writes it (README, Configuration); also for clusters made before this line
if ! grep -q "^shared_preload_libraries = 'secrets'" "$data/postgresql.conf"; then
	echo "shared_preload_libraries = 'secrets'	# make run: reads never write" >>"$data/postgresql.conf"
fi
if as_user "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
	echo "restarting the cluster (to load the freshly built extension)"
	as_user "$bindir/pg_ctl" -D "$data" -l "$run/server.log" -w restart -m fast >/dev/null
else
	as_user "$bindir/pg_ctl" -D "$data" -l "$run/server.log" -w start >/dev/null
fi

psql=("$bindir/psql" -X -h "$run" -p "$port" -U postgres)
"${psql[@]}" -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS secrets" -c "CREATE DATABASE secrets"
echo
echo "=== a tour of the SQL API (scripts/tour.sql) ==="
"${psql[@]}" -d secrets -f scripts/tour.sql
echo
echo "The server keeps running.  Connect with:"
echo "  ${psql[*]} -d secrets"
echo "Its data directory, log and socket are in $run.  Stop it with:"
if [ "$(id -u)" -eq 0 ]; then
	echo "  runuser -u $runas -- $bindir/pg_ctl -D $data stop"
else
	echo "  $bindir/pg_ctl -D $data stop"
fi

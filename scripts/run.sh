#!/usr/bin/env bash
# make run: install what is missing, build and install the extension, start a
# PostgreSQL 15 cluster of the project's own (data in .run/ under the
# checkout, run as the user postgres, restarted if it is already there),
# create the extension in database "secrets", show the main flows, and leave
# the server running.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
bindir=/usr/lib/postgresql/15/bin
runas=${RUN_USER:-postgres}
port=${PGPORT_RUN:-5499}
run=$top/.run
data=$run/data

bash scripts/deps.sh
make -s WERROR=1
make -s install >/dev/null

as_user() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u "$runas" -- "$@"; else "$@"; fi
}

mkdir -p "$run"
[ "$(id -u)" -eq 0 ] && chown "$runas" "$run"
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
echo "Stop it with:"
echo "  runuser -u $runas -- $bindir/pg_ctl -D $data stop"

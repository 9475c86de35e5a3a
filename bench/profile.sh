#!/usr/bin/env bash
# bench/profile.sh: where the instructions of the hot paths go.
#
# Counts instructions with valgrind --tool=callgrind in a single-user backend
# (postgres --single) on a throwaway cluster holding BENCH_N (10000) secrets
# and the plain table, for the statements of run.sh, each PREPAREd once and
# EXECUTEd many times:
#   read_csms     csms_get_secret_value, every read the first of its secret
#                 (so each one also writes last_used_time)
#   read_csms_ro  the same in read-only transactions (no last_used_time write)
#   read_csms_grant, read_csms_pattern: read_csms_ro by a role with a direct
#                 grant on each secret, by a member of a role with a pattern
#                 grant (access control)
#   read_csms_hot the same, over a hot set of 100 secrets read again and again
#                 (the data keys of the set are remembered: envelope.c)
#   read_plain    SELECT value FROM plain WHERE name = $1
#   base          SELECT $1 (what any statement costs in this harness)
#   create_*, version_*: csms_create_secret / INSERT, csms_create_secret_version / UPDATE;
#                 create_event: csms_create_secret subscribed to an event
# Each is run twice, with K1 and K2 statements; (Ir(K2) - Ir(K1)) / (K2 - K1)
# is the cost of one statement with start-up costs cancelled out.  Then the
# inclusive cost per call of the main functions below each csms_* entry point.
#
# Instruction counts do not depend on other load on the machine, unlike TPS.
# PROFILE_KINDS="base read_plain read_csms_ro" profiles only those (base is
# needed for the "above base" column).
# Output: stdout and bench/results/profile.md.  Takes about 5 minutes.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_N:-10000}
K1=${PROFILE_K1:-100}
K2=${PROFILE_K2:-1100}
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$pg_config" --bindir) || exit 1

die() { echo "profile: FAILED: $*" >&2; exit 1; }
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then
		apt-get install -y -q valgrind >/dev/null || die "could not install valgrind"
	else
		die "valgrind is not installed"
	fi
fi
[ -f "$("$pg_config" --sharedir)/extension/secrets.control" ] || die "extension secrets is not installed (make install)"

if [ "$(id -u)" -eq 0 ]; then
	runas=${BENCH_USER:-postgres}
	as_pg=(runuser -u "$runas" --)
else
	as_pg=()
fi
work=$(mktemp -d /tmp/csms-profile.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown "$runas" "$work"
data=$work/data
port=$(( 20000 + RANDOM % 20000 ))
started=no
cleanup() {
	[ "$started" = yes ] && "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1
	[ -n "${BENCH_KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$data" -U postgres -A trust --no-locale -E UTF8 >/dev/null 2>&1 || die initdb
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
synchronous_commit = off
EOF
"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$work/server.log" -w start >/dev/null || die "start"
started=yes
psql_() { "${as_pg[@]}" "$bindir/psql" -h "$work" -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c "CREATE DATABASE bench" || die "create database"
psql_ -d bench -f "$here/setup.sql" >/dev/null 2>&1 || die "setup"
psql_ -d bench -c "SELECT count(csms_create_secret('s' || g, secret_string => rpad('value-of-s' || g || '-', 100, 'abcdefghij'))) FROM generate_series(1, $N) g" >/dev/null || die "load"
# new versions are measured at the 20-version limit, as in run.sh: each one
# also prunes the oldest (PROFILE_VERSIONS=1 keeps one version per secret)
if [ "${PROFILE_VERSIONS:-20}" -gt 1 ]; then
	for ((v = 2; v <= ${PROFILE_VERSIONS:-20}; v++)); do
		psql_ -d bench -c "SELECT count(csms_create_secret_version('s' || g, secret_string => rpad('value-of-s' || g || '-', 100, 'abcdefghij'))) FROM generate_series(1, $N) g" >/dev/null || die "versions"
	done
fi
psql_ -d bench -c "INSERT INTO plain SELECT 's' || g, rpad('value-of-s' || g || '-', 100, 'abcdefghij') FROM generate_series(1, $N) g" -c "VACUUM ANALYZE" || die "load plain"
# the readers of access control (run.sh makes the same)
psql_ -d bench -c "CREATE ROLE bench_direct" -c "CREATE ROLE bench_group" \
	-c "CREATE ROLE bench_member IN ROLE bench_group" \
	-c "GRANT EXECUTE ON FUNCTION csms_get_secret_value(text, text) TO bench_direct, bench_member" \
	-c "SELECT count(csms_grant('s' || g, 'bench_direct', '{read}')) FROM generate_series(1, $N) g" \
	-c "SELECT csms_grant('s*', 'bench_group', '{read}')" >/dev/null || die "grants"
"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null || die "stop"
started=no

V=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzAB
# stmts KIND COUNT: the statements of one profile run; names never repeat
# across runs, so that every csms read is the first of its secret
next_id=1
stmts() {
	local kind=$1 k=$2 i prefix=s setup=""
	case $kind in
		read_csms) setup="PREPARE r(text) AS SELECT csms_get_secret_value(\$1);" ;;
		read_csms_ro) setup="SET default_transaction_read_only = on
PREPARE r(text) AS SELECT csms_get_secret_value(\$1);" ;;
		read_csms_grant) setup="SET default_transaction_read_only = on
SET ROLE bench_direct
PREPARE r(text) AS SELECT csms_get_secret_value(\$1);" ;;
		read_csms_pattern) setup="SET default_transaction_read_only = on
SET ROLE bench_member
PREPARE r(text) AS SELECT csms_get_secret_value(\$1);" ;;
		read_csms_hot) setup="SET default_transaction_read_only = on
PREPARE r(text) AS SELECT csms_get_secret_value(\$1);"; prefix=h ;;
		read_plain) setup="PREPARE r(text) AS SELECT value FROM plain WHERE name = \$1;" ;;
		base) setup="PREPARE r(text) AS SELECT \$1;" ;;
		create_csms) setup="PREPARE r(text) AS SELECT id FROM csms_create_secret(\$1, secret_string => '$V');"; prefix=c ;;
		create_plain) setup="PREPARE r(text) AS INSERT INTO plain (name, value) VALUES (\$1, '$V');"; prefix=c ;;
		create_event) setup="PREPARE r(text) AS SELECT id FROM csms_create_secret(\$1, secret_string => '$V', event_subscriptions => '{bench-events}');"; prefix=c ;;
		version_csms) setup="PREPARE r(text) AS SELECT id FROM csms_create_secret_version(\$1, secret_string => '$V');" ;;
		version_plain) setup="PREPARE r(text) AS UPDATE plain SET value = '$V' WHERE name = \$1;" ;;
	esac
	echo "$setup"
	for ((i = 0; i < k; i++)); do
		if [ "$prefix" = c ]; then
			echo "EXECUTE r('$prefix$kind$next_id');"
		elif [ "$prefix" = h ]; then	# a hot set of 100 secrets, read again and again
			echo "EXECUTE r('s$(( i % 100 + 1 ))');"
		else
			echo "EXECUTE r('s$(( (next_id - 1) % N + 1 ))');"
		fi
		next_id=$((next_id + 1))
	done
}

declare -A per_stmt
kinds=${PROFILE_KINDS:-"base read_plain read_csms_ro read_csms_grant read_csms_pattern read_csms_hot read_csms create_plain create_csms version_plain version_csms"}
for kind in $kinds; do
	for k in $K1 $K2; do
		stmts "$kind" "$k" >"$work/$kind-$k.sql"
		chmod 644 "$work/$kind-$k.sql"
		"${as_pg[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/cg.$kind-$k" \
			"$bindir/postgres" --single -D "$data" bench <"$work/$kind-$k.sql" \
			>"$work/out.$kind-$k" 2>"$work/err.$kind-$k" || die "valgrind $kind $k (see $work/err.$kind-$k)"
		grep -q 'ERROR' "$work/out.$kind-$k" "$work/err.$kind-$k" && { grep -m3 ERROR "$work/out.$kind-$k" "$work/err.$kind-$k"; die "$kind: a statement failed"; }
	done
	a=$(sed -n 's/^summary: //p' "$work/cg.$kind-$K1")
	b=$(sed -n 's/^summary: //p' "$work/cg.$kind-$K2")
	per_stmt[$kind]=$(( (b - a) / (K2 - K1) ))
	echo "profile: $kind ${per_stmt[$kind]} instructions per statement" >&2
done

# inclusive Ir per call of the functions of interest, in the K2 run
breakdown() {	# KIND ENTRY FUNCTIONS...
	local kind=$1 entry=$2
	shift 2
	callgrind_annotate --inclusive=yes --threshold=100 "$work/cg.$kind-$K2" 2>/dev/null |
		awk -v k="$K2" -v entry="$entry" -v list="$*" '
			BEGIN { n = split(list, want, " "); for (i = 1; i <= n; i++) order[want[i]] = i }
			/^ *[0-9,]+ +\(/ {
				ir = $1; gsub(",", "", ir)
				f = $0; sub(/ \[.*$/, "", f); sub(/^.*:/, "", f)
				if (f in order && !(f in seen)) { seen[f] = ir }
			}
			END {
				for (i = 1; i <= n; i++) {
					f = want[i]
					if (f in seen) printf "| %s | %.0f | %.0f%% |\n", f, seen[f] / k, 100 * seen[f] / seen[entry]
				}
			}'
}

{
	echo "# Instruction profile of the hot paths (callgrind, single-user backend)"
	echo
	echo "- $(date -u +%Y-%m-%dT%H:%M:%SZ), $N secrets, $("$bindir/postgres" --version), revision $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null)"
	echo "- per statement: (Ir of $K2 EXECUTEs - Ir of $K1) / $((K2 - K1)); base = SELECT \$1"
	echo
	echo "| statement | instructions | above base | vs plain (above base) |"
	echo "|---|---:|---:|---:|"
	b=${per_stmt[base]}
	for pair in "read_plain read_plain" "read_csms_ro read_plain" "read_csms_grant read_plain" \
		"read_csms_pattern read_plain" "read_csms_hot read_plain" "read_csms read_plain" \
		"create_plain create_plain" "create_csms create_plain" "create_event create_plain" "version_plain version_plain" "version_csms version_plain"; do
		set -- $pair
		[ -n "${per_stmt[$1]:-}" ] && [ -n "${per_stmt[$2]:-}" ] || continue
		echo "| $1 | ${per_stmt[$1]} | $(( ${per_stmt[$1]} - b )) | $(awk -v x="$(( ${per_stmt[$1]} - b ))" -v y="$(( ${per_stmt[$2]} - b ))" 'BEGIN { printf "%.1fx", x / y }') |"
	done
	common="csms_fast_read index_lookup index_getnext_slot index_open table_open get_relname_relid csms_root_key_load csms_touch_secret csms_call_begin csms_exec SPI_execute_plan GetCachedPlan ExecutorStart ExecutorEnd ExecInitNode TupleDescInitEntry RI_FKey_check_ins ExecConstraints stringToNode textregexeq heap_lock_tuple ExecInsertIndexTuples csms_key_resolve csms_key_by_id csms_key_material csms_secret_open csms_secret_tuple metadata_result csms_seal_value csms_open_value csms_gcm_encrypt csms_gcm_decrypt EVP_EncryptInit_ex EVP_DecryptInit_ex csms_random_bytes csms_events_check_subscriptions csms_events_fire PreCommit_Notify Async_Notify CommitTransactionCommand"
	for pair in "read_csms_ro csms_get_secret_value" "read_csms_hot csms_get_secret_value" "read_csms csms_get_secret_value" \
		"create_csms csms_create_secret" "create_event csms_create_secret" "version_csms csms_create_secret_version"; do
		set -- $pair
		[ -n "${per_stmt[$1]:-}" ] || continue
		echo
		echo "### $1: inclusive instructions per call ($2 = 100%)"
		echo
		echo "| function | per call | of $2 |"
		echo "|---|---:|---:|"
		breakdown "$1" "$2" "$2 value_lookup read_value $common"
	done
} >"$work/profile.md"
mkdir -p "$here/results"
cp "$work/profile.md" "$here/results/profile.md"
cat "$work/profile.md"

#!/usr/bin/env bash
# bench/run.sh [--smoke]
#
# Benchmarks of the hot paths of the extension against a plain table and
# pgcrypto, with pgbench in prepared mode, on a throwaway cluster:
#
#   read         csms_get_secret_value(name)   vs SELECT value FROM plain
#                                              vs pgp_sym_decrypt
#                as the owner, as a role with a direct grant, as a member
#                of a role with a pattern grant
#   create       csms_create_secret            vs INSERT (plain, pgp_sym_encrypt)
#   new version  csms_create_secret_version    vs UPDATE (plain, pgp_sym_encrypt)
#   scale        read at BENCH_N and at BENCH_BIG secrets
#   list by tag  csms_list_resource_instances   vs SELECT from a plain table
#                (filter by one tag: a page of  and a table of its tags,
#                10 of its 100 secrets) over    indexed
#                BENCH_TAGS tagged secrets
#   rotate       csms_rotate_secret             vs csms_create_secret_version
#                (PG-ROLE SingleUser: SCRAM-    of the same secrets and value
#                SHA-256 verifier and ALTER     size
#                ROLE; COMMON: a trivial
#                rotation function) over
#                BENCH_ROT secrets of each kind
#   memory       one backend before/after reading BENCH_MEM_N distinct secrets
#
# in two setups, one after the other: "tuned" (the library preloaded,
# shared_buffers = 2GB in huge pages: what README recommends) and
# "installed" (no preload, shared_buffers = 256MB, no huge pages,
# synchronous_commit = off, otherwise defaults); BENCH_SETUP=tuned or
# BENCH_SETUP=installed runs one.
#
# Prints a table per setup (median TPS of several runs, ratio to the plain
# table) and saves them in bench/results/latest-<setup>.md (both in
# latest.md) and bench/results/<timestamp>-<setup>.md; a run of both with
# the default parameters also writes bench/RESULTS.md (the committed copy).
# --smoke runs tiny sizes once (make test): it checks that every workload
# runs without error in both setups and asserts nothing about timings.
#
# Exits non-zero when any step or any pgbench run fails.
#
# Settings (environment, full mode only):
#   BENCH_N=10000 BENCH_REPLICAS=N/10 BENCH_BIG=1000000 BENCH_MEM_N=100000 BENCH_DURATION=6
#   BENCH_RUNS=5 BENCH_CLIENTS="1 2" BENCH_BATCH=100000
#   BENCH_TAGS=100000    tagged secrets (database bench_tags), 100 for each
#                        value of the tag the list workloads filter by
#   BENCH_ROT=1000       secrets of each kind the rotate phase rotates (and
#                        login roles bench_role_1.. for the PG-ROLE ones):
#                        enough that 2 clients rarely pick the same one
#   BENCH_RETRIES=2      runs during which other processes used more than
#                        BENCH_MAX_OTHERS=10 % of the machine's CPU are done
#                        again, at most this many times each and
#                        BENCH_RETRY_BUDGET=24 times in all
#   BENCH_NO_INSTALL=1   do not run make install first
#   BENCH_ONLY="read_csms read_plain"   run only these workloads (ids in
#                        the workloads list below); the table shows n/a
#                        for the others
#   BENCH_KEEP=1         keep the cluster directory (/tmp/csms-bench.*)
#   BENCH_HUGE_PAGES=on|off  shared memory in 2 MB huge pages (default: on
#                        in full mode when the kernel can reserve them; as
#                        root, the script raises vm.nr_hugepages for the run
#                        and puts the old value back at the end)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
mode=full
case "${1:-}" in
	--smoke) mode=smoke ;;
	"") ;;
	*) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
esac

# Two setups (issue 15): "tuned", what README recommends (the library
# preloaded, shared_buffers = 2GB in huge pages), and "installed", what a
# plain CREATE EXTENSION on an untuned server gives (no preload, defaults
# but synchronous_commit = off, shared_buffers = 256MB, no huge pages).
# Without BENCH_SETUP the script runs both, one after the other, and puts
# their tables one above the other.
setup=${BENCH_SETUP:-}
case "$setup" in
	tuned|installed) ;;
	"")
		rc=0
		for s in tuned installed; do
			BENCH_SETUP=$s bash "$0" "$@" || rc=1
		done
		sfx=$([ "$mode" = smoke ] && echo smoke || echo latest)
		if [ -f "$here/results/$sfx-tuned.md" ] && [ -f "$here/results/$sfx-installed.md" ]; then
			{ cat "$here/results/$sfx-tuned.md"; echo; cat "$here/results/$sfx-installed.md"; } \
				>"$here/results/$sfx.md"
		fi
		if [ "$mode" = full ] && [ -f "$here/RESULTS-tuned.md.new" ] && [ -f "$here/RESULTS-installed.md.new" ]; then
			{ cat "$here/RESULTS-tuned.md.new"; echo; cat "$here/RESULTS-installed.md.new"; } >"$here/RESULTS.md"
		fi
		rm -f "$here"/RESULTS-*.md.new
		exit $rc ;;
	*) echo "bench: BENCH_SETUP must be tuned or installed, not \"$setup\"" >&2; exit 2 ;;
esac

if [ "$mode" = smoke ]; then
	N=200 REPLICAS=20 BIG=1000 MEM_N=200 DURATION=2 RUNS=1 CLIENTS="2" BATCH=500 RETRIES=0 RETRY_BUDGET=0
	TAGS=500
	ROT=20
	SHARED_BUFFERS=128MB
	USAGE_SLOTS=65536
	HUGE=off
else
	N=${BENCH_N:-10000}
	REPLICAS=${BENCH_REPLICAS:-$((N / 10))}
	BIG=${BENCH_BIG:-1000000}
	TAGS=${BENCH_TAGS:-100000}
	ROT=${BENCH_ROT:-1000}
	MEM_N=${BENCH_MEM_N:-100000}
	DURATION=${BENCH_DURATION:-6}
	RUNS=${BENCH_RUNS:-5}
	CLIENTS=${BENCH_CLIENTS:-"1 2"}
	BATCH=${BENCH_BATCH:-100000}
	RETRIES=${BENCH_RETRIES:-2}
	RETRY_BUDGET=${BENCH_RETRY_BUDGET:-24}
	if [ "$setup" = tuned ]; then
		SHARED_BUFFERS=${BENCH_SHARED_BUFFERS:-2GB}
		HUGE=${BENCH_HUGE_PAGES:-on}
	else
		SHARED_BUFFERS=${BENCH_SHARED_BUFFERS:-256MB}
		HUGE=${BENCH_HUGE_PAGES:-off}
	fi
	USAGE_SLOTS=${BENCH_USAGE_SLOTS:-2097152}
	case "$HUGE" in
		on|off) ;;
		*) echo "bench: BENCH_HUGE_PAGES must be on or off, not \"$HUGE\"" >&2; exit 2 ;;
	esac
fi
defaults=no
default_sb=$([ "$setup" = tuned ] && echo "2GB on" || echo "256MB off")
[ "$mode" = full ] && [ -z "${BENCH_ONLY:-}" ] && [ "$N $BIG $MEM_N $TAGS $ROT $DURATION $RUNS $CLIENTS $BATCH $SHARED_BUFFERS $HUGE" = "10000 1000000 100000 100000 1000 6 5 1 2 100000 $default_sb" ] && defaults=yes
[ "$MEM_N" -gt "$BIG" ] && MEM_N=$BIG
MAX_OTHERS=${BENCH_MAX_OTHERS:-10}	# % of the machine's CPU used by others that makes a run count as disturbed

pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$pg_config" --bindir) || { echo "bench: pg_config not found at $pg_config" >&2; exit 1; }
sharedir=$("$pg_config" --sharedir)

t0=$(date +%s)
log() { printf '[bench %4ds] %s\n' $(( $(date +%s) - t0 )) "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# the installed extension is the one measured (built once, by the first setup)
if [ "$mode" = full ] && [ -z "${BENCH_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] && [ "$setup" = tuned ]; then
	log "building and installing the extension (BENCH_NO_INSTALL=1 skips this)"
	make -s -C "$top" >/dev/null && make -s -C "$top" install >/dev/null || die "make install"
fi
[ -f "$sharedir/extension/secrets.control" ] || die "extension secrets is not installed (run make install)"
[ -f "$sharedir/extension/pgcrypto.control" ] || die "pgcrypto is not installed (it ships with postgresql-15)"
libfile="$("$pg_config" --pkglibdir)/secrets.so"
lib_sum() { md5sum <"$libfile" | cut -c1-12; }
lib_at_start=$(lib_sum)

# --- the throwaway cluster -------------------------------------------------
# PostgreSQL refuses to run as root: as root, the cluster runs as postgres.
if [ "$(id -u)" -eq 0 ]; then
	runas=${BENCH_USER:-postgres}
	as_pg=(runuser -u "$runas" --)
else
	as_pg=()
fi
work=$(mktemp -d /tmp/csms-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/scripts" "$work/logs"
cp "$here"/*.sql "$work/scripts/"
[ "$(id -u)" -eq 0 ] && chown -R "$runas" "$work"
cd "$work"	# a directory the cluster's user can enter (the checkout may be 0700)
port=$(( 20000 + RANDOM % 20000 ))	# the socket is private to $work
data=$work/data
started=no

hugepages_before=""

cleanup() {
	local rc=$?
	if [ "$started" = yes ]; then
		"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1
	fi
	if [ -n "$hugepages_before" ]; then
		echo "$hugepages_before" >/proc/sys/vm/nr_hugepages 2>/dev/null
	fi
	if [ $rc -ne 0 ] && [ -f "$work/server.log" ]; then
		echo "--- last lines of the server log ($work/server.log):" >&2
		tail -n 30 "$work/server.log" >&2
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "setup $setup, mode $mode: N=$N BIG=$BIG MEM_N=$MEM_N duration=${DURATION}s runs=$RUNS clients=[$CLIENTS]"

# --- huge pages ------------------------------------------------------------
# With 4 kB pages, every backend (pgbench connects afresh for each run) maps
# the shared buffers it touches one page at a time, and random reads over a
# table of hundreds of MB miss the TLB: on this kind of virtual machine that
# alone costs the 1M read a third of its throughput, more the wider the rows.
# PostgreSQL recommends huge pages for large shared_buffers; the run uses
# them when the kernel can give them, and says so in the table.
huge_note="off"
if [ "$HUGE" = on ]; then
	need=$(awk -v sb="$SHARED_BUFFERS" 'BEGIN {
		n = sb + 0; u = sb; sub(/^[0-9]+/, "", u)
		mb = (u == "GB") ? n * 1024 : (u == "MB") ? n : (u == "kB") ? n / 1024 : n * 8 / 1024
		print int(mb / 2 * 1.1) + 128 }')	# the buffers, 10 %, and the rest of the segment
	free_hp=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
	if [ "${free_hp:-0}" -lt "$need" ] && [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
		hugepages_before=$(cat /proc/sys/vm/nr_hugepages)
		echo $((hugepages_before + need - free_hp)) >/proc/sys/vm/nr_hugepages 2>/dev/null
		free_hp=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
	fi
	if [ "${free_hp:-0}" -ge "$need" ]; then
		huge_note="on"
	else
		huge_note="off (the kernel has ${free_hp:-0} free 2 MB pages, $need needed; run as root or raise vm.nr_hugepages)"
		HUGE=off
	fi
	log "huge pages: $huge_note"
fi
"${as_pg[@]}" "$bindir/initdb" -D "$data" -U postgres -A trust --no-locale -E UTF8 \
	>"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; die initdb; }
cat >>"$data/postgresql.conf" <<EOF

# bench/run.sh
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
shared_buffers = $SHARED_BUFFERS
huge_pages = $HUGE
synchronous_commit = off
EOF
if [ "$setup" = tuned ]; then
	cat >>"$data/postgresql.conf" <<EOF
max_connections = 20
max_wal_size = 8GB
checkpoint_timeout = 1h
# reads record last_used_time in shared memory; a background worker writes it
shared_preload_libraries = 'secrets'
# sized for the 1M workload: at least twice the distinct secrets read in one
# csms.usage_flush_interval (README.md, "Configuration")
csms.usage_slots = $USAGE_SLOTS
EOF
fi
"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$work/server.log" -w start >/dev/null \
	|| die "could not start the cluster"
started=yes

psql_() {
	"${as_pg[@]}" "$bindir/psql" -h "$work" -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

value_sql="rpad('value-of-s' || g || '-', 100, 'abcdefghij')"	# 100 bytes

# load_db DB COUNT WITH_PGCRYPTO: schema, then COUNT secrets s1..sCOUNT in
# batches of BATCH per transaction, the same rows in plain (and enc).
declare -A load_secs
load_db() {
	local db=$1 count=$2 with_enc=$3 a
	psql_ -d postgres -c "CREATE DATABASE $db" || die "create database $db"
	psql_ -d "$db" -f "$work/scripts/setup.sql" >"$work/logs/setup-$db.log" 2>&1 \
		|| { cat "$work/logs/setup-$db.log" >&2; die "setup of $db"; }

	a=$(now)
	psql_ -d "$db" -v n="$count" -v batch="$BATCH" >/dev/null <<EOF || die "loading secrets into $db"
SELECT format('SELECT count(csms_create_secret(''s'' || g, secret_string => ${value_sql//\'/\'\'}))
                 FROM generate_series(%s, %s) g', lo, least(lo + :batch - 1, :n))
  FROM generate_series(1, :n, :batch) lo
\gexec
EOF
	load_secs[$db.csms]=$(secs "$a" "$(now)")

	a=$(now)
	psql_ -d "$db" -c "INSERT INTO plain SELECT 's' || g, $value_sql FROM generate_series(1, $count) g" \
		|| die "loading plain into $db"
	load_secs[$db.plain]=$(secs "$a" "$(now)")

	if [ "$with_enc" = yes ]; then
		a=$(now)
		psql_ -d "$db" -c "INSERT INTO enc SELECT 's' || g, pgp_sym_encrypt($value_sql, 'bench-passphrase') FROM generate_series(1, $count) g" \
			|| die "loading enc into $db"
		load_secs[$db.enc]=$(secs "$a" "$(now)")
	fi
	psql_ -d "$db" -c "VACUUM ANALYZE" || die "vacuum $db"
}

log "loading $N secrets (database bench)"
load_db bench "$N" yes
log "loaded: secrets ${load_secs[bench.csms]}s, plain ${load_secs[bench.plain]}s, pgcrypto ${load_secs[bench.enc]}s"
# access control: a role with a direct grant (read) on every secret of bench,
# and a member of a group that holds a pattern grant on all of them (s*);
# the read workloads as these roles (PGOPTIONS -c role=...) against the
# owner's (postgres)
psql_ -d bench -v n="$N" >/dev/null <<'EOF2' || die "grants in bench"
CREATE ROLE bench_direct;
CREATE ROLE bench_group;
CREATE ROLE bench_member IN ROLE bench_group;
GRANT EXECUTE ON FUNCTION csms_get_secret_value(text, text) TO bench_direct, bench_member;
SELECT count(csms_grant('s' || g, 'bench_direct', '{read}')) FROM generate_series(1, :n) g;
SELECT csms_grant('s*', 'bench_group', '{read}');
VACUUM ANALYZE csms.grants;
EOF2
# new versions are measured at the 20-version limit, where each also prunes
# the oldest version: every secret of bench gets 19 more versions first; and
# with one replica: REPLICAS secrets r1.. with 20 versions each and a replica
# in region eu-bench (a new version re-encrypts and writes it there too)
a=$(now)
psql_ -d bench -v n="$N" -v r="$REPLICAS" >/dev/null <<EOF2 || die "versions and replicas in bench"
SELECT format('SELECT count(csms_create_secret_version(''s'' || g, secret_string => ${value_sql//\'/\'\'})) FROM generate_series(1, %s) g', :n)
  FROM generate_series(2, 20) v
\gexec
SELECT count(csms_create_secret('r' || g, secret_string => $value_sql)) FROM generate_series(1, :r) g;
SELECT format('SELECT count(csms_create_secret_version(''r'' || g, secret_string => ${value_sql//\'/\'\'})) FROM generate_series(1, %s) g', :r)
  FROM generate_series(2, 20) v
\gexec
SELECT csms_create_region('eu-bench') IS NOT NULL;
SELECT count(csms_create_replica('r' || g, 'eu-bench')) FROM generate_series(1, :r) g;
VACUUM ANALYZE;
EOF2
log "19 more versions of each secret of bench, $REPLICAS secrets with 20 versions and a replica: $(secs "$a" "$(now)")s"
# Rotations (the rotate phase), all owned by the superuser: ROT login roles
# bench_role_1.. (not superusers) and PG-ROLE SingleUser secrets rot-role-1..
# naming them, and ROT COMMON secrets rot-func-1.. that rotate through
# bench_rot (setup.sql).  Each gets 19 more versions of the rotation's value
# size and shape, so that every measured rotation and new version is at the
# 20-version limit and prunes one.  One rotation of each kind checks that
# they work before the runs; the verifier the first left in pg_authid gives
# the PBKDF2 iteration count the table reports.
a=$(now)
psql_ -d bench -v n="$ROT" >/dev/null <<EOF2 || die "rotation secrets and roles in bench"
SELECT format('CREATE ROLE bench_role_%s LOGIN', g) FROM generate_series(1, :n) g
\gexec
SELECT count(csms_create_secret('rot-role-' || g, secret_type => 'PG-ROLE',
         secret_string => format('{"username": "bench_role_%s", "password": "x"}', g)))
  FROM generate_series(1, :n) g;
SELECT format('SELECT count(csms_create_secret_version(''rot-role-'' || g, secret_string => format(''{"username": "bench_role_%%s", "password": "0123456789abcdefghijklmnopqrstuv"}'', g))) FROM generate_series(1, %s) g', :n)
  FROM generate_series(2, 20) v
\gexec
SELECT count(csms_create_secret('rot-func-' || g, secret_string => $value_sql,
         rotation_func_urn => 'bench_rot'))
  FROM generate_series(1, :n) g;
SELECT format('SELECT count(csms_create_secret_version(''rot-func-'' || g, secret_string => ${value_sql//\'/\'\'})) FROM generate_series(1, %s) g', :n)
  FROM generate_series(2, 20) v
\gexec
SELECT version_id FROM csms_rotate_secret('rot-role-1');
SELECT version_id FROM csms_rotate_secret('rot-func-1');
VACUUM ANALYZE;
EOF2
scram_iter=$(psql_ -d bench -At -c "SELECT split_part(split_part(rolpassword, '\$', 2), ':', 1)
	FROM pg_authid WHERE rolname = 'bench_role_1' AND rolpassword LIKE 'SCRAM-SHA-256\$%'") \
	|| die "the verifier of bench_role_1"
[ -n "$scram_iter" ] || die "rotating rot-role-1 left no SCRAM-SHA-256 verifier on bench_role_1"
log "$ROT roles with PG-ROLE secrets and $ROT COMMON secrets with a rotation function, 20 versions each: $(secs "$a" "$(now)")s; SCRAM-SHA-256 verifiers of $scram_iter iterations"
log "loading $BIG secrets (database bench_big)"
load_db bench_big "$BIG" no
log "loaded: secrets ${load_secs[bench_big.csms]}s ($(rate "$BIG" "${load_secs[bench_big.csms]}")/s), plain ${load_secs[bench_big.plain]}s"
# One read of every secret, as a server that has been up for a grain
# (csms.last_used_grain, an hour) has seen: the scale phase then measures
# reads in their steady state, where the stored last_used_time is recent and
# a read writes nothing.  Without it, the first read of each of the 1M
# secrets in the runs would also write its time (about 5 us, once a secret
# per grain), which a warm server does not pay on every read.
a=$(now)
psql_ -d bench_big -c "SELECT count(csms_get_secret_value(name)) FROM csms.secrets" >/dev/null \
	|| die "first read of every secret in bench_big"
log "read every secret of bench_big once: $(secs "$a" "$(now)")s"
# Tagged secrets x1..xTAGS with the tags team (t0, t1, ...: 100 secrets for
# each), env (prod, test, dev) and app (a0..a96), and the same names and
# tags in the plain tables plain_tagged and plain_tags; the list workloads
# filter by one team.
psql_ -d postgres -c "CREATE DATABASE bench_tags" || die "create database bench_tags"
psql_ -d bench_tags -f "$work/scripts/setup.sql" >"$work/logs/setup-bench_tags.log" 2>&1 \
	|| { cat "$work/logs/setup-bench_tags.log" >&2; die "setup of bench_tags"; }
tags_sql="jsonb_build_object('team', 't' || mod(g, $((TAGS / 100))), 'env', (ARRAY['prod', 'test', 'dev'])[1 + mod(g, 3)], 'app', 'a' || mod(g, 97))"
a=$(now)
psql_ -d bench_tags -v n="$TAGS" -v batch="$BATCH" >/dev/null <<EOF || die "loading tagged secrets into bench_tags"
SELECT format('SELECT count(csms_create_secret(''x'' || g, secret_string => ${value_sql//\'/\'\'},
                 tags => ${tags_sql//\'/\'\'})) FROM generate_series(%s, %s) g', lo, least(lo + :batch - 1, :n))
  FROM generate_series(1, :n, :batch) lo
\gexec
EOF
load_secs[bench_tags.csms]=$(secs "$a" "$(now)")
a=$(now)
psql_ -d bench_tags -v n="$TAGS" >/dev/null <<EOF || die "loading the plain tables of tags into bench_tags"
INSERT INTO plain_tagged SELECT 'x' || g, $value_sql FROM generate_series(1, :n) g;
INSERT INTO plain_tags SELECT 'x' || g, t.key, t.value
  FROM generate_series(1, :n) g, jsonb_each_text($tags_sql) t;
VACUUM ANALYZE;
EOF
load_secs[bench_tags.plain]=$(secs "$a" "$(now)")
log "loaded $TAGS tagged secrets: csms ${load_secs[bench_tags.csms]}s, plain ${load_secs[bench_tags.plain]}s"
# the list by tag answers from indexes: the scans of csms.secrets and
# csms.tags that one filter and one count over all the tagged secrets make
tag_scans=$(psql_ -d bench_tags -At -F ' ' <<'SQL'
VACUUM ANALYZE csms.secrets;
VACUUM ANALYZE csms.tags;
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE before AS SELECT relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan
  FROM pg_stat_all_tables WHERE schemaname = 'csms' AND relname IN ('secrets', 'tags');
SELECT count(*) FROM csms_list_resource_instances('filter', tags => '[{"key": "team", "values": ["t1"]}]');
SELECT count(*) FROM csms_list_resource_instances('count', tags => '[{"key": "team", "values": ["t1"]}]');
SELECT pg_stat_force_next_flush();
SELECT string_agg(t.relname || ': ' || (t.seq_scan - b.seq_scan) || ' sequential, '
       || (coalesce(t.idx_scan, 0) - b.idx_scan) || ' index', '; ' ORDER BY t.relname)
  FROM pg_stat_all_tables t JOIN before b USING (relname) WHERE t.schemaname = 'csms';
SQL
) || die "tag scans"
tag_scans=$(tail -n 1 <<<"$tag_scans")
log "scans of one filter and one count by tag over $TAGS secrets: $tag_scans"
sizes=$(psql_ -d bench_big -At -F ' ' -c "
	SELECT pg_total_relation_size('csms.secrets') + pg_total_relation_size('csms.versions'),
	       pg_total_relation_size('plain')") || die "sizes"
read -r size_csms size_plain <<<"$sizes"

# --- workloads ---------------------------------------------------------------
# id | label | database | script | size | PGOPTIONS | baseline id
workloads=(
	"read_csms|read: csms_get_secret_value|bench|read_csms.sql|$N||read_plain"
	"read_csms_ro|read: csms_get_secret_value, csms.track_last_used = off (no last_used_time bookkeeping)|bench|read_csms.sql|$N|-c csms.track_last_used=off|read_plain"
	"read_plain|read: plain SELECT value WHERE name = \$1|bench|read_plain.sql|$N||read_plain"
	"read_pgcrypto|read: pgp_sym_decrypt|bench|read_pgcrypto.sql|$N||read_plain"
	"read_grant|read: csms_get_secret_value by a role with a direct grant (read) on each secret|bench|read_csms.sql|$N|-c role=bench_direct|read_plain"
	"read_pattern|read: csms_get_secret_value by a member of a role with a pattern grant (s*)|bench|read_csms.sql|$N|-c role=bench_member|read_plain"
	"create_csms|create: csms_create_secret|bench|create_csms.sql|$N||create_plain"
	"create_plain|create: plain INSERT|bench|create_plain.sql|$N||create_plain"
	"create_pgcrypto|create: INSERT pgp_sym_encrypt|bench|create_pgcrypto.sql|$N||create_plain"
	"create_event|create: csms_create_secret subscribed to an event (a record and a pg_notify)|bench|create_event_csms.sql|$N||create_event_plain"
	"create_event_plain|create: plain INSERT, an audit row and pg_notify of it|bench|create_event_plain.sql|$N||create_event_plain"
	"version_csms|new version: csms_create_secret_version|bench|version_csms.sql|$N||version_plain"
	"version_replica|new version: csms_create_secret_version of a secret with one replica|bench|version_replica.sql|$REPLICAS||version_plain"
	"version_plain|new version: plain UPDATE|bench|version_plain.sql|$N||version_plain"
	"version_pgcrypto|new version: UPDATE pgp_sym_encrypt|bench|version_pgcrypto.sql|$N||version_plain"
	"rotate_role|rotate: csms_rotate_secret of a PG-ROLE SingleUser secret (SCRAM-SHA-256 verifier of $scram_iter iterations, ALTER ROLE)|bench|rotate_role.sql|$ROT||version_plain"
	"version_role|new version: csms_create_secret_version of the same PG-ROLE secrets, a value of the rotation's size|bench|version_role.sql|$ROT||version_plain"
	"rotate_func|rotate: csms_rotate_secret of a COMMON secret through a rotation function (SQL, 100 bytes)|bench|rotate_func.sql|$ROT||version_plain"
	"version_func|new version: csms_create_secret_version of the same COMMON secrets (100 bytes)|bench|version_func.sql|$ROT||version_plain"
	"big_csms|read: csms_get_secret_value|bench_big|read_csms.sql|$BIG||big_plain"
	"big_csms_ro|read: csms_get_secret_value, csms.track_last_used = off (no last_used_time bookkeeping)|bench_big|read_csms.sql|$BIG|-c csms.track_last_used=off|big_plain"
	"big_plain|read: plain SELECT value WHERE name = \$1|bench_big|read_plain.sql|$BIG||big_plain"
	"scale_csms|read: csms_get_secret_value (scale phase)|bench|read_csms.sql|$N||scale_plain"
	"scale_plain|read: plain SELECT value WHERE name = \$1 (scale phase)|bench|read_plain.sql|$N||scale_plain"
	"tags_csms|list by tag: csms_list_resource_instances filter by one tag (100 secrets), a page of 10|bench_tags|tags_csms.sql|$TAGS||tags_plain"
	"tags_plain|list by tag: plain SELECT, a table of tags indexed by (key, value, name)|bench_tags|tags_plain.sql|$TAGS||tags_plain"
)
phases=("read_csms read_csms_ro read_plain read_pgcrypto read_grant read_pattern"
	"create_csms create_plain create_pgcrypto create_event create_event_plain"
	"version_csms version_replica version_plain version_pgcrypto"
	"rotate_role version_role rotate_func version_func"
	"big_csms big_csms_ro big_plain scale_csms scale_plain"
	"tags_csms tags_plain")
if [ -n "${BENCH_ONLY:-}" ]; then	# a subset of the workloads, for quick looks
	kept=()
	for phase in "${phases[@]}"; do
		p=""
		for id in $phase; do
			case " $BENCH_ONLY " in *" $id "*) p="$p $id" ;; esac
		done
		[ -n "$p" ] && kept+=("${p# }")
	done
	phases=("${kept[@]}")
fi

declare -A W_label W_db W_script W_size W_opts W_base runs
for w in "${workloads[@]}"; do
	IFS='|' read -r id label db script size opts base <<<"$w"
	W_label[$id]=$label W_db[$id]=$db W_script[$id]=$script
	W_size[$id]=$size W_opts[$id]=$opts W_base[$id]=$base
done

# CPU accounting, to tell how much of the machine other processes took during
# a run (the bench assumes it has the machine to itself): busy jiffies of the
# machine minus those of the cluster (postmaster, its children, reaped ones)
# and of pgbench (reaped children of this shell).
pm_pid=$(head -n 1 "$data/postmaster.pid")
cpu_snapshot() {	# prints: machine_busy bench
	{ head -n 1 /proc/stat; cat /proc/[0-9]*/stat 2>/dev/null; } | awk -v pm="$pm_pid" -v me="$$" '
		NR == 1 { busy = $2 + $3 + $4 + $7 + $8 + $9; next }
		{
			pid = $1; sub(/^.*\) /, "")
			if (pid == pm) own += $12 + $13 + $14 + $15
			else if ($2 == pm) own += $12 + $13
			else if (pid == me) own += $14 + $15
		}
		END { print busy, own }'
}
declare -A others
failures=0
# run_one ID CLIENTS RUN: one pgbench run; appends its TPS to runs[ID|CLIENTS]
# and the share of the machine's CPU used by other processes to others[...]
run_one() {
	local id=$1 c=$2 r=$3 out tps b0 o0 b1 o1 t0r t1r
	out=$work/logs/$id-c$c-r$r.log
	read -r b0 o0 < <(cpu_snapshot)
	t0r=$(now)
	"${as_pg[@]}" env PGOPTIONS="${W_opts[$id]}" "$bindir/pgbench" -h "$work" -p "$port" \
		-U postgres -n -M prepared -c "$c" -j "$c" -T "$DURATION" -D n="${W_size[$id]}" \
		-f "$work/scripts/${W_script[$id]}" "${W_db[$id]}" >"$out" 2>&1
	local rc=$?
	t1r=$(now)
	read -r b1 o1 < <(cpu_snapshot)
	others[$id|$c]+="$(awk -v b="$((b1 - b0))" -v o="$((o1 - o0))" -v t="$(secs "$t0r" "$t1r")" \
		-v n="$(nproc)" -v hz="$(getconf CLK_TCK)" 'BEGIN { x = (b - o) / hz / (t * n) * 100; if (x < 0) x = 0; printf "%.0f", x }') "
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")
	if [ $rc -ne 0 ] || [ -z "$tps" ] || grep -q 'pgbench: error' "$out" \
		|| ! grep -q '^number of failed transactions: 0 ' "$out" \
		|| grep -q '^number of transactions actually processed: 0$' "$out"; then
		failures=$((failures + 1))
		log "pgbench FAILED: $id, $c clients, run $r (exit $rc):"
		sed 's/^/    /' "$out" >&2
		runs[$id|$c]+="ERROR "
		return
	fi
	runs[$id|$c]+="$(printf '%.0f' "$tps") "
	log "$id c=$c run $r: $(printf '%.0f' "$tps") tps"
}

last_others() { local a=(${others[$1|$2]}); echo "${a[-1]}"; }
last_run() { local a=(${runs[$1|$2]}); echo "${a[-1]}"; }
drop_last() {
	local a=(${runs[$1|$2]}) b=(${others[$1|$2]})
	unset 'a[-1]' 'b[-1]'
	runs[$1|$2]="${a[*]:+${a[*]} }" others[$1|$2]="${b[*]:+${b[*]} }"
	retried=$((retried + 1))
}
# Before a phase: wait (up to 2 minutes) until no autovacuum worker and no
# usage flusher is at work, so that what the previous phase left behind does
# not weigh on the first runs of this one.
quiesce() {
	local i busy
	for i in $(seq 1 120); do
		busy=$(psql_ -d postgres -At -c "SELECT count(*) FROM pg_stat_activity
			WHERE backend_type IN ('autovacuum worker', 'csms usage flusher')") || die "pg_stat_activity"
		[ "$busy" = 0 ] && return
		sleep 1
	done
	log "background work still running after 2 minutes; going on"
}
retried=0
for phase in "${phases[@]}"; do
	read -r first _ <<<"$phase"
	psql_ -d "${W_db[$first]}" -c "VACUUM ANALYZE" -c "CHECKPOINT" || die "checkpoint"
	quiesce
	# rounds interleave the workloads of a phase, so that drift over time
	# (autovacuum, table growth, caches) does not favour one of them
	for r in $(seq 1 "$RUNS"); do
		for id in $phase; do
			for c in $CLIENTS; do
				run_one "$id" "$c" "$r"
				# a run disturbed by other processes is done again
				local_try=0
				while [ "$local_try" -lt "$RETRIES" ] && [ "$retried" -lt "$RETRY_BUDGET" ] \
					&& [ "$(last_others "$id" "$c")" -gt "$MAX_OTHERS" ] \
					&& [ "$(last_run "$id" "$c")" != ERROR ]; do
					local_try=$((local_try + 1))
					log "$id c=$c run $r: other processes used $(last_others "$id" "$c")% of the CPU; again ($local_try/$RETRIES)"
					drop_last "$id" "$c"
					run_one "$id" "$c" "$r"
				done
			done
		done
	done
done

# --- memory of one backend -----------------------------------------------
log "memory: one backend reading $MEM_N distinct secrets"
mem=$(psql_ -d bench_big -At -v n="$MEM_N" -f "$work/scripts/memory.sql") || die "memory measurement"
read -r anon_fresh ctx_fresh anon_warm ctx_warm anon_after ctx_after <<<"$mem"
[ -n "$ctx_after" ] || die "memory measurement printed '$mem'"

rot_tasks=$(psql_ -d bench -At -c "SELECT count(*) FILTER (WHERE status = 'SUCCESS') || ' SUCCESS, '
	|| count(*) FILTER (WHERE status = 'FAILED') || ' FAILED' FROM csms.secret_tasks") || die "rotation tasks"

# --- the table -------------------------------------------------------------
median() {	# of the numeric words of $1; "ERROR" if any run failed
	case " $1 " in *" ERROR "*) echo ERROR; return ;; esac
	printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "ERROR"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.*f", d, a / b; else print "n/a" }'; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1000000) printf "%gM", n / 1000000; else if (n >= 1000) printf "%gk", n / 1000; else print n }'; }
mb() { awk -v k="$1" -v d="$2" 'BEGIN { printf "%+.1f MB", k / d }'; }
# the targets are judged on three decimals: 0.899 is not 0.90
goal_met() {	# value op limit
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v !~ /^[-+0-9.]+$/) { print "n/a"; exit }
		ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0); print (ok ? "met" : "MISSED") }'
}

target_c=2
case " $CLIENTS " in *" 2 "*) ;; *) target_c=${CLIENTS##* } ;; esac
med() { median "${runs[$1|$2]:-}"; }
maxof() { printf '%s\n' $1 | sort -g | tail -n 1; }

mem_after=$(awk -v a="$anon_after" -v f="$anon_fresh" 'BEGIN { printf "%.1f", (a - f) / 1024 }')
mem_ctx=$(awk -v a="$ctx_after" -v f="$ctx_fresh" 'BEGIN { printf "%.1f", (a - f) / 1048576 }')
r_read=$(ratio "$(med read_csms "$target_c")" "$(med read_plain "$target_c")" 3)
r_grant=$(ratio "$(med read_grant "$target_c")" "$(med read_plain "$target_c")" 3)
r_pattern=$(ratio "$(med read_pattern "$target_c")" "$(med read_plain "$target_c")" 3)
r_create=$(ratio "$(med create_csms "$target_c")" "$(med create_plain "$target_c")" 3)
r_version=$(ratio "$(med version_csms "$target_c")" "$(med version_plain "$target_c")" 3)
r_version_replica=$(ratio "$(med version_replica "$target_c")" "$(med version_plain "$target_c")" 3)
r_scale=$(ratio "$(med big_csms "$target_c")" "$(med scale_csms "$target_c")" 3)
r_big=$(ratio "$(med big_csms "$target_c")" "$(med big_plain "$target_c")" 3)
r_scale_cross=$(ratio "$(med big_csms "$target_c")" "$(med read_csms "$target_c")")
r_scale_ro=$(ratio "$(med big_csms_ro "$target_c")" "$(med read_csms_ro "$target_c")")
r_scale_plain=$(ratio "$(med big_plain "$target_c")" "$(med scale_plain "$target_c")")
r_tags=$(ratio "$(med tags_csms "$target_c")" "$(med tags_plain "$target_c")" 3)
r_create_event=$(ratio "$(med create_event "$target_c")" "$(med create_event_plain "$target_c")" 3)
r_create_event_insert=$(ratio "$(med create_event "$target_c")" "$(med create_plain "$target_c")" 3)
r_rotate_role=$(ratio "$(med rotate_role "$target_c")" "$(med version_role "$target_c")" 3)
r_rotate_func=$(ratio "$(med rotate_func "$target_c")" "$(med version_func "$target_c")" 3)

machine_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
machine_ram=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
pg_version=$(psql_ -d bench -At -c "SELECT version()")
revision=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$top" status --porcelain -- src sql 2>/dev/null)" ] && revision="$revision (with uncommitted changes in src/ or sql/)"
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
lib_at_end=$(lib_sum)
if [ "$lib_at_start" = "$lib_at_end" ]; then
	lib_note="secrets.so md5 $lib_at_start"
else
	lib_note="WARNING: the installed secrets.so changed during the run (md5 $lib_at_start, then $lib_at_end): rows may mix two builds"
	log "$lib_note"
fi

{
	if [ "$mode" = smoke ]; then
		echo "# secrets benchmarks, setup $setup (SMOKE run: tiny sizes, timings mean nothing)"
	else
		echo "# secrets benchmarks, setup $setup"
	fi
	echo
	echo "- date: $stamp, revision $revision; $lib_note"
	echo "- machine: $(nproc) CPUs ($machine_cpu), $machine_ram RAM; pgbench runs on the same machine"
	echo "- $pg_version"
	echo "- parameters: pgbench -M prepared -T $DURATION, clients $CLIENTS (-j = clients), median of $RUNS runs (runs of a phase interleaved); $(human "$N") secrets (read, create, new version), $(human "$TAGS") tagged (list by tag), $(human "$BIG") for scale (each read once after loading, as a server up for a grain has); values of 100 bytes; random names uniform over the loaded set"
	if [ "$setup" = tuned ]; then
		echo "- setup **tuned** (what README recommends): shared_preload_libraries = 'secrets' (a read that finds last_used_time csms.last_used_grain = $(psql_ -d bench -At -c "LOAD 'secrets'" -c 'SHOW csms.last_used_grain') old notes it in shared memory; a background worker writes it in place every csms.usage_flush_interval = $(psql_ -d bench -At -c 'SHOW csms.usage_flush_interval'), csms.usage_slots = $(psql_ -d bench -At -c 'SHOW csms.usage_slots')), shared_buffers = $SHARED_BUFFERS, huge_pages = $huge_note, synchronous_commit = off, max_wal_size = 8GB, checkpoint_timeout = 1h, max_connections = 20, --no-locale, otherwise defaults; VACUUM ANALYZE and CHECKPOINT before each phase"
	else
		echo "- setup **as installed** (CREATE EXTENSION on an untuned server): no preload (a read that finds last_used_time csms.last_used_grain = $(psql_ -d bench -At -c "LOAD 'secrets'" -c 'SHOW csms.last_used_grain') old writes it itself, in place), shared_buffers = $SHARED_BUFFERS, huge_pages = $huge_note, synchronous_commit = off, --no-locale, otherwise defaults; VACUUM ANALYZE and CHECKPOINT before each phase"
	fi
	echo "- pgcrypto: pgp_sym_encrypt/pgp_sym_decrypt with a passphrase and default options (a salted, iterated S2K per call)"
	echo "- other load: the largest share of the machine's CPU that processes other than this benchmark used during one kept run of the row; above a few percent, that row's TPS are disturbed. Runs above $MAX_OTHERS % were done again (at most $RETRIES times each and $RETRY_BUDGET in all; $retried repeated). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| workload | secrets | clients | TPS (median) | vs plain | runs (TPS) | other load |"
	echo "|---|---:|---:|---:|---:|---|---:|"
	for phase in "${phases[@]}"; do
		for id in $phase; do
			for c in $CLIENTS; do
				m=$(med "$id" "$c")
				echo "| ${W_label[$id]} | $(human "${W_size[$id]}") | $c | $m | $(ratio "$m" "$(med "${W_base[$id]}" "$c")") | ${runs[$id|$c]% } | $(maxof "${others[$id|$c]:-}")% |"
			done
		done
	done
	echo
	echo "Targets ($target_c clients):"
	echo
	echo "| target | goal | measured | |"
	echo "|---|---|---:|---|"
	echo "| read vs plain read (the owner) | >= 0.90 | $r_read | $(goal_met "$r_read" ">=" 0.90) |"
	echo "| read by a role with a direct grant vs plain read | >= 0.90 | $r_grant | $(goal_met "$r_grant" ">=" 0.90) |"
	echo "| read by a member of a role with a pattern grant vs plain read | >= 0.90 | $r_pattern | $(goal_met "$r_pattern" ">=" 0.90) |"
	echo "| read at $(human "$BIG") vs plain read at $(human "$BIG") | >= 0.90 | $r_big | $(goal_met "$r_big" ">=" 0.90) |"
	echo "| create vs plain INSERT | >= 0.70 | $r_create | $(goal_met "$r_create" ">=" 0.70) |"
	echo "| new version (at the 20-version limit) vs plain UPDATE | >= 0.70 | $r_version | $(goal_met "$r_version" ">=" 0.70) |"
	echo "| new version of a secret with one replica (20-version limit) vs plain UPDATE | reported | $r_version_replica | |"
	echo "| read at $(human "$BIG") vs read at $(human "$N") (both in the scale phase) | >= 0.90 | $r_scale | $(goal_met "$r_scale" ">=" 0.90) |"
	echo "| list by one tag over $(human "$TAGS") secrets (csms_list_resource_instances) vs the plain tables | reported | $r_tags | |"
	echo "| create with one event subscription vs plain INSERT + audit row + pg_notify (vs plain INSERT alone: $r_create_event_insert) | reported | $r_create_event | |"
	echo "| rotation of a PG-ROLE SingleUser secret (SCRAM-SHA-256, $scram_iter iterations, ALTER ROLE) vs csms_create_secret_version of the same secrets, same value size | reported | $r_rotate_role | |"
	echo "| rotation of a COMMON secret through a trivial rotation function vs csms_create_secret_version of the same secrets, same value size | reported | $r_rotate_func | |"
	echo "| memory: backend after reading $(human "$MEM_N") distinct secrets vs a fresh one (RssAnon) | <= +5 MB | +$mem_after MB | $(goal_met "$mem_after" "<=" 5) |"
	echo
	echo "Scans of csms.secrets and csms.tags by one filter and one count by tag over $(human "$TAGS") secrets (pg_stat_all_tables): $tag_scans."
	echo
	echo "Rotation: $(human "$ROT") login roles bench_role_1.. (not superusers) with PG-ROLE SingleUser secrets rot-role-1.. naming them, and $(human "$ROT") COMMON secrets rot-func-1.. with rotation_func_urn => 'bench_rot' (LANGUAGE sql, repeat('x', 100)), all owned by the superuser, each at the 20-version limit before the runs; a PG-ROLE rotation computes a SCRAM-SHA-256 verifier with $scram_iter PBKDF2 iterations (read from pg_authid after a rotation) and runs ALTER ROLE. The new-version rows of the rotate phase are their counterparts on the same secrets with a value of the same size, given by the client; the ratios above are rotation over them. Rotation tasks in csms.secret_tasks at the end: $rot_tasks."
	echo
	echo "Scale, for reference: the scale phase interleaves reads at $(human "$BIG") and at $(human "$N"), so that background work (the usage worker writing the reads of $(human "$BIG") secrets, autovacuum) weighs on both alike; plain read $(human "$BIG")/$(human "$N") in that phase = $r_scale_plain; csms read at $(human "$BIG") over csms read at $(human "$N") of the read phase = $r_scale_cross; with csms.track_last_used = off, over the read phase = $r_scale_ro."
	echo
	echo "Memory of one backend (RssAnon = private resident memory; contexts = sum of pg_backend_memory_contexts): fresh $((anon_fresh / 1024)) MB / $(awk -v b="$ctx_fresh" 'BEGIN { printf "%.1f", b / 1048576 }') MB; after one read $(mb $((anon_warm - anon_fresh)) 1024) / $(mb $((ctx_warm - ctx_fresh)) 1048576); after $(human "$MEM_N") distinct reads, one statement each, $(mb $((anon_after - anon_fresh)) 1024) / $(mb $((ctx_after - ctx_fresh)) 1048576) (vs after one read: $(mb $((anon_after - anon_warm)) 1024) / $(mb $((ctx_after - ctx_warm)) 1048576))."
	echo
	echo "Load (batches of $(human "$BATCH") per transaction): $(human "$N") secrets in ${load_secs[bench.csms]} s ($(rate "$N" "${load_secs[bench.csms]}")/s), $(human "$BIG") secrets in ${load_secs[bench_big.csms]} s ($(rate "$BIG" "${load_secs[bench_big.csms]}")/s); plain $(human "$BIG") rows in ${load_secs[bench_big.plain]} s ($(rate "$BIG" "${load_secs[bench_big.plain]}")/s); pgcrypto $(human "$N") rows in ${load_secs[bench.enc]} s ($(rate "$N" "${load_secs[bench.enc]}")/s); $(human "$TAGS") tagged secrets (three tags each) in ${load_secs[bench_tags.csms]} s ($(rate "$TAGS" "${load_secs[bench_tags.csms]}")/s), in the plain tables in ${load_secs[bench_tags.plain]} s. On disk at $(human "$BIG"): csms.secrets + versions with indexes $(awk -v b="$size_csms" 'BEGIN { printf "%.0f", b / 1048576 }') MB, plain with index $(awk -v b="$size_plain" 'BEGIN { printf "%.0f", b / 1048576 }') MB."
} >"$work/table.md"

mkdir -p "$here/results"
if [ "$mode" = smoke ]; then
	cp "$work/table.md" "$here/results/smoke-$setup.md"
else
	cp "$work/table.md" "$here/results/latest-$setup.md"
	cp "$work/table.md" "$here/results/$(date -u +%Y%m%d-%H%M%S)-$setup.md"
	[ "$defaults" = yes ] && cp "$work/table.md" "$here/RESULTS-$setup.md.new"
fi
echo
cat "$work/table.md"
echo
if [ "$failures" -gt 0 ]; then
	log "$failures pgbench run(s) FAILED"
	exit 1
fi
log "done in $(( $(date +%s) - t0 )) s"

#!/usr/bin/env bash
# make test: every test suite of the extension, on throwaway clusters.
# Run as root on Debian 12: installs missing packages, builds with warnings
# as errors, installs the extension, then runs each suite and reports.
# Exits non-zero when any suite fails.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash scripts/deps.sh || exit 1
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
major=$("$pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
make -s WERROR=1 PG_CONFIG="$pg_config" || exit 1
make -s install PG_CONFIG="$pg_config" >/dev/null || exit 1

passed=0
failed=0
failed_names=()
suite() {
	local name=$1
	shift
	echo
	echo "=== suite: $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "=== $name: ok"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		echo "=== $name: FAILED"
	fi
}

regress() {
	# pg_regress and isolation specs against a throwaway cluster (the TAP
	# suites have a suite of their own below)
	rm -rf results output_iso regression.diffs
	if ! pg_virtualenv -v "$major" make -s installcheck TAP_TESTS= PG_CONFIG="$pg_config"; then
		[ -f regression.diffs ] && head -c 20000 regression.diffs
		[ -f output_iso/regression.diffs ] && head -c 20000 output_iso/regression.diffs
		return 1
	fi
}

suite "message style" bash scripts/check-style.sh
suite "layers (includes of src/)" sh -c 'perl scripts/check-layers.pl --self-test && perl scripts/check-layers.pl'
suite "sql qualification (operators, functions, casts)" sh -c 'perl scripts/check-sql.pl --self-test && perl scripts/check-sql.pl'
suite "unit (crypto and blob codec vectors)" make -s -C test check
suite "regress (pg_regress and isolation)" regress
suite "readme (every SQL example as pasted, and what it prints)" bash scripts/readme.sh --check
suite "tap (restarts, root key, data at rest, dump)" bash scripts/tap.sh
[ -f fuzz/Makefile ] && suite "fuzz (blob parser, bounded)" make -s -C fuzz run FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
[ -f bench/run.sh ] && suite "bench smoke (tiny sizes)" bash bench/run.sh --smoke

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# TAP tests (t/*.pl): they start their own clusters with PostgreSQL's test
# modules, which refuse to run as root, so they run as the user postgres in a
# scratch directory that user owns (/tmp/secrets-tap.*, removed at the end),
# with a copy of what they read from the checkout (t/, test/interop/): the
# checkout itself may be one that user cannot read (under /root, or in a
# 0700 directory).  Arguments name the suites to run (t/NNN_name.pl); none
# runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$pg_config" --bindir)
pg_config=$bindir/pg_config	# a path (release 1.0's Makefile wants one), not a wrapper
perldir=$(dirname "$(dirname "$("$pg_config" --pgxs)")")/test/perl
runas=${TAP_USER:-postgres}

work=$(mktemp -d /tmp/secrets-tap.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r t "$work/t"
mkdir -p "$work/test"
cp -r test/interop "$work/test/interop"
# t/016 compares live verifiers with the SCRAM-SHA-256 unit (test/test_scram --check)
make -s -C test test_scram >/dev/null && cp test/test_scram "$work/test/test_scram"
chmod 755 "$work"
if [ "$(id -u)" -eq 0 ]; then
	chown -R "$runas" "$work"
	as_user=(runuser -u "$runas" --)
else
	as_user=()
fi
# Release 1.0, built from its commit, for the upgrade test (t/011): the
# library and extension files that a database made by 1.0 ran with.  A clone
# without that history (a shallow one) cannot build it; t/011 then skips,
# and this says so.
release_1_0=8f30589eb2d5f99951bf9a39fcc4fc0c486b9872
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t/*.pl)
if [[ " ${tests[*]} " != *011_upgrade* ]]; then
	:
elif git -C "$top" cat-file -e "$release_1_0^{commit}" 2>/dev/null; then
	mkdir -p "$work/release-1.0"
	if git -C "$top" archive "$release_1_0" | tar -x -C "$work/release-1.0" &&
		make -s -C "$work/release-1.0" PG_CONFIG="$pg_config" >"$work/release-1.0/build.log" 2>&1; then
		export SECRETS_RELEASE_1_0="$work/release-1.0"
	else
		echo "tap: could not build release 1.0 ($release_1_0):" >&2
		tail -20 "$work/release-1.0/build.log" >&2
		exit 1
	fi
else
	echo "tap: NOTE: commit $release_1_0 (release 1.0) is not in this clone's history; the upgrade test t/011 is skipped" >&2
fi
if [ "$(id -u)" -eq 0 ]; then chown -R "$runas" "$work"; fi

# the suites named as arguments (t/NNN_name.pl), else all
cd "$work"
"${as_user[@]}" env PATH="$bindir:$PATH" SECRETS_SRC="$work" TESTDIR="$work" PG_REGRESS="$(dirname "$(dirname "$perldir")")/test/regress/pg_regress" \
	PERL5LIB="$perldir" SECRETS_RELEASE_1_0="${SECRETS_RELEASE_1_0:-}" \
	prove ${PROVE_FLAGS:--v} "${tests[@]}"

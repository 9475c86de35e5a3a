#!/usr/bin/env bash
# TAP tests (t/*.pl): they start their own clusters with PostgreSQL's test
# modules, which refuse to run as root, so they run as the user postgres in a
# scratch directory that user owns.  Arguments name the suites to run
# (t/NNN_name.pl); none runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$pg_config" --bindir)
perldir=$(dirname "$(dirname "$("$pg_config" --pgxs)")")/test/perl
runas=${TAP_USER:-postgres}

work=$(mktemp -d /tmp/secrets-tap.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r t "$work/t"
chmod 755 "$work"
if [ "$(id -u)" -eq 0 ]; then
	chown -R "$runas" "$work"
	as_user=(runuser -u "$runas" --)
else
	as_user=()
fi
cd "$work"
# the suites named as arguments (t/NNN_name.pl), else all
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t/*.pl)
"${as_user[@]}" env PATH="$bindir:$PATH" SECRETS_SRC="$top" TESTDIR="$work" PG_REGRESS="$(dirname "$(dirname "$perldir")")/test/regress/pg_regress" \
	PERL5LIB="$perldir" \
	prove ${PROVE_FLAGS:--v} "${tests[@]}"

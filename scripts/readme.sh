#!/usr/bin/env bash
# scripts/readme.sh [--check | --write]: README.md's SQL examples, run as
# pasted on a throwaway cluster set up as make run's (the library
# preloaded), compared with what README shows (--check, the readme suite of
# make test) or written into it (--write, make readme).  scripts/readme.pl
# says how README marks its examples and what it masks.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:---check}
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
major=$("$pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
perl scripts/readme.pl --self-test
pg_virtualenv -v "$major" -o "shared_preload_libraries=secrets" \
	perl "$(pwd)/scripts/readme.pl" "$mode" "$(pwd)/README.md"

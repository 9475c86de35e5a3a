#!/usr/bin/env bash
# Install what building, running and testing the extension needs, on Debian 12
# as root.  Installs only what is missing, so it is quick when nothing is.
set -euo pipefail

packages=(
	postgresql-15
	postgresql-server-dev-15
	libssl-dev
	libipc-run-perl
	postgresql-15-pgaudit	# log redaction tests (t/010)
	postgresql-15-cron	# the due work run from pg_cron (t/015)
	make gcc
	clang
	libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
	p=${p%%#*}
	p=${p%%[[:space:]]*}
	[ -n "$p" ] || continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js (JOSE interoperability tests): the machine's own if it has one
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]}; run as root or install them" >&2
		exit 1
	fi
	echo "installing: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

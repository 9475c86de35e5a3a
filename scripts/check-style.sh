#!/usr/bin/env bash
# Message style, as PostgreSQL's error style guide asks: primary messages
# (errmsg) start lower-case and have no final period; errdetail and errhint
# are full sentences (capital letter, final period).  Prints offenders.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r line; do
	echo "errmsg style: $line"
	bad=1
done < <(grep -nE 'errmsg\("([A-Z][a-z]|[^"]*\.")' src/*.c | grep -vE 'errmsg\("(SPI|OpenSSL|UUID|JSON|JWE|AES)')
while IFS= read -r line; do
	echo "errdetail/errhint style: $line"
	bad=1
done < <(grep -nE 'err(detail|hint)\("[^"]*[^.:]"\)' src/*.c)
while IFS= read -r line; do
	echo "errdetail/errhint style: $line"
	bad=1
done < <(grep -nE 'err(detail|hint)\("[a-z]' src/*.c)
if [ "$bad" -eq 0 ]; then echo "message style: ok"; fi
exit "$bad"

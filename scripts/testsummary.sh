#!/usr/bin/env bash
# testsummary.sh prints a short summary of a `go test ./...` log: how many
# packages passed, failed or have no tests, and the name of every failed test,
# build failure and panic. Usage: bash scripts/testsummary.sh tmp/test.log
set -euo pipefail
log="${1:?usage: testsummary.sh LOG}"
awk '
/^ok[ \t]/                       { ok++; next }
/^\?[ \t].*\[no test files\]/    { none++; next }
/^FAIL[ \t].*\[(build|setup) failed\]/ { fail++; bad[++n] = "build failed: " $2; next }
/^FAIL[ \t]+[^ \t]+[ \t]+[0-9.]+s$/    { fail++; bad[++n] = "package failed: " $2; next }
/^[ \t]*--- FAIL: /              { sub(/^[ \t]*/, ""); bad[++n] = "  " $0; next }
/^panic: /                       { bad[++n] = "  " $0; next }
/^# /                            { bad[++n] = "compile: " substr($0, 3); next }
END {
	printf "\n== test summary: %d packages passed, %d failed, %d without tests\n", ok, fail, none
	for (i = 1; i <= n; i++) print bad[i]
	if (fail == 0 && n == 0) print "== all tests passed"
}' "$log"

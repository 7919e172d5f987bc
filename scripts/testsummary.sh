#!/usr/bin/env bash
# testsummary.sh prints a short summary of a `go test ./...` log: how many
# packages passed, failed or have no tests, and every failed test, build
# failure and panic. STATUS is go test's exit status, so that a run that failed
# before testing anything (say, a missing module) is not reported as a pass.
#
#   bash scripts/testsummary.sh tmp/test.log [STATUS]
set -euo pipefail
log="${1:?usage: testsummary.sh LOG [STATUS]}"
status="${2:-0}"
awk -v status="$status" -v logfile="$log" '
/^ok[ \t]/                             { ok++; next }
/^\?[ \t].*\[no test files\]/          { none++; next }
/^FAIL[ \t].*\[(build|setup) failed\]/ { fail++; bad[++n] = "build failed: " $2; next }
/^FAIL[ \t]+[^ \t]+[ \t]+[0-9.]+s$/    { fail++; bad[++n] = "package failed: " $2; next }
/^[ \t]*--- FAIL: /                    { sub(/^[ \t]*/, ""); bad[++n] = "  " $0; next }
/^panic: /                             { bad[++n] = "  " $0; next }
/^# /                                  { bad[++n] = "compile: " substr($0, 3); next }
/no required module provides|cannot find (module|package)|^go: /   { bad[++n] = "go: " $0; next }
END {
	printf "\n== test summary: %d packages passed, %d failed, %d without tests\n", ok, fail, none
	for (i = 1; i <= n; i++) print bad[i]
	if (status != 0 && fail == 0 && n == 0) printf "go test exited with status %s before reporting a failure: see %s\n", status, logfile
	if (status == 0 && fail == 0) print "== all tests passed"
}' "$log"

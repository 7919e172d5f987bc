#!/usr/bin/env bash
# test.sh runs all of 帮扶走访's checks on a fresh Debian/Ubuntu machine: it
# installs what is missing (make, gcc and the X11/GL headers Fyne's cgo build
# needs, with sudo when not root; it says how to get Go 1.26 if there is none),
# then runs `make test`: go vet and the race-enabled tests of every package.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
exec make --no-print-directory test "$@"

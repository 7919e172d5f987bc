#!/usr/bin/env bash
# run.sh runs 帮扶走访's main job on a fresh Debian/Ubuntu machine: it installs
# what is missing (make, gcc, the X11/GL headers, and Xvfb when there is no
# display; with sudo when not root), then runs `make run`: the sync server with
# the demo village, and the app. Ctrl-C or closing the app stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
exec make --no-print-directory run "$@"

#!/usr/bin/env bash
# rundemo.sh is what `make run` runs. It builds the two binaries into bin/ and
# starts them:
#
#   bin/bangfud serve -demo -data $DATA   the sync server on an embedded bbolt
#                                         store, filled with the demo village
#                                         王坪村; it prints enrolment codes for a
#                                         demo group cadre and a team leader
#   bin/bangfu                            the Fyne app (main.go), in the foreground
#
# Closing the app or Ctrl-C stops the server too. Without a DISPLAY the app runs
# on a virtual screen (Xvfb), so it also starts on a headless machine.
# Environment: DATA (default tmp/demo), ADDR (default 127.0.0.1:8080: the demo
# listens on this machine only; set ADDR=:8080 to let phones on the LAN reach
# it), APP_DATA (the app's store, default tmp/app), SERVE_FLAGS and APP_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA="${DATA:-$PWD/tmp/demo}"
ADDR="${ADDR:-127.0.0.1:8080}"
APP_DATA="${APP_DATA:-$PWD/tmp/app}"
mkdir -p "$DATA" "$APP_DATA" bin

say() { echo "run: $*" >&2; }

say "building bin/bangfud and bin/bangfu (the first build of Fyne takes about 3 minutes)"
go build -o bin/bangfud ./cmd/bangfud
go build -o bin/bangfu .

pids=()
stop() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
}
trap stop EXIT
trap 'exit 130' INT TERM

if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
	n=99
	while [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]]; do n=$((n + 1)); done
	Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		[[ -e /tmp/.X11-unix/X$n ]] && break
		sleep 0.1
	done
	export DISPLAY=":$n"
	say "no display: the app runs on the virtual screen $DISPLAY (Xvfb, 1280x800)"
	say "  to look at it: DISPLAY=$DISPLAY import -window root shot.png   (ImageMagick)"
fi

say "starting bin/bangfud serve -demo -data $DATA"
# shellcheck disable=SC2086 # SERVE_FLAGS and APP_FLAGS are word lists
bin/bangfud serve -demo -data "$DATA" -addr "$ADDR" ${SERVE_FLAGS:-} &
pids+=($!)
sleep 1
if ! kill -0 "${pids[-1]}" 2>/dev/null; then
	wait "${pids[-1]}" || status=$?
	say "bangfud stopped at start (exit ${status:-0}); see its messages above"
	exit 1
fi

say "starting the app; close its window or press Ctrl-C to stop"
# shellcheck disable=SC2086
url="http://$ADDR"
[[ $ADDR == :* ]] && url="http://127.0.0.1$ADDR"
bin/bangfu -data "$APP_DATA" -server "$url" ${APP_FLAGS:-}

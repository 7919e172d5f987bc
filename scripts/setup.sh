#!/usr/bin/env bash
# setup.sh installs what 帮扶走访 needs to build, test and run on Debian/Ubuntu,
# and does nothing (silently) when everything is already there.
#
#   bash scripts/setup.sh        # for building and testing
#   bash scripts/setup.sh run    # also Xvfb when there is no DISPLAY, to run the app headless
#
# It installs missing apt packages (with sudo when not root): make, the C
# toolchain and the X11/GL headers Fyne's cgo build needs. It checks that Go 1.26
# or later is available (Debian's golang package is too old; it says how to get
# one) and downloads the Go modules.
set -euo pipefail

mode="${1:-test}"
case "$mode" in
test | run) ;;
*)
	echo "usage: $0 [test|run]" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.."

say() { echo "setup: $*" >&2; }

# Packages for `go build`/`go test` of a Fyne desktop app (cgo + GLFW + GL).
packages=(make ca-certificates gcc libc6-dev pkg-config libgl-dev libxcursor-dev
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev)
# The office console's browser tests drive headless Chromium (they fail without
# it unless BANGFU_NO_BROWSER=1); poppler-utils' pdftotext checks the PDFs' text.
# The server's PostgreSQL tests start their own throwaway server (initdb in
# a temporary directory, on a Unix socket): they need its binaries.
if [[ "$mode" == test ]]; then
	packages+=(chromium poppler-utils postgresql)
fi
# Running the app needs a display; without one, it runs on a virtual X server.
if [[ "$mode" == run && -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
	packages+=(xvfb)
fi

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

if command -v dpkg-query >/dev/null 2>&1; then
	missing=()
	for p in "${packages[@]}"; do
		installed "$p" || missing+=("$p")
	done
	if ((${#missing[@]} > 0)); then
		sudo=()
		if [[ "$(id -u)" != 0 ]]; then
			if ! command -v sudo >/dev/null 2>&1; then
				say "missing packages: ${missing[*]}"
				say "run this script as root, or install sudo, or install them yourself:"
				say "  apt-get install -y --no-install-recommends ${missing[*]}"
				exit 1
			fi
			sudo=(sudo)
		fi
		say "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		"${sudo[@]}" apt-get update -qq
		"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
		say "installed ${missing[*]}"
	fi
else
	# Not Debian/Ubuntu: check the tools only, and name what to look for.
	for tool in make gcc pkg-config; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			say "no dpkg here (not Debian/Ubuntu) and $tool is missing; install the equivalents of:"
			say "  ${packages[*]}"
			exit 1
		fi
	done
fi

# Go: the one in /usr/local/go (the official tarball) counts even when it is not on PATH.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="$PATH:/usr/local/go/bin"
fi
need_go() {
	local arch
	case "$(uname -m)" in
	aarch64 | arm64) arch=arm64 ;;
	*) arch=amd64 ;;
	esac
	say "$1"
	say "Go 1.26 or later is needed; Debian's and Ubuntu's golang packages are too old. Install it with:"
	say "  curl -fsSLO https://go.dev/dl/go1.26.8.linux-${arch}.tar.gz"
	say "  sudo rm -rf /usr/local/go && sudo tar -C /usr/local -xzf go1.26.8.linux-${arch}.tar.gz"
	say "  export PATH=\$PATH:/usr/local/go/bin"
	say "(see https://go.dev/doc/install)"
	exit 1
}
if ! command -v go >/dev/null 2>&1; then
	need_go "go is not on PATH."
fi
# Asked inside the module, so that a Go >= 1.21 that fetches the toolchain
# go.mod asks for (GOTOOLCHAIN=auto) reports the version that will really run.
version="$(go env GOVERSION 2>/dev/null || true)"
if [[ ! "$version" =~ ^go([0-9]+)\.([0-9]+) ]]; then
	need_go "cannot tell the Go version (go env GOVERSION said '${version}')."
fi
major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
if ((major < 1 || (major == 1 && minor < 26))); then
	need_go "found $version at $(command -v go)."
fi

go mod download

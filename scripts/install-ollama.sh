#!/usr/bin/env bash
# Builds and caches a CPU-only Ollama for switchyard's real-server tests.
#
# Ollama is compiled from the Go module proxy rather than downloaded as a
# release binary, so CI needs nothing beyond the Go proxy and Debian apt.
# The module zip lacks llama.cpp's vendored stb and miniaudio headers: stb
# comes from Debian (libstb-dev) and miniaudio from our own stub header in
# scripts/ollama-stub (audio input is simply disabled).
#
# Idempotent: a warm run (packages present, binary cached and working) does
# no apt or compile work. The last line of stdout is the binary path.
#
# Env: SWITCHYARD_CACHE (default $HOME/.cache/switchyard), OLLAMA_VERSION.
set -euo pipefail

OLLAMA_VERSION="${OLLAMA_VERSION:-v0.17.4}"
CACHE="${SWITCHYARD_CACHE:-$HOME/.cache/switchyard}/ollama-${OLLAMA_VERSION}"
BIN="$CACHE/bin/ollama"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STUB_DIR="$SCRIPT_DIR/ollama-stub"
APT_PKGS=(libstb-dev nlohmann-json3-dev docker-registry)

log() { echo "install-ollama: $*" >&2; }

need_apt=()
for p in "${APT_PKGS[@]}"; do
	# dpkg-query is cheap; only packages not fully installed trigger apt.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		need_apt+=("$p")
	fi
done
if ((${#need_apt[@]})); then
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
	log "installing apt packages: ${need_apt[*]}"
	$SUDO apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >&2
fi

# `ollama --version` also queries a server; pointing it at a closed port
# makes it always print "client version is X". Matching X rejects a stale
# binary (one built without -ldflags reports 0.0.0).
binary_ok() {
	[ -x "$BIN" ] && OLLAMA_HOST=127.0.0.1:1 "$BIN" --version 2>&1 |
		grep -q "client version is ${OLLAMA_VERSION#v}\$"
}

if binary_ok; then
	log "cached: $BIN"
	echo "$BIN"
	exit 0
fi

command -v go >/dev/null || { log "go not found on PATH"; exit 1; }
mkdir -p "$CACHE/bin"
log "building ollama $OLLAMA_VERSION (CPU only; several minutes on 2 cores)"
start=$(date +%s)
# Build in a scratch dir so a go.mod in the caller's cwd does not interfere.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
(
	cd "$scratch"
	CGO_ENABLED=1 \
		CGO_CPPFLAGS="-I/usr/include/stb -I$STUB_DIR" \
		GOBIN="$CACHE/bin" \
		go install -ldflags "-X github.com/ollama/ollama/version.Version=${OLLAMA_VERSION#v}" \
		"github.com/ollama/ollama@${OLLAMA_VERSION}" >&2
)
binary_ok || { log "built binary does not report ${OLLAMA_VERSION#v}"; exit 1; }
log "built in $(($(date +%s) - start))s"
echo "$BIN"

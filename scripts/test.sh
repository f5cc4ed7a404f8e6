#!/usr/bin/env bash
# The test command (README "Set up"): installs what the tests need, then runs
# every test, the real-Ollama suite included.
#
# - builds (or reuses) the reference Ollama v0.17.4 and Debian's registry
#   (scripts/install-ollama.sh; apt needs root or sudo);
# - installs the npm clients the gateway is tested with (test/clients);
# - checks formatting and vet, then `go test ./...` with the real-server
#   suites required (a missing binary fails instead of skipping).
#
# Extra arguments go to `go test` (e.g. scripts/test.sh -run Plan -v).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ollama_bin="$(scripts/install-ollama.sh | tail -n 1)"
export SWITCHYARD_OLLAMA_BIN="$ollama_bin"
export SWITCHYARD_REQUIRE_OLLAMA=1

if [ -f test/clients/package.json ]; then
	command -v npm >/dev/null || { echo "test.sh: npm is needed for the client tests" >&2; exit 1; }
	test/clients/setup.sh >&2
	export SWITCHYARD_REQUIRE_CLIENTS=1
fi

unformatted="$(gofmt -l cmd internal)"
if [ -n "$unformatted" ]; then
	echo "test.sh: gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -count=1 "$@" ./...

#!/bin/sh
# Installs the pinned client packages for clients_test.go (run before
# `go test ./test/clients/...` in CI). Needs Node >= 20 and the npm registry.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund

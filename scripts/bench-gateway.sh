#!/bin/sh
# Gateway overhead: direct calls to a fast loopback upstream vs the same
# calls through the gateway, measured in one run (see BenchmarkGatewayOverhead).
set -eu
cd "$(dirname "$0")/.."
exec go test ./internal/gateway -run '^$' -bench BenchmarkGatewayOverhead -benchtime "${BENCH_N:-20000}x" -count "${BENCH_COUNT:-3}" "$@"

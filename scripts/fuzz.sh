#!/usr/bin/env bash
# Runs every fuzz target of every module of the workspace for a fixed
# time each (default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-10s}"
for pkg in $(go list ./... ./cmd/... ./kitmetrics/... ./store/redisstore/... ./store/pgstore/...); do
	for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "-- $pkg $target"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	done
done

#!/usr/bin/env bash
# Runs every fuzz target of every module of the workspace for a fixed
# time each (default 10s).
#
# Go 1.26's fuzz coordinator can report a bare "context deadline
# exceeded" failure at the very end of -fuzztime when a worker is still
# busy as the deadline fires (go.dev/issue/75804, fixed in Go 1.27). Such
# a run found nothing: a real finding writes its input under
# testdata/fuzz and says "Failing input written to". A run that ends that
# way is run again, at most twice; any other failure fails at once.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-10s}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# deadline_race reports whether the run logged in $log failed only by the
# coordinator's deadline race.
deadline_race() {
	grep -q 'context deadline exceeded' "$log" &&
		! grep -qE 'Failing input written to|^panic:|_test\.go:[0-9]+:' "$log"
}

for pkg in $(go list ./... ./cmd/... ./kitmetrics/... ./store/redisstore/... ./store/pgstore/...); do
	for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "-- $pkg $target"
		for attempt in 1 2 3; do
			if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"; then
				break
			fi
			if [ "$attempt" -lt 3 ] && deadline_race; then
				echo "-- $target: the fuzz coordinator's deadline race (go.dev/issue/75804), no failing input; running it again"
				continue
			fi
			exit 1
		done
	done
done

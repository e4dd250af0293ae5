#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what
# the tests need, starts a private Redis, a private Redis Cluster and a
# private PostgreSQL cluster on loopback, runs the checks and the Go tests
# under -race, short fuzz runs, and the browser suite, then stops them by
# their own PIDs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v chromium >/dev/null || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need_apt+=(postgresql)
if ((${#need_apt[@]})); then
	echo "== installing ${need_apt[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2

export TABKIT_REDIS_PORT="${TABKIT_REDIS_PORT:-6390}"
export TABKIT_REDIS_URL="redis://127.0.0.1:${TABKIT_REDIS_PORT}/0"
scripts/redis-test-server.sh start
trap 'scripts/redis-test-server.sh stop; scripts/redis-cluster.sh stop; scripts/pg-test-server.sh clean' EXIT
TABKIT_REDIS_CLUSTER_URL="$(scripts/redis-cluster.sh start)"
export TABKIT_REDIS_CLUSTER_URL
export TABKIT_PG_PORT="${TABKIT_PG_PORT:-6433}"
TABKIT_PG_URL="$(scripts/pg-test-server.sh start)"
export TABKIT_PG_URL

# Every module of the workspace (go.work): the root module and those that
# keep heavy dependencies out of it.
pkgs=(./... ./cmd/... ./kitmetrics/... ./store/redisstore/... ./store/pgstore/... ./internal/failover/... ./internal/multiproc/...)

echo "== gofmt, go vet, staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet "${pkgs[@]}"
staticcheck "${pkgs[@]}"

echo "== an app that imports only kit gets neither go-redis, pgx nor Prometheus"
scripts/check-core-deps.sh

echo "== go test -race, every module"
go test -race -count=1 "${pkgs[@]}"

echo "== bench module: vet and the correctness table on small inputs"
# bench is outside go.work: its go.mod replaces tabkit's modules with
# this checkout.
(cd bench && export GOWORK=off && go vet ./... && go test -race -count=1 -run TestCorrectness ./...)

echo "== fuzz (short, fixed time each)"
scripts/fuzz.sh "${FUZZTIME:-10s}"

echo "== browser suite"
(cd e2e && npm ci --no-audit --no-fund && npx playwright test)

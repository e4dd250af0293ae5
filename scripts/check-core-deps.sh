#!/usr/bin/env bash
# Checks that an application importing only tabkit's kit package gets
# none of the heavy dependencies of the other modules (go-redis, pgx, the
# Prometheus client) in its module graph. It builds such an application
# in a temporary directory, outside the workspace, against this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT
cat >"$app/go.mod" <<MOD
module example.com/till

go 1.26.0

require github.com/tabkit/tabkit v0.0.0

replace github.com/tabkit/tabkit => $root
MOD
cat >"$app/main.go" <<'GO'
package main

import (
	"log"

	"github.com/tabkit/tabkit/kit"
)

func main() {
	m, err := kit.New(kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
}
GO
cd "$app"
export GOWORK=off
go mod tidy >/dev/null
go build ./...
if go mod graph | grep -E 'redis/go-redis|jackc/pgx|prometheus/client_golang'; then
	echo "check-core-deps: an app that imports only kit gets the dependencies above" >&2
	exit 1
fi
echo "check-core-deps: $(go mod graph | wc -l) edges in the module graph, none to go-redis, pgx or Prometheus"

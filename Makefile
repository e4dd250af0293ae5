.PHONY: demo test check bench tabkit

# Every module of the workspace (go.work).
PKGS = ./... ./cmd/... ./kitmetrics/... ./store/redisstore/... ./store/pgstore/... ./internal/failover/... ./internal/multiproc/...

# Runs the point-of-sale demo on 127.0.0.1:8080 with tabkit.db here.
demo:
	go run ./cmd/pos-demo

# Runs every test: installs Redis and Chromium if missing, starts Redis,
# runs vet, staticcheck, go test -race, short fuzzing and the browser suite.
test:
	scripts/test.sh

# The quick loop: vet and the Go tests, without Redis or a browser.
check:
	go vet $(PKGS)
	go test -race $(PKGS)

bench:
	go test -run '^$$' -bench . -count 6 ./kit/ ./store/... ./tabs/

# Builds the admin CLI into bin/tabkit.
tabkit:
	go build -o bin/tabkit ./cmd/tabkit

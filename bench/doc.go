// Package bench compares tabkit with other Go session libraries on cost
// and correctness, every row driving Echo v4 in-process through httptest
// with the same routes (see App). It is a module of its own, so tabkit
// never depends on the libraries it is compared with.
//
// Run everything, and regenerate docs/BENCHMARKS.md and
// docs/bench-chart.svg, with
//
//	bench/run
//
// The benchmarks alone: go test -run '^$' -bench . (set TABKIT_REDIS_URL
// for the tabkit-redis rows, TABKIT_REDIS_CLUSTER_URL, as
// scripts/redis-cluster.sh start prints it, for the tabkit-redis-cluster
// rows, TABKIT_PG_URL for tabkit-postgres and scs-pgxstore, on the same
// server). The correctness table alone:
// go run ./cmd/correctness. A quick version of it is TestCorrectness.
package bench

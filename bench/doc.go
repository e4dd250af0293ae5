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
//
// On a shared machine times move with everyone else's load. To compare two
// versions of tabkit, count instructions instead, which do not move:
//
//	bench/instructions -base REV
//
// builds REV's bench module beside this one and prints the instructions
// one request costs in each row, under valgrind's callgrind.
package bench

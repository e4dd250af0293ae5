// Package multiproc holds tests that run several pos-demo processes
// against one Redis, the way tabkit is deployed when it scales out: two
// processes with the same signing keys and the same store must serve one
// browser session as if they were one, and concurrent adds to a cart
// through both must all land exactly once.
//
// It also holds benchmarks that put the three stores side by side
// (memory, bbolt, Redis) in one run, with the Redis round trips of each
// operation counted.
//
//	scripts/redis-test-server.sh start
//	TABKIT_REDIS_URL=redis://127.0.0.1:6390/0 go test -race ./internal/multiproc/
//	TABKIT_REDIS_URL=redis://127.0.0.1:6390/0 go test -run '^$' -bench . -count 6 ./internal/multiproc/
//
// TestConcurrentAddsOnPostgres runs the concurrent adds with both
// processes on PostgreSQL (-store postgres://…), in a database it creates
// on the server TABKIT_PG_URL names and drops afterwards:
//
//	TABKIT_PG_URL=$(scripts/pg-test-server.sh start) go test -race -run Postgres ./internal/multiproc/
//
// Without TABKIT_REDIS_URL the tests and the Redis benchmarks skip, and
// without TABKIT_PG_URL the PostgreSQL test. The
// tests build cmd/pos-demo once per run (with -race when the tests run
// with it) and start it on free loopback ports.
//
// # Caveats
//
// The demo has no key-prefix flag, so each test takes a Redis database
// of its own (see testDB) and empties it before and after: those
// databases must not hold anything else. Redis's default of 16
// databases is needed.
package multiproc

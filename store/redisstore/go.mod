module github.com/tabkit/tabkit/store/redisstore

go 1.26.0

// The root module has no published version yet: go mod tidy and builds
// with GOWORK=off take it from this checkout.
replace github.com/tabkit/tabkit => ../..

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/tabkit/tabkit v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

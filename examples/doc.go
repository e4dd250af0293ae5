// Package examples holds small, complete programs that use tabkit:
//
//	go run ./examples/cart      # Echo: a cart per browser tab
//	go run ./examples/nethttp   # the same with net/http only
//
// Each serves on 127.0.0.1:8081 with an in-memory store, so it needs no
// setup and keeps nothing.
package examples

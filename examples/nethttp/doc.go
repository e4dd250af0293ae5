// Command nethttp is the cart example with the standard library only:
// Manager.Wrap in front of an http.ServeMux, handlers reaching the
// session with kit.SessionOf.
//
//	go run ./examples/nethttp
package main

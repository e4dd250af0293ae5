// Command cart is the smallest complete tabkit app on Echo: each browser
// tab keeps its own cart, under one session cookie.
//
//	go run ./examples/cart
//
// Open http://127.0.0.1:8081/cart, add items, open another tab with
// "New tab" and see that each keeps its own cart.
package main

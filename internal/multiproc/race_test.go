//go:build race

package multiproc

// raceEnabled builds the demo with the race detector when the tests run
// with it, so a data race inside a demo process fails the test too.
const raceEnabled = true

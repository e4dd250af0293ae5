//go:build race

package tabs

// raceEnabled is true under the race detector, which makes sync.Pool drop
// values at random, so that allocation counts mean nothing.
const raceEnabled = true

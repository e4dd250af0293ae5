// Package soak holds process-level tests of the point-of-sale demo
// (cmd/pos-demo): each test builds the real binary once, starts it on a
// loopback port with its own bbolt file, and drives it over HTTP the way
// browsers and misbehaving clients would.
//
// They cover what unit tests cannot see from inside one process:
//
//   - a SIGKILL while 32 registers are adding items loses no
//     acknowledged add, and the file opens cleanly afterwards;
//   - a full file system makes writes answer 503 with a clear log line
//     while reads keep working, and writes work again once space is
//     freed (needs root to mount a small tmpfs; skipped otherwise);
//   - a flood of cookieless requests stores nothing;
//   - the store's session quota turns a browser away with 503 and
//     Retry-After while the signed-in ones keep working.
//
// The package has no code of its own; run it with
//
//	go test -race ./internal/soak/
//
// # Caveats
//
// SIGKILL ends the process, not the machine: writes the kernel has
// accepted survive it even without fsync, so the crash test proves the
// demo acknowledges nothing before bbolt has committed it, not that the
// fsyncs reach the disk. Only a power cut could show the latter.
package soak
